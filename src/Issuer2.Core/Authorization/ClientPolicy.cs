using System.Net;
using Issuer2.Core.Tenants;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Authorization;

/// <summary>
/// Which wallet clients and redirect URIs a tenant's authorization server accepts. Until they check out, an error goes
/// to the user agent as a page, never to the redirect URI (RFC 6749 §4.1.2.1).
/// </summary>
public static class ClientPolicy
{
    public const int MaxClientIdLength = 255;
    public const int MaxRedirectUriLength = 2048;

    /// <summary>The rule <see cref="IsWellFormedClientId"/> checks, as a field violation or an error description says it.</summary>
    public static readonly string ClientIdRule = $"must be 1 to {MaxClientIdLength} printable ASCII characters";

    /// <summary>Whether a client_id has the shape this server accepts: 1 to 255 printable ASCII characters.</summary>
    public static bool IsWellFormedClientId(string? clientId) =>
        clientId is { Length: > 0 and <= MaxClientIdLength } && clientId.All(c => c is >= ' ' and <= '~');

    /// <summary>
    /// A redirect URI any client may use (RFC 9700 §2.6, RFC 8252 §7): https; a private-use scheme in reverse-DNS form
    /// (a dot in the scheme, RFC 8252 §7.1); or http on a loopback IP literal with any port (RFC 8252 §7.3, §8.3: not
    /// "localhost"). Absolute, without fragment (RFC 6749 §3.1.2), without userinfo.
    /// </summary>
    public static bool AcceptableForAnyClient(string redirectUri)
    {
        if (!TryParse(redirectUri, out var uri)) return false;
        if (uri.Scheme == Uri.UriSchemeHttps) return uri.Host.Length > 0;
        if (uri.Scheme == Uri.UriSchemeHttp) return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
        return uri.Scheme.Contains('.', StringComparison.Ordinal);
    }

    /// <summary>An absolute URI without fragment or userinfo, as a registered redirect URI must be.</summary>
    public static bool TryParse(string? value, out Uri uri)
    {
        uri = null!;
        if (value is null || value.Length is 0 or > MaxRedirectUriLength || value.Contains('#', StringComparison.Ordinal)) return false;
        if (value.Any(c => c is <= ' ' or > '~')) return false;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var parsed) || parsed.UserInfo.Length > 0) return false;
        uri = parsed;
        return true;
    }

    /// <summary>Null when the client may use the redirect URI; else the error, for the user agent or the PAR caller.</summary>
    public static WalletError? Check(AuthorizationServerSettings settings, string clientId, string redirectUri)
    {
        ArgumentNullException.ThrowIfNull(settings);
        switch (settings.ClientMode)
        {
            case WalletClientMode.Registered:
                var client = settings.RegisteredClients.FirstOrDefault(c => c.ClientId == clientId);
                if (client is null) return new WalletError(WalletErrorCode.InvalidClient, "The client_id is not registered with this issuer.");
                return client.RedirectUris.Contains(redirectUri, StringComparer.Ordinal)
                    ? null
                    : WalletError.InvalidRequest("The redirect_uri is not one registered for this client (compared exactly).");
            case WalletClientMode.Any:
                return AcceptableForAnyClient(redirectUri)
                    ? null
                    : WalletError.InvalidRequest(
                        "The redirect_uri must be absolute without a fragment: https, a private-use scheme in reverse-DNS form, or http on a loopback IP address.");
            default:
                throw new ArgumentOutOfRangeException(nameof(settings), settings.ClientMode, "Unknown client mode.");
        }
    }
}
