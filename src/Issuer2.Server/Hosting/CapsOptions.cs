using Issuer2.Core.Events;
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

    /// <summary>
    /// Refusal events written per window for one offer or session, event type and reason; further identical refusals
    /// in the window are counted and reach subscribers as a count on one event (docs/session-events.md).
    /// </summary>
    public int RefusalEventsPerWindow { get; set; } = RefusalCoalescing.Default.Limit;

    /// <summary>The window of <see cref="RefusalEventsPerWindow"/> (fixed windows, aligned to the Unix epoch).</summary>
    public TimeSpan RefusalWindow { get; set; } = RefusalCoalescing.Default.Window;

    /// <summary>The Core refusal coalescing these options state: at least one event per window, a window of at least a second.</summary>
    public RefusalCoalescing ToRefusalCoalescing() =>
        new(Math.Max(1, RefusalEventsPerWindow), RefusalWindow < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : RefusalWindow);

    /// <summary>The Core policy these options state; both at least 1 (a cap of 0 would make every offer unusable).</summary>
    public OfferCaps ToOfferCaps() => new(Math.Max(0, LiveSecretsSlack), Math.Max(1, MaxLiveSecretsPerOffer));
}
