using Issuer2.Core.Common;

namespace Issuer2.Core.Tenants;

/// <summary>How a wallet proves it may receive a credential.</summary>
public enum AuthenticationMethod
{
    PreAuthorized,
    Authorized,
}

/// <summary>Display metadata of an issuer in one locale.</summary>
public sealed record IssuerDisplay(string? Locale, string Name, Logo? Logo);

/// <summary>
/// An issuer service. Its credential issuer identifier is fixed at creation; deletion leaves a tombstone
/// so the id is never reused.
/// </summary>
public sealed class Tenant
{
    public required string Id { get; init; }
    public required string CredentialIssuer { get; init; }
    public List<IssuerDisplay> Display { get; set; } = [];
    public bool AllowPreAuthorized { get; set; }
    public bool AllowAuthorized { get; set; }
    public bool RequirePin { get; set; }
    public TimeSpan DefaultOfferLifetime { get; set; }
    public TimeSpan MaxOfferLifetime { get; set; }
    public TimeSpan PreAuthorizedCodeLifetime { get; set; }
    public int PinAttemptLimit { get; set; }

    /// <summary>Grows with every change that alters the tenant's published metadata (tenant or profiles): it keys metadata caches on every host.</summary>
    public long MetadataVersion { get; set; }

    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }

    public bool Allows(AuthenticationMethod method) => method switch
    {
        AuthenticationMethod.PreAuthorized => AllowPreAuthorized,
        AuthenticationMethod.Authorized => AllowAuthorized,
        _ => false,
    };
}

/// <summary>The settings a caller may give a tenant; null means "the default" on create and "unchanged" on update.</summary>
public sealed record TenantSettings(
    IReadOnlyList<IssuerDisplay>? Display = null,
    IReadOnlyList<AuthenticationMethod>? AllowedMethods = null,
    bool? RequirePin = null,
    TimeSpan? DefaultOfferLifetime = null,
    TimeSpan? MaxOfferLifetime = null,
    TimeSpan? PreAuthorizedCodeLifetime = null,
    int? PinAttemptLimit = null);

/// <summary>Persistence of tenants and their signing keys.</summary>
public interface ITenantStore
{
    /// <summary>A live (not deleted) tenant, tracked for update.</summary>
    Task<Tenant?> FindAsync(string tenantId, CancellationToken ct);

    /// <summary>Whether the id was ever used, deleted tenants included.</summary>
    Task<bool> IdEverUsedAsync(string tenantId, CancellationToken ct);

    /// <summary>Live tenants with ids after <paramref name="afterId"/>, in id order.</summary>
    Task<IReadOnlyList<Tenant>> ListAsync(string? afterId, int limit, CancellationToken ct);

    /// <summary>The signing keys of the given tenants, oldest first, in one read.</summary>
    Task<IReadOnlyList<Keys.SigningKey>> ListSigningKeysAsync(IReadOnlyCollection<string> tenantIds, CancellationToken ct);

    void Add(Tenant tenant);

    void Add(Keys.SigningKey key);
}
