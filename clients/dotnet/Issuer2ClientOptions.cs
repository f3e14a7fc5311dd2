namespace Issuer2.Client;

/// <summary>How to reach one Issuer2 host: its native gRPC address, the API key, and how to retry.</summary>
public sealed class Issuer2ClientOptions
{
    /// <summary>
    /// The host's native gRPC address: <c>https://…</c> for TLS, <c>http://…</c> for cleartext HTTP/2 (h2c, e.g. the
    /// default <c>http://127.0.0.1:5081</c>).
    /// </summary>
    public required Uri Address { get; init; }

    /// <summary>The API key (a tenant's, or an admin key), sent as <c>authorization: Bearer &lt;key&gt;</c> on every call.</summary>
    public required string ApiKey { get; init; }

    /// <summary>Retries of idempotent calls. <see cref="RetryPolicy.None"/> turns them off.</summary>
    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    /// <summary>
    /// The HTTP handler under the channel; null means a <see cref="SocketsHttpHandler"/> with HTTP/2 keep-alive pings,
    /// so a dead connection is noticed by a long-lived event stream too.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>The clock retries and resumes wait on (tests may pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
