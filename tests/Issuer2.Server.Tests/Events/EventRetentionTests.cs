using Grpc.Core;
using Issuer2.Core.Events;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Events;

/// <summary>
/// Retention: once the purge deleted events after a cursor, that cursor fails with OUT_OF_RANGE (CURSOR_EXPIRED) on
/// SubscribeEvents and ListEvents, and a subscriber starts over from the oldest retained event. Alone in its class:
/// it moves the host's clock a week on and purges the whole log.
/// </summary>
public abstract class EventRetentionTests(StreamingFixture fixture)
{
    [Fact]
    public async Task CursorOlderThanRetention_AfterPurge_OutOfRangeCursorExpired_FromOldestRetainedStillWorks()
    {
        var tenant = await fixture.CreateTenantAsync();
        var client = EventClients.For(fixture.Host.Channel, tenant.ApiKey);
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        await ServerFixture.CreateOfferAsync(tenant, profile);
        var old = await fixture.Host.ReadEventsUntilAsync(tenant.TenantId, events => events.Any(e => e.Type == EventTypes.OfferCreated));
        var oldCursor = fixture.Host.CursorOf(old[0]);

        fixture.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        await PurgeAsync(fixture.Now - TimeSpan.FromDays(7));

        await RpcAssert.FailsAsync(StatusCode.OutOfRange, "CURSOR_EXPIRED", async () =>
        {
            using var call = client.SubscribeEvents(EventClients.After(tenant.Name, oldCursor));
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });
        await RpcAssert.FailsAsync(StatusCode.OutOfRange, "CURSOR_EXPIRED", async () =>
            await client.ListEventsAsync(new ListEventsRequest { Parent = tenant.Name, AfterCursor = oldCursor }));

        await using var fromOldest = EventSubscription.Start(client, EventClients.FromOldest(tenant.Name));
        await fromOldest.NextHeartbeatAsync();
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);
        var live = await fromOldest.NextEventsAsync(1);

        Assert.DoesNotContain(await fixture.ReadEventsAsync(tenant.TenantId), e => old.Any(o => o.Sequence == e.Sequence));
        Assert.Equal(EventType.OfferCreated, live[0].Type);
        Assert.Equal(offer.Offer.Name, live[0].Offer);
        Assert.Single(fromOldest.Received);
        Assert.Equal(live[0], Assert.Single(await EventClients.ListAllAsync(client, tenant.Name)));
    }

    /// <summary>Runs the retention purge as the maintenance does, in short batches until nothing is left before the cutoff.</summary>
    private async Task PurgeAsync(DateTimeOffset cutoff)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var reader = scope.ServiceProvider.GetRequiredService<IEventReader>();
        int purged;
        do
        {
            purged = await reader.PurgeOlderThanAsync(cutoff, 3, CancellationToken.None);
        }
        while (purged > 0);
    }
}

public sealed class EventRetentionTests_Sqlite(StreamingSqliteFixture fixture)
    : EventRetentionTests(fixture), IClassFixture<StreamingSqliteFixture>;

public sealed class EventRetentionTests_Postgres(StreamingPostgresFixture fixture)
    : EventRetentionTests(fixture), IClassFixture<StreamingPostgresFixture>;
