using System.Text;
using Issuer2.Core.ApiKeys;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Keys;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Tenants;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Issuer2.Storage;

/// <summary>
/// The EF Core implementation of Core's ports, one per request: everything a use case adds or changes,
/// events included, commits in the one <see cref="SaveChangesAsync"/> (the outbox).
/// </summary>
public sealed class IssuerStore(IssuerDbContext db, IEventNotifier notifier)
    : ITenantStore, IApiKeyStore, IProfileStore, IOfferStore, IEventLog, IEventReader, IUnitOfWork
{
    private readonly HashSet<string> _eventTenants = new(StringComparer.Ordinal);
    private readonly List<Func<CancellationToken, Task>> _pinLimitLocks = [];

    public Task SaveChangesAsync(CancellationToken ct) => CommitAsync(async () =>
    {
        if (_pinLimitLocks.Count == 0 && db.IsPostgres)
        {
            await db.SaveChangesAsync(ct);
        }
        else
        {
            // The tracked changes first (the tenant's new limit), then the set-based locks, in one transaction; on
            // SQLite always an explicit one, since EF's own would bypass the write gate.
            await using var tx = await db.BeginWriteAsync(ct);
            await db.SaveChangesAsync(ct);
            foreach (var apply in _pinLimitLocks) await apply(ct);
            await tx.CommitAsync(ct);
            _pinLimitLocks.Clear();
        }
        return true;
    });

    public async Task<QuotaCheck?> SaveWithinQuotasAsync(IReadOnlyList<QuotaCheck> checks, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(checks);
        if (checks.Count == 0 || _pinLimitLocks.Count > 0)
            throw new InvalidOperationException("A quota-guarded commit has checks and no set-based locks.");
        QuotaCheck? exceeded = null;
        await CommitAsync(async () =>
        {
            // Note: READ COMMITTED: a count before the insert races another host's. The tenant's row is locked first, so
            // commits guarded on one tenant queue here, and each count (a new snapshot per statement) sees the ones before
            // it. SQLite's transactions begin IMMEDIATE: writers are already serial.
            await using var tx = await db.BeginWriteAsync(ct);
            if (db.IsPostgres)
            {
                foreach (var tenantId in checks.Select(c => c.TenantId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
                    await db.Database.ExecuteSqlInterpolatedAsync($"SELECT 1 FROM tenants WHERE id = {tenantId} FOR UPDATE", ct);
            }
            await db.SaveChangesAsync(ct);
            foreach (var check in checks)
            {
                // Counted after the change, at most one past the limit: the cost is bounded by the quota.
                if (await CountAsync(check, ct) > check.Limit)
                {
                    await tx.RollbackAsync(ct);
                    Reset();
                    exceeded = check;
                    return false;
                }
            }
            await tx.CommitAsync(ct);
            return true;
        });
        return exceeded;
    }

    /// <summary>
    /// Runs one commit: EF's conflicts become Core's (<see cref="ConcurrencyConflictException"/>,
    /// <see cref="UniqueConflictException"/>), and once it committed (it returns true) the event readers of the tenants
    /// it wrote events for are woken — after the commit, never inside it: a wake-up for events that are not yet
    /// visible would be wasted.
    /// </summary>
    private async Task CommitAsync(Func<Task<bool>> commit)
    {
        try
        {
            if (!await commit()) return;
        }
        catch (DbUpdateConcurrencyException e)
        {
            throw new ConcurrencyConflictException("A row was changed by a concurrent request.", e);
        }
        catch (DbUpdateException e) when (IsUniqueViolation(e))
        {
            throw new UniqueConflictException("A unique key was taken by a concurrent request.", e);
        }
        foreach (var tenant in _eventTenants) notifier.Committed(tenant);
        _eventTenants.Clear();
    }

    private Task<int> CountAsync(QuotaCheck check, CancellationToken ct)
    {
        var t = check.TenantId;
        var rows = check.Quota switch
        {
            Quota.Profiles => db.Profiles.Where(p => p.TenantId == t).OrderBy(p => p.Uid).Select(p => 1),
            Quota.ProfileVersions => db.ProfileVersions.Where(v => v.ProfileUid == check.ProfileUid).OrderBy(v => v.Version).Select(v => 1),
            Quota.LiveOffers => db.Offers.Where(o => o.TenantId == t).Where(OfferRules.InState(OfferState.Active).Bind(check.At)).OrderBy(o => o.Id).Select(o => 1),
            Quota.ApiKeys => db.ApiKeys.Where(k => k.TenantId == t).Where(ApiKey.Live.Bind(check.At)).OrderBy(k => k.Id).Select(k => 1),
            Quota.EventStreams => throw new ArgumentException("Event streams are counted per host, not stored.", nameof(check)),
        };
        // Counted no further than one past the limit; ordered by key, so the row-limited read is well defined.
        return rows.Take(check.Limit + 1).CountAsync(ct);
    }

    public void Reset()
    {
        db.ChangeTracker.Clear();
        _eventTenants.Clear();
        _pinLimitLocks.Clear();
    }

    internal static bool IsUniqueViolation(DbUpdateException e) => e.InnerException is System.Data.Common.DbException inner && IsUniqueViolation(inner);

    internal static bool IsUniqueViolation(System.Data.Common.DbException e) => e switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException lite => lite.SqliteErrorCode == SqliteErrors.Constraint && lite.SqliteExtendedErrorCode is SqliteErrors.UniqueViolation or SqliteErrors.PrimaryKeyViolation,
        _ => false,
    };

    // Tenants

    public Task<Tenant?> FindAsync(string tenantId, CancellationToken ct) =>
        db.Tenants.FirstOrDefaultAsync(t => t.Id == tenantId && t.DeletedAt == null, ct);

    public Task<bool> IdEverUsedAsync(string tenantId, CancellationToken ct) => db.Tenants.AnyAsync(t => t.Id == tenantId, ct);

    public async Task<IReadOnlyList<Tenant>> ListAsync(string? afterId, int limit, CancellationToken ct) =>
        await db.Tenants.AsNoTracking()
            .Where(t => t.DeletedAt == null && (afterId == null || string.Compare(t.Id, afterId) > 0))
            .OrderBy(t => t.Id).Take(limit).ToListAsync(ct);

    public async Task<IReadOnlyList<SigningKey>> ListSigningKeysAsync(IReadOnlyCollection<string> tenantIds, CancellationToken ct)
    {
        var ids = tenantIds.ToArray();
        return await db.SigningKeys.AsNoTracking().Where(k => ids.Contains(k.TenantId)).OrderBy(k => k.CreatedAt).ToListAsync(ct);
    }

    public void Add(Tenant tenant) => db.Tenants.Add(tenant);

    public void Add(SigningKey key) => db.SigningKeys.Add(key);

    // API keys

    public async Task<ApiKeyMatch?> FindByHashAsync(byte[] keyHash, CancellationToken ct)
    {
        var row = await db.ApiKeys.AsNoTracking()
            .Where(k => k.KeyHash == keyHash)
            .Select(k => new { Key = k, Live = k.TenantId == null || db.Tenants.Any(t => t.Id == k.TenantId && t.DeletedAt == null) })
            .FirstOrDefaultAsync(ct);
        return row is null ? null : new ApiKeyMatch(row.Key, row.Live);
    }

    public Task<ApiKey?> FindAsync(string tenantId, string keyId, CancellationToken ct) =>
        db.ApiKeys.FirstOrDefaultAsync(k => k.TenantId == tenantId && k.Id == keyId, ct);

    public async Task<IReadOnlyList<ApiKey>> ListAsync(string tenantId, (DateTimeOffset CreatedAt, string Id)? after, int limit, CancellationToken ct)
    {
        var q = db.ApiKeys.AsNoTracking().Where(k => k.TenantId == tenantId);
        if (after is { } a) q = q.Where(k => k.CreatedAt < a.CreatedAt || (k.CreatedAt == a.CreatedAt && string.Compare(k.Id, a.Id) < 0));
        return await q.OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id).Take(limit).ToListAsync(ct);
    }

    public Task<bool> AnyAdminKeyAsync(CancellationToken ct) => db.ApiKeys.AnyAsync(k => k.TenantId == null, ct);

    public void Add(ApiKey key) => db.ApiKeys.Add(key);

    // Profiles

    Task<Profile?> IProfileStore.FindAsync(string tenantId, string profileId, CancellationToken ct) =>
        db.Profiles.FirstOrDefaultAsync(p => p.TenantId == tenantId && p.ProfileId == profileId, ct);

    async Task<IReadOnlyList<Profile>> IProfileStore.ListAsync(string tenantId, string? afterProfileId, int limit, CancellationToken ct) =>
        await db.Profiles.AsNoTracking()
            .Where(p => p.TenantId == tenantId && (afterProfileId == null || string.Compare(p.ProfileId, afterProfileId) > 0))
            .OrderBy(p => p.ProfileId).Take(limit).ToListAsync(ct);

    public Task<bool> ScopeTakenAsync(string tenantId, string scope, Guid? exceptUid, CancellationToken ct) =>
        db.Profiles.AnyAsync(p => p.TenantId == tenantId && p.Scope == scope && (exceptUid == null || p.Uid != exceptUid), ct);

    async Task<IReadOnlyList<SessionView>> IProfileStore.ListSessionsAsync(
        string tenantId, Guid profileUid, (DateTimeOffset CreatedAt, string Id)? after, int limit, CancellationToken ct)
    {
        var q = db.Sessions.AsNoTracking().Where(s => s.TenantId == tenantId && s.OfferId == null && s.ProfileUid == profileUid);
        if (after is { } a) q = q.Where(s => s.CreatedAt > a.CreatedAt || (s.CreatedAt == a.CreatedAt && string.Compare(s.Id, a.Id) > 0));
        var sessions = await q.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).Take(limit).ToListAsync(ct);
        return await WithCredentialsAsync(sessions, ct);
    }

    public void Add(Profile profile) => db.Profiles.Add(profile);

    public void Add(ProfileVersion version) => db.ProfileVersions.Add(version);

    public void Remove(Profile profile) => db.Profiles.Remove(profile);

    // Offers

    Task<Offer?> IOfferStore.FindAsync(string tenantId, string offerId, CancellationToken ct) =>
        db.Offers.FirstOrDefaultAsync(o => o.TenantId == tenantId && o.Id == offerId, ct);

    public async Task<IReadOnlyList<Offer>> ListAsync(OfferQuery query, CancellationToken ct)
    {
        var now = query.Now;
        var q = db.Offers.AsNoTracking().Where(o => o.TenantId == query.TenantId);
        if (query.ProfileId is not null) q = q.Where(o => o.ProfileId == query.ProfileId);
        if (query.State is { } state) q = q.Where(OfferRules.InState(state).Bind(now));
        if (query.After is { } a) q = q.Where(o => o.CreatedAt < a.CreatedAt || (o.CreatedAt == a.CreatedAt && string.Compare(o.Id, a.Id) < 0));
        return await q.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id).Take(query.Limit).ToListAsync(ct);
    }

    public async Task<IReadOnlyList<Offer>> ListActiveForProfileAsync(string tenantId, string profileId, DateTimeOffset now, CancellationToken ct) =>
        await db.Offers.Where(o => o.TenantId == tenantId && o.ProfileId == profileId).Where(OfferRules.InState(OfferState.Active).Bind(now)).ToListAsync(ct);

    public void LockAtPinLimit(string tenantId, int limit, DateTimeOffset now, Func<LockedOffer, IssuerEvent> locked)
    {
        ArgumentNullException.ThrowIfNull(locked);
        _eventTenants.Add(tenantId);
        _pinLimitLocks.Add(async ct =>
        {
            var found = new List<LockedOffer>();
            await using (var sql = new SqlBatch(db))
            {
                sql.Add($"UPDATE offers SET locked_at = {sql.Time(now)} WHERE tenant_id = {sql.P(tenantId)} AND {SqlCondition.Render(OfferRules.ReachedPinLimit, limit, sql, db)} RETURNING id, profile_id, pin_failed_attempts");
                found.AddRange(await sql.ReadAsync(r => new LockedOffer(r.GetString(0), r.GetString(1), r.GetInt32(2)), ct));
            }
            if (found.Count == 0) return;
            await using var events = new SqlBatch(db);
            foreach (var offer in found) events.AddEvent(locked(offer));
            await events.ExecuteAsync(ct);
        });
    }

    public Task<OfferRequest?> FindRequestAsync(string tenantId, string requestId, CancellationToken ct) =>
        db.OfferRequests.FirstOrDefaultAsync(r => r.TenantId == tenantId && r.RequestId == requestId, ct);

    public async Task<int> PurgeExpiredRequestsAsync(DateTimeOffset now, int batchSize, CancellationToken ct)
    {
        var batch = await db.OfferRequests.AsNoTracking().Where(r => r.ExpiresAt <= now)
            .OrderBy(r => r.ExpiresAt).Select(r => new { r.TenantId, r.RequestId }).Take(batchSize).ToListAsync(ct);
        var deleted = 0;
        foreach (var r in batch)
        {
            deleted += await db.OfferRequests.Where(x => x.TenantId == r.TenantId && x.RequestId == r.RequestId && x.ExpiresAt <= now)
                .ExecuteDeleteAsync(ct);
        }
        return deleted;
    }

    public async Task<IReadOnlyList<SessionView>> ListSessionsAsync(
        string tenantId, string offerId, (DateTimeOffset CreatedAt, string Id)? after, int limit, CancellationToken ct)
    {
        var q = db.Sessions.AsNoTracking().Where(s => s.TenantId == tenantId && s.OfferId == offerId);
        if (after is { } a) q = q.Where(s => s.CreatedAt > a.CreatedAt || (s.CreatedAt == a.CreatedAt && string.Compare(s.Id, a.Id) > 0));
        var sessions = await q.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).Take(limit).ToListAsync(ct);
        return await WithCredentialsAsync(sessions, ct);
    }

    /// <summary>The sessions with the credentials each received, in one read.</summary>
    private async Task<IReadOnlyList<SessionView>> WithCredentialsAsync(List<Core.Sessions.IssuanceSession> sessions, CancellationToken ct)
    {
        if (sessions.Count == 0) return [];
        var ids = sessions.Select(s => s.Id).ToList();
        var credentials = await db.IssuedCredentials.AsNoTracking().Where(c => ids.Contains(c.SessionId)).ToListAsync(ct);
        return [.. sessions.Select(s => new SessionView(s, [.. credentials.Where(c => c.SessionId == s.Id).OrderBy(c => c.IssuedAt)]))];
    }

    public void Add(Offer offer) => db.Offers.Add(offer);

    public void Add(PreAuthorizedCode code) => db.PreAuthorizedCodes.Add(code);

    public void Add(IssuerState state) => db.IssuerStates.Add(state);

    public void Add(OfferRequest request) => db.OfferRequests.Add(request);

    // Events

    public void Append(IssuerEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        db.Events.Add(e);
        _eventTenants.Add(e.TenantId);
    }

    public async Task<IReadOnlyList<IssuerEvent>> ReadAfterAsync(string tenantId, EventCursor? after, int limit, CancellationToken ct) =>
        (await ReadAsync(tenantId, after ?? default, EventFilter.All, limit, ct)).Events;

    public async Task<EventPage> ReadAsync(string tenantId, EventCursor after, EventFilter filter, int limit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filter);
        // The horizon and the events in one statement: one snapshot, one round trip. PostgreSQL: every transaction below
        // the snapshot's xmin has ended, and every later one gets a higher id, so events below it can be delivered in
        // (transaction id, sequence) order without ever skipping one that commits late. SQLite commits one writer at a
        // time: the highest sequence taken is the horizon.
        var shape = db.Queries.Events;
        await using var sql = new SqlBatch(db);
        var where = new StringBuilder($"tenant_id = {sql.P(tenantId)} AND (transaction_id > {sql.P(after.TransactionId)} OR (transaction_id = {sql.P(after.TransactionId)} AND sequence > {sql.P(after.Sequence)}))");
        if (!db.IsPostgres) where.Append($" AND sequence <= {SqliteHead}");
        if (filter.OfferId is { } offerId) where.Append($" AND offer_id = {sql.P(offerId)}");
        if (filter.SessionId is { } sessionId) where.Append($" AND session_id = {sql.P(sessionId)}");
        if (filter.ProfileId is { } profileId) where.Append($" AND profile_id = {sql.P(profileId)}");
        if (filter.Types is { } types) where.Append(types.Count == 0 ? " AND 1 = 0" : $" AND type IN ({string.Join(", ", types.Select(t => sql.P(t)))})");
        sql.Add($"SELECT h.horizon, {shape.Columns("e")} FROM (SELECT {(db.IsPostgres ? PostgresXmin : SqliteHead)} AS horizon) h "
            + $"LEFT JOIN (SELECT {shape.Columns("ev")} FROM {shape.Table} ev WHERE {where} ORDER BY transaction_id, sequence LIMIT {sql.P(limit + 1)}) e ON 1 = 1 "
            + "ORDER BY e.transaction_id, e.sequence");
        // One row at least (the LEFT JOIN's), each carrying the same horizon; without events, its columns are NULL.
        var read = await sql.ReadAsync(r => (Head: r.GetInt64(0), Event: shape.ReadOptional(r, 1)), ct);
        var head = read[0].Head;
        var horizon = db.IsPostgres ? new EventCursor(head - 1, long.MaxValue) : new EventCursor(0, head);
        var rows = read.Where(x => x.Event is not null).Select(x => x.Event!).ToList();

        var deliverable = db.IsPostgres ? rows.TakeWhile(e => e.TransactionId < horizon.TransactionId + 1).ToList() : rows;
        var heldBack = deliverable.Count < rows.Count && deliverable.Count <= limit;
        var full = deliverable.Count > limit;
        if (full) deliverable = deliverable.Take(limit).ToList();
        var last = deliverable.Count > 0 ? new EventCursor(deliverable[^1].TransactionId, deliverable[^1].Sequence) : after;
        var safe = full ? last : EventCursor.Max(last, horizon);
        return new EventPage(deliverable, safe, full, heldBack);
    }

    // The horizon's SQL (HorizonAsync says what each means).
    private const string PostgresXmin = "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint";
    private const string SqliteHead = "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)";

    public Task<EventCursor> HeadAsync(CancellationToken ct) => HorizonAsync(ct);

    /// <summary>The position below which the log is complete: PostgreSQL (xmin - 1, ∞), SQLite (0, highest sequence ever taken).</summary>
    private async Task<EventCursor> HorizonAsync(CancellationToken ct)
    {
        if (db.IsPostgres)
        {
            var xmin = await db.Database.SqlQueryRaw<long>("SELECT " + PostgresXmin + " AS \"Value\"").SingleAsync(ct);
            return new EventCursor(xmin - 1, long.MaxValue);
        }
        // Note: the AUTOINCREMENT high-water mark, not MAX(sequence): retention may have deleted the newest rows, and the
        // horizon must not move back below positions already handed out (a purge mark, a heartbeat).
        var head = await db.Database.SqlQueryRaw<long>("SELECT " + SqliteHead + " AS \"Value\"").SingleAsync(ct);
        return new EventCursor(0, head);
    }

    public async Task<EventCursor> TenantPositionAsync(string tenantId, EventCursor safe, CancellationToken ct)
    {
        // Note: every transaction at or below a safe cursor has ended, so this read sees all of the tenant's events there.
        var newest = await db.Events.AsNoTracking()
            .Where(e => e.TenantId == tenantId && (e.TransactionId < safe.TransactionId || (e.TransactionId == safe.TransactionId && e.Sequence <= safe.Sequence)))
            .OrderByDescending(e => e.TransactionId).ThenByDescending(e => e.Sequence)
            .Select(e => new EventCursor(e.TransactionId, e.Sequence)).FirstOrDefaultAsync(ct);
        // Retention may have deleted the newest ones; its mark is then where the tenant's log stands.
        return await PurgedThroughAsync(tenantId, ct) is { } mark && mark <= safe ? EventCursor.Max(newest, mark) : newest;
    }

    public async Task<EventCursor?> PurgedThroughAsync(string tenantId, CancellationToken ct) =>
        await db.EventPurgeMarks.AsNoTracking().Where(m => m.TenantId == tenantId)
            .Select(m => (EventCursor?)new EventCursor(m.TransactionId, m.Sequence)).FirstOrDefaultAsync(ct);

    public async Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, int batchSize, CancellationToken ct)
    {
        // Only below the horizon, where readers have been able to see every event: the mark never passes one in flight.
        var horizon = await HorizonAsync(ct);
        var batch = await db.Events.AsNoTracking()
            .Where(e => e.OccurredAt < cutoff
                && (e.TransactionId < horizon.TransactionId || (e.TransactionId == horizon.TransactionId && e.Sequence <= horizon.Sequence)))
            .OrderBy(e => e.Sequence).Take(batchSize)
            .Select(e => new { e.Sequence, e.TransactionId, e.TenantId }).ToListAsync(ct);
        if (batch.Count == 0) return 0;
        var sequences = batch.Select(e => e.Sequence).ToArray();
        var marks = batch.GroupBy(e => e.TenantId, StringComparer.Ordinal)
            .Select(g => (Tenant: g.Key, Newest: g.Select(e => new EventCursor(e.TransactionId, e.Sequence)).Max()));

        // The rows and their tenants' marks move together, so a reader never misses that its cursor fell behind. The
        // upsert only raises a mark, so purges running on several hosts at once leave each at the newest they deleted.
        await using var tx = await db.BeginWriteAsync(ct);
        var deleted = await db.Events.Where(e => sequences.Contains(e.Sequence)).ExecuteDeleteAsync(ct);
        await using (var sql = new SqlBatch(db))
        {
            foreach (var (tenant, newest) in marks)
            {
                sql.Add($"INSERT INTO event_purge_marks (tenant_id, transaction_id, sequence) VALUES ({sql.P(tenant)}, {sql.P(newest.TransactionId)}, {sql.P(newest.Sequence)}) "
                    + "ON CONFLICT (tenant_id) DO UPDATE SET transaction_id = excluded.transaction_id, sequence = excluded.sequence "
                    + "WHERE (event_purge_marks.transaction_id, event_purge_marks.sequence) < (excluded.transaction_id, excluded.sequence)");
            }
            await sql.ExecuteAsync(ct);
        }
        await tx.CommitAsync(ct);
        return deleted;
    }
}

/// <summary>The SQLite result codes Issuer2 tells apart (https://www.sqlite.org/rescode.html).</summary>
internal static class SqliteErrors
{
    public const int Constraint = 19;
    public const int PrimaryKeyViolation = 1555;
    public const int UniqueViolation = 2067;
}
