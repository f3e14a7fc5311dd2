using System.Data.Common;
using Issuer2.Core.Authorization;
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
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Issuer2.Storage.Wallet;

/// <summary>Reads the wallet adapters share.</summary>
internal static class WalletReads
{
    /// <summary>One stored profile version: what a session or authorization request was made from.</summary>
    public static Task<ProfileVersion?> FindProfileVersionAsync(this IssuerDbContext db, Guid profileUid, int version, CancellationToken ct) =>
        db.ProfileVersions.AsNoTracking().FirstOrDefaultAsync(v => v.ProfileUid == profileUid && v.Version == version, ct);
}

/// <summary>The tenant as wallets see it: a version stamp read on every request, the whole tenant when it moved.</summary>
internal sealed class TenantSnapshotStore(IssuerDbContext db) : ITenantSnapshotStore
{
    public async Task<long?> FindTenantVersionAsync(string tenantId, CancellationToken ct)
    {
        await using var sql = new SqlBatch(db);
        sql.Add($"SELECT metadata_version FROM tenants WHERE id = {sql.P(tenantId)} AND deleted_at IS NULL");
        var rows = await sql.ReadAsync(r => r.GetInt64(0), ct);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<(Tenant Tenant, IReadOnlyList<Profile> Profiles, IReadOnlyList<SigningKey> Keys)?> LoadTenantAsync(string tenantId, CancellationToken ct)
    {
        var tenant = await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Id == tenantId && t.DeletedAt == null, ct);
        if (tenant is null) return null;
        var profiles = await db.Profiles.AsNoTracking().Where(p => p.TenantId == tenantId).OrderBy(p => p.ProfileId).ToListAsync(ct);
        var keys = await db.SigningKeys.AsNoTracking().Where(k => k.TenantId == tenantId).OrderBy(k => k.CreatedAt).ToListAsync(ct);
        return (tenant, profiles, keys);
    }
}

/// <summary>
/// Offer resolution: the lookup by URI token; then the offer's row locked, the new code or issuer_state inserted only
/// under the offer's cap (Core's live rule as SQL), the count and the event, in one transaction.
/// </summary>
internal sealed class OfferResolutionStore(WalletWrites writes) : IOfferResolutionStore
{
    public Task<OfferWithTenant?> FindOfferByUriTokenAsync(string tenantId, byte[] uriTokenHash, CancellationToken ct) =>
        writes.Db.Queries.OfferByUriToken(writes.Db, tenantId, uriTokenHash, ct);

    public async Task<ResolutionOutcome> RecordResolutionAsync(
        Offer offer, PreAuthorizedCode? code, IssuerState? issuerState, int liveCap, IssuerEvent resolved, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(resolved);
        if (code is not null && issuerState is not null) throw new ArgumentException("A resolution mints a code or an issuer_state, not both.", nameof(issuerState));
        if (code is null && issuerState is null)
        {
            await writes.CommitAsync(offer.TenantId, sql =>
            {
                sql.Add($"UPDATE offers SET resolution_count = resolution_count + 1 WHERE id = {sql.P(offer.Id)}");
                sql.AddEvent(resolved);
            }, ct);
            return ResolutionOutcome.Done;
        }

        var db = writes.Db;
        var taken = await writes.CommitCountingAsync(offer.TenantId, take =>
        {
            // One batch, all or nothing. Note: the offer's row is locked first, so resolutions of one offer queue here on
            // PostgreSQL (SQLite has one writer); the INSERT's count, a statement later with a snapshot of its own, then
            // sees every secret a committed resolution added. The count and the event follow only if the secret was
            // inserted: a resolution beyond the cap changes nothing.
            take.Add($"SELECT 1 FROM offers WHERE id = {take.P(offer.Id)}{(db.IsPostgres ? " FOR UPDATE" : "")}");
            string minted;
            if (code is not null)
            {
                take.Add($"INSERT INTO pre_authorized_codes (code_hash, tenant_id, offer_id, created_at, expires_at) SELECT {take.P(code.CodeHash)}, {take.P(code.TenantId)}, {take.P(code.OfferId)}, {take.Time(code.CreatedAt)}, {take.Time(code.ExpiresAt)} WHERE (SELECT COUNT(*) FROM pre_authorized_codes WHERE offer_id = {take.P(offer.Id)} AND {SqlCondition.Render(CodeRules.Redeemable, code.CreatedAt, take, db)}) < {take.P(liveCap)} RETURNING 1");
                minted = $"EXISTS (SELECT 1 FROM pre_authorized_codes WHERE code_hash = {take.P(code.CodeHash)})";
            }
            else
            {
                take.Add($"INSERT INTO issuer_states (state_hash, tenant_id, offer_id, single_use, created_at, expires_at) SELECT {take.P(issuerState!.StateHash)}, {take.P(issuerState.TenantId)}, {take.P(issuerState.OfferId)}, {take.P(issuerState.SingleUse)}, {take.Time(issuerState.CreatedAt)}, {take.Time(issuerState.ExpiresAt)} WHERE (SELECT COUNT(*) FROM issuer_states WHERE offer_id = {take.P(offer.Id)} AND {SqlCondition.Render(IssuerStateRules.Live, issuerState.CreatedAt, take, db)}) < {take.P(liveCap)} RETURNING 1");
                minted = $"EXISTS (SELECT 1 FROM issuer_states WHERE state_hash = {take.P(issuerState.StateHash)})";
            }
            take.Add($"UPDATE offers SET resolution_count = resolution_count + 1 WHERE id = {take.P(offer.Id)} AND {minted}");
            take.Add(take.EventInsert(resolved, onlyIf: minted));
        }, ct);
        if (taken[1] == 0)
            return ResolutionOutcome.CapReached(await OldestLiveExpiryAsync(offer.Id, code?.CreatedAt ?? issuerState!.CreatedAt, code is not null, ct));
        return ResolutionOutcome.Done;
    }

    /// <summary>When the offer's oldest live code (or issuer_state) expires: what a wallet beyond the cap waits for.</summary>
    private async Task<DateTimeOffset?> OldestLiveExpiryAsync(string offerId, DateTimeOffset now, bool codes, CancellationToken ct)
    {
        var db = writes.Db;
        return codes
            ? await db.PreAuthorizedCodes.AsNoTracking().Where(c => c.OfferId == offerId).Where(CodeRules.Redeemable.Bind(now))
                .Select(c => (DateTimeOffset?)c.ExpiresAt).OrderBy(x => x).FirstOrDefaultAsync(ct)
            : await db.IssuerStates.AsNoTracking().Where(s => s.OfferId == offerId).Where(IssuerStateRules.Live.Bind(now))
                .Select(s => (DateTimeOffset?)s.ExpiresAt).OrderBy(x => x).FirstOrDefaultAsync(ct);
    }
}

/// <summary>
/// Token redemption. The conditions of its conditional UPDATEs are Core's rules (<see cref="CodeRules"/>,
/// <see cref="OfferRules"/>) written as SQL, so they hold under concurrency on any number of hosts.
/// </summary>
internal sealed class TokenRedemptionStore(WalletWrites writes) : ITokenRedemptionStore
{
    public Task<CodeWithOffer?> FindCodeAsync(string tenantId, byte[] codeHash, CancellationToken ct) =>
        writes.Db.Queries.CodeByHash(writes.Db, tenantId, codeHash, ct);

    public Task<OfferWithPinLimit?> FindOfferAsync(string tenantId, string offerId, CancellationToken ct) =>
        (from o in writes.Db.Offers.AsNoTracking()
         where o.TenantId == tenantId && o.Id == offerId
         join t in writes.Db.Tenants.AsNoTracking() on o.TenantId equals t.Id
         select new OfferWithPinLimit(o, t.PinAttemptLimit)).FirstOrDefaultAsync(ct);

    public Task<bool> CountWrongPinAsync(
        Offer offer, int seenAttempts, int limit, DateTimeOffset? lockAt, IReadOnlyList<IssuerEvent> events, CancellationToken ct) =>
        writes.CommitIfFirstTookAsync(offer.TenantId, sql =>
        {
            var locking = lockAt is { } at ? $", locked_at = {sql.Time(at)}" : "";
            // Note: on PostgreSQL the tenant row is read FOR SHARE, so a concurrent change of the limit either commits
            // first (and this count sees the new limit and is refused, to be decided again) or waits for this count,
            // whose offer the change's own lock then sees. SQLite runs one writer at a time.
            var share = writes.Db.IsPostgres ? " FOR SHARE" : "";
            sql.Add($"UPDATE offers SET pin_failed_attempts = {sql.P(seenAttempts + 1)}{locking} WHERE id = {sql.P(offer.Id)} AND pin_failed_attempts = {sql.P(seenAttempts)} AND {SqlCondition.Render(OfferRules.CountsWrongPin, limit, sql, writes.Db)} AND (SELECT pin_attempt_limit FROM tenants WHERE id = {sql.P(offer.TenantId)}{share}) = {sql.P(limit)} RETURNING 1");
            foreach (var e in events) sql.AddEvent(e);
        }, ct);

    public async Task<bool> RedeemAsync(
        PreAuthorizedCode code, Offer offer, DateTimeOffset now, IssuanceSession session, AccessToken token, IssuerEvent issued, CancellationToken ct)
    {
        var db = writes.Db;
        if (db.IsPostgres) return await RedeemInOneStatementAsync(code, offer, now, session, token, issued, ct);
        await using var tx = await writes.BeginAsync(ct);
        // Both conditional updates in one round trip; each says by its returned row whether it took.
        int[] taken;
        await using (var take = new SqlBatch(db))
        {
            take.Add($"UPDATE pre_authorized_codes SET consumed_at = {take.Time(now)} WHERE code_hash = {take.P(code.CodeHash)} AND {SqlCondition.Render(CodeRules.Redeemable, now, take, db)} RETURNING 1");
            take.Add($"UPDATE offers SET use_count = use_count + 1 WHERE id = {take.P(offer.Id)} AND {SqlCondition.Render(OfferRules.Usable, now, take, db)} RETURNING 1");
            taken = await take.RowsPerStatementAsync(ct);
        }
        if (taken[0] == 0 || taken[1] == 0) return false;

        await writes.CommitWithAsync(tx, write =>
        {
            write.Add(SessionInsert(write, session, onlyIf: null));
            write.Add(WalletWrites.TokenInsert(write, token));
            write.AddEvent(issued);
        }, ct);
        writes.Committed(offer.TenantId);
        return true;
    }

    /// <summary>
    /// PostgreSQL: the redemption as one statement (one round trip, its own transaction). The code is consumed only while
    /// the offer is usable in the statement's snapshot; the use is counted only if the code was consumed (the offer's row
    /// lock re-checks <see cref="OfferRules.Usable"/> on its newest version); the session, token and event follow the
    /// use. Note: an offer that ends between the snapshot and that lock (revoked, locked, expired, its last use taken)
    /// leaves the code spent with nothing else written. The offer can give no token any more, so nothing a wallet can
    /// see differs, and no use is ever counted without its session.
    /// </summary>
    private async Task<bool> RedeemInOneStatementAsync(
        PreAuthorizedCode code, Offer offer, DateTimeOffset now, IssuanceSession session, AccessToken token, IssuerEvent issued, CancellationToken ct)
    {
        var db = writes.Db;
        await using var sql = new SqlBatch(db);
        const string Used = "EXISTS (SELECT 1 FROM used)";
        sql.Add($"WITH consumed AS (UPDATE pre_authorized_codes SET consumed_at = {sql.Time(now)} WHERE code_hash = {sql.P(code.CodeHash)} AND {SqlCondition.Render(CodeRules.Redeemable, now, sql, db)} AND EXISTS (SELECT 1 FROM offers WHERE id = {sql.P(offer.Id)} AND {SqlCondition.Render(OfferRules.Usable, now, sql, db)}) RETURNING 1), "
            + $"used AS (UPDATE offers SET use_count = use_count + 1 WHERE id = {sql.P(offer.Id)} AND {SqlCondition.Render(OfferRules.Usable, now, sql, db)} AND EXISTS (SELECT 1 FROM consumed) RETURNING 1), "
            + $"opened AS ({SessionInsert(sql, session, Used)}), "
            + $"granted AS ({WalletWrites.TokenInsert(sql, token, Used)}), "
            + $"appended AS ({sql.EventInsert(issued, Used)}) "
            + "SELECT 1 FROM used");
        if (!await sql.FirstStatementTookAsync(ct)) return false;
        writes.Committed(offer.TenantId);
        return true;
    }

    private static string SessionInsert(SqlBatch sql, IssuanceSession s, string? onlyIf) =>
        "INSERT INTO issuance_sessions (id, tenant_id, offer_id, configuration_id, profile_uid, profile_version, client_id, credential_identifier, created_at) "
        + SqlBatch.Row($"{sql.P(s.Id)}, {sql.P(s.TenantId)}, {sql.P(s.OfferId)}, {sql.P(s.ConfigurationId)}, {sql.Guid(s.ProfileUid)}, {sql.P(s.ProfileVersion)}, {sql.P(s.ClientId)}, {sql.P(s.CredentialIdentifier)}, {sql.Time(s.CreatedAt)}", onlyIf);
}

/// <summary>The session an access token opens, in one read.</summary>
internal sealed class SessionAccessStore(IssuerDbContext db) : ISessionAccessStore
{
    public Task<SessionAccess?> FindSessionByTokenAsync(string tenantId, byte[] tokenHash, CancellationToken ct) =>
        db.Queries.SessionByToken(db, tenantId, tokenHash, ct);
}

/// <summary>Credential issuance: the nonce's and the credential's unique keys decide, in one round trip.</summary>
internal sealed class CredentialIssuanceStore(WalletWrites writes) : ICredentialIssuanceStore
{
    internal const string NonceUsedOnce = "pk_consumed_nonces";
    internal const string OneCredentialPerSession = "ux_issued_credentials_session_configuration";

    public Task<ProfileVersion?> FindProfileVersionAsync(Guid profileUid, int version, CancellationToken ct) =>
        writes.Db.FindProfileVersionAsync(profileUid, version, ct);

    public async Task<IssueOutcome> IssueAsync(
        ConsumedNonce nonce, IssuedCredential credential, IssuanceSession session, IReadOnlyList<IssuerEvent> events, CancellationToken ct)
    {
        try
        {
            await writes.CommitAsync(credential.TenantId, sql =>
            {
                sql.Add($"INSERT INTO consumed_nonces (nonce_hash, expires_at) VALUES ({sql.P(nonce.NonceHash)}, {sql.Time(nonce.ExpiresAt)})");
                sql.Add($"INSERT INTO issued_credentials (id, tenant_id, session_id, offer_id, configuration_id, format, holder_key_thumbprint, issued_at, expires_at, notification_id) VALUES ({sql.P(credential.Id)}, {sql.P(credential.TenantId)}, {sql.P(credential.SessionId)}, {sql.P(credential.OfferId)}, {sql.P(credential.ConfigurationId)}, {sql.P(credential.Format)}, {sql.P(credential.HolderKeyThumbprint)}, {sql.Time(credential.IssuedAt)}, {sql.Time(credential.ExpiresAt)}, {sql.P(credential.NotificationId)})");
                // The sign-in claims were needed for this credential only (OID4VCI 1.0 §15.3).
                sql.Add($"UPDATE issuance_sessions SET completed_at = {sql.Time(credential.IssuedAt)}, encrypted_claims = NULL WHERE id = {sql.P(session.Id)}");
                if (credential.OfferId is { } offerId) sql.Add($"UPDATE offers SET issued_count = issued_count + 1 WHERE id = {sql.P(offerId)}");
                foreach (var e in events) sql.AddEvent(e);
            }, ct);
            return IssueOutcome.Issued;
        }
        catch (DbException e) when (IssuerStore.IsUniqueViolation(e))
        {
            return ViolatedNonce(e) ? IssueOutcome.NonceAlreadyUsed : IssueOutcome.AlreadyIssued;
        }
    }

    /// <summary>
    /// Which unique key refused the batch. PostgreSQL names the constraint. SQLite names none in its codes, but the two
    /// keys differ in kind: the nonce's is the table's primary key (SQLITE_CONSTRAINT_PRIMARYKEY), the credential's a
    /// unique index (SQLITE_CONSTRAINT_UNIQUE); an issued credential's own primary key is a fresh random id.
    /// </summary>
    private static bool ViolatedNonce(DbException e) => e switch
    {
        PostgresException pg => pg.ConstraintName == NonceUsedOnce,
        SqliteException lite => lite.SqliteExtendedErrorCode == SqliteErrors.PrimaryKeyViolation,
        _ => false,
    };
}

/// <summary>Notifications: the credential read and its update, through one port.</summary>
internal sealed class NotificationStore(WalletWrites writes) : INotificationStore
{
    public Task RecordAsync(IssuedCredential credential, string notificationEvent, DateTimeOffset now, IssuerEvent received, CancellationToken ct) =>
        writes.CommitAsync(credential.TenantId, sql =>
        {
            sql.Add($"UPDATE issued_credentials SET notification_event = {sql.P(notificationEvent)}, notified_at = {sql.Time(now)} WHERE id = {sql.P(credential.Id)}");
            sql.AddEvent(received);
        }, ct);
}

/// <summary>
/// Retention of codes, issuer_states, authorizations, access tokens, consumed nonces and seen DPoP proofs (short batches of
/// the oldest expired rows), and of issuance sessions with their issued-credential records past their retention.
/// </summary>
internal sealed class WalletRetention(IssuerDbContext db) : IWalletRetention
{
    public async Task<int> PurgeExpiredAsync(DateTimeOffset now, int batchSize, CancellationToken ct) =>
        await PurgeAsync(db.PreAuthorizedCodes, c => c.ExpiresAt, now, batchSize, ct)
        // An issuer_state is consumed at the token endpoint, by a flow that may have begun just before it expired.
        + await PurgeAsync(db.IssuerStates, s => s.ExpiresAt, now - AuthorizationLifetimes.Flow, batchSize, ct)
        + await PurgeAsync(db.Authorizations, a => a.ExpiresAt, now, batchSize, ct)
        + await PurgeAsync(db.AccessTokens, t => t.ExpiresAt, now, batchSize, ct)
        + await PurgeAsync(db.ConsumedNonces, n => n.ExpiresAt, now, batchSize, ct)
        + await PurgeAsync(db.DpopProofs, p => p.ExpiresAt, now, batchSize, ct)
        + await ForgetSignInClaimsAsync(now, ct);

    public async Task<int> PurgeEndedSessionsAsync(SessionRetention retention, DateTimeOffset now, int batchSize, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(retention);
        // Core's rule (SessionRetention.EndOf <= Cutoff): the token ended before the cutoff, and no credential of the
        // session expires after it. A live access token keeps its session whatever the dates say.
        var cutoff = retention.Cutoff(now);
        var createdCutoff = retention.CreatedCutoff(now);
        var ids = await db.Sessions.AsNoTracking()
            .Where(s => s.CreatedAt <= createdCutoff)
            .Where(s => !db.IssuedCredentials.Any(c => c.SessionId == s.Id && c.ExpiresAt > cutoff))
            .Where(s => !db.AccessTokens.Any(t => t.SessionId == s.Id && t.ExpiresAt > now))
            .OrderBy(s => s.CreatedAt).Select(s => s.Id).Take(batchSize).ToListAsync(ct);
        if (ids.Count == 0) return 0;

        // Note: nothing can add to these sessions meanwhile: a credential needs the session's live access token.
        db.Database.AutoSavepointsEnabled = false;
        await using var tx = await db.BeginWriteAsync(ct);
        await db.IssuedCredentials.Where(c => ids.Contains(c.SessionId)).ExecuteDeleteAsync(ct);
        await db.AccessTokens.Where(t => ids.Contains(t.SessionId)).ExecuteDeleteAsync(ct);
        var purged = await db.Sessions.Where(s => ids.Contains(s.Id)).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return purged;
    }

    /// <summary>
    /// A session's sign-in claims are kept only until its credential is issued or its access token expired (OID4VCI 1.0
    /// §15.3): after that no request can use them.
    /// </summary>
    private async Task<int> ForgetSignInClaimsAsync(DateTimeOffset now, CancellationToken ct)
    {
        var before = now - AccessTokens.Lifetime;
        return await db.Sessions.Where(s => s.EncryptedClaims != null && s.CreatedAt <= before)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.EncryptedClaims, (byte[]?)null), ct);
    }

    /// <summary>Deletes about one batch of the oldest expired rows: everything up to the batch's last expiry.</summary>
    private static async Task<int> PurgeAsync<T>(
        DbSet<T> set, System.Linq.Expressions.Expression<Func<T, DateTimeOffset>> expiry, DateTimeOffset now, int batchSize, CancellationToken ct)
        where T : class
    {
        var expiries = set.AsNoTracking().Select(expiry).Where(x => x <= now).OrderBy(x => x);
        var last = await expiries.Skip(batchSize - 1).Select(x => (DateTimeOffset?)x).FirstOrDefaultAsync(ct) ?? now;
        var parameter = expiry.Parameters[0];
        var filter = System.Linq.Expressions.Expression.Lambda<Func<T, bool>>(
            System.Linq.Expressions.Expression.LessThanOrEqual(expiry.Body, System.Linq.Expressions.Expression.Constant(last)), parameter);
        return await set.Where(filter).ExecuteDeleteAsync(ct);
    }
}
