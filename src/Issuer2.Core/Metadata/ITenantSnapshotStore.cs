using Issuer2.Core.Keys;
using Issuer2.Core.Profiles;
using Issuer2.Core.Tenants;

namespace Issuer2.Core.Metadata;

/// <summary>What <see cref="TenantDirectory"/> reads: a live tenant's version stamp, and the tenant as wallets see it.</summary>
public interface ITenantSnapshotStore
{
    /// <summary>The tenant's metadata version, null when it does not exist or was deleted: one cheap read keys every cache.</summary>
    Task<long?> FindTenantVersionAsync(string tenantId, CancellationToken ct);

    /// <summary>The live tenant with its profiles and signing keys, untracked.</summary>
    Task<(Tenant Tenant, IReadOnlyList<Profile> Profiles, IReadOnlyList<SigningKey> Keys)?> LoadTenantAsync(string tenantId, CancellationToken ct);
}
