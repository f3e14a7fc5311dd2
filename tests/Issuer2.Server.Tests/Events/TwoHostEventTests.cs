using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Issuer2.Grpc.V1;
using Issuer2.Core.Events;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Events;

/// <summary>
/// Two server processes on one PostgreSQL database: a subscriber on one host is woken by commits on the other
/// (LISTEN/NOTIFY), and a subscriber that keeps disconnecting and resuming, on either host, while 20 issuances run
/// concurrently on both, ends with every event of the log table exactly once and in its order.
/// </summary>
public sealed class TwoHostEventTests(TwoHostsFixture hosts) : IClassFixture<TwoHostsFixture>, IDisposable
{
    private const int Issuances = 20;
    private const int EventsPerConnection = 15;

    private readonly GrpcChannel _channelA = Clients.Channel(hosts.A.GrpcUrl);
    private readonly GrpcChannel _channelB = Clients.Channel(hosts.B.GrpcUrl);

    [Fact]
    public async Task SubscriberOnHostA_SeesEventsCausedOnHostB()
    {
        var (tenant, key) = await TenantAsync();
        var profile = await TwoHostsFixture.CreateProfileAsync(tenant);
        await using var onA = EventSubscription.Start(EventClients.For(_channelA, key), EventClients.FromOldest(tenant.Name));
        await onA.EventsUntilAsync(e => e.Type == EventType.ProfileCreated);

        var offer = await tenant.OnB.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name });
        await hosts.WalletB.ResolveCodeAsync(offer.OfferUrl);

        // Well below the 15 s heartbeat, at which host A would read the log anyway: the wake-up came from host B.
        var live = await onA.NextEventsAsync(2, TimeSpan.FromSeconds(10));
        Assert.Equal(new[] { EventType.OfferCreated, EventType.OfferResolved }, live.Select(e => e.Type));
        Assert.All(live, e => Assert.Equal(offer.Offer.Name, e.Offer));
    }

    [Fact]
    public async Task TwentyConcurrentIssuancesOnTwoHosts_SubscriberResumingFromItsCursorOnEitherHost_EndsWithEveryEventOnceAsInTheLogTable()
    {
        var (tenant, key) = await TenantAsync();
        var profile = await TwoHostsFixture.CreateProfileAsync(tenant);
        var offers = new List<CreateOfferResponse>();
        for (var i = 0; i < Issuances; i++)
        {
            var on = i % 2 == 0 ? tenant.OnA : tenant.OnB;
            offers.Add(await on.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name }));
        }

        var clients = new[] { EventClients.For(_channelA, key), EventClients.For(_channelB, key) };
        var target = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var follower = Task.Run(() => FollowWithResumesAsync(clients, tenant.Name, target.Task, bound.Token));

        await Task.WhenAll(Enumerable.Range(0, Issuances).Select(i => EventWorld.IssueAsync(
            hosts.WalletFor(i), tenant.TenantId, tenant.CredentialIssuer, profile.ProfileId, offers[i].OfferUrl, DateTimeOffset.UtcNow)));
        var table = await LogTableAsync(tenant.TenantId);
        target.SetResult(table[^1].Cursor);
        var (received, connections) = await follower;

        Assert.Equal(Issuances, table.Count(e => e.Type == "notification.received"));
        Assert.Equal(table.Select(e => e.Cursor), received.Select(e => e.Cursor));
        Assert.Equal(table.Select(e => e.Type), received.Select(e => e.Type.ToString()).Select(ProtoToLogType));
        Assert.True(connections >= 4, $"the subscriber connected only {connections} times");
    }

    public void Dispose()
    {
        _channelA.Dispose();
        _channelB.Dispose();
    }

    /// <summary>
    /// Subscribes (host A, then B, then A…), takes at most 15 events per connection (or what comes within 2 s), cancels,
    /// and resumes from the last event's cursor, until it received <paramref name="target"/>'s cursor.
    /// </summary>
    private static async Task<(List<Event> Received, int Connections)> FollowWithResumesAsync(
        SessionEventsService.SessionEventsServiceClient[] clients, string tenantName, Task<string> target, CancellationToken ct)
    {
        var received = new List<Event>();
        string? cursor = null;
        var connections = 0;
        while (true)
        {
            if (target.IsCompleted && cursor == await target)
            {
                return (received, connections);
            }

            ct.ThrowIfCancellationRequested();
            var request = cursor is null ? EventClients.FromOldest(tenantName) : EventClients.After(tenantName, cursor);
            using var connection = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var call = clients[connections++ % clients.Length].SubscribeEvents(request, cancellationToken: connection.Token);
            var taken = 0;
            try
            {
                connection.CancelAfter(TimeSpan.FromSeconds(2));
                while (taken < EventsPerConnection && await call.ResponseStream.MoveNext(connection.Token))
                {
                    if (call.ResponseStream.Current.Event is { } e)
                    {
                        received.Add(e);
                        cursor = e.Cursor;
                        taken++;
                    }
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && !ct.IsCancellationRequested)
            {
                // Idle for 2 s: disconnect and resume like any other time.
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // Same.
            }
        }
    }

    /// <summary>The tenant's rows of the events table, ordered by (transaction_id, sequence), with their cursors.</summary>
    private async Task<IReadOnlyList<(string Cursor, string Type)>> LogTableAsync(string tenantId)
    {
        var rows = await hosts.Database.QueryColumnAsync(
            $"SELECT transaction_id::text || '|' || sequence::text || '|' || type FROM events WHERE tenant_id = '{tenantId}' ORDER BY transaction_id, sequence");
        return rows.Select(row =>
        {
            var parts = row.Split('|');
            var cursor = hosts.Cursors.Encode(tenantId, new EventCursor(long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture)));
            return (cursor, parts[2]);
        }).ToList();
    }

    /// <summary>A tenant and an API key of it (the fixture's tenant keeps its key to itself).</summary>
    private async Task<(TwoHostTenant Tenant, string Key)> TenantAsync()
    {
        var tenant = await hosts.CreateTenantAsync();
        var key = await hosts.AdminA.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "events" });
        return (tenant, key.Key);
    }

    /// <summary>"OfferCreated" → "offer.created", "ApiKeyCreated" → "api_key.created".</summary>
    private static string ProtoToLogType(string name)
    {
        var snake = string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
        var dot = snake.LastIndexOf('_');
        return snake[..dot] + "." + snake[(dot + 1)..];
    }
}
