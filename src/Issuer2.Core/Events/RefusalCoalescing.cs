namespace Issuer2.Core.Events;

/// <summary>
/// A refusal of a wallet request, before it becomes an event: what a subscriber would see, without the time. Two
/// refusals with the same key are identical to a subscriber, so their repeats can be told as a count.
/// </summary>
/// <param name="Type"><see cref="EventTypes.TokenRefused"/> or <see cref="EventTypes.CredentialRefused"/>.</param>
/// <param name="Reason">The token refusal's reason, or the credential refusal's error code.</param>
/// <param name="Version">A credential refusal's OID4VCI version (null: a shape that spoke no one version); part of the key.</param>
public sealed record Refusal(
    string TenantId, string Type, string Reason, string? OfferId, string? SessionId, string? ProfileId, Wallet.Oid4vciVersion? Version = null)
{
    private const char VersionMark = '@';

    /// <summary>A token request refused (<see cref="Tokens.TokenRefusalReasons"/>).</summary>
    public static Refusal Token(string tenantId, string reason, string? offerId, string? sessionId, string? profileId) =>
        new(tenantId, EventTypes.TokenRefused, reason, offerId, sessionId, profileId);

    /// <summary>A credential request refused with an OID4VCI error code.</summary>
    public static Refusal Credential(string tenantId, string error, string? offerId, string sessionId, string? profileId, Wallet.Oid4vciVersion? version) =>
        new(tenantId, EventTypes.CredentialRefused, error, offerId, sessionId, profileId, version);

    /// <summary>A refusal as its counter row stores it: the version travels in the subject (<see cref="Subject"/>).</summary>
    public static Refusal FromStored(string tenantId, string type, string reason, string? offerId, string? sessionId, string? profileId, string subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var mark = subject.LastIndexOf(VersionMark);
        Wallet.Oid4vciVersion? version = mark >= 0 && Enum.TryParse<Wallet.Oid4vciVersion>(subject[(mark + 1)..], out var v) ? v : null;
        return new Refusal(tenantId, type, reason, offerId, sessionId, profileId, version);
    }

    /// <summary>
    /// What the refusal concerns, as one key: its session, else its offer, else its profile (a wallet-initiated
    /// authorization code names neither). A session belongs to one offer and one profile, an offer to one profile.
    /// </summary>
    public string Subject =>
        (SessionId is not null ? "session:" + SessionId : OfferId is not null ? "offer:" + OfferId : "profile:" + ProfileId)
        + (Version is { } version ? VersionMark + version.ToString() : "");

    /// <summary>The event that reports this refusal and <paramref name="repeats"/> − 1 identical ones before it.</summary>
    public IssuerEvent ToEvent(DateTimeOffset at, long repeats)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var count = repeats == 1 ? (int?)null : (int)Math.Min(int.MaxValue, repeats);
        return Type switch
        {
            EventTypes.TokenRefused => IssuerEvent.Create(TenantId, Type, at, new EventDetails.TokenRefused(Reason, Repeats: count), OfferId, SessionId, ProfileId),
            EventTypes.CredentialRefused => IssuerEvent.Create(TenantId, Type, at, new EventDetails.CredentialRefused(Reason, Version, count), OfferId, SessionId, ProfileId),
            _ => throw new InvalidOperationException($"{Type} is not a coalesced refusal."),
        };
    }
}

/// <summary>
/// How refusal events are coalesced, so that one offer link cannot write events without bound: per refusal key
/// (<see cref="Refusal"/>) and fixed window of <see cref="Window"/> (aligned to the Unix epoch, so every host agrees),
/// the first <see cref="Limit"/> refusals are written as events; later ones in the window are only counted. The count
/// reaches subscribers on one event: the next refusal of the key written in a later window carries it, or maintenance
/// writes it once the window closed. The store keeps the counter per key and window, and decides with it in the
/// transaction that writes the event, so N hosts behave as one.
/// </summary>
/// <param name="Limit">Refusal events written per key and window (at least 1).</param>
/// <param name="Window">The length of a window (at least one second).</param>
public sealed record RefusalCoalescing(int Limit, TimeSpan Window)
{
    /// <summary>The production default: five events per key per ten minutes.</summary>
    public static readonly RefusalCoalescing Default = new(5, TimeSpan.FromMinutes(10));

    /// <summary>The start of the window <paramref name="at"/> falls in.</summary>
    public DateTimeOffset WindowStart(DateTimeOffset at)
    {
        var ticks = Math.Max(TimeSpan.TicksPerSecond, Window.Ticks);
        return new DateTimeOffset(at.UtcTicks - (at.UtcTicks % ticks), TimeSpan.Zero);
    }

    /// <summary>
    /// Whether the refusal that is the <paramref name="ordinal"/>-th of its key in its window (counted by the store,
    /// 1 for the first) is written as an event; otherwise it is counted for a later event.
    /// </summary>
    public bool Emits(long ordinal) => ordinal <= Math.Max(1, Limit);

    /// <summary>
    /// The event of a refusal that is written: it stands for itself and for <paramref name="suppressedBefore"/> refusals
    /// of its key counted but not written in windows that have closed.
    /// </summary>
    public static IssuerEvent Written(Refusal refusal, DateTimeOffset at, long suppressedBefore)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return refusal.ToEvent(at, 1 + Math.Max(0, suppressedBefore));
    }

    /// <summary>The event maintenance writes for a closed window's refusals that were counted but not written; null when there were none.</summary>
    public static IssuerEvent? Flushed(Refusal refusal, DateTimeOffset at, long suppressed)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return suppressed > 0 ? refusal.ToEvent(at, suppressed) : null;
    }
}
