using System.Threading.Channels;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Issuer2.Grpc.V1;

namespace Issuer2.Server.Tests.Events;

/// <summary>SessionEventsService clients.</summary>
public static class EventClients
{
    /// <summary>A client on this channel that sends "Bearer {key}".</summary>
    public static SessionEventsService.SessionEventsServiceClient For(ChannelBase channel, string key) =>
        new(channel.Intercept(metadata =>
        {
            metadata.Add("authorization", "Bearer " + key);
            return metadata;
        }));

    public static SubscribeEventsRequest FromNow(string tenantName, EventFilter? filter = null) =>
        new() { Parent = tenantName, Filter = filter };

    public static SubscribeEventsRequest After(string tenantName, string cursor, EventFilter? filter = null) =>
        new() { Parent = tenantName, AfterCursor = cursor, Filter = filter };

    public static SubscribeEventsRequest FromOldest(string tenantName, EventFilter? filter = null) =>
        new() { Parent = tenantName, FromOldestRetained = true, Filter = filter };

    /// <summary>Every page of ListEvents, in order.</summary>
    /// <summary>
    /// The tenant's events once at least <paramref name="atLeast"/> are visible: on a PostgreSQL cluster another test's
    /// open transaction may hold back what this one committed (see docs/session-events.md), for a moment.
    /// </summary>
    public static async Task<IReadOnlyList<Event>> ListAtLeastAsync(SessionEventsService.SessionEventsServiceClient client, string tenantName, int atLeast = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var events = await ListAllAsync(client, tenantName);
            if (events.Count >= atLeast || DateTime.UtcNow > deadline) return events;
            await Task.Delay(50);
        }
    }

    public static async Task<IReadOnlyList<Event>> ListAllAsync(
        SessionEventsService.SessionEventsServiceClient client, string tenantName, EventFilter? filter = null, string? afterCursor = null)
    {
        var events = new List<Event>();
        var token = "";
        do
        {
            var page = await client.ListEventsAsync(new ListEventsRequest
            {
                Parent = tenantName,
                Filter = filter,
                PageSize = 100,
                PageToken = token,
                AfterCursor = afterCursor ?? "",
            });
            events.AddRange(page.Events);
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        return events;
    }
}

/// <summary>
/// One SubscribeEvents call, read in the background into a queue the test consumes at its own pace. Every wait has
/// a generous bound that only turns a hang into a failure naming what was received.
/// </summary>
public sealed class EventSubscription : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly AsyncServerStreamingCall<SubscribeEventsResponse> _call;
    private readonly Channel<SubscribeEventsResponse> _items = Channel.CreateUnbounded<SubscribeEventsResponse>();
    private readonly List<Event> _received = [];
    private readonly List<Heartbeat> _heartbeats = [];
    private readonly Task _pump;

    private EventSubscription(AsyncServerStreamingCall<SubscribeEventsResponse> call)
    {
        _call = call;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Every event consumed so far, in the order the stream sent them.</summary>
    public IReadOnlyList<Event> Received => _received;

    /// <summary>Every heartbeat consumed so far.</summary>
    public IReadOnlyList<Heartbeat> Heartbeats => _heartbeats;

    public static EventSubscription Start(SessionEventsService.SessionEventsServiceClient client, SubscribeEventsRequest request) =>
        new(client.SubscribeEvents(request));

    /// <summary>The next item (event or heartbeat); throws the stream's RpcException when it ended with one.</summary>
    public async Task<SubscribeEventsResponse> NextAsync(TimeSpan? bound = null)
    {
        using var timeout = new CancellationTokenSource(bound ?? Bound);
        SubscribeEventsResponse item;
        try
        {
            item = await _items.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No item within {bound ?? Bound}; events so far: {Describe(_received)}");
        }
        catch (ChannelClosedException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }

        if (item.KindCase == SubscribeEventsResponse.KindOneofCase.Event)
        {
            _received.Add(item.Event);
        }
        else
        {
            _heartbeats.Add(item.Heartbeat);
        }

        return item;
    }

    /// <summary>Reads until a heartbeat arrives (events on the way are kept in <see cref="Received"/>).</summary>
    public async Task<Heartbeat> NextHeartbeatAsync()
    {
        while (true)
        {
            var item = await NextAsync();
            if (item.KindCase == SubscribeEventsResponse.KindOneofCase.Heartbeat)
            {
                return item.Heartbeat;
            }
        }
    }

    /// <summary>Reads until <paramref name="count"/> more events arrived, each within <paramref name="bound"/>; returns them.</summary>
    public async Task<IReadOnlyList<Event>> NextEventsAsync(int count, TimeSpan? bound = null)
    {
        var events = new List<Event>();
        while (events.Count < count)
        {
            var item = await NextAsync(bound);
            if (item.KindCase == SubscribeEventsResponse.KindOneofCase.Event)
            {
                events.Add(item.Event);
            }
        }

        return events;
    }

    /// <summary>Reads until an event satisfying <paramref name="last"/> arrived; returns every event read on the way, it included.</summary>
    public async Task<IReadOnlyList<Event>> EventsUntilAsync(Func<Event, bool> last)
    {
        var events = new List<Event>();
        while (true)
        {
            var item = await NextAsync();
            if (item.KindCase == SubscribeEventsResponse.KindOneofCase.Event)
            {
                events.Add(item.Event);
                if (last(item.Event))
                {
                    return events;
                }
            }
        }
    }

    /// <summary>Reads every remaining item until the stream ends; returns the RpcException it ended with (null when it ended OK).</summary>
    public async Task<RpcException?> EndAsync()
    {
        try
        {
            while (true)
            {
                await NextAsync();
            }
        }
        catch (RpcException e)
        {
            return e;
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Cancels the call, as a client that goes away does.</summary>
    public void Cancel() => _call.Dispose();

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        await _pump;
    }

    public static string Describe(IEnumerable<Event> events) =>
        "[" + string.Join(", ", events.Select(e => $"{e.Type}@{e.Cursor}")) + "]";

    private async Task PumpAsync()
    {
        try
        {
            while (await _call.ResponseStream.MoveNext(CancellationToken.None))
            {
                _items.Writer.TryWrite(_call.ResponseStream.Current);
            }

            _items.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _items.Writer.TryComplete(e);
        }
    }
}
