namespace Issuer2.Server.Hosting;

/// <summary>
/// The "Issuer2:ForwardedHeaders" section: the proxies (load balancers) whose X-Forwarded-For, X-Forwarded-Proto and
/// X-Forwarded-Host are believed. With none configured, forwarded headers are ignored and the client address is the
/// connection's. The public base URL never comes from them (wallet-facing URLs come from Issuer2:PublicBaseUrl).
/// </summary>
public sealed class TrustedProxyOptions
{
    /// <summary>Addresses of trusted proxies, e.g. "10.0.0.5" or "::1".</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR notation, e.g. "10.0.0.0/8".</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>How many proxies in a row are unwound from the end of X-Forwarded-For (each of them must be trusted).</summary>
    public int ForwardLimit { get; set; } = 1;
}
