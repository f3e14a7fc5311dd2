using Issuer2.Core.ApiKeys;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Keys;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Tenants;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>
/// A unit of work over in-memory tables. Adds and appended events are staged and become visible only on
/// <see cref="SaveChangesAsync"/>, as in the real store; tracked objects are the stored instances.
/// </summary>
internal sealed class InMemoryDatabase : IUnitOfWork, IEventLog
{
    private readonly List<Action> _pending = [];

    public List<Tenant> Tenants { get; } = [];
    public List<SigningKey> SigningKeys { get; } = [];
    public List<ApiKey> ApiKeys { get; } = [];
    public List<Profile> Profiles { get; } = [];
    public List<ProfileVersion> ProfileVersions { get; } = [];
    public List<Offer> Offers { get; } = [];
    public List<PreAuthorizedCode> Codes { get; } = [];
    public List<OfferRequest> OfferRequests { get; } = [];

    /// <summary>Committed events.</summary>
    public List<IssuerEvent> Events { get; } = [];

    /// <summary>Every event ever appended, committed or not.</summary>
    public List<IssuerEvent> AppendedEvents { get; } = [];

    public int SaveCount { get; private set; }

    /// <summary>Runs once instead of the next commit, e.g. to simulate a concurrent request winning a unique key.</summary>
    public Action? BeforeNextSave { get; set; }

    public void Stage(Action apply) => _pending.Add(apply);

    public void Append(IssuerEvent e)
    {
        AppendedEvents.Add(e);
        Stage(() => Events.Add(e));
    }

    public Task SaveChangesAsync(CancellationToken ct)
    {
        if (BeforeNextSave is { } before)
        {
            BeforeNextSave = null;
            before();
        }
        foreach (var apply in _pending) apply();
        _pending.Clear();
        SaveCount++;
        return Task.CompletedTask;
    }

    public void Reset() => _pending.Clear();
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

    // Sessions are the wallet flow's; the management use cases under test here never create any.
    public Task<IReadOnlyList<SessionView>> ListSessionsAsync(
        string tenantId, string offerId, (DateTimeOffset CreatedAt, string Id)? after, int limit, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<SessionView>>([]);

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
