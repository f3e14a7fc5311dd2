using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Issuer2.Core.Wallet;
using Issuer2.Server.Auth;
using Issuer2.Server.Wallet;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;

namespace Issuer2.Server.Hosting;

/// <summary>The per-address limits of the wallet-facing paths, one per path (or group of metadata paths).</summary>
public enum AddressLimit
{
    Metadata,
    OfferResolution,
    Token,
    Nonce,
    Credential,
    Notification,
    Par,
    Authorize,
    Callback,
    Consent,
}

/// <summary>
/// Rate limits and trusted proxies (docs/security.md, "Rate limits and trusted proxies"): token buckets of
/// System.Threading.RateLimiting, in memory, per host. Per client address on the wallet-facing paths (ASP.NET Core's
/// rate limiter, by endpoint policy); per offer in Core (<see cref="IRateGate"/>, <see cref="OfferRateGate"/>); per
/// API key and per address for failed authentications on gRPC (<see cref="ApiKeyRateLimits"/>). Buckets that are
/// full again are dropped by the partitioned limiter after a few idle seconds, so memory follows the active clients.
/// </summary>
public static class IssuerRateLimits
{
    /// <summary>The rate-limiter policy of a per-address limit, as endpoints name it.</summary>
    public static string Policy(AddressLimit limit) => "address:" + limit.ToString();

    /// <summary>The option of a per-address limit.</summary>
    public static RateLimit Of(this LimitOptions limits, AddressLimit limit)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return limit switch
        {
            AddressLimit.Metadata => limits.Metadata,
            AddressLimit.OfferResolution => limits.OfferResolution,
            AddressLimit.Token => limits.Token,
            AddressLimit.Nonce => limits.Nonce,
            AddressLimit.Credential => limits.Credential,
            AddressLimit.Notification => limits.Notification,
            AddressLimit.Par => limits.Par,
            AddressLimit.Authorize => limits.Authorize,
            AddressLimit.Callback => limits.Callback,
            AddressLimit.Consent => limits.Consent,
        };
    }

    /// <summary>The option of a per-offer limit.</summary>
    public static RateLimit Of(this LimitOptions limits, OfferLimit limit)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return limit switch
        {
            OfferLimit.Resolution => limits.PerOfferResolution,
            OfferLimit.Token => limits.PerOfferToken,
            OfferLimit.Session => limits.PerOfferSession,
        };
    }

    /// <summary>The browser steps answer a refusal with a page; the other paths with JSON.</summary>
    private static bool IsBrowserStep(AddressLimit limit) => limit is AddressLimit.Authorize or AddressLimit.Callback or AddressLimit.Consent;

    /// <summary>The most a refill rate may be: one permit a microsecond (a bucket's period is at least 10 ticks).</summary>
    public const int MaxPerMinute = 60_000_000;

    /// <summary>
    /// Registers the limits: the per-address policies, the per-offer gate, the gRPC limits and the trusted proxies.
    /// Refuses to start with a limit that is no bucket or a proxy that is no address.
    /// </summary>
    public static IServiceCollection AddIssuerRateLimits(this IServiceCollection services, IssuerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limits = options.Limits;
        Validate(limits);
        services.AddSingleton<IRateGate>(new OfferRateGate(limits));
        services.AddSingleton(new ApiKeyRateLimits(limits));
        services.AddRateLimiter(o =>
        {
            foreach (var limit in Enum.GetValues<AddressLimit>())
            {
                var bucket = Bucket(limits.Of(limit));
                o.AddPolicy(Policy(limit), http => RateLimitPartition.GetTokenBucketLimiter(ClientAddress.PartitionOf(http), _ => bucket));
            }
            o.OnRejected = (rejected, _) => new ValueTask(Refusal(rejected.HttpContext, rejected.Lease).ExecuteAsync(rejected.HttpContext));
        });

        // Parsed now, so that a host with a proxy that is no address does not start.
        var proxies = options.ForwardedHeaders;
        var knownProxies = proxies.KnownProxies.Select(ParseProxy).ToList();
        var knownNetworks = proxies.KnownNetworks.Select(ParseNetwork).ToList();
        if (proxies.ForwardLimit < 1) throw new InvalidOperationException("Issuer2:ForwardedHeaders:ForwardLimit must be at least 1.");
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            o.ForwardLimit = proxies.ForwardLimit;
            // Note: ASP.NET trusts loopback by default; only the configured proxies are trusted here.
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in knownProxies) o.KnownProxies.Add(proxy);
            foreach (var network in knownNetworks) o.KnownIPNetworks.Add(network);
        });
        return services;
    }

    /// <summary>
    /// Before routing: believes X-Forwarded-For/-Proto/-Host from the configured proxies only, and ignores them
    /// altogether when none is configured.
    /// </summary>
    public static WebApplication UseIssuerForwardedHeaders(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var proxies = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IssuerOptions>>().Value.ForwardedHeaders;
        if (proxies.KnownProxies.Length > 0 || proxies.KnownNetworks.Length > 0) app.UseForwardedHeaders();
        return app;
    }

    /// <summary>After routing: the per-address limits of the wallet-facing endpoints (each names its policy).</summary>
    public static WebApplication UseIssuerRateLimits(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseRateLimiter();
        return app;
    }

    /// <summary>A token bucket of these numbers; the partitioned limiter refills it (evenly) and drops it when idle and full.</summary>
    internal static TokenBucketRateLimiterOptions Bucket(RateLimit limit) => new()
    {
        TokenLimit = limit.Burst,
        TokensPerPeriod = 1,
        ReplenishmentPeriod = TimeSpan.FromTicks(TimeSpan.TicksPerMinute / limit.PerMinute),
        QueueLimit = 0,
        AutoReplenishment = false,
    };

    /// <summary>How long until a refused lease's bucket has a permit again: whole seconds, at least one.</summary>
    internal static TimeSpan RetryAfterOf(RateLimitLease lease) =>
        Core.Common.Clock.WholeSecondsToWait(lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.Zero);

    /// <summary>The answer to a request a per-address limit refused: JSON (429, Retry-After) or, at a browser step, a page.</summary>
    private static IResult Refusal(HttpContext http, RateLimitLease lease)
    {
        var policy = http.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName;
        var limit = Enum.GetValues<AddressLimit>().FirstOrDefault(l => Policy(l) == policy);
        var retryAfter = RetryAfterOf(lease);
        var error = WalletError.TooManyRequests(
            $"Too many requests from this address; retry in {retryAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.", retryAfter);
        return IsBrowserStep(limit) ? AuthorizationEndpoints.RefusalPage(error) : WalletHttp.Error(WalletEndpointKind.Other, error);
    }

    private static void Validate(LimitOptions limits)
    {
        var all = Enum.GetValues<AddressLimit>().Select(l => (Name: l.ToString(), Limit: limits.Of(l)))
            .Concat(Enum.GetValues<OfferLimit>().Select(l => (Name: "PerOffer" + l.ToString(), Limit: limits.Of(l))))
            .Append((Name: nameof(LimitOptions.ApiKey), Limit: limits.ApiKey))
            .Append((Name: nameof(LimitOptions.FailedAuthentication), Limit: limits.FailedAuthentication));
        foreach (var (name, limit) in all)
        {
            if (limit is null || limit.Burst < 1 || limit.PerMinute is < 1 or > MaxPerMinute)
                throw new InvalidOperationException(
                    $"Issuer2:Limits:{name} needs Burst of at least 1 and PerMinute from 1 to {MaxPerMinute.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    private static IPAddress ParseProxy(string text) =>
        IPAddress.TryParse(text, out var address)
            ? address
            : throw new InvalidOperationException($"Issuer2:ForwardedHeaders:KnownProxies: \"{text}\" is not an IP address.");

    private static System.Net.IPNetwork ParseNetwork(string text) =>
        System.Net.IPNetwork.TryParse(text, out var network)
            ? network
            : throw new InvalidOperationException($"Issuer2:ForwardedHeaders:KnownNetworks: \"{text}\" is not a network in CIDR notation (e.g. 10.0.0.0/8).");
}

/// <summary>The client address a per-address limit counts by.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The partition of the request's client address (after trusted forwarded headers): an IPv4 address as itself
    /// (IPv4-mapped IPv6 included), an IPv6 address by its /64 (one subscriber's prefix: the rest is free to pick).
    /// </summary>
    public static string PartitionOf(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return PartitionOf(http.Connection.RemoteIpAddress);
    }

    public static string PartitionOf(IPAddress? address)
    {
        if (address is null) return "";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}

/// <summary>
/// The per-offer gate of Core (<see cref="IRateGate"/>): one token bucket per (limit, tenant, offer), in memory on this
/// host; buckets full again are dropped after a few idle seconds.
/// </summary>
public sealed class OfferRateGate : IRateGate, IDisposable
{
    private readonly PartitionedRateLimiter<(OfferLimit Limit, string Tenant, string Offer)> _limiter;

    public OfferRateGate(LimitOptions limits)
    {
        var buckets = Enum.GetValues<OfferLimit>().ToDictionary(l => l, l => IssuerRateLimits.Bucket(limits.Of(l)));
        _limiter = PartitionedRateLimiter.Create<(OfferLimit Limit, string Tenant, string Offer), (OfferLimit, string, string)>(
            key => RateLimitPartition.GetTokenBucketLimiter(key, k => buckets[k.Item1]));
    }

    public TimeSpan? TryTake(OfferLimit limit, string tenantId, string offerId)
    {
        using var lease = _limiter.AttemptAcquire((limit, tenantId, offerId));
        return lease.IsAcquired ? null : IssuerRateLimits.RetryAfterOf(lease);
    }

    public void Dispose() => _limiter.Dispose();
}
