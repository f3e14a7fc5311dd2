using Issuer2.Core.Authorization;
using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tenants;
using Microsoft.EntityFrameworkCore;

namespace Issuer2.Storage.Wallet;

/// <summary>
/// The authorization server's rows. Each step is an UPDATE conditional on the stage it leaves, so a step taken twice,
/// on one host or several, takes effect once; the redemption adds the offer's use (<see cref="OfferRules.Usable"/>)
/// and the issuer_state in the same transaction.
/// </summary>
internal sealed class AuthorizationStore(WalletWrites writes) : IAuthorizationStore
{
    private IssuerDbContext Db => writes.Db;

    public Task<Offer?> FindOfferAsync(string tenantId, string offerId, CancellationToken ct) =>
        Db.Offers.AsNoTracking().FirstOrDefaultAsync(o => o.TenantId == tenantId && o.Id == offerId, ct);

    public Task<ProfileVersion?> FindProfileVersionAsync(Guid profileUid, int version, CancellationToken ct) =>
        Db.FindProfileVersionAsync(profileUid, version, ct);

    public Task<IssuerStateWithOffer?> FindIssuerStateAsync(string tenantId, byte[] stateHash, CancellationToken ct) =>
        (from s in Db.IssuerStates.AsNoTracking()
         where s.StateHash == stateHash && s.TenantId == tenantId
         join o in Db.Offers.AsNoTracking() on s.OfferId equals o.Id
         select new IssuerStateWithOffer(s, o)).FirstOrDefaultAsync(ct);

    public Task<bool> HasOpenDoorAsync(string tenantId, string profileId, DateTimeOffset now, CancellationToken ct) =>
        Db.Offers.AsNoTracking().AnyAsync(o => o.TenantId == tenantId && o.ProfileId == profileId
            && o.Method == AuthenticationMethod.Authorized && o.IssuerStateMode == IssuerStateMode.Omit
            && o.RevokedAt == null && o.ExpiresAt > now, ct);

    public Task<Authorization?> FindAsync(string tenantId, string authorizationId, CancellationToken ct) =>
        Db.Authorizations.AsNoTracking().FirstOrDefaultAsync(a => a.TenantId == tenantId && a.Id == authorizationId, ct);

    public Task<Authorization?> FindByRequestUriAsync(string tenantId, byte[] requestUriHash, CancellationToken ct) =>
        Db.Authorizations.AsNoTracking().FirstOrDefaultAsync(a => a.TenantId == tenantId && a.RequestUriHash == requestUriHash, ct);

    public Task<Authorization?> FindByProviderStateAsync(string tenantId, byte[] stateHash, CancellationToken ct) =>
        Db.Authorizations.AsNoTracking().FirstOrDefaultAsync(a => a.TenantId == tenantId && a.ProviderStateHash == stateHash, ct);

    public Task<Authorization?> FindByCodeAsync(string tenantId, byte[] codeHash, CancellationToken ct) =>
        Db.Authorizations.AsNoTracking().FirstOrDefaultAsync(a => a.TenantId == tenantId && a.CodeHash == codeHash, ct);

    public Task AddAsync(Authorization a, IssuerEvent requested, CancellationToken ct) =>
        writes.CommitAsync(a.TenantId, sql =>
        {
            sql.Add($"INSERT INTO authorizations (id, tenant_id, stage, client_id, redirect_uri, state, code_challenge, configuration_id, profile_uid, profile_version, scope, uses_authorization_details, offer_id, issuer_state_hash, dpop_jkt, created_at, expires_at, request_uri_hash, request_uri_expires_at) VALUES ({sql.P(a.Id)}, {sql.P(a.TenantId)}, {Stage(sql, AuthorizationStage.Requested)}, {sql.P(a.ClientId)}, {sql.P(a.RedirectUri)}, {sql.P(a.State)}, {sql.P(a.CodeChallenge)}, {sql.P(a.ConfigurationId)}, {sql.Guid(a.ProfileUid)}, {sql.P(a.ProfileVersion)}, {sql.P(a.Scope)}, {sql.P(a.UsesAuthorizationDetails)}, {sql.P(a.OfferId)}, {sql.P(a.IssuerStateHash)}, {sql.P(a.DpopJkt)}, {sql.Time(a.CreatedAt)}, {sql.Time(a.ExpiresAt)}, {sql.P(a.RequestUriHash)}, {(a.RequestUriExpiresAt is { } at ? sql.Time(at) : "NULL")})");
            sql.AddEvent(requested);
        }, ct);

    public Task<bool> SendToProviderAsync(Authorization a, DateTimeOffset now, CancellationToken ct) =>
        writes.CommitIfFirstTookAsync(a.TenantId, sql =>
        {
            var pushedAlive = a.RequestUriHash is null ? "" : $" AND request_uri_expires_at > {sql.Time(now)}";
            sql.Add($"UPDATE authorizations SET stage = {Stage(sql, AuthorizationStage.AtProvider)}, browser_hash = {sql.P(a.BrowserHash)}, provider_state_hash = {sql.P(a.ProviderStateHash)}, provider_nonce = {sql.P(a.ProviderNonce)}, encrypted_provider_verifier = {sql.P(a.EncryptedProviderVerifier)} WHERE id = {sql.P(a.Id)} AND stage = {Stage(sql, AuthorizationStage.Requested)} AND expires_at > {sql.Time(now)}{pushedAlive} RETURNING 1");
        }, ct);

    public Task<bool> AuthenticateAsync(Authorization a, IssuerEvent authenticated, CancellationToken ct) =>
        writes.CommitIfFirstTookAsync(a.TenantId, sql =>
        {
            sql.Add($"UPDATE authorizations SET stage = {Stage(sql, AuthorizationStage.Authenticated)}, authenticated_at = {sql.Time(a.AuthenticatedAt!.Value)}, encrypted_claims = {sql.P(a.EncryptedClaims)}, encrypted_provider_verifier = NULL WHERE id = {sql.P(a.Id)} AND stage = {Stage(sql, AuthorizationStage.AtProvider)} RETURNING 1");
            sql.AddEvent(authenticated);
        }, ct);

    public Task<bool> IssueCodeAsync(Authorization a, IssuerEvent issued, CancellationToken ct) =>
        writes.CommitIfFirstTookAsync(a.TenantId, sql =>
        {
            sql.Add($"UPDATE authorizations SET stage = {Stage(sql, AuthorizationStage.CodeIssued)}, code_hash = {sql.P(a.CodeHash)}, code_expires_at = {sql.Time(a.CodeExpiresAt!.Value)} WHERE id = {sql.P(a.Id)} AND stage = {Stage(sql, AuthorizationStage.Authenticated)} RETURNING 1");
            sql.AddEvent(issued);
        }, ct);

    public Task<bool> RefuseAsync(Authorization a, AuthorizationStage from, IssuerEvent refused, CancellationToken ct) =>
        writes.CommitIfFirstTookAsync(a.TenantId, sql =>
        {
            sql.Add($"UPDATE authorizations SET stage = {Stage(sql, AuthorizationStage.Refused)}, encrypted_claims = NULL, encrypted_provider_verifier = NULL WHERE id = {sql.P(a.Id)} AND stage = {Stage(sql, from)} RETURNING 1");
            sql.AddEvent(refused);
        }, ct);

    public async Task<bool> RedeemAsync(
        Authorization a, DateTimeOffset now, IssuanceSession session, AccessToken token, IssuerEvent issued, CancellationToken ct)
    {
        var db = Db;
        await using var tx = await writes.BeginAsync(ct);
        int[] taken;
        await using (var take = new SqlBatch(db))
        {
            take.Add($"UPDATE authorizations SET stage = {Stage(take, AuthorizationStage.Redeemed)}, redeemed_at = {take.Time(now)}, session_id = {take.P(session.Id)}, encrypted_claims = NULL WHERE id = {take.P(a.Id)} AND stage = {Stage(take, AuthorizationStage.CodeIssued)} AND code_expires_at > {take.Time(now)} RETURNING 1");
            if (a.OfferId is not null)
                take.Add($"UPDATE offers SET use_count = use_count + 1 WHERE id = {take.P(a.OfferId)} AND {SqlCondition.Render(OfferRules.Usable, now, take, db)} RETURNING 1");
            if (a.IssuerStateHash is not null)
                take.Add($"UPDATE issuer_states SET consumed_at = {take.Time(now)} WHERE state_hash = {take.P(a.IssuerStateHash)} AND (single_use = {take.P(false)} OR consumed_at IS NULL) RETURNING 1");
            taken = await take.RowsPerStatementAsync(ct);
        }
        if (taken.Any(rows => rows == 0)) return false;

        await writes.CommitWithAsync(tx, write =>
        {
            write.Add($"INSERT INTO issuance_sessions (id, tenant_id, offer_id, configuration_id, profile_uid, profile_version, client_id, credential_identifier, encrypted_claims, created_at) VALUES ({write.P(session.Id)}, {write.P(session.TenantId)}, {write.P(session.OfferId)}, {write.P(session.ConfigurationId)}, {write.Guid(session.ProfileUid)}, {write.P(session.ProfileVersion)}, {write.P(session.ClientId)}, {write.P(session.CredentialIdentifier)}, {write.P(session.EncryptedClaims)}, {write.Time(session.CreatedAt)})");
            write.Add(WalletWrites.TokenInsert(write, token));
            write.AddEvent(issued);
        }, ct);
        writes.Committed(a.TenantId);
        return true;
    }

    public Task RevokeTokensAsync(Authorization a, IssuerEvent refused, CancellationToken ct) =>
        writes.CommitAsync(a.TenantId, sql =>
        {
            if (a.SessionId is not null) sql.Add($"DELETE FROM access_tokens WHERE session_id = {sql.P(a.SessionId)}");
            sql.AddEvent(refused);
        }, ct);

    /// <summary>Stages are stored by name, like every enum.</summary>
    private static string Stage(SqlBatch sql, AuthorizationStage stage) => sql.P(stage.ToString());
}
