using System.Text.Json;
using Issuer2.Core.Common;

namespace Issuer2.Core.Events;

/// <summary>
/// One entry of the event log (the outbox): appended in the same transaction as the change it reports,
/// so no event is lost and none is invented. Never carries a secret or a claim value.
/// </summary>
public sealed class IssuerEvent
{
    /// <summary>Assigned by the database on insert.</summary>
    public long Sequence { get; init; }

    /// <summary>PostgreSQL: the writing transaction's id (<c>pg_current_xact_id()</c>); SQLite: 0, since its commits are serial.</summary>
    public long TransactionId { get; init; }

    public required string TenantId { get; init; }
    public required string Type { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public string? OfferId { get; init; }
    public string? SessionId { get; init; }

    /// <summary>The profile an offer, session or profile event concerns, so subscribers can follow one credential type.</summary>
    public string? ProfileId { get; init; }

    /// <summary>The typed detail as JSON text.</summary>
    public required string Detail { get; init; }

    /// <summary>
    /// Management events: the API key that made the change, by name (<see cref="ResourceNames.ApiKey"/>); null for
    /// what wallets and the host do.
    /// </summary>
    public string? Actor { get; init; }

    /// <summary>The event's position in the log; clients see it only as an opaque cursor (<see cref="EventCursors"/>).</summary>
    public EventCursor Position => new(TransactionId, Sequence);

    public static IssuerEvent Create<TDetail>(
        string tenantId, string type, DateTimeOffset at, TDetail detail, string? offerId = null, string? sessionId = null, string? profileId = null,
        Caller? actor = null) =>
        new()
        {
            TenantId = tenantId,
            Type = type,
            OccurredAt = at,
            OfferId = offerId,
            SessionId = sessionId,
            ProfileId = profileId,
            Detail = JsonSerializer.Serialize(detail, CoreJson.Options),
            Actor = actor is null ? null : ResourceNames.ApiKey(actor),
        };
}

/// <summary>The event types: management writes and every step of an issuance.</summary>
public static class EventTypes
{
    public const string TenantCreated = "tenant.created";
    public const string TenantUpdated = "tenant.updated";
    public const string TenantDeleted = "tenant.deleted";
    public const string ApiKeyCreated = "api_key.created";
    public const string ApiKeyRevoked = "api_key.revoked";
    public const string ProfileCreated = "profile.created";
    public const string ProfileUpdated = "profile.updated";
    public const string ProfileDeleted = "profile.deleted";
    public const string OfferCreated = "offer.created";
    public const string OfferRevoked = "offer.revoked";
    public const string OfferResolved = "offer.resolved";
    public const string OfferLocked = "offer.locked";
    public const string TokenIssued = "token.issued";
    public const string TokenRefused = "token.refused";
    public const string CredentialIssued = "credential.issued";
    public const string CredentialRefused = "credential.refused";
    public const string NotificationReceived = "notification.received";
    public const string SessionCompleted = "session.completed";
    public const string AuthorizationRequested = "authorization.requested";
    public const string UserAuthenticated = "authorization.user_authenticated";
    public const string AuthorizationRefused = "authorization.refused";
    public const string AuthorizationCodeIssued = "authorization.code_issued";
}

/// <summary>
/// A position in the log: (transaction id, sequence), the order in which events become visible. It is global (it
/// counts every tenant's writes), so it never leaves Core as text: clients hold the opaque, tenant-bound cursor
/// <see cref="EventCursors"/> makes of it.
/// </summary>
public readonly record struct EventCursor(long TransactionId, long Sequence) : IComparable<EventCursor>
{
    public int CompareTo(EventCursor other) =>
        TransactionId != other.TransactionId ? TransactionId.CompareTo(other.TransactionId) : Sequence.CompareTo(other.Sequence);

    public static EventCursor Max(EventCursor a, EventCursor b) => a.CompareTo(b) >= 0 ? a : b;

    public static bool operator <(EventCursor left, EventCursor right) => left.CompareTo(right) < 0;

    public static bool operator >(EventCursor left, EventCursor right) => left.CompareTo(right) > 0;

    public static bool operator <=(EventCursor left, EventCursor right) => left.CompareTo(right) <= 0;

    public static bool operator >=(EventCursor left, EventCursor right) => left.CompareTo(right) >= 0;
}

/// <summary>Appends events to the unit of work in progress; they commit with it or not at all.</summary>
public interface IEventLog
{
    void Append(IssuerEvent e);
}

/// <summary>Which events a reader wants; null members match everything.</summary>
public sealed record EventFilter(string? OfferId = null, string? SessionId = null, string? ProfileId = null, IReadOnlySet<string>? Types = null)
{
    public static readonly EventFilter All = new();

    public bool Matches(IssuerEvent e) =>
        (OfferId is null || e.OfferId == OfferId)
        && (SessionId is null || e.SessionId == SessionId)
        && (ProfileId is null || e.ProfileId == ProfileId)
        && (Types is null || Types.Contains(e.Type));
}

/// <summary>
/// One read of the log: the matching events after a cursor, and the cursor below which nothing more can
/// appear for this reader (<see cref="SafeCursor"/>). <see cref="Full"/> says more may be waiting now;
/// <see cref="HeldBack"/> says events exist that wait only for an older transaction to end.
/// </summary>
public sealed record EventPage(IReadOnlyList<IssuerEvent> Events, EventCursor SafeCursor, bool Full, bool HeldBack);

/// <summary>Reads a tenant's events in commit-visibility order from a cursor.</summary>
public interface IEventReader
{
    /// <summary>
    /// Events of <paramref name="tenantId"/> after <paramref name="after"/> (null: from the start), at most
    /// <paramref name="limit"/>. Only events every earlier transaction of which has ended are returned, so a reader
    /// that resumes from the last position never skips one that commits late.
    /// </summary>
    Task<IReadOnlyList<IssuerEvent>> ReadAfterAsync(string tenantId, EventCursor? after, int limit, CancellationToken ct);

    /// <summary>Reads matching events after <paramref name="after"/>, at most <paramref name="limit"/>.</summary>
    Task<EventPage> ReadAsync(string tenantId, EventCursor after, EventFilter filter, int limit, CancellationToken ct);

    /// <summary>The cursor of "now": every event a reader starting here will see commits after this call, or was in flight during it.</summary>
    Task<EventCursor> HeadAsync(CancellationToken ct);

    /// <summary>
    /// Where <paramref name="tenantId"/>'s own log stands at the global position <paramref name="safe"/> (one a read
    /// returned as <see cref="EventPage.SafeCursor"/>): the newest of its events at or below it, retained or deleted
    /// by retention, or (0, 0) when it has none. Nothing of this tenant lies between the two, so resuming from either
    /// reads the same events; and it moves only when this tenant's log does.
    /// </summary>
    Task<EventCursor> TenantPositionAsync(string tenantId, EventCursor safe, CancellationToken ct);

    /// <summary>The newest position of <paramref name="tenantId"/>'s events retention has deleted; a cursor below it may have missed some.</summary>
    Task<EventCursor?> PurgedThroughAsync(string tenantId, CancellationToken ct);

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> events older than <paramref name="cutoff"/>, moving each of their
    /// tenants' purge marks in the same transaction; returns how many.
    /// </summary>
    Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, int batchSize, CancellationToken ct);
}

/// <summary>
/// Wakes readers when events commit. Only a wake-up: the log is the truth, so a lost notification delays an
/// event but never loses it.
/// </summary>
public interface IEventNotifier
{
    /// <summary>Starts listening for commits of <paramref name="tenantId"/>; dispose to stop.</summary>
    IEventWakeup Subscribe(string tenantId);

    /// <summary>Called after a transaction that appended events of <paramref name="tenantId"/> committed.</summary>
    void Committed(string tenantId);
}

/// <summary>One listener's wake-up signal; several commits before a wait collapse into one wake-up.</summary>
public interface IEventWakeup : IDisposable
{
    /// <summary>True when woken, false when <paramref name="timeout"/> passed first.</summary>
    Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct);
}
