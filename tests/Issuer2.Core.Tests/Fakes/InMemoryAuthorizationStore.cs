using Issuer2.Core.Authorization;
using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tenants;
using AuthorizationRow = Issuer2.Core.Authorization.Authorization;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>The authorization server's rows in memory, each step conditional on the stage it leaves, as the SQL adapter's are.</summary>
internal sealed class InMemoryAuthorizationStore(InMemoryDatabase db) : IAuthorizationStore
{
    public List<AuthorizationRow> Authorizations { get; } = [];

    private List<IssuerState> IssuerStates => db.IssuerStates;

    public Task<Offer?> FindOfferAsync(string tenantId, string offerId, CancellationToken ct) =>
        Task.FromResult(db.Offers.FirstOrDefault(o => o.TenantId == tenantId && o.Id == offerId) is { } o ? Rows.Copy(o) : null);

    public Task<ProfileVersion?> FindProfileVersionAsync(Guid profileUid, int version, CancellationToken ct) =>
        Task.FromResult(db.ProfileVersions.FirstOrDefault(v => v.ProfileUid == profileUid && v.Version == version));

    public Task<IssuerStateWithOffer?> FindIssuerStateAsync(string tenantId, byte[] stateHash, CancellationToken ct)
    {
        var state = IssuerStates.FirstOrDefault(s => s.TenantId == tenantId && Rows.SameBytes(s.StateHash, stateHash));
        var offer = state is null ? null : db.Offers.FirstOrDefault(o => o.Id == state.OfferId);
        return Task.FromResult(state is null || offer is null ? null : new IssuerStateWithOffer(Rows.Copy(state), Rows.Copy(offer)));
    }

    public Task<bool> HasOpenDoorAsync(string tenantId, string profileId, DateTimeOffset now, CancellationToken ct) =>
        Task.FromResult(db.Offers.Any(o => o.TenantId == tenantId && o.ProfileId == profileId && o.Method == AuthenticationMethod.Authorized
            && o.IssuerStateMode == IssuerStateMode.Omit && o.RevokedAt is null && o.ExpiresAt > now));

    public Task<AuthorizationRow?> FindAsync(string tenantId, string authorizationId, CancellationToken ct) =>
        Find(a => a.TenantId == tenantId && a.Id == authorizationId);

    public Task<AuthorizationRow?> FindByRequestUriAsync(string tenantId, byte[] requestUriHash, CancellationToken ct) =>
        Find(a => a.TenantId == tenantId && a.RequestUriHash is { } h && Rows.SameBytes(h, requestUriHash));

    public Task<AuthorizationRow?> FindByProviderStateAsync(string tenantId, byte[] stateHash, CancellationToken ct) =>
        Find(a => a.TenantId == tenantId && a.ProviderStateHash is { } h && Rows.SameBytes(h, stateHash));

    public Task<AuthorizationRow?> FindByCodeAsync(string tenantId, byte[] codeHash, CancellationToken ct) =>
        Find(a => a.TenantId == tenantId && a.CodeHash is { } h && Rows.SameBytes(h, codeHash));

    public Task AddAsync(AuthorizationRow authorization, IssuerEvent requested, CancellationToken ct)
    {
        db.Transaction([requested], () =>
        {
            Authorizations.Add(Rows.Copy(authorization));
            return true;
        });
        return Task.CompletedTask;
    }

    public Task<bool> SendToProviderAsync(AuthorizationRow a, DateTimeOffset now, CancellationToken ct) =>
        Move(a, AuthorizationStage.Requested, AuthorizationStage.AtProvider, [], stored =>
        {
            if (stored.ExpiresAt <= now || (stored.RequestUriHash is not null && stored.RequestUriExpiresAt <= now)) return false;
            (stored.BrowserHash, stored.ProviderStateHash, stored.ProviderNonce, stored.EncryptedProviderVerifier) =
                (a.BrowserHash, a.ProviderStateHash, a.ProviderNonce, a.EncryptedProviderVerifier);
            return true;
        });

    public Task<bool> AuthenticateAsync(AuthorizationRow a, IssuerEvent authenticated, CancellationToken ct) =>
        Move(a, AuthorizationStage.AtProvider, AuthorizationStage.Authenticated, [authenticated], stored =>
        {
            (stored.AuthenticatedAt, stored.EncryptedClaims, stored.EncryptedProviderVerifier) = (a.AuthenticatedAt, a.EncryptedClaims, null);
            return true;
        });

    public Task<bool> IssueCodeAsync(AuthorizationRow a, IssuerEvent issued, CancellationToken ct) =>
        Move(a, AuthorizationStage.Authenticated, AuthorizationStage.CodeIssued, [issued], stored =>
        {
            (stored.CodeHash, stored.CodeExpiresAt) = (a.CodeHash, a.CodeExpiresAt);
            return true;
        });

    public Task<bool> RefuseAsync(AuthorizationRow a, AuthorizationStage from, IssuerEvent refused, CancellationToken ct) =>
        Move(a, from, AuthorizationStage.Refused, [refused], stored =>
        {
            (stored.EncryptedClaims, stored.EncryptedProviderVerifier) = (null, null);
            return true;
        });

    public Task<bool> RedeemAsync(
        AuthorizationRow a, DateTimeOffset now, IssuanceSession session, AccessToken token, IssuerEvent issued, CancellationToken ct) =>
        Move(a, AuthorizationStage.CodeIssued, AuthorizationStage.Redeemed, [issued], stored =>
        {
            if (stored.CodeExpiresAt <= now) return false;
            var offer = a.OfferId is null ? null : db.Offers.FirstOrDefault(o => o.Id == a.OfferId);
            if (a.OfferId is not null && (offer is null || !OfferRules.Usable.IsMetBy(offer, now))) return false;
            var state = a.IssuerStateHash is null ? null : IssuerStates.FirstOrDefault(s => Rows.SameBytes(s.StateHash, a.IssuerStateHash));
            if (a.IssuerStateHash is not null && (state is null || (state.SingleUse && state.ConsumedAt is not null))) return false;
            if (offer is not null) offer.UseCount++;
            if (state is not null) state.ConsumedAt = now;
            (stored.RedeemedAt, stored.SessionId, stored.EncryptedClaims) = (now, session.Id, null);
            db.Sessions.Add(session);
            db.AccessTokens.Add(token);
            return true;
        });

    public Task RevokeTokensAsync(AuthorizationRow a, IssuerEvent refused, CancellationToken ct)
    {
        db.Transaction([refused], () =>
        {
            db.AccessTokens.RemoveAll(t => t.SessionId == a.SessionId);
            return true;
        });
        return Task.CompletedTask;
    }

    private Task<AuthorizationRow?> Find(Func<AuthorizationRow, bool> match) =>
        Task.FromResult(Authorizations.FirstOrDefault(match) is { } found ? Rows.Copy(found) : null);

    private Task<bool> Move(
        AuthorizationRow a, AuthorizationStage from, AuthorizationStage to, IReadOnlyList<IssuerEvent> events, Func<AuthorizationRow, bool> write) =>
        Task.FromResult(db.Transaction(events, () =>
        {
            var stored = Authorizations.FirstOrDefault(x => x.Id == a.Id);
            if (stored is null || stored.Stage != from || !write(stored)) return false;
            stored.Stage = to;
            return true;
        }));
}
