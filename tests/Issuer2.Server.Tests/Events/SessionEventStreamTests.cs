using System.Net;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Events;

/// <summary>
/// SessionEventsService on one host: a live subscriber sees a whole issuance by the independent wallet library once
/// and in log order, filters select exactly their events, a stream resumes from an event's or a heartbeat's cursor
/// without loss or repetition, every call is scoped to the caller's tenant, and gRPC-Web streams too.
/// </summary>
public abstract class SessionEventStreamTests(StreamingFixture fixture)
{
    [Fact]
    public async Task WalletLibraryIssuanceWithWrongPin_SubscriberFromNow_SeesEveryEventOnceInLogOrderWithTypedDetails()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        // The setup's events, once visible, are behind "now" (another test's open transaction may hold them back).
        await EventClients.ListAtLeastAsync(Client(tenant), tenant.Name, 3);
        await using var subscription = EventSubscription.Start(Client(tenant), EventClients.FromNow(tenant.Name));
        await subscription.NextHeartbeatAsync();

        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, request =>
        {
            WalletSetup.WithOverrides(request);
            request.TxCode = new TxCodeOptions { Length = 6 };
        });
        WalletSetup.CatchUpWithRealTime(fixture);
        var result = await NodeWallet.RunAsync(new JsonObject
        {
            ["scenario"] = "wrongThenRightPin",
            ["offerUrl"] = offer.OfferUrl,
            ["wrongTxCode"] = offer.TxCode == "000000" ? "111111" : "000000",
            ["txCode"] = offer.TxCode,
        });
        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());

        await subscription.EventsUntilAsync(e => e.Type == EventType.NotificationReceived);
        await subscription.NextHeartbeatAsync();
        var received = subscription.Received;
        var log = await fixture.Host.ReadEventsUntilAsync(tenant.TenantId, events => events.Any(e => e.Type == "notification.received"));

        // Started "now": what it received is the log from its first event on, with the same cursors, once each.
        var start = log.Select(fixture.Host.CursorOf).ToList().IndexOf(received[0].Cursor);
        Assert.True(start >= 0, $"the first event received is not in the log: {EventSubscription.Describe(received)}");
        Assert.Equal(log.Skip(start).Select(fixture.Host.CursorOf), received.Select(e => e.Cursor));
        Assert.Equal(log.Skip(start).Select(e => e.Type), received.Select(e => TypeName(e.Type)));
        Assert.Equal(received.Count, received.Select(e => e.Cursor).Distinct().Count());

        var issuance = received.SkipWhile(e => e.Type != EventType.OfferCreated).ToList();
        Assert.Equal(
            new[]
            {
                EventType.OfferCreated, EventType.OfferResolved, EventType.TokenRefused, EventType.TokenIssued,
                EventType.CredentialIssued, EventType.SessionCompleted, EventType.NotificationReceived,
            },
            issuance.Select(e => e.Type));
        Assert.All(issuance, e => Assert.Equal(offer.Offer.Name, e.Offer));
        Assert.All(issuance, e => Assert.Equal(profile.Name, e.Profile));
        Assert.All(issuance, e => Assert.NotNull(e.Time));
        Assert.All(issuance.Take(3), e => Assert.Equal("", e.Session));
        var session = issuance[3].Session;
        Assert.StartsWith(offer.Offer.Name + "/sessions/", session, StringComparison.Ordinal);
        Assert.All(issuance.Skip(3), e => Assert.Equal(session, e.Session));

        var created = issuance[0].OfferCreated;
        Assert.True(created.PinRequired);
        Assert.Equal("BY_REFERENCE", created.DeliveryMode);
        Assert.Equal(1, created.MaxUses);
        Assert.Equal(profile.Version, created.ProfileVersion);
        Assert.Equal(offer.Offer.ExpireTime, created.ExpireTime);
        Assert.NotNull(issuance[1].OfferResolved.CodeExpireTime);
        Assert.Equal("wrong_pin", issuance[2].TokenRefused.Reason);
        Assert.Equal(4, issuance[2].TokenRefused.AttemptsLeft);
        Assert.Equal(1, issuance[3].TokenIssued.Use);
        Assert.Equal(1, issuance[3].TokenIssued.MaxUses);
        var credential = issuance[4].CredentialIssued;
        Assert.Equal("dc+sd-jwt", credential.Format);
        Assert.Equal(profile.ProfileId, credential.CredentialConfigurationId);
        Assert.False(string.IsNullOrEmpty(credential.CredentialId));
        Assert.Equal(1, issuance[5].SessionCompleted.CredentialCount);
        Assert.Equal("credential_accepted", issuance[6].NotificationReceived.Event);
        Assert.Equal(credential.CredentialId, issuance[6].NotificationReceived.CredentialId);

        // ListEvents says the same.
        var listed = await EventClients.ListAllAsync(Client(tenant), tenant.Name);
        Assert.Equal(log.Select(fixture.Host.CursorOf), listed.Select(e => e.Cursor));
        Assert.Equal(received, listed.Skip(start));
    }

    [Theory]
    [InlineData("offer")]
    [InlineData("session")]
    [InlineData("profile")]
    [InlineData("event_types")]
    public async Task Filter_SubscriberAndList_SeeExactlyTheMatchingEvents(string by)
    {
        var tenant = await fixture.CreateTenantAsync();
        var client = Client(tenant);
        var first = await ServerFixture.CreateProfileAsync(tenant);
        var second = await ServerFixture.CreateProfileAsync(tenant);
        var offerOfFirst = await ServerFixture.CreateOfferAsync(tenant, first);
        var offerOfSecond = await ServerFixture.CreateOfferAsync(tenant, second);
        using var wallet = WalletSetup.WalletOn(fixture);
        var issuedFirst = await EventWorld.IssueAsync(wallet, tenant.TenantId, tenant.Tenant.CredentialIssuer, first.ProfileId, offerOfFirst.OfferUrl, fixture.Now);
        var issuedSecond = await EventWorld.IssueAsync(wallet, tenant.TenantId, tenant.Tenant.CredentialIssuer, second.ProfileId, offerOfSecond.OfferUrl, fixture.Now);
        var sessionOfFirst = (await tenant.Clients.Offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offerOfFirst.Offer.Name })).Sessions.Single().Name;

        var filter = new EventFilter();
        Func<Event, bool> matches;
        switch (by)
        {
            case "offer":
                filter.Offer = offerOfFirst.Offer.Name;
                matches = e => e.Offer == offerOfFirst.Offer.Name;
                break;
            case "session":
                filter.Session = sessionOfFirst;
                matches = e => e.Session == sessionOfFirst;
                break;
            case "profile":
                filter.Profile = first.Name;
                matches = e => e.Profile == first.Name;
                break;
            default:
                filter.EventTypes.Add(EventType.TokenIssued);
                filter.EventTypes.Add(EventType.NotificationReceived);
                matches = e => e.Type is EventType.TokenIssued or EventType.NotificationReceived;
                break;
        }

        // Replayed, then live: subscribe from the oldest event, then a second notification on each session.
        await using var subscription = EventSubscription.Start(client, EventClients.FromOldest(tenant.Name, filter));
        await subscription.NextHeartbeatAsync();
        await EventWorld.NotifyAsync(wallet, tenant.TenantId, issuedFirst, "credential_deleted");
        await EventWorld.NotifyAsync(wallet, tenant.TenantId, issuedSecond, "credential_deleted");
        var all = await ListUntilAsync(client, tenant.Name, events => events.Count(e => e.Type == EventType.NotificationReceived) == 4);
        var expected = all.Where(matches).ToList();

        await subscription.NextEventsAsync(expected.Count - subscription.Received.Count);
        await subscription.NextHeartbeatAsync();
        var listed = await EventClients.ListAllAsync(client, tenant.Name, filter);

        Assert.Equal(expected.Select(e => e.Cursor), subscription.Received.Select(e => e.Cursor));
        Assert.Equal(expected, listed);
        // The filter chose something, and not everything.
        Assert.InRange(expected.Count, 2, all.Count - 1);
        Assert.Contains(expected, e => e.NotificationReceived?.Event == "credential_deleted");
        if (by != "event_types")
        {
            Assert.Contains(expected, e => e.Type == EventType.CredentialIssued);
        }
    }

    [Fact]
    public async Task Resume_FromLastEventCursorAfterCancel_ReplaysExactlyTheEventsMissed()
    {
        var tenant = await fixture.CreateTenantAsync();
        var client = Client(tenant);
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        await EventClients.ListAtLeastAsync(client, tenant.Name, 3);
        var first = EventSubscription.Start(client, EventClients.FromNow(tenant.Name));
        await first.NextHeartbeatAsync();
        for (var i = 0; i < 6; i++)
        {
            await ServerFixture.CreateOfferAsync(tenant, profile);
        }

        var read = await first.NextEventsAsync(3);
        await first.DisposeAsync();
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);
        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name });
        await ServerFixture.CreateProfileAsync(tenant);
        var missed = await ListUntilAsync(client, tenant.Name, events => events.Any(e => e.Type == EventType.ProfileCreated && e.Profile != profile.Name), read[^1].Cursor);

        await using var resumed = EventSubscription.Start(client, EventClients.After(tenant.Name, read[^1].Cursor));
        await resumed.NextEventsAsync(missed.Count);
        await resumed.NextHeartbeatAsync();

        Assert.Equal(6, missed.Count);
        Assert.Equal(missed.Select(e => e.Cursor), resumed.Received.Select(e => e.Cursor));
        Assert.Empty(resumed.Received.Select(e => e.Cursor).Intersect(read.Select(e => e.Cursor)));
        Assert.Equal(Enumerable.Repeat(EventType.OfferCreated, 4), resumed.Received.Take(4).Select(e => e.Type));
    }

    [Fact]
    public async Task Resume_FromHeartbeatCursor_SkipsNothingAndRepeatsNothing()
    {
        var tenant = await fixture.CreateTenantAsync();
        var client = Client(tenant);
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        await EventClients.ListAtLeastAsync(client, tenant.Name, 3);
        var first = EventSubscription.Start(client, EventClients.FromNow(tenant.Name));
        await first.NextHeartbeatAsync();
        for (var i = 0; i < 3; i++)
        {
            await ServerFixture.CreateOfferAsync(tenant, profile);
        }

        var seen = await first.NextEventsAsync(3);
        var heartbeat = await first.NextHeartbeatAsync();
        await first.DisposeAsync();
        for (var i = 0; i < 4; i++)
        {
            await ServerFixture.CreateOfferAsync(tenant, profile);
        }

        var missed = await ListUntilAsync(client, tenant.Name, events => events.Count == 4, seen[^1].Cursor);

        await using var resumed = EventSubscription.Start(client, EventClients.After(tenant.Name, heartbeat.Cursor));
        await resumed.NextEventsAsync(4);
        await resumed.NextHeartbeatAsync();

        Assert.Equal(missed.Select(e => e.Cursor), resumed.Received.Select(e => e.Cursor));
        Assert.Empty(resumed.Received.Select(e => e.Cursor).Intersect(seen.Select(e => e.Cursor)));
        Assert.NotNull(heartbeat.Time);
    }

    [Fact]
    public async Task FastSubscriber_ReplayingABacklogOfThousandsOfEvents_ReceivesEveryOneOnceWithoutBeingToldItLags()
    {
        const int Count = 5000;
        var tenant = await fixture.CreateTenantAsync();
        var client = Client(tenant);
        var start = (await EventClients.ListAtLeastAsync(client, tenant.Name, 2))[^1].Cursor;
        await EventWorld.AppendAsync(fixture.Host, tenant.TenantId, Count);
        var log = await ListUntilAsync(client, tenant.Name, events => events.Count == Count, start);

        // The subscription is read as fast as it comes (into memory, in the background).
        await using var subscription = EventSubscription.Start(client, EventClients.After(tenant.Name, start));
        try
        {
            await subscription.NextEventsAsync(Count);
            await subscription.NextHeartbeatAsync();
        }
        catch (RpcException e)
        {
            Assert.Fail($"The stream ended with {e.StatusCode} ({e.Status.Detail}) after {subscription.Received.Count} of {Count} events, read as fast as they came.");
        }

        Assert.Equal(log.Select(e => e.Cursor), subscription.Received.Select(e => e.Cursor));
    }

    [Fact]
    public async Task OtherTenantsKey_SubscribeAndList_NotFound()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var asB = Client(b);

        await RpcAssert.NotFoundAsync(() => FirstItemAsync(asB, EventClients.FromOldest(a.Name)));
        await RpcAssert.NotFoundAsync(() => FirstItemAsync(asB, EventClients.FromNow(a.Name)));
        await RpcAssert.NotFoundAsync(async () => await asB.ListEventsAsync(new ListEventsRequest { Parent = a.Name }));
    }

    [Fact]
    public async Task AdminKey_SubscribeAndList_PermissionDenied()
    {
        var tenant = await fixture.CreateTenantAsync();
        var asAdmin = EventClients.For(fixture.Host.Channel, fixture.Host.Settings.AdminKey);

        await RpcAssert.PermissionDeniedAsync(() => FirstItemAsync(asAdmin, EventClients.FromOldest(tenant.Name)));
        await RpcAssert.PermissionDeniedAsync(async () => await asAdmin.ListEventsAsync(new ListEventsRequest { Parent = tenant.Name }));
    }

    [Theory]
    [InlineData("not-a-cursor")]
    [InlineData("zz.1")]
    [InlineData(".5")]
    public async Task InvalidAfterCursor_SubscribeAndList_InvalidArgument(string cursor)
    {
        var tenant = await fixture.CreateTenantAsync();
        var client = Client(tenant);

        await RpcAssert.InvalidAsync(() => FirstItemAsync(client, EventClients.After(tenant.Name, cursor)), "after_cursor");
        await RpcAssert.InvalidAsync(async () => await client.ListEventsAsync(new ListEventsRequest { Parent = tenant.Name, AfterCursor = cursor }), "after_cursor");
    }

    [Fact]
    public async Task FilterNamingAnotherTenantsOffer_SubscribeAndList_InvalidArgument()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var offerOfB = await ServerFixture.CreateOfferAsync(b, await ServerFixture.CreateProfileAsync(b));
        var client = Client(a);
        var filter = new EventFilter { Offer = offerOfB.Offer.Name };

        await RpcAssert.InvalidAsync(() => FirstItemAsync(client, EventClients.FromNow(a.Name, filter)), "filter.offer");
        await RpcAssert.InvalidAsync(async () => await client.ListEventsAsync(new ListEventsRequest { Parent = a.Name, Filter = filter }), "filter.offer");
    }

    [Theory]
    [InlineData(GrpcWebMode.GrpcWeb)]
    [InlineData(GrpcWebMode.GrpcWebText)]
    public async Task GrpcWebOverHttp11_SubscribeEvents_ReplaysAndFollowsLive(GrpcWebMode mode)
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        using var channel = GrpcChannel.ForAddress(fixture.Host.HttpUrl, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(mode, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });
        var client = EventClients.For(channel, tenant.ApiKey);

        await using var subscription = EventSubscription.Start(client, EventClients.FromOldest(tenant.Name));
        var replayed = await subscription.EventsUntilAsync(e => e.Type == EventType.ProfileCreated);
        await subscription.NextHeartbeatAsync();
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);
        var live = await subscription.NextEventsAsync(1);

        Assert.Equal(new[] { EventType.TenantCreated, EventType.ApiKeyCreated, EventType.ProfileCreated }, replayed.Select(e => e.Type));
        Assert.Equal(EventType.OfferCreated, live[0].Type);
        Assert.Equal(offer.Offer.Name, live[0].Offer);
        Assert.Equal(
            (await EventClients.ListAllAsync(Client(tenant), tenant.Name)).Select(e => e.Cursor),
            subscription.Received.Select(e => e.Cursor));
    }

    private SessionEventsService.SessionEventsServiceClient Client(TestTenant tenant) => EventClients.For(fixture.Host.Channel, tenant.ApiKey);

    private static async Task FirstItemAsync(SessionEventsService.SessionEventsServiceClient client, SubscribeEventsRequest request)
    {
        using var call = client.SubscribeEvents(request);
        await call.ResponseStream.MoveNext(CancellationToken.None);
    }

    /// <summary>ListEvents (after the cursor) until <paramref name="until"/> holds: on PostgreSQL the newest commit can show a moment later.</summary>
    private static async Task<IReadOnlyList<Event>> ListUntilAsync(
        SessionEventsService.SessionEventsServiceClient client, string tenantName, Func<IReadOnlyList<Event>, bool> until, string? afterCursor = null)
    {
        var deadline = DateTime.UtcNow + EventSubscription.Bound;
        while (true)
        {
            var events = await EventClients.ListAllAsync(client, tenantName, afterCursor: afterCursor);
            if (until(events) || DateTime.UtcNow > deadline)
            {
                return events;
            }

            await Task.Delay(50);
        }
    }

    private static string TypeName(EventType type) => type switch
    {
        EventType.TenantCreated => "tenant.created",
        EventType.ApiKeyCreated => "api_key.created",
        EventType.ProfileCreated => "profile.created",
        EventType.OfferCreated => "offer.created",
        EventType.OfferResolved => "offer.resolved",
        EventType.OfferRevoked => "offer.revoked",
        EventType.TokenIssued => "token.issued",
        EventType.TokenRefused => "token.refused",
        EventType.CredentialIssued => "credential.issued",
        EventType.SessionCompleted => "session.completed",
        EventType.NotificationReceived => "notification.received",
        _ => type.ToString(),
    };
}

public sealed class SessionEventStreamTests_Sqlite(StreamingSqliteFixture fixture)
    : SessionEventStreamTests(fixture), IClassFixture<StreamingSqliteFixture>;

public sealed class SessionEventStreamTests_Postgres(StreamingPostgresFixture fixture)
    : SessionEventStreamTests(fixture), IClassFixture<StreamingPostgresFixture>;
