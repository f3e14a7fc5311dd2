using System.Runtime.CompilerServices;
using Issuer2.Core.Common;

namespace Issuer2.Core.Events;

/// <summary>An item of a followed feed: an event with its cursor, or a heartbeat carrying the tenant's safe cursor.</summary>
public abstract record FeedItem
{
    public sealed record Event(IssuerEvent Value, string Cursor) : FeedItem;

    public sealed record Heartbeat(string Cursor, DateTimeOffset At) : FeedItem;
}

/// <summary>How a feed starts.</summary>
public sealed record FeedStart(string? AfterCursor, bool FromOldestRetained);

/// <summary>
/// Follows a tenant's log like an etcd or Kubernetes watch: listen first (so nothing falls between), replay
/// after the cursor, then follow; notifications only trigger reads, heartbeats carry the safe cursor. Positions are
/// global; what a client sees are tenant-bound cursors (<see cref="EventCursors"/>) of its own log's positions only.
/// </summary>
public sealed class EventFeed(IEventReader reader, IEventNotifier notifier, EventCursors cursors, TimeProvider clock)
{
    public const int BatchSize = 500;

    /// <summary>
    /// When a read finds events waiting for an older transaction, how soon to look again: half as long as they have
    /// waited so far, between these bounds. Issuer2's own transactions last milliseconds, so for the first tens of
    /// milliseconds the feed looks every 5 ms; only a transaction open for seconds elsewhere on the cluster slows it
    /// to one look every 500 ms. It goes by the time waited, not by the number of reads: under load every commit
    /// wakes the feed, and counting those reads would stretch the wait long before any transaction is slow.
    /// </summary>
    public static readonly TimeSpan HeldBackRetry = TimeSpan.FromMilliseconds(5);

    public static readonly TimeSpan HeldBackRetryMax = TimeSpan.FromMilliseconds(500);

    /// <summary>How soon to read again after events have been held back for <paramref name="heldFor"/>.</summary>
    public static TimeSpan HeldBackWait(TimeSpan heldFor) =>
        TimeSpan.FromTicks(Math.Clamp(heldFor.Ticks / 2, HeldBackRetry.Ticks, HeldBackRetryMax.Ticks));

    /// <summary>
    /// Where a feed of <paramref name="tenantId"/> starts: INVALID_ARGUMENT when the cursor is not one of this tenant's,
    /// OUT_OF_RANGE when retention deleted events of this tenant after it.
    /// </summary>
    public async Task<Result<EventCursor, Error>> StartAsync(string tenantId, FeedStart start, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (start.FromOldestRetained) return default(EventCursor);
        if (string.IsNullOrEmpty(start.AfterCursor)) return await reader.HeadAsync(ct);
        return await ResumeAsync(tenantId, start.AfterCursor, "after_cursor", ct);
    }

    /// <summary>The position a client's cursor names, checked against this tenant's retention.</summary>
    internal async Task<Result<EventCursor, Error>> ResumeAsync(string tenantId, string cursor, string field, CancellationToken ct)
    {
        if (!cursors.TryDecode(tenantId, cursor, out var position)) return Error.Invalid(field, "is not a cursor of this tenant's event log");
        // Per tenant: another tenant's purge never expires this tenant's cursor, however long it has been idle.
        var purged = await reader.PurgedThroughAsync(tenantId, ct);
        if (purged is { } mark && position.CompareTo(mark) < 0)
            return new Error(ErrorKind.OutOfRange, ErrorReasons.CursorExpired,
                "The cursor is older than the event log's retention: events after it were deleted. Start from now or from the oldest retained event.", []);
        return position;
    }

    /// <summary>The cursor a client holds for an event of <paramref name="tenantId"/>.</summary>
    internal string CursorOf(string tenantId, IssuerEvent e) => cursors.Encode(tenantId, e.Position);

    /// <summary>The cursor a client holds for a position of <paramref name="tenantId"/>'s own log.</summary>
    internal string CursorAt(string tenantId, EventCursor tenantPosition) => cursors.Encode(tenantId, tenantPosition);

    /// <summary>The events after <paramref name="from"/>, then live ones, with a heartbeat after each idle <paramref name="heartbeat"/>.</summary>
    public async IAsyncEnumerable<FeedItem> FollowAsync(
        string tenantId, EventFilter filter, EventCursor from, TimeSpan heartbeat, [EnumeratorCancellation] CancellationToken ct)
    {
        using var wakeup = notifier.Subscribe(tenantId);
        var cursor = from;
        var idleSince = TimeProvider.System.GetTimestamp();
        long? heldBackSince = null;
        while (!ct.IsCancellationRequested)
        {
            var page = await reader.ReadAsync(tenantId, cursor, filter, BatchSize, ct);
            foreach (var e in page.Events) yield return new FeedItem.Event(e, CursorOf(tenantId, e));
            if (page.Events.Count > 0) idleSince = TimeProvider.System.GetTimestamp();
            // Past events the filter dropped too: the safe cursor is at least where the events end.
            cursor = page.SafeCursor;
            if (page.Full) continue;

            if (page.Events.Count > 0 || !page.HeldBack) heldBackSince = null;
            if (page.HeldBack) heldBackSince ??= TimeProvider.System.GetTimestamp();
            var wait = heldBackSince is { } since
                ? HeldBackWait(TimeProvider.System.GetElapsedTime(since))
                : heartbeat - TimeProvider.System.GetElapsedTime(idleSince);
            if (wait > TimeSpan.Zero && await wakeup.WaitAsync(wait, ct)) continue;
            if (page.HeldBack && TimeProvider.System.GetElapsedTime(idleSince) < heartbeat) continue;
            // Note: the safe cursor is global (it moves with every tenant's writes); the client gets this tenant's
            // position at it instead, which moves only with its own log and resumes to the same events.
            var local = await reader.TenantPositionAsync(tenantId, cursor, ct);
            yield return new FeedItem.Heartbeat(CursorAt(tenantId, local), clock.UtcNow());
            idleSince = TimeProvider.System.GetTimestamp();
        }
    }
}
