using System.Runtime.CompilerServices;
using Issuer2.Core.Common;

namespace Issuer2.Core.Events;

/// <summary>An item of a followed feed: an event, or a heartbeat carrying the safe cursor.</summary>
public abstract record FeedItem
{
    public sealed record Event(IssuerEvent Value) : FeedItem;

    public sealed record Heartbeat(string Cursor, DateTimeOffset At) : FeedItem;
}

/// <summary>How a feed starts.</summary>
public sealed record FeedStart(string? AfterCursor, bool FromOldestRetained);

/// <summary>
/// Follows a tenant's log like an etcd or Kubernetes watch: listen first (so nothing falls between), replay
/// after the cursor, then follow; notifications only trigger reads, heartbeats carry the safe cursor.
/// </summary>
public sealed class EventFeed(IEventReader reader, IEventNotifier notifier, TimeProvider clock)
{
    public const int BatchSize = 500;

    /// <summary>
    /// When a read finds events waiting for an older transaction, how soon to look again: at first soon (Issuer2's
    /// own transactions last milliseconds), then less and less often (a long transaction elsewhere on the cluster).
    /// </summary>
    public static readonly TimeSpan HeldBackRetry = TimeSpan.FromMilliseconds(5);

    public static readonly TimeSpan HeldBackRetryMax = TimeSpan.FromMilliseconds(500);

    /// <summary>Where a feed starts: OUT_OF_RANGE when the cursor is older than retention, INVALID_ARGUMENT when it is not one of ours.</summary>
    public async Task<Result<EventCursor, Error>> StartAsync(FeedStart start, CancellationToken ct)
    {
        if (start.FromOldestRetained) return default(EventCursor);
        if (string.IsNullOrEmpty(start.AfterCursor)) return await reader.HeadAsync(ct);
        if (!EventCursor.TryParse(start.AfterCursor, out var cursor)) return Error.Invalid("after_cursor", "is not a cursor of this log");
        var purged = await reader.PurgedThroughAsync(ct);
        if (purged is { } mark && cursor.CompareTo(mark) < 0)
            return new Error(ErrorKind.OutOfRange, ErrorReasons.CursorExpired,
                "The cursor is older than the event log's retention: events after it were deleted. Start from now or from the oldest retained event.", []);
        return cursor;
    }

    /// <summary>The events after <paramref name="from"/>, then live ones, with a heartbeat after each idle <paramref name="heartbeat"/>.</summary>
    public async IAsyncEnumerable<FeedItem> FollowAsync(
        string tenantId, EventFilter filter, EventCursor from, TimeSpan heartbeat, [EnumeratorCancellation] CancellationToken ct)
    {
        using var wakeup = notifier.Subscribe(tenantId);
        var cursor = from;
        var idleSince = TimeProvider.System.GetTimestamp();
        var heldBackRetry = HeldBackRetry;
        while (!ct.IsCancellationRequested)
        {
            var page = await reader.ReadAsync(tenantId, cursor, filter, BatchSize, ct);
            foreach (var e in page.Events) yield return new FeedItem.Event(e);
            if (page.Events.Count > 0) idleSince = TimeProvider.System.GetTimestamp();
            // Past events the filter dropped too: the safe cursor is at least where the events end.
            cursor = page.SafeCursor;
            if (page.Full) continue;

            if (page.Events.Count > 0 || !page.HeldBack) heldBackRetry = HeldBackRetry;
            else heldBackRetry = TimeSpan.FromTicks(Math.Min(heldBackRetry.Ticks * 2, HeldBackRetryMax.Ticks));
            var wait = page.HeldBack ? heldBackRetry : heartbeat - TimeProvider.System.GetElapsedTime(idleSince);
            if (wait > TimeSpan.Zero && await wakeup.WaitAsync(wait, ct)) continue;
            if (page.HeldBack && TimeProvider.System.GetElapsedTime(idleSince) < heartbeat) continue;
            yield return new FeedItem.Heartbeat(cursor.ToString(), clock.UtcNow());
            idleSince = TimeProvider.System.GetTimestamp();
        }
    }
}
