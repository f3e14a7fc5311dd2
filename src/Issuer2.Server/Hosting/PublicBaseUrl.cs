using Issuer2.Core.Common;
using Issuer2.Core.Tenants;

namespace Issuer2.Server.Hosting;

/// <summary>The public base URL, checked once at start: https, or http on a loopback host when allowed.</summary>
internal sealed class PublicBaseUrl : IPublicBaseUrl
{
    public PublicBaseUrl(string url, HttpsPolicy https)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
            throw new InvalidOperationException($"Issuer2:PublicBaseUrl \"{url}\" must be an absolute http(s) URL without query or fragment.");
        if (!https.Accepts(uri))
            throw new InvalidOperationException(
                $"Issuer2:PublicBaseUrl \"{url}\" must use https (OID4VCI); http is allowed only on a loopback host with Issuer2:AllowInsecureHttp=true.");
        Value = url.TrimEnd('/');
    }

    public string Value { get; }
}
