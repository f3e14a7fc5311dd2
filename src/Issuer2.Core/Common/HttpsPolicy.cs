using System.Net;

namespace Issuer2.Core.Common;

/// <summary>
/// Which URLs the host may publish or call: https, and (with Issuer2:AllowInsecureHttp, for local runs and tests)
/// http on a loopback host; never http elsewhere. Its public base URL and every tenant's IdP obey it.
/// </summary>
public sealed class HttpsPolicy(bool allowLoopbackHttp)
{
    /// <summary>Whether http on a loopback host is accepted (Issuer2:AllowInsecureHttp).</summary>
    public bool AllowsLoopbackHttp { get; } = allowLoopbackHttp;

    /// <summary>Whether the scheme and host of <paramref name="uri"/> are acceptable: https, or http on loopback when allowed.</summary>
    public bool Accepts(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && AllowsLoopbackHttp && IsLoopback(uri));
    }

    /// <summary>What a refused URL is told: the rule as this host applies it.</summary>
    public string Requirement => AllowsLoopbackHttp ? "must use https (http only on a loopback host)" : "must use https";

    /// <summary>localhost, 127.0.0.0/8 or ::1.</summary>
    public static bool IsLoopback(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }
}
