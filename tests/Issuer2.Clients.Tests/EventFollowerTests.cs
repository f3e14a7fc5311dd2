using Grpc.Core;
using Issuer2.Client;
using Issuer2.Clients.Tests.Infrastructure;
using Issuer2.Grpc.V1;

namespace Issuer2.Clients.Tests;

/// <summary>The event follower against a real server that is killed and restarted, or that tells it it lags.</summary>
public sealed class EventFollowerTests
{
    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task Follower_AcrossAServerKilledAndRestarted_ReceivesEveryEventOfTheLogExactlyOnceInOrder(string provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var tenant = await DemoTenant.CreateAsync(host);
        using var client = host.Client(tenant.ApiKey, new RetryPolicy { InitialBackoff = TimeSpan.FromMilliseconds(100) });
        var resumedAfter = new List<Exception?>();
        var follower = client.Follow(tenant.Name, new EventFollowerOptions
        {
            FromOldestRetained = true,
            InitialBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(500),
            OnResume = (error, _) => resumedAfter.Add(error),
        });
        var received = new List<Event>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var following = Task.Run(async () =>
        {
            await foreach (var e in follower.FollowAsync(stop.Token))
            {
                lock (received) received.Add(e);
            }
        });

        await CreateOffersAsync(client, tenant, 10);
        await WaitForAsync(received, r => r.Count(e => e.Type == EventType.OfferCreated) == 10);
        await host.KillAsync();
        await host.RestartAsync();
        // Note: a new writer; the follower's channel reconnects on its own (a create is not retried, so a channel
        // still backing off from the refused connections would fail it).
        using var writer = host.Client(tenant.ApiKey);
        await CreateOffersAsync(writer, tenant, 10);

        var log = await DemoTenant.LogAsync(writer, tenant.Name);
        await WaitForAsync(received, r => r.Count >= log.Count);
        await Task.Delay(300); // a duplicate would arrive now
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => following);

        Assert.Equal(20, log.Count(e => e.Type == EventType.OfferCreated));
        Assert.Equal(log.Select(e => e.Cursor), received.Select(e => e.Cursor));
        Assert.NotEmpty(resumedAfter);
        Assert.True(follower.Resumes >= 1);
    }

    [Fact]
    public async Task Follower_ToldItLags_ResumesFromItsCursor_AndReceivesEveryEventOfTheLogExactlyOnce()
    {
        // A small buffer and a short patience: a consumer that stops reading is told SUBSCRIBER_LAGGING quickly.
        await using var host = await ServerHost.StartAsync("Sqlite", new Dictionary<string, string>
        {
            ["Issuer2:Events:StreamBuffer"] = "8",
            ["Issuer2:Events:LagTimeout"] = "00:00:01",
        });
        var tenant = await DemoTenant.CreateAsync(host);
        using var writer = host.Client(tenant.ApiKey);
        // The smallest HTTP/2 window: flow control stops the server's writes after 64 KiB unread.
        using var reader = host.Client(tenant.ApiKey, handler: new SocketsHttpHandler { InitialHttp2StreamWindowSize = 65535 });
        var endings = new List<Exception?>();
        var follower = reader.Follow(tenant.Name, new EventFollowerOptions
        {
            FromOldestRetained = true,
            InitialBackoff = TimeSpan.FromMilliseconds(50),
            OnResume = (error, _) => endings.Add(error),
        });
        var received = new List<Event>();
        var paused = new TaskCompletionSource();
        var resume = new TaskCompletionSource();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var following = Task.Run(async () =>
        {
            await foreach (var e in follower.FollowAsync(stop.Token))
            {
                lock (received) received.Add(e);
                if (received.Count == 1)
                {
                    // The consumer is busy: nothing is read while the log grows.
                    paused.SetResult();
                    await resume.Task;
                }
            }
        });

        await paused.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await CreateOffersAsync(writer, tenant, 700, parallel: 8);
        await Task.Delay(TimeSpan.FromSeconds(3));
        resume.SetResult();

        var log = await DemoTenant.LogAsync(writer, tenant.Name);
        await WaitForAsync(received, r => r.Count >= log.Count);
        await Task.Delay(300);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => following);

        Assert.Contains(endings, e => e is RpcException { StatusCode: StatusCode.Unavailable } rpc && RpcErrors.Reason(rpc) == "SUBSCRIBER_LAGGING");
        Assert.Equal(log.Select(e => e.Cursor), received.Select(e => e.Cursor));
    }

    [Fact]
    public async Task Follower_WithACursorOfAnotherTenant_StopsWithInvalidArgumentInsteadOfResuming()
    {
        await using var host = await ServerHost.StartAsync("Sqlite");
        var first = await DemoTenant.CreateAsync(host);
        var second = await DemoTenant.CreateAsync(host);
        using var firstClient = host.Client(first.ApiKey);
        var foreignCursor = (await DemoTenant.LogAsync(firstClient, first.Name))[^1].Cursor;
        using var client = host.Client(second.ApiKey);
        var follower = client.Follow(second.Name, new EventFollowerOptions { AfterCursor = foreignCursor });

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in follower.FollowAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token))
            {
            }
        });

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(0, follower.Resumes);
    }

    private static async Task CreateOffersAsync(Issuer2Client client, DemoTenant tenant, int count, int parallel = 1) =>
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (_, ct) =>
            await client.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = tenant.Name, Profile = tenant.Profile }, cancellationToken: ct));

    private static async Task WaitForAsync(List<Event> received, Func<List<Event>, bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            lock (received)
            {
                if (done(received)) return;
            }

            await Task.Delay(50);
        }

        lock (received)
        {
            Assert.Fail($"The follower received {received.Count} events, not what was awaited.");
        }
    }
}
