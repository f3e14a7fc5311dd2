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
public sealed class IssuerStore(IssuerDbContext db)
    : ITenantStore, IApiKeyStore, IProfileStore, IOfferStore, IEventLog, IEventReader, IUnitOfWork
{
    public async Task SaveChangesAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException e)
        {
            throw new ConcurrencyConflictException("A row was changed by a concurrent request.", e);
        }
        catch (DbUpdateException e) when (IsUniqueViolation(e))
        {
            throw new UniqueConflictException("A unique key was taken by a concurrent request.", e);
        }
    }

    public void Reset() => db.ChangeTracker.Clear();

    internal static bool IsUniqueViolation(DbUpdateException e) => e.InnerException switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException lite => lite.SqliteErrorCode == 19 && lite.SqliteExtendedErrorCode is 2067 or 1555,
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

    public async Task<IReadOnlyList<SigningKey>> ListSigningKeysAsync(string tenantId, CancellationToken ct) =>
        await db.SigningKeys.AsNoTracking().Where(k => k.TenantId == tenantId).OrderBy(k => k.CreatedAt).ToListAsync(ct);

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

    public Task<ProfileVersion?> FindVersionAsync(Guid profileUid, int version, CancellationToken ct) =>
        db.ProfileVersions.AsNoTracking().FirstOrDefaultAsync(v => v.ProfileUid == profileUid && v.Version == version, ct);

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
        // The same precedence as Offer.StateAt: revoked, locked, used up, expired, active.
        q = query.State switch
        {
            OfferState.Revoked => q.Where(o => o.RevokedAt != null),
            OfferState.Locked => q.Where(o => o.RevokedAt == null && o.LockedAt != null),
            OfferState.UsedUp => q.Where(o => o.RevokedAt == null && o.LockedAt == null && o.UseCount >= o.MaxUses),
            OfferState.Expired => q.Where(o => o.RevokedAt == null && o.LockedAt == null && o.UseCount < o.MaxUses && o.ExpiresAt <= now),
            OfferState.Active => q.Where(o => o.RevokedAt == null && o.LockedAt == null && o.UseCount < o.MaxUses && o.ExpiresAt > now),
            _ => q,
        };
        if (query.After is { } a) q = q.Where(o => o.CreatedAt < a.CreatedAt || (o.CreatedAt == a.CreatedAt && string.Compare(o.Id, a.Id) < 0));
        return await q.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id).Take(query.Limit).ToListAsync(ct);
    }

    public async Task<IReadOnlyList<Offer>> ListActiveForProfileAsync(string tenantId, string profileId, DateTimeOffset now, CancellationToken ct) =>
        await db.Offers
            .Where(o => o.TenantId == tenantId && o.ProfileId == profileId
                && o.RevokedAt == null && o.LockedAt == null && o.UseCount < o.MaxUses && o.ExpiresAt > now)
            .ToListAsync(ct);

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
        var ids = sessions.Select(s => s.Id).ToList();
        var credentials = await db.IssuedCredentials.AsNoTracking().Where(c => c.OfferId == offerId && ids.Contains(c.SessionId)).ToListAsync(ct);
        return [.. sessions.Select(s => new SessionView(s, [.. credentials.Where(c => c.SessionId == s.Id).OrderBy(c => c.IssuedAt)]))];
    }

    public void Add(Offer offer) => db.Offers.Add(offer);

    public void Add(PreAuthorizedCode code) => db.PreAuthorizedCodes.Add(code);

    public void Add(OfferRequest request) => db.OfferRequests.Add(request);

    // Events

    public void Append(IssuerEvent e) => db.Events.Add(e);

    public async Task<IReadOnlyList<IssuerEvent>> ReadAfterAsync(string tenantId, string? afterCursor, int limit, CancellationToken ct)
    {
        EventCursor after = default;
        if (afterCursor is not null && !EventCursor.TryParse(afterCursor, out after))
            throw new ArgumentException("The cursor is not one this log issued.", nameof(afterCursor));

        if (!db.IsPostgres)
        {
            // SQLite commits one transaction at a time, so sequence order is commit order.
            return await db.Events.AsNoTracking()
                .Where(e => e.TenantId == tenantId && e.Sequence > after.Sequence)
                .OrderBy(e => e.Sequence).Take(limit).ToListAsync(ct);
        }

        // PostgreSQL: order by (transaction id, sequence) and show only events of transactions older than every
        // transaction still in flight, so an event that commits late is never passed over.
        return await db.Events.FromSqlInterpolated($"""
                SELECT * FROM events
                WHERE tenant_id = {tenantId}
                  AND (transaction_id, sequence) > ({after.TransactionId}, {after.Sequence})
                  AND transaction_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
                ORDER BY transaction_id, sequence
                LIMIT {limit}
                """)
            .AsNoTracking().ToListAsync(ct);
    }
}
