namespace Issuer2.Server.Hosting;

/// <summary>
/// One token bucket: <see cref="Burst"/> requests at once, refilled at <see cref="PerMinute"/> a minute (evenly, not
/// all at the minute's turn). A request that finds the bucket empty is refused with 429 / RESOURCE_EXHAUSTED and a
/// retry-after of the time one permit takes to refill.
/// </summary>
public sealed class RateLimit
{
    public RateLimit()
    {
    }

    public RateLimit(int burst, int perMinute)
    {
        Burst = burst;
        PerMinute = perMinute;
    }

    /// <summary>The bucket's size: how many requests may come at once after a quiet spell (at least 1).</summary>
    public int Burst { get; set; } = 1;

    /// <summary>The refill rate, in permits a minute (at least 1).</summary>
    public int PerMinute { get; set; } = 1;
}

/// <summary>
/// The "Issuer2:Limits" section: rate limits, each kept per host in memory (N hosts behind one balancer allow N times
/// as much). docs/security.md ("Rate limits and trusted proxies") gives the reasons for each default.
/// </summary>
public sealed class LimitOptions
{
    // Per client address (IPv4 address, or IPv6 /64), on the anonymous wallet-facing endpoints.

    /// <summary>Metadata documents (well-known URLs): cheap and cacheable, so generous.</summary>
    public RateLimit Metadata { get; set; } = new(120, 600);

    /// <summary>GET /{tenant}/offers/{token}: each resolution mints a code or an issuer_state.</summary>
    public RateLimit OfferResolution { get; set; } = new(30, 60);

    /// <summary>POST /{tenant}/token.</summary>
    public RateLimit Token { get; set; } = new(30, 60);

    /// <summary>POST /{tenant}/nonce (writes nothing, costs a seal).</summary>
    public RateLimit Nonce { get; set; } = new(60, 120);

    /// <summary>POST /{tenant}/credential (a proof verified and a credential signed each).</summary>
    public RateLimit Credential { get; set; } = new(60, 120);

    /// <summary>POST /{tenant}/notification.</summary>
    public RateLimit Notification { get; set; } = new(30, 60);

    /// <summary>POST /{tenant}/par.</summary>
    public RateLimit Par { get; set; } = new(30, 60);

    /// <summary>GET /{tenant}/authorize (a browser step).</summary>
    public RateLimit Authorize { get; set; } = new(30, 60);

    /// <summary>GET /{tenant}/idp/callback (a browser step).</summary>
    public RateLimit Callback { get; set; } = new(30, 60);

    /// <summary>GET and POST /{tenant}/consent (a browser step).</summary>
    public RateLimit Consent { get; set; } = new(30, 60);

    // Per offer, decided in Core once the offer is found (any number of addresses together).

    /// <summary>Resolutions of one offer's URI.</summary>
    public RateLimit PerOfferResolution { get; set; } = new(60, 120);

    /// <summary>Token requests with a code of one offer.</summary>
    public RateLimit PerOfferToken { get; set; } = new(60, 120);

    /// <summary>Credential and notification requests of the sessions of one offer.</summary>
    public RateLimit PerOfferSession { get; set; } = new(120, 240);

    // gRPC.

    /// <summary>Authenticated gRPC and gRPC-Web calls per API key (a stream counts once, when it is opened).</summary>
    public RateLimit ApiKey { get; set; } = new(1000, 60000);

    /// <summary>
    /// Failed API-key authentications per client address. Once spent, every gRPC call from that address is refused
    /// until the bucket refills, a right key included, so keys cannot be guessed at speed.
    /// </summary>
    public RateLimit FailedAuthentication { get; set; } = new(10, 10);
}
