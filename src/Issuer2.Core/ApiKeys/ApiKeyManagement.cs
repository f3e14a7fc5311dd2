using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Security;
using Issuer2.Core.Tenants;

namespace Issuer2.Core.ApiKeys;

/// <summary>A new key: its record and the key itself, which is shown once.</summary>
public sealed record CreatedApiKey(ApiKey Record, string Key);

/// <summary>Use cases of API key administration (the admin key's).</summary>
public sealed class ApiKeyManagement(ITenantStore tenants, IApiKeyStore keys, IEventLog events, IUnitOfWork unit, QuotaLimits quotas, TimeProvider clock)
{
    public const string KeyPrefix = "i2_";

    /// <summary>A fresh key: "i2_" and 256 random bits.</summary>
    public static string NewKey() => KeyPrefix + Secrets.NewToken(32);

    public static ApiKey NewRecord(string? tenantId, string displayName, string key, DateTimeOffset now, DateTimeOffset? expiresAt, string? id = null) => new()
    {
        Id = id ?? Ids.New(12),
        TenantId = tenantId,
        DisplayName = displayName,
        KeyHash = Secrets.Hash(key),
        KeyPrefix = key[..(KeyPrefix.Length + 6)],
        CreatedAt = now,
        ExpiresAt = expiresAt,
    };

    public async Task<Result<CreatedApiKey, Error>> CreateAsync(Caller caller, string tenantId, string? displayName, DateTimeOffset? expiresAt, CancellationToken ct)
    {
        if (Access.RequireAdmin(caller) is { } denied) return denied;
        var now = clock.UtcNow();
        var v = new Violations();
        DisplayRules.CheckOptionalText(v, "display_name", displayName, 100);
        v.Require(expiresAt is null || expiresAt > now, "expire_time", "must be in the future");
        if (v.Any) return v.ToError();
        if (await tenants.FindAsync(tenantId, ct) is null) return Error.NotFound(ResourceNames.Tenant(tenantId));

        var key = NewKey();
        var record = NewRecord(tenantId, displayName ?? "", key, now, expiresAt is { } e ? Clock.ToMicroseconds(e) : null);
        keys.Add(record);
        events.Append(IssuerEvent.Create(tenantId, EventTypes.ApiKeyCreated, now, new EventDetails.ApiKeyChanged(record.Id, record.ExpiresAt), actor: caller));
        if (await unit.SaveWithinQuotasAsync([QuotaCheck.Of(quotas, Quota.ApiKeys, tenantId, now)], ct) is { } exceeded) return Quotas.Exceeded(exceeded);
        return new CreatedApiKey(record, key);
    }

    public async Task<Result<Page<ApiKey>, Error>> ListAsync(Caller caller, string tenantId, int pageSize, string? pageToken, PageBudget<ApiKey> budget, CancellationToken ct)
    {
        if (Access.RequireAdmin(caller) is { } denied) return denied;
        var size = PageSizes.Of(ListKind.ApiKeys, pageSize);
        if (!size.IsSuccess) return size.Error;
        var scope = $"apiKeys/{tenantId}";
        var position = PageTokens.Decode(pageToken, scope);
        if (!position.IsSuccess) return position.Error;
        if (await tenants.FindAsync(tenantId, ct) is null) return Error.NotFound(ResourceNames.Tenant(tenantId));

        var after = PageTokens.ParseTimeKey(position.Value);
        if (!after.IsSuccess) return after.Error;
        var page = await keys.ListAsync(tenantId, after.Value, size.Value + 1, ct);
        var (items, more) = PageSizes.Cut(page, size.Value, budget);
        var next = more ? PageTokens.Encode(scope, PageTokens.TimeKey(items[^1].CreatedAt, items[^1].Id)) : "";
        return new Page<ApiKey>(items, next);
    }

    public async Task<Result<ApiKey, Error>> RevokeAsync(Caller caller, string tenantId, string keyId, CancellationToken ct)
    {
        if (Access.RequireAdmin(caller) is { } denied) return denied;
        var key = await keys.FindAsync(tenantId, keyId, ct);
        if (key is null) return Error.NotFound(ResourceNames.Child(tenantId, ResourceNames.ApiKeys, keyId));
        // Revoking twice is harmless and keeps the first time.
        if (key.RevokedAt is not null) return key;
        var now = clock.UtcNow();
        key.RevokedAt = now;
        events.Append(IssuerEvent.Create(tenantId, EventTypes.ApiKeyRevoked, now, new EventDetails.ApiKeyChanged(key.Id), actor: caller));
        await unit.SaveChangesAsync(ct);
        return key;
    }
}
