using Issuer2.Core.Common;

namespace Issuer2.Core.Offers;

/// <summary>
/// How many live secrets one offer link may have minted at a time: pre-authorized codes of a BY_REFERENCE offer,
/// issuer_states of an AUTHORIZED offer with issuer_state INCLUDE. Each resolution mints one, so without a cap anyone
/// holding the link could add rows without bound.
/// </summary>
/// <param name="Slack">Live secrets allowed beyond the offer's remaining uses: wallets that resolve twice, or give up.</param>
/// <param name="Max">The most live secrets of one offer, whatever its remaining uses.</param>
public sealed record OfferCaps(int Slack, int Max)
{
    /// <summary>The production default: ten beyond the remaining uses, at most 100.</summary>
    public static readonly OfferCaps Default = new(10, 100);

    /// <summary>
    /// The cap for <paramref name="offer"/> as last read: its remaining uses plus <see cref="Slack"/>, at most
    /// <see cref="Max"/>, and at least 1 (an active offer can always be resolved once). The use count only grows, so a
    /// stale read errs on the generous side by the uses taken since.
    /// </summary>
    public int LiveSecretsFor(Offer offer)
    {
        ArgumentNullException.ThrowIfNull(offer);
        var remaining = offer.MaxUses > 0 ? Math.Max(0, offer.MaxUses - offer.UseCount) : 0;
        return Math.Max(1, (int)Math.Min(Max, (long)remaining + Slack));
    }

    /// <summary>
    /// What a wallet beyond the cap waits for: until the oldest live secret expires (whole seconds, at least one), or
    /// one second when the store found none left (they expired or were used in the meantime).
    /// </summary>
    public static TimeSpan RetryAfter(DateTimeOffset? oldestLiveExpiry, DateTimeOffset now)
    {
        return Clock.WholeSecondsToWait(oldestLiveExpiry is { } expiry ? expiry - now : TimeSpan.Zero);
    }
}

/// <summary>When an issuer_state still counts against its offer's cap: unconsumed and unexpired, stated once.</summary>
public static class IssuerStateRules
{
    public static readonly Condition<IssuerState, DateTimeOffset> Live = new((s, now) => s.ConsumedAt == null && s.ExpiresAt > now);
}

/// <summary>What recording a resolution did: minted what it carried, or refused it at the offer's cap and wrote nothing.</summary>
/// <param name="Recorded">True when the code or issuer_state, the count and the event were written.</param>
/// <param name="OldestLiveExpiry">When refused: the expiry of the offer's oldest live secret, when one is left.</param>
public readonly record struct ResolutionOutcome(bool Recorded, DateTimeOffset? OldestLiveExpiry)
{
    public static readonly ResolutionOutcome Done = new(true, null);

    public static ResolutionOutcome CapReached(DateTimeOffset? oldestLiveExpiry) => new(false, oldestLiveExpiry);
}
