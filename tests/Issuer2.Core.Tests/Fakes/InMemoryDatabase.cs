using System.Reflection;
using Issuer2.Core.ApiKeys;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Keys;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tenants;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>
/// A unit of work over in-memory tables. Adds and appended events are staged and become visible only on
/// <see cref="SaveChangesAsync"/>, as in the real store; tracked objects are the stored instances. The wallet
/// ports write through <see cref="Transaction"/> instead: one conditional write, all or nothing, as the SQL
/// adapters' batches are. Committed events get a sequence, as the database assigns one on insert, and wake the
/// <see cref="Notifier"/>.
/// </summary>
internal sealed class InMemoryDatabase : IUnitOfWork, IEventLog
{
    private readonly List<Action> _pending = [];
    private readonly HashSet<string> _pendingEventTenants = new(StringComparer.Ordinal);
    private long _lastSequence;

    /// <summary>Held while a commit runs or the event log is read: the event feed reads on another thread.</summary>
    public Lock Gate { get; } = new();

    public List<Tenant> Tenants { get; } = [];
    public List<SigningKey> SigningKeys { get; } = [];
    public List<ApiKey> ApiKeys { get; } = [];
    public List<Profile> Profiles { get; } = [];
    public List<ProfileVersion> ProfileVersions { get; } = [];
    public List<Offer> Offers { get; } = [];
    public List<PreAuthorizedCode> Codes { get; } = [];
    public List<IssuerState> IssuerStates { get; } = [];
    public List<OfferRequest> OfferRequests { get; } = [];
    public List<IssuanceSession> Sessions { get; } = [];
    public List<AccessToken> AccessTokens { get; } = [];
    public List<IssuedCredential> IssuedCredentials { get; } = [];
    public List<ConsumedNonce> ConsumedNonces { get; } = [];

    /// <summary>Committed events, in sequence order.</summary>
    public List<IssuerEvent> Events { get; } = [];

    /// <summary>Every event ever appended, committed or not.</summary>
    public List<IssuerEvent> AppendedEvents { get; } = [];

    /// <summary>The newest position retention deleted, per tenant, as the event_purge_marks rows keep it.</summary>
    public Dictionary<string, EventCursor> EventsPurgedThrough { get; } = new(StringComparer.Ordinal);

    /// <summary>Woken after every commit that appended events, as the SQL adapters wake it.</summary>
    public IEventNotifier? Notifier { get; set; }

    public int SaveCount { get; private set; }

    /// <summary>Runs once before the next commit, e.g. to simulate a concurrent request winning a unique key or a row.</summary>
    public Action? BeforeNextSave { get; set; }

    /// <summary>The cursor of the newest committed event; (0, 0) before the first, as on SQLite.</summary>
    public EventCursor Head
    {
        get
        {
            lock (Gate) return new EventCursor(0, _lastSequence);
        }
    }

    public void Stage(Action apply) => _pending.Add(apply);

    public void Append(IssuerEvent e)
    {
        AppendedEvents.Add(e);
        _pendingEventTenants.Add(e.TenantId);
        Stage(() => Commit(e));
    }

    public Task SaveChangesAsync(CancellationToken ct)
    {
        RunConcurrentRequest();
        lock (Gate)
        {
            foreach (var apply in _pending) apply();
        }
        var tenants = _pendingEventTenants.ToList();
        Reset();
        SaveCount++;
        foreach (var tenant in tenants) Notifier?.Committed(tenant);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Commits, then counts each quota as the SQL adapter does in its transaction; over a limit the commit's adds and
    /// events are taken back (adds append, so the tables are cut back to their lengths before it).
    /// </summary>
    public Task<QuotaCheck?> SaveWithinQuotasAsync(IReadOnlyList<QuotaCheck> checks, CancellationToken ct)
    {
        RunConcurrentRequest();
        System.Collections.IList[] tables = [Profiles, ProfileVersions, Offers, Codes, IssuerStates, OfferRequests, ApiKeys, Events];
        QuotaCheck? exceeded = null;
        lock (Gate)
        {
            var lengths = tables.Select(t => t.Count).ToArray();
            var sequence = _lastSequence;
            foreach (var apply in _pending) apply();
            exceeded = checks.FirstOrDefault(c => CountOf(c) > c.Limit);
            if (exceeded is not null)
            {
                for (var i = 0; i < tables.Length; i++)
                    while (tables[i].Count > lengths[i]) tables[i].RemoveAt(tables[i].Count - 1);
                _lastSequence = sequence;
            }
        }
        var tenants = _pendingEventTenants.ToList();
        Reset();
        if (exceeded is not null) return Task.FromResult<QuotaCheck?>(exceeded);
        SaveCount++;
        foreach (var tenant in tenants) Notifier?.Committed(tenant);
        return Task.FromResult<QuotaCheck?>(null);
    }

    private int CountOf(QuotaCheck c) => c.Quota switch
    {
        Quota.Profiles => Profiles.Count(p => p.TenantId == c.TenantId),
        Quota.ProfileVersions => ProfileVersions.Count(v => v.ProfileUid == c.ProfileUid),
        Quota.LiveOffers => Offers.Count(o => o.TenantId == c.TenantId && OfferRules.InState(OfferState.Active).IsMetBy(o, c.At)),
        Quota.ApiKeys => ApiKeys.Count(k => k.TenantId == c.TenantId && ApiKey.Live.IsMetBy(k, c.At)),
        Quota.EventStreams => throw new ArgumentException("counted per host", nameof(c)),
    };

    public void Reset()
    {
        _pending.Clear();
        _pendingEventTenants.Clear();
    }

    /// <summary>
    /// One wallet transaction: <paramref name="write"/> checks its conditions against the tables and either changes
    /// them and returns true, or changes nothing and returns false (a conditional UPDATE that took no row, a unique key
    /// that was taken). <paramref name="events"/> commit with it or not at all.
    /// </summary>
    public bool Transaction(IReadOnlyList<IssuerEvent> events, Func<bool> write)
    {
        RunConcurrentRequest();
        AppendedEvents.AddRange(events);
        lock (Gate)
        {
            if (!write()) return false;
            foreach (var e in events) Commit(e);
        }
        foreach (var tenant in events.Select(e => e.TenantId).Distinct()) Notifier?.Committed(tenant);
        return true;
    }

    /// <summary>Deletes up to <paramref name="batchSize"/> events older than <paramref name="cutoff"/> and moves the purge mark with them.</summary>
    public int PurgeEventsOlderThan(DateTimeOffset cutoff, int batchSize)
    {
        lock (Gate)
        {
            var batch = Events.Where(e => e.OccurredAt < cutoff).Take(batchSize).ToList();
            if (batch.Count == 0) return 0;
            foreach (var e in batch)
            {
                Events.Remove(e);
                if (!EventsPurgedThrough.TryGetValue(e.TenantId, out var mark) || e.Position > mark) EventsPurgedThrough[e.TenantId] = e.Position;
            }
            return batch.Count;
        }
    }

    private void RunConcurrentRequest()
    {
        if (BeforeNextSave is not { } before) return;
        BeforeNextSave = null;
        before();
    }

    /// <summary>Stores the event as the database does: a copy with the next sequence (transaction id 0, as on SQLite).</summary>
    private void Commit(IssuerEvent e) => Events.Add(new IssuerEvent
    {
        Sequence = ++_lastSequence,
        TenantId = e.TenantId,
        Type = e.Type,
        OccurredAt = e.OccurredAt,
        OfferId = e.OfferId,
        SessionId = e.SessionId,
        ProfileId = e.ProfileId,
        Actor = e.Actor,
        Detail = e.Detail,
    });
}

/// <summary>Copies of rows, as an untracked (AsNoTracking) read returns them: changing one changes nothing stored.</summary>
internal static class Rows
{
    private static readonly MethodInfo CloneMethod =
        typeof(object).GetMethod("MemberwiseClone", BindingFlags.Instance | BindingFlags.NonPublic)!;

    public static T Copy<T>(T row)
        where T : class => (T)CloneMethod.Invoke(row, null)!;

    public static bool SameBytes(byte[]? a, byte[] b) => a is not null && a.AsSpan().SequenceEqual(b);
}

internal sealed class InMemoryTenantStore(InMemoryDatabase db) : ITenantStore
{
    public Task<Tenant?> FindAsync(string tenantId, CancellationToken ct) =>
        Task.FromResult(db.Tenants.FirstOrDefault(t => t.Id == tenantId && t.DeletedAt is null));

    public Task<bool> IdEverUsedAsync(string tenantId, CancellationToken ct) => Task.FromResult(db.Tenants.Any(t => t.Id == tenantId));

    public Task<IReadOnlyList<Tenant>> ListAsync(string? afterId, int limit, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<Tenant>>(db.Tenants
            .Where(t => t.DeletedAt is null && (afterId is null || string.CompareOrdinal(t.Id, afterId) > 0))
            .OrderBy(t => t.Id, StringComparer.Ordinal)
            .Take(limit)
            .ToList());

    public Task<IReadOnlyList<SigningKey>> ListSigningKeysAsync(IReadOnlyCollection<string> tenantIds, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<SigningKey>>(db.SigningKeys.Where(k => tenantIds.Contains(k.TenantId)).ToList());

    public void Add(Tenant tenant) => db.Stage(() => db.Tenants.Add(tenant));

    public void Add(SigningKey key) => db.Stage(() => db.SigningKeys.Add(key));
}

internal sealed class InMemoryProfileStore(InMemoryDatabase db) : IProfileStore
{
    public Task<Profile?> FindAsync(string tenantId, string profileId, CancellationToken ct) =>
        Task.FromResult(db.Profiles.FirstOrDefault(p => p.TenantId == tenantId && p.ProfileId == profileId));

    public Task<IReadOnlyList<Profile>> ListAsync(string tenantId, string? afterProfileId, int limit, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<Profile>>(db.Profiles
            .Where(p => p.TenantId == tenantId && (afterProfileId is null || string.CompareOrdinal(p.ProfileId, afterProfileId) > 0))
            .OrderBy(p => p.ProfileId, StringComparer.Ordinal)
            .Take(limit)
            .ToList());

    public Task<bool> ScopeTakenAsync(string tenantId, string scope, Guid? exceptUid, CancellationToken ct) =>
        Task.FromResult(db.Profiles.Any(p => p.TenantId == tenantId && p.Scope == scope && p.Uid != exceptUid));

    public Task<IReadOnlyList<SessionView>> ListSessionsAsync(
        string tenantId, Guid profileUid, (DateTimeOffset CreatedAt, string Id)? after, int limit, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<SessionView>>(db.Sessions
            .Where(s => s.TenantId == tenantId && s.OfferId is null && s.ProfileUid == profileUid
                && (after is not { } a || s.CreatedAt > a.CreatedAt || (s.CreatedAt == a.CreatedAt && string.CompareOrdinal(s.Id, a.Id) > 0)))
            .OrderBy(s => s.CreatedAt)
            .ThenBy(s => s.Id, StringComparer.Ordinal)
            .Take(limit)
            .Select(s => new SessionView(s, db.IssuedCredentials.Where(c => c.SessionId == s.Id).ToList()))
            .ToList());

    public void Add(Profile profile) => db.Stage(() => db.Profiles.Add(profile));

    public void Add(ProfileVersion version) => db.Stage(() => db.ProfileVersions.Add(version));

    public void Remove(Profile profile) => db.Stage(() => db.Profiles.Remove(profile));
}

internal sealed class InMemoryOfferStore(InMemoryDatabase db) : IOfferStore
{
    public Task<Offer?> FindAsync(string tenantId, string offerId, CancellationToken ct) =>
        Task.FromResult(db.Offers.FirstOrDefault(o => o.TenantId == tenantId && o.Id == offerId));

    public Task<IReadOnlyList<Offer>> ListAsync(OfferQuery query, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<Offer>>(db.Offers
            .Where(o => o.TenantId == query.TenantId
                && (query.State is null || o.StateAt(query.Now) == query.State)
                && (query.ProfileId is null || o.ProfileId == query.ProfileId)
                && (query.After is not { } after
                    || o.CreatedAt < after.CreatedAt
                    || (o.CreatedAt == after.CreatedAt && string.CompareOrdinal(o.Id, after.Id) < 0)))
            .OrderByDescending(o => o.CreatedAt)
            .ThenByDescending(o => o.Id, StringComparer.Ordinal)
            .Take(query.Limit)
            .ToList());

    public Task<IReadOnlyList<Offer>> ListActiveForProfileAsync(string tenantId, string profileId, DateTimeOffset now, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<Offer>>(db.Offers
            .Where(o => o.TenantId == tenantId && o.ProfileId == profileId && o.StateAt(now) == OfferState.Active)
            .ToList());

    public Task<OfferRequest?> FindRequestAsync(string tenantId, string requestId, CancellationToken ct) =>
        Task.FromResult(db.OfferRequests.FirstOrDefault(r => r.TenantId == tenantId && r.RequestId == requestId));

    public Task<IReadOnlyList<SessionView>> ListSessionsAsync(
        string tenantId, string offerId, (DateTimeOffset CreatedAt, string Id)? after, int limit, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<SessionView>>(db.Sessions
            .Where(s => s.TenantId == tenantId && s.OfferId == offerId
                && (after is not { } a || s.CreatedAt > a.CreatedAt || (s.CreatedAt == a.CreatedAt && string.CompareOrdinal(s.Id, a.Id) > 0)))
            .OrderBy(s => s.CreatedAt)
            .ThenBy(s => s.Id, StringComparer.Ordinal)
            .Take(limit)
            .Select(s => new SessionView(s, db.IssuedCredentials.Where(c => c.SessionId == s.Id).ToList()))
            .ToList());

    public Task<int> PurgeExpiredRequestsAsync(DateTimeOffset now, int batchSize, CancellationToken ct)
    {
        var expired = db.OfferRequests.Where(r => r.ExpiresAt <= now).Take(batchSize).ToList();
        foreach (var r in expired) db.OfferRequests.Remove(r);
        return Task.FromResult(expired.Count);
    }

    public void LockAtPinLimit(string tenantId, int limit, DateTimeOffset now, Func<LockedOffer, IssuerEvent> locked) =>
        db.Stage(() =>
        {
            foreach (var offer in db.Offers.Where(o => o.TenantId == tenantId && OfferRules.ReachedPinLimit.IsMetBy(o, limit)))
            {
                offer.LockedAt = now;
                db.Events.Add(locked(new LockedOffer(offer.Id, offer.ProfileId, offer.PinFailedAttempts)));
            }
        });

    public void Add(Offer offer) => db.Stage(() => db.Offers.Add(offer));

    public void Add(PreAuthorizedCode code) => db.Stage(() => db.Codes.Add(code));

    public void Add(IssuerState state) => db.Stage(() => db.IssuerStates.Add(state));

    public void Add(OfferRequest request) => db.Stage(() => db.OfferRequests.Add(request));
}

internal sealed class InMemoryApiKeyStore(InMemoryDatabase db) : IApiKeyStore
{
    public Task<ApiKeyMatch?> FindByHashAsync(byte[] keyHash, CancellationToken ct)
    {
        var key = db.ApiKeys.FirstOrDefault(k => k.KeyHash.AsSpan().SequenceEqual(keyHash));
        if (key is null) return Task.FromResult<ApiKeyMatch?>(null);
        var live = key.TenantId is null || db.Tenants.Any(t => t.Id == key.TenantId && t.DeletedAt is null);
        return Task.FromResult<ApiKeyMatch?>(new ApiKeyMatch(key, live));
    }

    public Task<ApiKey?> FindAsync(string tenantId, string keyId, CancellationToken ct) =>
        Task.FromResult(db.ApiKeys.FirstOrDefault(k => k.TenantId == tenantId && k.Id == keyId));

    public Task<IReadOnlyList<ApiKey>> ListAsync(string tenantId, (DateTimeOffset CreatedAt, string Id)? after, int limit, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<ApiKey>>(db.ApiKeys
            .Where(k => k.TenantId == tenantId
                && (after is not { } a || k.CreatedAt < a.CreatedAt || (k.CreatedAt == a.CreatedAt && string.CompareOrdinal(k.Id, a.Id) < 0)))
            .OrderByDescending(k => k.CreatedAt)
            .ThenByDescending(k => k.Id, StringComparer.Ordinal)
            .Take(limit)
            .ToList());

    public Task<bool> AnyAdminKeyAsync(CancellationToken ct) => Task.FromResult(db.ApiKeys.Any(k => k.TenantId is null));

    public void Add(ApiKey key) => db.Stage(() => db.ApiKeys.Add(key));
}

internal sealed class FixedPublicBaseUrl(string value) : IPublicBaseUrl
{
    public string Value { get; } = value;
}
