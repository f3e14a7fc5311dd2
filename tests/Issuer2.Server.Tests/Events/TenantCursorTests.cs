using Grpc.Core;
using Issuer2.Core.Events;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Events;

/// <summary>
/// Cursors are private to their tenant: another tenant's writes change none of this tenant's heartbeat cursors or
/// page tokens, a cursor from a heartbeat still resumes exactly, and one tenant's cursor is no cursor to another.
/// </summary>
public abstract class TenantCursorTests(StreamingFixture fixture)
{
    [Fact]
    public async Task AnotherTenantWrites100Events_HeartbeatCursorAndPageToken_UnchangedByteForByte_AndResumeFromThemIsExact()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var clientA = EventClients.For(fixture.Host.Channel, a.ApiKey);
        var clientB = EventClients.For(fixture.Host.Channel, b.ApiKey);
        var profileA = await ServerFixture.CreateProfileAsync(a);
        var profileB = await ServerFixture.CreateProfileAsync(b);
        var aBefore = (await EventClients.ListAtLeastAsync(clientA, a.Name, 3)).Count;
        var bLog = await EventClients.ListAtLeastAsync(clientB, b.Name, 3);
        await using var stream = EventSubscription.Start(clientB, EventClients.FromNow(b.Name));
        var before = await stream.NextHeartbeatAsync();
        var tokenBefore = (await clientB.ListEventsAsync(new ListEventsRequest { Parent = b.Name, PageSize = 2 })).NextPageToken;

        for (var i = 0; i < 10; i++)
        {
            await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => ServerFixture.CreateOfferAsync(a, profileA)));
        }
        var aLog = await EventClients.ListAtLeastAsync(clientA, a.Name, aBefore + 100);
        // A heartbeat sent after A's events are visible, on the open stream and on a new one.
        await stream.NextHeartbeatAsync();
        var onStream = await stream.NextHeartbeatAsync();
        await using var fresh = EventSubscription.Start(clientB, EventClients.FromNow(b.Name));
        var onFresh = await fresh.NextHeartbeatAsync();
        var tokenAfter = (await clientB.ListEventsAsync(new ListEventsRequest { Parent = b.Name, PageSize = 2 })).NextPageToken;

        var offer = await ServerFixture.CreateOfferAsync(b, profileB);
        await using var resumed = EventSubscription.Start(clientB, EventClients.After(b.Name, onStream.Cursor));
        var next = await resumed.NextEventsAsync(1);
        await resumed.NextHeartbeatAsync();
        var listedAfterHeartbeat = await EventClients.ListAllAsync(clientB, b.Name, afterCursor: onFresh.Cursor);
        var secondPage = await clientB.ListEventsAsync(new ListEventsRequest { Parent = b.Name, PageSize = 2, PageToken = tokenAfter });

        Assert.Equal(aBefore + 100, aLog.Count);
        Assert.Equal(bLog[^1].Cursor, before.Cursor);
        Assert.Equal(before.Cursor, onStream.Cursor);
        Assert.Equal(before.Cursor, onFresh.Cursor);
        Assert.False(string.IsNullOrEmpty(tokenBefore));
        Assert.Equal(tokenBefore, tokenAfter);
        Assert.Equal(offer.Offer.Name, Assert.Single(next).Offer);
        Assert.Equal(next, resumed.Received);
        Assert.Equal(next, listedAfterHeartbeat);
        Assert.Equal(bLog.Skip(2).Concat(next).Take(2).Select(e => e.Cursor), secondPage.Events.Select(e => e.Cursor));
    }

    [Fact]
    public async Task AnotherTenantsCursor_OnSubscribeAndList_IsInvalidArgumentAfterCursor()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var clientA = EventClients.For(fixture.Host.Channel, a.ApiKey);
        var clientB = EventClients.For(fixture.Host.Channel, b.ApiKey);
        var cursorOfA = (await EventClients.ListAtLeastAsync(clientA, a.Name))[^1].Cursor;
        await using var streamA = EventSubscription.Start(clientA, EventClients.FromNow(a.Name));
        var heartbeatOfA = (await streamA.NextHeartbeatAsync()).Cursor;

        foreach (var cursor in new[] { cursorOfA, heartbeatOfA })
        {
            await RpcAssert.InvalidAsync(async () =>
            {
                using var call = clientB.SubscribeEvents(EventClients.After(b.Name, cursor));
                await call.ResponseStream.MoveNext(CancellationToken.None);
            }, "after_cursor");
            await RpcAssert.InvalidAsync(async () => await clientB.ListEventsAsync(new ListEventsRequest { Parent = b.Name, AfterCursor = cursor }), "after_cursor");
        }
        Assert.NotEmpty(await EventClients.ListAllAsync(clientA, a.Name, afterCursor: null));
    }

    [Fact]
    public async Task Cursors_ShowNoDigitsOfTheGlobalPosition()
    {
        var tenant = await fixture.CreateTenantAsync();
        var client = EventClients.For(fixture.Host.Channel, tenant.ApiKey);
        var log = await fixture.Host.ReadEventsUntilAsync(tenant.TenantId, events => events.Count > 0);
        var listed = await EventClients.ListAtLeastAsync(client, tenant.Name, log.Count);

        Assert.Equal(log.Select(fixture.Host.CursorOf), listed.Select(e => e.Cursor));
        Assert.All(listed, e => Assert.DoesNotContain(".", e.Cursor, StringComparison.Ordinal));
        Assert.All(log, e => Assert.Equal(e.Position, fixture.Host.PositionOf(tenant.TenantId, fixture.Host.CursorOf(e))));
    }
}

public sealed class TenantCursorTests_Sqlite(StreamingSqliteFixture fixture)
    : TenantCursorTests(fixture), IClassFixture<StreamingSqliteFixture>;

public sealed class TenantCursorTests_Postgres(StreamingPostgresFixture fixture)
    : TenantCursorTests(fixture), IClassFixture<StreamingPostgresFixture>;

/// <summary>
/// Retention per tenant, with the host's fake clock: a cursor is OUT_OF_RANGE only when events of its own tenant after
/// it were deleted, never because another tenant's were. Alone in its class: it moves the clock and purges the log.
/// </summary>
public abstract class TenantCursorRetentionTests(StreamingFixture fixture)
{
    [Fact]
    public async Task IdleTenantsCursor_BelowAnotherTenantsPurgedEvents_StillResumes_WhileThatTenantsOwnOldCursorExpires()
    {
        var idle = await fixture.CreateTenantAsync();
        var busy = await fixture.CreateTenantAsync();
        var idleClient = EventClients.For(fixture.Host.Channel, idle.ApiKey);
        var busyClient = EventClients.For(fixture.Host.Channel, busy.ApiKey);
        var idleProfile = await ServerFixture.CreateProfileAsync(idle);
        var idleLog = await EventClients.ListAtLeastAsync(idleClient, idle.Name, 3);
        await using (var stream = EventSubscription.Start(idleClient, EventClients.FromNow(idle.Name)))
        {
            Assert.Equal(idleLog[^1].Cursor, (await stream.NextHeartbeatAsync()).Cursor);
        }
        var busyProfile = await ServerFixture.CreateProfileAsync(busy);
        var busyFirst = (await EventClients.ListAtLeastAsync(busyClient, busy.Name, 3))[0].Cursor;
        for (var i = 0; i < 5; i++) await ServerFixture.CreateOfferAsync(busy, busyProfile);
        await EventClients.ListAtLeastAsync(busyClient, busy.Name, 8);

        fixture.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        await PurgeAsync(fixture.Now - TimeSpan.FromDays(7));
        var offer = await ServerFixture.CreateOfferAsync(idle, idleProfile);

        await using var resumed = EventSubscription.Start(idleClient, EventClients.After(idle.Name, idleLog[^1].Cursor));
        var next = await resumed.NextEventsAsync(1);
        await using var fromNow = EventSubscription.Start(idleClient, EventClients.FromNow(idle.Name));
        var heartbeat = await fromNow.NextHeartbeatAsync();

        Assert.Empty(await fixture.ReadEventsAsync(busy.TenantId));
        Assert.Equal(offer.Offer.Name, Assert.Single(next).Offer);
        Assert.Equal(next[0].Cursor, heartbeat.Cursor);
        await RpcAssert.FailsAsync(StatusCode.OutOfRange, "CURSOR_EXPIRED", async () =>
            await busyClient.ListEventsAsync(new ListEventsRequest { Parent = busy.Name, AfterCursor = busyFirst }));
        await RpcAssert.FailsAsync(StatusCode.OutOfRange, "CURSOR_EXPIRED", async () =>
            await idleClient.ListEventsAsync(new ListEventsRequest { Parent = idle.Name, AfterCursor = idleLog[0].Cursor }));
    }

    [Fact]
    public async Task TenantWhoseEventsWereAllPurged_HeartbeatIsItsNewestDeletedEvent_AndResumesWithoutExpiring()
    {
        var tenant = await fixture.CreateTenantAsync();
        var client = EventClients.For(fixture.Host.Channel, tenant.ApiKey);
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var log = await EventClients.ListAtLeastAsync(client, tenant.Name, 3);

        fixture.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        await PurgeAsync(fixture.Now - TimeSpan.FromDays(7));
        var left = await fixture.ReadEventsAsync(tenant.TenantId);
        await using var stream = EventSubscription.Start(client, EventClients.FromNow(tenant.Name));
        var heartbeat = await stream.NextHeartbeatAsync();
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);
        await using var resumed = EventSubscription.Start(client, EventClients.After(tenant.Name, heartbeat.Cursor));
        var next = await resumed.NextEventsAsync(1);

        Assert.Empty(left);
        Assert.Equal(log[^1].Cursor, heartbeat.Cursor);
        Assert.Equal(offer.Offer.Name, Assert.Single(next).Offer);
    }

    private async Task PurgeAsync(DateTimeOffset cutoff)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var reader = scope.ServiceProvider.GetRequiredService<IEventReader>();
        while (await reader.PurgeOlderThanAsync(cutoff, 3, CancellationToken.None) > 0)
        {
        }
    }
}

public sealed class TenantCursorRetentionTests_Sqlite(StreamingSqliteFixture fixture)
    : TenantCursorRetentionTests(fixture), IClassFixture<StreamingSqliteFixture>;

public sealed class TenantCursorRetentionTests_Postgres(StreamingPostgresFixture fixture)
    : TenantCursorRetentionTests(fixture), IClassFixture<StreamingPostgresFixture>;
