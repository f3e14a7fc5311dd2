using Issuer2.Core.Common;

namespace Issuer2.Core.ApiKeys;

/// <summary>An API key's record: its hash, never the key. <see cref="TenantId"/> null marks a generated admin key.</summary>
public sealed class ApiKey
{
    public required string Id { get; init; }
    public string? TenantId { get; init; }
    public required string DisplayName { get; init; }
    public required byte[] KeyHash { get; init; }
    public required string KeyPrefix { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }

    public bool IsUsableAt(DateTimeOffset now) => Live.IsMetBy(this, now);

    /// <summary>A key that authenticates at the time given: neither revoked nor expired (what the API key quota counts).</summary>
    public static readonly Condition<ApiKey, DateTimeOffset> Live = new((k, now) => k.RevokedAt == null && (k.ExpiresAt == null || now < k.ExpiresAt));
}

/// <summary>A key found by its hash, with whether its tenant still exists.</summary>
public sealed record ApiKeyMatch(ApiKey Key, bool TenantLive);

/// <summary>Persistence of API keys.</summary>
public interface IApiKeyStore
{
    Task<ApiKeyMatch?> FindByHashAsync(byte[] keyHash, CancellationToken ct);

    /// <summary>A key of a tenant, tracked for update.</summary>
    Task<ApiKey?> FindAsync(string tenantId, string keyId, CancellationToken ct);

    /// <summary>Keys of a tenant, newest first, after the given position.</summary>
    Task<IReadOnlyList<ApiKey>> ListAsync(string tenantId, (DateTimeOffset CreatedAt, string Id)? after, int limit, CancellationToken ct);

    Task<bool> AnyAdminKeyAsync(CancellationToken ct);

    void Add(ApiKey key);
}
