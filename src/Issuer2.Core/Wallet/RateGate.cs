namespace Issuer2.Core.Wallet;

/// <summary>The limits a wallet use case applies per offer, once it has found the offer a request names.</summary>
public enum OfferLimit
{
    /// <summary>Resolutions of one offer's URI (each mints a code or an issuer_state).</summary>
    Resolution,

    /// <summary>Token requests with a code of one offer (pre-authorized code, or an authorization code the offer started).</summary>
    Token,

    /// <summary>Credential and notification requests of the sessions of one offer.</summary>
    Session,
}

/// <summary>
/// A rate gate: takes one permit of a limit for a key, or says how long until one is free. Core calls it after the
/// lookup that names the key (an offer) and before anything is written, so a refused request changes nothing. The
/// host's adapter keeps its buckets in memory, per host.
/// </summary>
public interface IRateGate
{
    /// <summary>Null when a permit was taken; otherwise the time until one is free (at least one second).</summary>
    TimeSpan? TryTake(OfferLimit limit, string tenantId, string offerId);
}

/// <summary>The per-offer checks of the wallet use cases: one wording, one error.</summary>
public static class OfferRateLimits
{
    /// <summary>Null when the request may go on; otherwise the 429 answer (<see cref="WalletErrorCode.TooManyRequests"/>).</summary>
    public static WalletError? Refusal(this IRateGate gate, OfferLimit limit, string tenantId, string offerId)
    {
        ArgumentNullException.ThrowIfNull(gate);
        return gate.TryTake(limit, tenantId, offerId) is { } retryAfter
            ? WalletError.TooManyRequests($"This offer receives too many {What(limit)} requests; retry later.", retryAfter)
            : null;
    }

    private static string What(OfferLimit limit) => limit switch
    {
        OfferLimit.Resolution => "resolution",
        OfferLimit.Token => "token",
        OfferLimit.Session => "credential and notification",
    };
}
