using Grpc.Core;

namespace Issuer2.Client;

/// <summary>
/// When and how often an idempotent call is tried again: on <c>UNAVAILABLE</c> (a host restarting, a database failing
/// over, a dropped connection) after an exponential backoff with jitter, and on any status carrying
/// <c>google.rpc.RetryInfo</c> (a rate limit's <c>RESOURCE_EXHAUSTED</c>, <c>UNAVAILABLE</c> while the database is
/// unavailable) after exactly the delay the server asked for. Every other status ends the call at once.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>5 attempts, backoff from 200 ms doubling up to 5 s, server-asked delays up to 30 s.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>One attempt: no retries.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts in all, the first included; at least 1.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The backoff before the second attempt; each further one doubles, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest backoff between two attempts when the server named no delay.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest delay a server's <c>RetryInfo</c> may ask for; a longer one ends the call with its status.</summary>
    public TimeSpan MaxRetryInfoDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Told before each retry: the failed attempt's status, the attempt about to start (from 2) and the wait.</summary>
    public Action<RetryAttempt>? OnRetry { get; init; }

    /// <summary>
    /// The wait before attempt <paramref name="nextAttempt"/> after <paramref name="error"/>, or null when the call
    /// must not be tried again (a status that retrying cannot change, attempts spent, or a server delay beyond the cap).
    /// </summary>
    public TimeSpan? DelayBefore(int nextAttempt, RpcException error)
    {
        if (nextAttempt > MaxAttempts)
        {
            return null;
        }

        var asked = RpcErrors.RetryDelay(error);
        if (asked is { } delay)
        {
            return delay <= MaxRetryInfoDelay ? delay : null;
        }

        return error.StatusCode == StatusCode.Unavailable ? Backoff.Jittered(InitialBackoff, MaxBackoff, nextAttempt - 1) : null;
    }
}

/// <summary>One retry about to happen.</summary>
/// <param name="Method">The gRPC method, e.g. <c>/issuer2.v1.OfferService/GetOffer</c>.</param>
/// <param name="Attempt">The attempt about to start, from 2.</param>
/// <param name="Delay">How long it waits first.</param>
/// <param name="Error">What the previous attempt ended with.</param>
public sealed record RetryAttempt(string Method, int Attempt, TimeSpan Delay, RpcException Error);
