using System.Text.Json;
using Issuer2.Core.Common;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.IdentityProviders;

/// <summary>A tenant's OpenID Connect provider as stored: the client secret only encrypted under the key-encryption key.</summary>
public sealed record IdentityProviderSettings(string Issuer, string ClientId, byte[] EncryptedClientSecret, IReadOnlyList<string> Scopes);

/// <summary>What Issuer2 needs of a provider's discovery document (OIDC Discovery 1.0 §3), its issuer checked equal to the configured one.</summary>
public sealed record ProviderMetadata(
    string Issuer,
    string AuthorizationEndpoint,
    string TokenEndpoint,
    string? UserInfoEndpoint,
    bool AuthorizationResponseIssParameterSupported,
    IReadOnlyList<string>? IdTokenSigningAlgorithms);

/// <summary>What the provider's token endpoint returned for our code.</summary>
public sealed record ProviderTokens(string IdToken, string? AccessToken);

/// <summary>Why a call to the provider gave nothing usable.</summary>
public enum ProviderFailure
{
    /// <summary>The provider could not be reached, timed out, or answered 5xx or garbage: temporarily_unavailable.</summary>
    Unavailable,

    /// <summary>The provider answered with an OAuth error (e.g. invalid_grant for a replayed code): access_denied.</summary>
    Refused,

    /// <summary>The discovery document names another issuer, or lacks a required endpoint: the tenant's setup is wrong.</summary>
    Misconfigured,
}

/// <summary>A failure of the provider with a description for logs (never a secret, a token or a claim value).</summary>
public sealed record ProviderError(ProviderFailure Failure, string Description);

/// <summary>
/// The tenant's IdP as Core sees it: discovery, keys, the code exchange and userinfo. The adapter does the HTTP, caches
/// discovery and keys per provider, and refreshes keys when asked (an unknown <c>kid</c>); the validation rules stay in
/// Core (<see cref="IdTokenValidator"/>).
/// </summary>
public interface IIdentityProviderClient
{
    /// <summary>The provider's metadata (cached); <see cref="ProviderFailure.Misconfigured"/> when its issuer is not <paramref name="idp"/>'s.</summary>
    Task<Result<ProviderMetadata, ProviderError>> DiscoverAsync(IdentityProviderSettings idp, CancellationToken ct);

    /// <summary>The provider's signing keys (cached); <paramref name="refresh"/> fetches them again, at most once in a short interval.</summary>
    Task<Result<IReadOnlyList<JsonWebKey>, ProviderError>> GetKeysAsync(IdentityProviderSettings idp, bool refresh, CancellationToken ct);

    /// <summary>
    /// Exchanges the provider's authorization code at its token endpoint (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.5),
    /// authenticating as the tenant's confidential client.
    /// </summary>
    Task<Result<ProviderTokens, ProviderError>> ExchangeCodeAsync(
        IdentityProviderSettings idp, string clientSecret, string code, string codeVerifier, string redirectUri, CancellationToken ct);

    /// <summary>The userinfo response (OIDC Core §5.3) as a JSON object, for the access token the exchange returned.</summary>
    Task<Result<JsonElement, ProviderError>> GetUserInfoAsync(IdentityProviderSettings idp, string accessToken, CancellationToken ct);
}
