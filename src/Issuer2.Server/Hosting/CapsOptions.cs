using Issuer2.Core.Offers;

namespace Issuer2.Server.Hosting;

/// <summary>
/// The "Issuer2:Caps" section: what one offer link may write (docs/security.md, "Caps per offer and retention").
/// Enforced by the database, so N hosts together allow exactly this much.
/// </summary>
public sealed class CapsOptions
{
    /// <summary>Live (unexpired, unredeemed) codes or issuer_states one offer may have beyond its remaining uses.</summary>
    public int LiveSecretsSlack { get; set; } = OfferCaps.Default.Slack;

    /// <summary>The most live codes or issuer_states of one offer, whatever its remaining uses.</summary>
    public int MaxLiveSecretsPerOffer { get; set; } = OfferCaps.Default.Max;

    /// <summary>The Core policy these options state; both at least 1 (a cap of 0 would make every offer unusable).</summary>
    public OfferCaps ToOfferCaps() => new(Math.Max(0, LiveSecretsSlack), Math.Max(1, MaxLiveSecretsPerOffer));
}
