using Grpc.Net.Client;
using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Events;

/// <summary>
/// The active-stream gauge: one more while a stream is open, back as soon as the client cancels. Alone in its class,
/// so no other stream of the host opens or closes meanwhile.
/// </summary>
public abstract class EventStreamGaugeTests(StreamingFixture fixture)
{
    [Fact]
    public async Task ClientCancel_DropsActiveStreamGaugeAtOnce()
    {
        var tenant = await fixture.CreateTenantAsync();
        var before = fixture.Streams.Active;
        var subscription = EventSubscription.Start(EventClients.For(fixture.Host.Channel, tenant.ApiKey), EventClients.FromNow(tenant.Name));
        await subscription.NextHeartbeatAsync();
        var open = fixture.Streams.Active;

        subscription.Cancel();
        var back = await EventWorld.EventuallyAsync(() => fixture.Streams.Active == before, TimeSpan.FromSeconds(5));
        await subscription.DisposeAsync();

        Assert.Equal(before + 1, open);
        Assert.True(back, $"the gauge stayed at {fixture.Streams.Active} after the client cancelled (before: {before})");
    }
}

public sealed class EventStreamGaugeTests_Sqlite(StreamingSqliteFixture fixture)
    : EventStreamGaugeTests(fixture), IClassFixture<StreamingSqliteFixture>;

public sealed class EventStreamGaugeTests_Postgres(StreamingPostgresFixture fixture)
    : EventStreamGaugeTests(fixture), IClassFixture<StreamingPostgresFixture>;

/// <summary>
/// Bounded resources, on a host that allows 2 streams per tenant and buffers 8 items per stream: the next stream of a
/// tenant at the limit is RESOURCE_EXHAUSTED while another tenant subscribes freely, and a subscriber that does not
/// read while thousands of events commit is ended with UNAVAILABLE (SUBSCRIBER_LAGGING) after a gap-free prefix.
/// </summary>
public abstract class EventStreamLimitTests(LimitedStreamsFixture fixture)
{
    [Fact]
    public async Task TenantAtStreamLimit_NextSubscribe_ResourceExhaustedQuotaExceeded_OtherTenantUnaffected()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var clientA = EventClients.For(fixture.Host.Channel, a.ApiKey);
        var clientB = EventClients.For(fixture.Host.Channel, b.ApiKey);
        var open = new List<EventSubscription>();
        try
        {
            for (var i = 0; i < LimitedStreamsFixture.MaxStreamsPerTenant; i++)
            {
                open.Add(EventSubscription.Start(clientA, EventClients.FromNow(a.Name)));
                await open[^1].NextHeartbeatAsync();
            }

            await RpcAssert.FailsAsync(StatusCode.ResourceExhausted, "QUOTA_EXCEEDED", async () =>
            {
                using var call = clientA.SubscribeEvents(EventClients.FromNow(a.Name));
                await call.ResponseStream.MoveNext(CancellationToken.None);
            });

            await using var ofB = EventSubscription.Start(clientB, EventClients.FromOldest(b.Name));
            var replayed = await ofB.NextEventsAsync(2);
            Assert.Equal(new[] { EventType.TenantCreated, EventType.ApiKeyCreated }, replayed.Select(e => e.Type));

            // The listing is not a stream: A can still list.
            Assert.NotEmpty((await clientA.ListEventsAsync(new ListEventsRequest { Parent = a.Name })).Events);
        }
        finally
        {
            foreach (var subscription in open)
            {
                await subscription.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task SubscriberThatDoesNotRead_WhileThousandsOfEventsCommit_EndsWithUnavailableSubscriberLagging_AfterAGapFreePrefix()
    {
        const int Count = 3000;
        var tenant = await fixture.CreateTenantAsync();
        var client = EventClients.For(fixture.Host.Channel, tenant.ApiKey);
        var start = (await EventClients.ListAtLeastAsync(client, tenant.Name, 2))[^1].Cursor;

        // A client that really does not read: the smallest HTTP/2 window, so flow control stops the server's writes
        // after a few dozen kilobytes instead of the client's stack buffering megabytes for it.
        using var slowChannel = GrpcChannel.ForAddress(fixture.Host.GrpcUrl, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { InitialHttp2StreamWindowSize = 65535 },
        });
        var slowClient = EventClients.For(slowChannel, tenant.ApiKey);
        using var call = slowClient.SubscribeEvents(EventClients.After(tenant.Name, start));
        await EventWorld.AppendAsync(fixture.Host, tenant.TenantId, Count, causeLength: 400);
        // Not reading for longer than the lag timeout: the server's buffer stays full without progress.
        await Task.Delay(LimitedStreamsFixture.LagTimeout * 3);

        var received = new List<Event>();
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var bound = new CancellationTokenSource(EventSubscription.Bound);
            while (await call.ResponseStream.MoveNext(bound.Token))
            {
                if (call.ResponseStream.Current.Event is { } e)
                {
                    received.Add(e);
                }
            }
        });

        await RpcAssert.FailsAsync(StatusCode.Unavailable, "SUBSCRIBER_LAGGING", () => Task.FromException(ended));
        // Note: on PostgreSQL the tenant's own API-key event may still be held back when the start is read, and then
        // follows the start; only the appended events are counted.
        var log = await EventClients.ListAllAsync(client, tenant.Name, afterCursor: start);
        Assert.Equal(Count, log.Count(e => e.Type == EventType.OfferRevoked));
        Assert.InRange(received.Count, 0, log.Count - 1);
        Assert.Equal(log.Take(received.Count).Select(e => e.Cursor), received.Select(e => e.Cursor));
    }
}

public sealed class EventStreamLimitTests_Sqlite(LimitedStreamsSqliteFixture fixture)
    : EventStreamLimitTests(fixture), IClassFixture<LimitedStreamsSqliteFixture>;

public sealed class EventStreamLimitTests_Postgres(LimitedStreamsPostgresFixture fixture)
    : EventStreamLimitTests(fixture), IClassFixture<LimitedStreamsPostgresFixture>;
