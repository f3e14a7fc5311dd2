using Issuer2.Core.Common;

namespace Issuer2.Core.Offers;

/// <summary>
/// When an offer, and a pre-authorized code, can be used: each rule stated once. <see cref="Offer.StateAt"/>, the
/// state filters of offer lists and the conditional updates that consume a use or count a wrong PIN are all made
/// from these definitions.
/// </summary>
public static class OfferRules
{
    /// <summary>The facts that end an offer, in the order that names its state: the first that holds wins.</summary>
    public static readonly IReadOnlyList<(OfferState State, Condition<Offer, DateTimeOffset> Holds)> Precedence =
    [
        (OfferState.Revoked, new((o, now) => o.RevokedAt != null)),
        (OfferState.Locked, new((o, now) => o.LockedAt != null)),
        (OfferState.UsedUp, new((o, now) => o.MaxUses > 0 && o.UseCount >= o.MaxUses)),
        (OfferState.Expired, new((o, now) => o.ExpiresAt <= now)),
    ];

    private static readonly Dictionary<OfferState, Condition<Offer, DateTimeOffset>> States =
        Enum.GetValues<OfferState>().ToDictionary(state => state, Build);

    /// <summary>
    /// The <see cref="Offer.MaxUses"/> of an offer that counts no uses: an AUTHORIZED offer with issuer_state OMIT, which
    /// only opens wallet-initiated issuance of its profile while it is active (OID4VCI 1.0 §3.4). Never used up, never
    /// <see cref="Usable"/>: no token consumes a use of it.
    /// </summary>
    public const int CountsNoUses = 0;

    /// <summary>
    /// "A use of the offer can be consumed": none of the ending facts holds and it counts uses, with one left. An offer
    /// that <see cref="CountsNoUses"/> is active but never usable.
    /// </summary>
    public static readonly Condition<Offer, DateTimeOffset> Usable =
        InState(OfferState.Active).And(new((o, now) => o.MaxUses > 0 && o.UseCount < o.MaxUses));

    /// <summary>
    /// A wrong PIN is counted while the offer is neither revoked nor locked and has attempts left under the tenant's
    /// limit (the argument); the attempt that reaches the limit locks it (<see cref="LocksAt"/>).
    /// </summary>
    public static readonly Condition<Offer, int> CountsWrongPin =
        new((o, limit) => o.RevokedAt == null && o.LockedAt == null && o.PinFailedAttempts < limit);

    /// <summary>
    /// A PIN offer that is neither revoked nor locked but has as many wrong PINs as the limit (the argument) allows: one
    /// that a lowered limit must lock now. Lowering the limit never lets an offer be guessed further; raising it never
    /// unlocks one.
    /// </summary>
    public static readonly Condition<Offer, int> ReachedPinLimit =
        new((o, limit) => o.RevokedAt == null && o.LockedAt == null && o.PinHash != null && o.PinFailedAttempts >= limit);

    /// <summary>Whether the attempt that brings the count to <paramref name="attempts"/> locks the offer.</summary>
    public static bool LocksAt(int attempts, int limit) => attempts >= limit;

    /// <summary>A record is in <paramref name="state"/> when no earlier fact holds and its own does (Active: none does).</summary>
    public static Condition<Offer, DateTimeOffset> InState(OfferState state) => States[state];

    private static Condition<Offer, DateTimeOffset> Build(OfferState state)
    {
        Condition<Offer, DateTimeOffset>? condition = null;
        foreach (var (s, holds) in Precedence)
        {
            if (s == state) return condition is null ? holds : condition.And(holds);
            var not = holds.Not();
            condition = condition is null ? not : condition.And(not);
        }
        return condition!;
    }

    /// <summary>The state of <paramref name="offer"/> at <paramref name="now"/>.</summary>
    public static OfferState StateOf(Offer offer, DateTimeOffset now)
    {
        foreach (var (state, holds) in Precedence)
        {
            if (holds.IsMetBy(offer, now)) return state;
        }
        return OfferState.Active;
    }
}

/// <summary>When a pre-authorized code can be redeemed: unused and unexpired, stated once.</summary>
public static class CodeRules
{
    public static readonly Condition<PreAuthorizedCode, DateTimeOffset> Used = new((c, now) => c.ConsumedAt != null);

    public static readonly Condition<PreAuthorizedCode, DateTimeOffset> Expired = new((c, now) => c.ExpiresAt <= now);

    public static readonly Condition<PreAuthorizedCode, DateTimeOffset> Redeemable = Used.Not().And(Expired.Not());
}
