using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Issuer2.Server.Tests.Events;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;
using Npgsql;
using Xunit.Abstractions;

namespace Issuer2.Server.Tests.Faults;

/// <summary>
/// SIGTERM to a host (a separate OS process): it stops accepting, lets the request in flight finish within
/// Issuer2:ShutdownDrainTime, ends event streams at once with UNAVAILABLE HOST_STOPPING, and exits 0. The slow request
/// is a real one: a token request waiting for the offer's row, which the test holds locked from outside.
/// </summary>
public sealed class GracefulStopTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sigterm_WithASlowRequestInFlight_CompletesIt_EndsEventStreamsWithHostStopping_AndExitsZeroWithinTheDrainTime()
    {
        var drainTime = TimeSpan.FromSeconds(20);
        var heldAfterSigterm = TimeSpan.FromSeconds(3);
        // A cluster of its own: the test holds a row lock for seconds (see PostgresDatabase.CreateAsync).
        await using var cluster = await PostgresCluster.StartNewAsync();
        await using var database = await PostgresDatabase.CreateAsync(cluster.ConnectionString);
        var data = TestEnvironment.NewTempDirectory("graceful");
        var adminKey = TestEnvironment.NewAdminKey();
        try
        {
            var settings = FaultWorld.Settings(database.ConnectionString, data, adminKey, TestEnvironment.NewKeyEncryptionKey());
            settings["Issuer2:ShutdownDrainTime"] = "00:00:20";
            settings["Issuer2:Events:HeartbeatInterval"] = "00:00:01";
            await using var host = ServerProcess.Start(settings, FaultWorld.PublicBaseUrl);
            await host.WaitUntilHealthyAsync();
            using var channel = Clients.Channel(host.GrpcUrl);
            var tenant = await FaultWorld.CreateTenantAsync(channel, adminKey, offers: 1, maxUses: 1);
            using var wallet = new TestWallet(host.HttpUrl, FaultWorld.PublicBaseUrl);

            // An open, live event stream.
            await using var subscription = EventSubscription.Start(tenant.EventsOn(channel), EventClients.FromNow(tenant.Tenant.Name));
            await subscription.NextHeartbeatAsync();

            // A slow request in flight: the token request waits for the offer's row, locked here.
            var code = await wallet.ResolveCodeAsync(tenant.Offers[0].OfferUrl);
            await using var holder = new NpgsqlConnection(database.ConnectionString);
            await holder.OpenAsync();
            await using var hold = await holder.BeginTransactionAsync();
            await using (var take = new NpgsqlCommand("SELECT 1 FROM offers WHERE id = @id FOR UPDATE", holder, hold))
            {
                take.Parameters.AddWithValue("id", OfferId(tenant.Offers[0].Offer.Name));
                Assert.Equal(1, await take.ExecuteScalarAsync());
            }

            var slow = wallet.RedeemCodeAsync(tenant.TenantId, code);
            await WaitUntilWaitingForALockAsync(database);

            var sinceSigterm = Stopwatch.StartNew();
            await host.TerminateAsync();

            // The stream ends at once with UNAVAILABLE HOST_STOPPING, while the host still drains the slow request.
            var ended = await RpcAssert.FailsAsync(StatusCode.Unavailable, "HOST_STOPPING", () => DrainAsync(subscription));
            var streamEnded = sinceSigterm.Elapsed;
            Assert.False(host.HasExited, "the host exited before the slow request finished");
            Assert.False(slow.IsCompleted, "the slow request finished while its row was locked");

            // It accepts no new connection.
            await WaitUntilRefusedAsync(host.HttpUrl);
            var refused = sinceSigterm.Elapsed;

            await Task.Delay(heldAfterSigterm - sinceSigterm.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
            await hold.CommitAsync();
            var released = sinceSigterm.Elapsed;

            var reply = await slow.WaitAsync(Bound);
            var answered = sinceSigterm.Elapsed;
            Assert.True(reply.Status == HttpStatusCode.OK, $"the slow request: {reply}");
            Assert.False(string.IsNullOrEmpty(reply.Text("access_token")));
            var exitCode = await host.WaitForExitAsync(drainTime);
            var exited = sinceSigterm.Elapsed;
            output.WriteLine($"after SIGTERM: stream ended {streamEnded.TotalSeconds:0.00} s ({ended.Status.Detail}), new connections refused {refused.TotalSeconds:0.00} s, " +
                $"lock released {released.TotalSeconds:0.00} s, slow request answered {answered.TotalSeconds:0.00} s, exited {exited.TotalSeconds:0.00} s with {exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");

            Assert.True(exitCode == 0, $"the host exited with {exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing (still running)"}:\n{host.Output}");
            Assert.True(exited < drainTime, $"exit took {exited} (drain time {drainTime})");
            Assert.True(streamEnded < released, $"the stream ended at {streamEnded}, only after the slow request was released at {released}");
            Assert.Equal(["1"], await database.QueryColumnAsync("SELECT use_count FROM offers"));
        }
        finally
        {
            TestEnvironment.DeleteDirectory(data);
        }
    }

    [Fact]
    public async Task Sigterm_WithARequestSlowerThanTheDrainTime_ExitsWhenTheDrainTimeEnds_AndTheCutRequestChangesNothing()
    {
        var drainTime = TimeSpan.FromSeconds(2);
        // A cluster of its own: the test holds a row lock for seconds (see PostgresDatabase.CreateAsync).
        await using var cluster = await PostgresCluster.StartNewAsync();
        await using var database = await PostgresDatabase.CreateAsync(cluster.ConnectionString);
        var data = TestEnvironment.NewTempDirectory("drain-cut");
        var adminKey = TestEnvironment.NewAdminKey();
        try
        {
            var settings = FaultWorld.Settings(database.ConnectionString, data, adminKey, TestEnvironment.NewKeyEncryptionKey());
            settings["Issuer2:ShutdownDrainTime"] = "00:00:02";
            await using var host = ServerProcess.Start(settings, FaultWorld.PublicBaseUrl);
            await host.WaitUntilHealthyAsync();
            using var channel = Clients.Channel(host.GrpcUrl);
            var tenant = await FaultWorld.CreateTenantAsync(channel, adminKey, offers: 1, maxUses: 1);
            using var wallet = new TestWallet(host.HttpUrl, FaultWorld.PublicBaseUrl);
            var code = await wallet.ResolveCodeAsync(tenant.Offers[0].OfferUrl);

            await using var holder = new NpgsqlConnection(database.ConnectionString);
            await holder.OpenAsync();
            await using var hold = await holder.BeginTransactionAsync();
            await using (var take = new NpgsqlCommand("SELECT 1 FROM offers WHERE id = @id FOR UPDATE", holder, hold))
            {
                take.Parameters.AddWithValue("id", OfferId(tenant.Offers[0].Offer.Name));
                await take.ExecuteScalarAsync();
            }

            var slow = wallet.RedeemCodeAsync(tenant.TenantId, code);
            await WaitUntilWaitingForALockAsync(database);
            var sinceSigterm = Stopwatch.StartNew();
            await host.TerminateAsync();
            var exitCode = await host.WaitForExitAsync(Bound);
            var exited = sinceSigterm.Elapsed;
            var cut = await Assert.ThrowsAnyAsync<HttpRequestException>(() => slow.WaitAsync(Bound));
            await hold.CommitAsync();
            output.WriteLine($"after SIGTERM: exited {exited.TotalSeconds:0.00} s with {exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}; the slow request: {cut.HttpRequestError}");

            Assert.True(exitCode is not null, $"the host still runs {Bound} after SIGTERM");
            Assert.True(exited >= drainTime && exited < drainTime + TimeSpan.FromSeconds(10), $"exit took {exited} (drain time {drainTime})");
            // The cut request's transaction never committed: the offer is unused and its code still redeemable.
            await WaitUntilNoLockWaitersAsync(database);
            Assert.Equal(["0"], await database.QueryColumnAsync("SELECT use_count FROM offers"));
            Assert.Equal([""], await database.QueryColumnAsync("SELECT consumed_at FROM pre_authorized_codes"));
        }
        finally
        {
            TestEnvironment.DeleteDirectory(data);
        }
    }

    private static string OfferId(string offerName) => offerName[(offerName.LastIndexOf('/') + 1)..];

    /// <summary>Reads the stream until it fails (the failure is the point), bounded.</summary>
    private static async Task DrainAsync(EventSubscription subscription)
    {
        for (var i = 0; i < 1000; i++)
        {
            await subscription.NextAsync(TimeSpan.FromSeconds(10));
        }
    }

    private static async Task WaitUntilWaitingForALockAsync(PostgresDatabase database)
    {
        var deadline = DateTime.UtcNow + Bound;
        while ((await database.QueryColumnAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))[0] == "0")
        {
            Assert.True(DateTime.UtcNow < deadline, $"no request waited for the locked row within {Bound}");
            await Task.Delay(50);
        }
    }

    private static async Task WaitUntilNoLockWaitersAsync(PostgresDatabase database)
    {
        var deadline = DateTime.UtcNow + Bound;
        while ((await database.QueryColumnAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"))[0] != "0")
        {
            Assert.True(DateTime.UtcNow < deadline, $"the cut request's statement still runs {Bound} later");
            await Task.Delay(50);
        }
    }

    private static async Task WaitUntilRefusedAsync(string httpUrl)
    {
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + Bound;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(httpUrl + "/healthz"));
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{httpUrl} still accepted connections {Bound} after SIGTERM");
            await Task.Delay(50);
        }
    }
}
