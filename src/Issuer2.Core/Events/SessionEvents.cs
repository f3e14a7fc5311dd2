using System.Threading.Channels;
using Issuer2.Core.Common;

namespace Issuer2.Core.Events;

/// <summary>
/// How a host serves event streams: per-tenant stream limit on this host (the <see cref="Quota.EventStreams"/> quota), buffer, lag timeout, heartbeat interval, and how long a
/// write the client never takes may still hold a lagging stream open.
/// </summary>
public sealed record EventStreamPolicy(int MaxStreamsPerTenant, int Buffer, TimeSpan LagTimeout, TimeSpan HeartbeatInterval, TimeSpan StuckWriteTimeout);

/// <summary>An event with the cursor its tenant's client holds for it.</summary>
public sealed record CursoredEvent(IssuerEvent Event, string Cursor);

/// <summary>One page of <see cref="SessionEvents.ListAsync"/>: its events, and the token of the next page (null when the log has nothing more now).</summary>
public sealed record EventList(IReadOnlyList<CursoredEvent> Events, string? NextPageToken);

/// <summary>
/// The session event service's use cases: a tenant's own key reads its log, as a page or as a live stream. The
/// stream's policy lives here: a per-tenant limit of open streams on this host, and a bounded buffer whose reader
/// waits for room — a client that takes nothing from a full buffer for the lag timeout is told to resume from its
/// cursor, instead of the host holding its backlog in memory.
/// </summary>
public sealed class SessionEvents(EventFeed feed, IEventReader reader, EventStreams streams)
{
    /// <summary>One page of events after a cursor or page token, each event with its cursor, cut by count and by bytes.</summary>
    public async Task<Result<EventList, Error>> ListAsync(
        Caller caller, string tenantId, EventFilter filter, int pageSize, string? pageToken, string? afterCursor, PageBudget<IssuerEvent> budget,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (Access.RequireTenant(caller, tenantId, ResourceNames.Tenant(tenantId)) is { } denied) return denied;
        var size = PageSizes.Of(ListKind.Events, pageSize);
        if (!size.IsSuccess) return size.Error;
        var scope = PageScope(tenantId, filter);
        var position = PageTokens.Decode(pageToken, scope);
        if (!position.IsSuccess) return position.Error;
        var start = default(EventCursor);
        if ((position.Value ?? afterCursor) is { } cursor)
        {
            var started = await feed.ResumeAsync(tenantId, cursor, position.Value is null ? "after_cursor" : "page_token", ct);
            if (!started.IsSuccess) return started.Error;
            start = started.Value;
        }
        var page = await reader.ReadAsync(tenantId, start, filter, size.Value, ct);
        // Cut by bytes: every event read is deliverable, so the page ends, and the next starts, after the last one kept.
        var (kept, more) = PageSizes.Cut(page.Events, size.Value, budget);
        var events = kept.Select(e => new CursoredEvent(e, feed.CursorOf(tenantId, e))).ToList();
        // Note: a full or cut page's safe cursor is its last event, a position of this tenant's own log; it travels as
        // that event's cursor, so the token says nothing of other tenants either.
        return new EventList(events, page.Full || more ? PageTokens.Encode(scope, events[^1].Cursor) : null);
    }

    /// <summary>
    /// Streams the events after <paramref name="start"/>, then live ones with heartbeats, through <paramref name="write"/>
    /// until the caller goes away (null) or the stream must end (an error: the stream limit, or a lagging subscriber).
    /// </summary>
    public async Task<Error?> StreamAsync(
        Caller caller, string tenantId, EventFilter filter, FeedStart start, EventStreamPolicy policy,
        Func<FeedItem, CancellationToken, Task> write, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(write);
        if (Access.RequireTenant(caller, tenantId, ResourceNames.Tenant(tenantId)) is { } denied) return denied;
        var from = await feed.StartAsync(tenantId, start, ct);
        if (!from.IsSuccess) return from.Error;
        if (!streams.TryOpen(tenantId, policy.MaxStreamsPerTenant))
            return Quotas.Exceeded(new QuotaCheck(Quota.EventStreams, tenantId, policy.MaxStreamsPerTenant));
        try
        {
            return await PumpAsync(tenantId, filter, from.Value, policy, write, ct)
                ? new Error(ErrorKind.Unavailable, ErrorReasons.SubscriberLagging,
                    "The subscriber took no event from a full buffer within the lag timeout; resume from the last cursor received.", [])
                : null;
        }
        finally
        {
            streams.Close(tenantId);
        }
    }

    /// <summary>The reader fills the bounded buffer, the writer drains it at the client's pace; true when the client lagged.</summary>
    private async Task<bool> PumpAsync(
        string tenantId, EventFilter filter, EventCursor from, EventStreamPolicy policy, Func<FeedItem, CancellationToken, Task> write, CancellationToken ct)
    {
        var buffer = Channel.CreateBounded<FeedItem>(new BoundedChannelOptions(policy.Buffer) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var lagged = false;
        var producer = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in feed.FollowAsync(tenantId, filter, from, policy.HeartbeatInterval, stop.Token))
                {
                    if (buffer.Writer.TryWrite(item)) continue;
                    using var lag = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                    lag.CancelAfter(policy.LagTimeout);
                    try
                    {
                        await buffer.Writer.WriteAsync(item, lag.Token);
                    }
                    catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                    {
                        // Note: the write in progress is left to finish, so a client that reads again gets the buffered
                        // events and then SUBSCRIBER_LAGGING; a client that never reads is cut off (the write is
                        // cancelled, which resets the stream) after the stuck-write timeout, freeing its place.
                        lagged = true;
                        stop.CancelAfter(policy.StuckWriteTimeout);
                        break;
                    }
                }
                buffer.Writer.TryComplete();
            }
            catch (Exception e)
            {
                buffer.Writer.TryComplete(e);
            }
        }, CancellationToken.None);

        try
        {
            await foreach (var item in buffer.Reader.ReadAllAsync(stop.Token)) await write(item, stop.Token);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested || lagged)
        {
            // The client went away, or lagged: end at once.
        }
        finally
        {
            await stop.CancelAsync();
            await producer;
        }
        return lagged;
    }

    /// <summary>A page token belongs to one tenant's list with one filter.</summary>
    private static string PageScope(string tenantId, EventFilter filter) =>
        $"events/{tenantId}/{filter.OfferId}/{filter.SessionId}/{filter.ProfileId}/{(filter.Types is null ? "" : string.Join(",", filter.Types.Order(StringComparer.Ordinal)))}";
}
