using Issuer2.Core.Credentials;
using Issuer2.Core.Events;
using Issuer2.Core.Keys;
using Issuer2.Core.Metadata;
using Issuer2.Core.Notifications;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Fakes;

// The wallet ports over the tables of InMemoryDatabase, behaving as src/Issuer2.Storage/Wallet/WalletStores.cs does:
// reads are untracked copies joined with a live tenant; every write is one transaction whose conditions are Core's
// rules (OfferRules, CodeRules) or the unique keys of the real schema, checked against the stored rows.

internal sealed class InMemoryTenantSnapshotStore(InMemoryDatabase db) : ITenantSnapshotStore
{
    public Task<long?> FindTenantVersionAsync(string tenantId, CancellationToken ct) =>
        Task.FromResult(db.LiveTenant(tenantId)?.MetadataVersion);

    public Task<(Tenant Tenant, IReadOnlyList<Profile> Profiles, IReadOnlyList<SigningKey> Keys)?> LoadTenantAsync(string tenantId, CancellationToken ct)
    {
        if (db.LiveTenant(tenantId) is not { } tenant) return Task.FromResult<(Tenant, IReadOnlyList<Profile>, IReadOnlyList<SigningKey>)?>(null);
        IReadOnlyList<Profile> profiles = [.. db.Profiles.Where(p => p.TenantId == tenantId).OrderBy(p => p.ProfileId, StringComparer.Ordinal).Select(Rows.Copy)];
        IReadOnlyList<SigningKey> keys = [.. db.SigningKeys.Where(k => k.TenantId == tenantId).OrderBy(k => k.CreatedAt).Select(Rows.Copy)];
        return Task.FromResult<(Tenant, IReadOnlyList<Profile>, IReadOnlyList<SigningKey>)?>((Rows.Copy(tenant), profiles, keys));
    }
}

internal sealed class InMemoryOfferResolutionStore(InMemoryDatabase db) : IOfferResolutionStore
{
    public Task<OfferWithTenant?> FindOfferByUriTokenAsync(string tenantId, byte[] uriTokenHash, CancellationToken ct)
    {
        var offer = db.Offers.FirstOrDefault(o => o.TenantId == tenantId && Rows.SameBytes(o.UriTokenHash, uriTokenHash));
        var tenant = db.LiveTenant(tenantId);
        return Task.FromResult(offer is null || tenant is null ? null : new OfferWithTenant(Rows.Copy(offer), tenant.MetadataVersion));
    }

    public Task<ResolutionOutcome> RecordResolutionAsync(
        Offer offer, PreAuthorizedCode? code, IssuerState? issuerState, int liveCap, IssuerEvent resolved, CancellationToken ct)
    {
        if (code is not null && issuerState is not null) throw new ArgumentException("A resolution mints a code or an issuer_state, not both.", nameof(issuerState));
        DateTimeOffset? oldest = null;
        var recorded = db.Transaction([resolved], () =>
        {
            if (code is not null)
            {
                var live = db.Codes.Where(c => c.OfferId == offer.Id && CodeRules.Redeemable.IsMetBy(c, code.CreatedAt)).ToList();
                if (live.Count >= liveCap)
                {
                    oldest = live.Min(c => c.ExpiresAt);
                    return false;
                }
                db.Codes.Add(code);
            }
            if (issuerState is not null)
            {
                var live = db.IssuerStates.Where(s => s.OfferId == offer.Id && IssuerStateRules.Live.IsMetBy(s, issuerState.CreatedAt)).ToList();
                if (live.Count >= liveCap)
                {
                    oldest = live.Min(s => s.ExpiresAt);
                    return false;
                }
                db.IssuerStates.Add(issuerState);
            }
            db.StoredOffer(offer.Id).ResolutionCount++;
            return true;
        });
        return Task.FromResult(recorded ? ResolutionOutcome.Done : ResolutionOutcome.CapReached(oldest));
    }
}

internal sealed class InMemoryTokenRedemptionStore(InMemoryDatabase db) : ITokenRedemptionStore
{
    public Task<CodeWithOffer?> FindCodeAsync(string tenantId, byte[] codeHash, CancellationToken ct)
    {
        var code = db.Codes.FirstOrDefault(c => c.TenantId == tenantId && Rows.SameBytes(c.CodeHash, codeHash));
        var offer = code is null ? null : db.Offers.FirstOrDefault(o => o.Id == code.OfferId);
        var tenant = db.LiveTenant(tenantId);
        return Task.FromResult(code is null || offer is null || tenant is null
            ? null
            : new CodeWithOffer(Rows.Copy(code), Rows.Copy(offer), tenant.MetadataVersion));
    }

    public Task<OfferWithPinLimit?> FindOfferAsync(string tenantId, string offerId, CancellationToken ct)
    {
        var offer = db.Offers.FirstOrDefault(o => o.TenantId == tenantId && o.Id == offerId);
        var tenant = db.Tenants.FirstOrDefault(t => t.Id == tenantId);
        return Task.FromResult(offer is null || tenant is null ? null : new OfferWithPinLimit(Rows.Copy(offer), tenant.PinAttemptLimit));
    }

    public Task<bool> CountWrongPinAsync(
        Offer offer, int seenAttempts, int limit, DateTimeOffset? lockAt, IReadOnlyList<IssuerEvent> events, CancellationToken ct) =>
        Task.FromResult(db.Transaction(events, () =>
        {
            // UPDATE offers SET pin_failed_attempts = seen + 1 … WHERE pin_failed_attempts = seen AND <CountsWrongPin>
            //   AND the tenant's limit is still the one the request read
            var stored = db.Offers.FirstOrDefault(o => o.Id == offer.Id);
            var tenantLimit = db.Tenants.FirstOrDefault(t => t.Id == offer.TenantId)?.PinAttemptLimit;
            if (stored is null || stored.PinFailedAttempts != seenAttempts || !OfferRules.CountsWrongPin.IsMetBy(stored, limit) || tenantLimit != limit) return false;
            stored.PinFailedAttempts = seenAttempts + 1;
            if (lockAt is { } at) stored.LockedAt = at;
            return true;
        }));

    public Task<bool> RedeemAsync(
        PreAuthorizedCode code, Offer offer, DateTimeOffset now, IssuanceSession session, AccessToken token, IssuerEvent issued, CancellationToken ct) =>
        Task.FromResult(db.Transaction([issued], () =>
        {
            // Both conditional updates must take a row, or the transaction writes nothing.
            var storedCode = db.Codes.FirstOrDefault(c => Rows.SameBytes(c.CodeHash, code.CodeHash));
            var storedOffer = db.Offers.FirstOrDefault(o => o.Id == offer.Id);
            if (storedCode is null || !CodeRules.Redeemable.IsMetBy(storedCode, now)) return false;
            if (storedOffer is null || !OfferRules.Usable.IsMetBy(storedOffer, now)) return false;
            storedCode.ConsumedAt = now;
            storedOffer.UseCount++;
            db.Sessions.Add(session);
            db.AccessTokens.Add(token);
            return true;
        }));
}

internal sealed class InMemorySessionAccessStore(InMemoryDatabase db) : ISessionAccessStore
{
    public Task<SessionAccess?> FindSessionByTokenAsync(string tenantId, byte[] tokenHash, CancellationToken ct)
    {
        var token = db.AccessTokens.FirstOrDefault(t => t.TenantId == tenantId && Rows.SameBytes(t.TokenHash, tokenHash));
        var session = token is null ? null : db.Sessions.FirstOrDefault(s => s.Id == token.SessionId);
        // A wallet-initiated session has no offer.
        var offer = session?.OfferId is null ? null : db.Offers.FirstOrDefault(o => o.Id == session.OfferId);
        var tenant = db.LiveTenant(tenantId);
        if (token is null || session is null || (session.OfferId is not null && offer is null) || tenant is null) return Task.FromResult<SessionAccess?>(null);
        var issued = db.IssuedCredentials.FirstOrDefault(c => c.SessionId == session.Id && c.ConfigurationId == session.ConfigurationId);
        return Task.FromResult<SessionAccess?>(new SessionAccess(Rows.Copy(session), offer is null ? null : Rows.Copy(offer), token.ExpiresAt, tenant.MetadataVersion, issued is null ? null : Rows.Copy(issued), token.DpopJkt));
    }
}

internal sealed class InMemoryCredentialIssuanceStore(InMemoryDatabase db) : ICredentialIssuanceStore
{
    public Task<ProfileVersion?> FindProfileVersionAsync(Guid profileUid, int version, CancellationToken ct) =>
        Task.FromResult(db.ProfileVersions.FirstOrDefault(v => v.ProfileUid == profileUid && v.Version == version));

    public Task<IssueOutcome> IssueAsync(
        ConsumedNonce nonce, IssuedCredential credential, IssuanceSession session, IReadOnlyList<IssuerEvent> events, CancellationToken ct)
    {
        var outcome = IssueOutcome.Issued;
        db.Transaction(events, () =>
        {
            // The unique keys in the order the batch inserts: the nonce's first, then one credential per session and configuration.
            if (db.ConsumedNonces.Any(n => Rows.SameBytes(n.NonceHash, nonce.NonceHash))) outcome = IssueOutcome.NonceAlreadyUsed;
            else if (db.IssuedCredentials.Any(c => c.SessionId == credential.SessionId && c.ConfigurationId == credential.ConfigurationId)) outcome = IssueOutcome.AlreadyIssued;
            if (outcome != IssueOutcome.Issued) return false;
            db.ConsumedNonces.Add(nonce);
            db.IssuedCredentials.Add(credential);
            var stored = db.Sessions.First(s => s.Id == session.Id);
            stored.CompletedAt = credential.IssuedAt;
            stored.EncryptedClaims = null;
            if (credential.OfferId is { } offerId) db.StoredOffer(offerId).IssuedCount++;
            return true;
        });
        return Task.FromResult(outcome);
    }
}

internal sealed class InMemoryNotificationStore(InMemoryDatabase db) : INotificationStore
{
    public Task RecordAsync(IssuedCredential credential, string notificationEvent, DateTimeOffset now, IssuerEvent received, CancellationToken ct)
    {
        db.Transaction([received], () =>
        {
            var stored = db.IssuedCredentials.First(c => c.Id == credential.Id);
            stored.NotificationEvent = notificationEvent;
            stored.NotifiedAt = now;
            return true;
        });
        return Task.CompletedTask;
    }
}

/// <summary>Refusals coalesced as EventJournal does: a counter per key and window, Core's rule deciding under the database's lock.</summary>
internal sealed class InMemoryEventJournal(InMemoryDatabase db, Func<RefusalCoalescing> rule) : IEventJournal
{
    private readonly Dictionary<(string Subject, string TenantId, string Type, string Reason, DateTimeOffset Window), (Refusal Refusal, long Refusals, long Emitted)> _counters = [];

    public Task RecordRefusalAsync(Refusal refusal, DateTimeOffset at, CancellationToken ct)
    {
        var coalescing = rule();
        var window = coalescing.WindowStart(at);
        IssuerEvent? written = null;
        lock (_counters)
        {
            var key = (refusal.Subject, refusal.TenantId, refusal.Type, refusal.Reason, window);
            var (_, refusals, emitted) = _counters.GetValueOrDefault(key, (refusal, 0, 0));
            refusals++;
            var closed = _counters.Keys.Where(k => k.Subject == key.Subject && k.TenantId == key.TenantId && k.Type == key.Type && k.Reason == key.Reason && k.Window < window).ToList();
            var carried = closed.Sum(k => _counters[k].Refusals - _counters[k].Emitted);
            foreach (var k in closed) _counters.Remove(k);
            if (coalescing.Emits(refusals))
            {
                emitted++;
                written = RefusalCoalescing.Written(refusal, at, carried);
            }
            else
            {
                refusals += carried;
            }
            _counters[key] = (refusal, refusals, emitted);
        }
        if (written is not null) db.Transaction([written], () => true);
        return Task.CompletedTask;
    }

    public Task<int> FlushClosedWindowsAsync(DateTimeOffset now, int batchSize, CancellationToken ct)
    {
        var window = rule().WindowStart(now);
        List<IssuerEvent> flushed;
        int count;
        lock (_counters)
        {
            var closed = _counters.Where(c => c.Key.Window < window).OrderBy(c => c.Key.Window).Take(batchSize).ToList();
            foreach (var c in closed) _counters.Remove(c.Key);
            flushed = closed.Select(c => RefusalCoalescing.Flushed(c.Value.Refusal, now, c.Value.Refusals - c.Value.Emitted)).OfType<IssuerEvent>().ToList();
            count = closed.Count;
        }
        if (flushed.Count > 0) db.Transaction(flushed, () => true);
        return Task.FromResult(count);
    }
}

internal static class WalletTables
{
    public static Tenant? LiveTenant(this InMemoryDatabase db, string tenantId) =>
        db.Tenants.FirstOrDefault(t => t.Id == tenantId && t.DeletedAt is null);

    public static Offer StoredOffer(this InMemoryDatabase db, string offerId) => db.Offers.First(o => o.Id == offerId);
}
