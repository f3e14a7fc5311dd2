using Issuer2.Core.Events;
using Issuer2.Core.Keys;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tenants;
using Issuer2.Core.Wallet;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Issuer2.Storage;

/// <summary>
/// The wallet flow's persistence. One-time rules are conditional UPDATEs (<c>… WHERE consumed_at IS NULL</c>,
/// <c>… WHERE use_count &lt; max_uses</c>) and unique keys (consumed nonces, one credential per session), so they
/// hold under concurrency on any number of hosts; each step and its events commit in one transaction.
/// </summary>
public sealed class WalletStore(IssuerDbContext db, IEventNotifier notifier) : IWalletStore
{
    internal const string NonceUsedOnce = "pk_consumed_nonces";
    internal const string OneCredentialPerSession = "ux_issued_credentials_session_configuration";

    public Task<long?> FindTenantVersionAsync(string tenantId, CancellationToken ct) => db switch
    {
        PostgresIssuerDbContext pg => HotQueries<PostgresIssuerDbContext>.TenantVersion(pg, tenantId, ct),
        SqliteIssuerDbContext lite => HotQueries<SqliteIssuerDbContext>.TenantVersion(lite, tenantId, ct),
        _ => throw new InvalidOperationException("Unknown database context."),
    };

    public async Task<(Tenant Tenant, IReadOnlyList<Profile> Profiles, IReadOnlyList<SigningKey> Keys)?> LoadTenantAsync(string tenantId, CancellationToken ct)
    {
        var tenant = await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Id == tenantId && t.DeletedAt == null, ct);
        if (tenant is null) return null;
        var profiles = await db.Profiles.AsNoTracking().Where(p => p.TenantId == tenantId).OrderBy(p => p.ProfileId).ToListAsync(ct);
        var keys = await db.SigningKeys.AsNoTracking().Where(k => k.TenantId == tenantId).OrderBy(k => k.CreatedAt).ToListAsync(ct);
        return (tenant, profiles, keys);
    }

    public Task<OfferWithTenant?> FindOfferByUriTokenAsync(string tenantId, byte[] uriTokenHash, CancellationToken ct) => db switch
    {
        PostgresIssuerDbContext pg => HotQueries<PostgresIssuerDbContext>.OfferByUriToken(pg, tenantId, uriTokenHash, ct),
        SqliteIssuerDbContext lite => HotQueries<SqliteIssuerDbContext>.OfferByUriToken(lite, tenantId, uriTokenHash, ct),
        _ => throw new InvalidOperationException("Unknown database context."),
    };

    public async Task RecordResolutionAsync(Offer offer, PreAuthorizedCode code, IssuerEvent resolved, CancellationToken ct)
    {
        // One round trip: the new code, the count and the event, all or nothing.
        await using var tx = await BeginAsync(ct);
        var sql = new SqlBatch(db);
        sql.Add($"INSERT INTO pre_authorized_codes (code_hash, tenant_id, offer_id, created_at, expires_at) VALUES ({sql.P(code.CodeHash)}, {sql.P(code.TenantId)}, {sql.P(code.OfferId)}, {sql.Time(code.CreatedAt)}, {sql.Time(code.ExpiresAt)})");
        sql.Add($"UPDATE offers SET resolution_count = resolution_count + 1 WHERE id = {sql.P(offer.Id)}");
        sql.AddEvent(resolved);
        await sql.ExecuteAsync(ct);
        await tx.CommitAsync(ct);
        notifier.Committed(offer.TenantId);
    }

    public Task<CodeWithOffer?> FindCodeAsync(string tenantId, byte[] codeHash, CancellationToken ct) => db switch
    {
        PostgresIssuerDbContext pg => HotQueries<PostgresIssuerDbContext>.CodeByHash(pg, tenantId, codeHash, ct),
        SqliteIssuerDbContext lite => HotQueries<SqliteIssuerDbContext>.CodeByHash(lite, tenantId, codeHash, ct),
        _ => throw new InvalidOperationException("Unknown database context."),
    };

    public async Task<WrongPinOutcome> RecordWrongPinAsync(
        Offer offer, int limit, DateTimeOffset now, Func<WrongPinOutcome, IEnumerable<IssuerEvent>> events, CancellationToken ct)
    {
        await using var tx = await BeginAsync(ct);
        // Counted only while the offer is unlocked and under its limit; the attempt that reaches the limit locks it.
        var nowValue = TimeValue(now);
        var attempts = await db.Database.SqlQuery<int>($"""
                UPDATE offers
                SET pin_failed_attempts = pin_failed_attempts + 1,
                    locked_at = CASE WHEN pin_failed_attempts + 1 >= {limit} THEN {nowValue} ELSE locked_at END
                WHERE id = {offer.Id} AND locked_at IS NULL AND revoked_at IS NULL AND pin_failed_attempts < {limit}
                RETURNING pin_failed_attempts AS "Value"
                """).ToListAsync(ct);
        var outcome = attempts.Count == 0
            ? new WrongPinOutcome(false, limit, false)
            : new WrongPinOutcome(true, attempts[0], attempts[0] >= limit);
        db.Events.AddRange(events(outcome));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        db.ChangeTracker.Clear();
        notifier.Committed(offer.TenantId);
        return outcome;
    }

    public async Task<bool> RedeemAsync(
        PreAuthorizedCode code, Offer offer, DateTimeOffset now, IssuanceSession session, AccessToken token, IssuerEvent issued, CancellationToken ct)
    {
        await using var tx = await BeginAsync(ct);
        // Both conditional updates in one round trip; each says by its returned row whether it took.
        var take = new SqlBatch(db);
        var at = take.Time(now);
        take.Add($"UPDATE pre_authorized_codes SET consumed_at = {at} WHERE code_hash = {take.P(code.CodeHash)} AND consumed_at IS NULL AND expires_at > {at} RETURNING 1");
        take.Add($"UPDATE offers SET use_count = use_count + 1 WHERE id = {take.P(offer.Id)} AND use_count < max_uses AND revoked_at IS NULL AND locked_at IS NULL AND expires_at > {at} RETURNING 1");
        var taken = await take.RowsPerStatementAsync(ct);
        if (taken[0] == 0 || taken[1] == 0) return false;

        var write = new SqlBatch(db);
        write.Add($"INSERT INTO issuance_sessions (id, tenant_id, offer_id, configuration_id, profile_uid, profile_version, credential_identifier, created_at) VALUES ({write.P(session.Id)}, {write.P(session.TenantId)}, {write.P(session.OfferId)}, {write.P(session.ConfigurationId)}, {write.Guid(session.ProfileUid)}, {write.P(session.ProfileVersion)}, {write.P(session.CredentialIdentifier)}, {write.Time(session.CreatedAt)})");
        write.Add($"INSERT INTO access_tokens (token_hash, tenant_id, session_id, expires_at) VALUES ({write.P(token.TokenHash)}, {write.P(token.TenantId)}, {write.P(token.SessionId)}, {write.Time(token.ExpiresAt)})");
        write.AddEvent(issued);
        await write.ExecuteAsync(ct);
        await tx.CommitAsync(ct);
        notifier.Committed(offer.TenantId);
        return true;
    }

    public async Task AppendAsync(IssuerEvent e, CancellationToken ct)
    {
        db.Events.Add(e);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        notifier.Committed(e.TenantId);
    }

    public Task<SessionAccess?> FindSessionByTokenAsync(string tenantId, byte[] tokenHash, CancellationToken ct) => db switch
    {
        PostgresIssuerDbContext pg => HotQueries<PostgresIssuerDbContext>.SessionByToken(pg, tenantId, tokenHash, ct),
        SqliteIssuerDbContext lite => HotQueries<SqliteIssuerDbContext>.SessionByToken(lite, tenantId, tokenHash, ct),
        _ => throw new InvalidOperationException("Unknown database context."),
    };

    public Task<ProfileVersion?> FindProfileVersionAsync(Guid profileUid, int version, CancellationToken ct) =>
        db.ProfileVersions.AsNoTracking().FirstOrDefaultAsync(v => v.ProfileUid == profileUid && v.Version == version, ct);

    public async Task<IssueOutcome> IssueAsync(
        ConsumedNonce nonce, IssuedCredential credential, IssuanceSession session, IReadOnlyList<IssuerEvent> events, CancellationToken ct)
    {
        // One round trip and the commit: the nonce's and the credential's unique keys decide, the rest follows.
        await using var tx = await BeginAsync(ct);
        var sql = new SqlBatch(db);
        sql.Add($"INSERT INTO consumed_nonces (nonce_hash, expires_at) VALUES ({sql.P(nonce.NonceHash)}, {sql.Time(nonce.ExpiresAt)})");
        sql.Add($"INSERT INTO issued_credentials (id, tenant_id, session_id, offer_id, configuration_id, format, holder_key_thumbprint, issued_at, expires_at, notification_id) VALUES ({sql.P(credential.Id)}, {sql.P(credential.TenantId)}, {sql.P(credential.SessionId)}, {sql.P(credential.OfferId)}, {sql.P(credential.ConfigurationId)}, {sql.P(credential.Format)}, {sql.P(credential.HolderKeyThumbprint)}, {sql.Time(credential.IssuedAt)}, {sql.Time(credential.ExpiresAt)}, {sql.P(credential.NotificationId)})");
        sql.Add($"UPDATE issuance_sessions SET completed_at = {sql.Time(credential.IssuedAt)} WHERE id = {sql.P(session.Id)}");
        sql.Add($"UPDATE offers SET issued_count = issued_count + 1 WHERE id = {sql.P(credential.OfferId)}");
        foreach (var e in events) sql.AddEvent(e);
        try
        {
            await sql.ExecuteAsync(ct);
        }
        catch (DbException e) when (IssuerStore.IsUniqueViolation(e))
        {
            return ViolatedNonce(e) ? IssueOutcome.NonceAlreadyUsed : IssueOutcome.AlreadyIssued;
        }
        await tx.CommitAsync(ct);
        notifier.Committed(credential.TenantId);
        return IssueOutcome.Issued;
    }

    public Task<IssuedCredential?> FindByNotificationIdAsync(string sessionId, string notificationId, CancellationToken ct) =>
        db.IssuedCredentials.FirstOrDefaultAsync(c => c.SessionId == sessionId && c.NotificationId == notificationId, ct);

    public async Task<int> PurgeExpiredAsync(DateTimeOffset now, int batchSize, CancellationToken ct) =>
        await PurgeAsync(db.PreAuthorizedCodes, c => c.ExpiresAt, now, batchSize, ct)
        + await PurgeAsync(db.AccessTokens, t => t.ExpiresAt, now, batchSize, ct)
        + await PurgeAsync(db.ConsumedNonces, n => n.ExpiresAt, now, batchSize, ct);

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

    /// <summary>A transaction without EF's automatic savepoints: each SaveChanges inside is all or nothing with the rest anyway.</summary>
    private Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> BeginAsync(CancellationToken ct)
    {
        db.Database.AutoSavepointsEnabled = false;
        return db.Database.BeginTransactionAsync(ct);
    }

    private object TimeValue(DateTimeOffset t) => db.IsPostgres ? t : t.UtcTicks;

    private static bool ViolatedNonce(DbException e) => e switch
    {
        PostgresException pg => pg.ConstraintName == NonceUsedOnce,
        SqliteException lite => lite.Message.Contains("consumed_nonces", StringComparison.Ordinal),
        _ => false,
    };
}
