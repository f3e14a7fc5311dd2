using Issuer2.Core.Common;
using Issuer2.Core.Dpop;
using Issuer2.Core.IdentityProviders;

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

    /// <summary>The tenant's OpenID Connect provider for AUTHORIZED offers; null: none.</summary>
    public IdentityProviderSettings? IdentityProvider { get; set; }

    /// <summary>How the tenant acts as the wallets' authorization server.</summary>
    public AuthorizationServerSettings AuthorizationServer { get; set; } = AuthorizationServerSettings.Default;

    /// <summary>Whether the tenant's tokens are sender-constrained by DPoP (RFC 9449), and whether proofs need a server nonce.</summary>
    public DpopSettings Dpop { get; set; } = DpopSettings.Default;

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

/// <summary>Which wallets (OAuth clients) the authorization server accepts.</summary>
public enum WalletClientMode
{
    /// <summary>Any client_id; redirect URIs by <c>RedirectUris.AcceptableForAnyClient</c>.</summary>
    Any,

    /// <summary>Only registered clients, each with exactly its redirect URIs.</summary>
    Registered,
}

/// <summary>A registered wallet client and its exact redirect URIs.</summary>
public sealed record WalletClient(string ClientId, IReadOnlyList<string> RedirectUris);

/// <summary>The tenant's authorization-server policy: which clients, whether PAR is required, whether issuer_state is.</summary>
public sealed record AuthorizationServerSettings(
    WalletClientMode ClientMode, IReadOnlyList<WalletClient> RegisteredClients, bool RequirePushedAuthorizationRequests, bool RequireIssuerState)
{
    /// <summary>Any client, PAR required (HAIP 1.0 §4), wallet-initiated issuance allowed.</summary>
    public static readonly AuthorizationServerSettings Default = new(WalletClientMode.Any, [], RequirePushedAuthorizationRequests: true, RequireIssuerState: false);
}

/// <summary>An IdP as a caller gives it: the secret in the clear, to be encrypted; null secret keeps the stored one.</summary>
public sealed record IdentityProviderInput(string Issuer, string ClientId, string? ClientSecret, IReadOnlyList<string> Scopes);

/// <summary>The settings a caller may give a tenant; null means "the default" on create and "unchanged" on update.</summary>
public sealed record TenantSettings(
    IReadOnlyList<IssuerDisplay>? Display = null,
    IReadOnlyList<AuthenticationMethod>? AllowedMethods = null,
    bool? RequirePin = null,
    TimeSpan? DefaultOfferLifetime = null,
    TimeSpan? MaxOfferLifetime = null,
    TimeSpan? PreAuthorizedCodeLifetime = null,
    int? PinAttemptLimit = null,
    IdentityProviderInput? IdentityProvider = null,
    bool RemoveIdentityProvider = false,
    AuthorizationServerSettings? AuthorizationServer = null,
    Dpop.DpopSettings? Dpop = null);

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
