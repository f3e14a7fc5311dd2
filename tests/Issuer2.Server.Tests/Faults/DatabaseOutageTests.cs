using System.Diagnostics;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;
using Xunit.Abstractions;

namespace Issuer2.Server.Tests.Faults;

/// <summary>
/// PostgreSQL restarted under a running host (a separate OS process) in the middle of a wallet load, on a cluster of
/// the test's own: while it is down, wallets get 503 with Retry-After and the JSON error, gRPC callers UNAVAILABLE
/// with DATABASE_UNAVAILABLE, both health checks say why; never a 500 or INTERNAL; afterwards the same host process
/// serves every flow again, and the books balance.
/// </summary>
public sealed class DatabaseOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task PostgresRestartedMidLoad_Wallets503RetryAfter_GrpcUnavailable_Never500_ThenRecoversWithoutHostRestart()
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await PostgresCluster.StartNewAsync();
        var connectionString = await cluster.CreateDatabaseAsync();
        var data = TestEnvironment.NewTempDirectory("outage");
        var adminKey = TestEnvironment.NewAdminKey();
        try
        {
            var settings = FaultWorld.Settings(connectionString, data, adminKey, TestEnvironment.NewKeyEncryptionKey());
            // Streams read the log every second, so an open one meets the outage too.
            settings["Issuer2:Events:HeartbeatInterval"] = "00:00:01";
            await using var host = ServerProcess.Start(settings, FaultWorld.PublicBaseUrl);
            await host.WaitUntilHealthyAsync();
            using var channel = Clients.Channel(host.GrpcUrl);
            var tenant = await FaultWorld.CreateTenantAsync(channel, adminKey, offers: 50, maxUses: 3);
            using var wallet = new TestWallet(host.HttpUrl, FaultWorld.PublicBaseUrl);
            await using var probe = new ApiProbe(channel, tenant, host.HttpUrl, clock);
            await using var load = new LoadDriver(tenant, wallet, Enumerable.Range(0, 40), workers: 6, pace: TimeSpan.FromMilliseconds(50), clock);
            using var stream = tenant.EventsOn(channel).SubscribeEvents(new Issuer2.Grpc.V1.SubscribeEventsRequest { Parent = tenant.Tenant.Name });
            var streamEnd = ReadToEndAsync(stream);

            load.Start();
            probe.Start();
            await WaitForFlowsAsync(load, 10, TimeSpan.FromSeconds(20));
            var stopping = clock.Elapsed;
            await cluster.StopAsync("fast");
            var down = clock.Elapsed;
            await Task.Delay(Outage);
            var starting = clock.Elapsed;
            await cluster.StartAsync();
            await FaultWorld.WaitUntilHealthyAsync(host.HttpUrl, TimeSpan.FromSeconds(30));
            var healthy = clock.Elapsed;
            await Task.Delay(TimeSpan.FromSeconds(2));
            await load.StopAsync(TimeSpan.FromSeconds(60));
            await probe.StopAsync();

            // Afterwards, on the same host process: fresh flows succeed at the first attempt of every step.
            Assert.False(host.HasExited, "the host exited");
            await using var after = new LoadDriver(tenant, wallet, Enumerable.Range(40, 10), workers: 3, pace: TimeSpan.Zero, clock);
            after.Start();
            await after.RunToEndAsync(TimeSpan.FromSeconds(60));

            var replies = load.Replies;
            var flows = load.Flows;
            var during = replies.Where(r => r.Sent >= down && r.Received <= starting).ToList();
            output.WriteLine($"outage {down.TotalSeconds:0.0}-{starting.TotalSeconds:0.0} s (stop requested at {stopping.TotalSeconds:0.0} s), healthy again at {healthy.TotalSeconds:0.0} s");
            output.WriteLine($"wallet requests: {replies.Count}; by status: {Count(replies.Select(r => r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)))}");
            output.WriteLine($"wallet requests within the outage: {during.Count}; by status: {Count(during.Select(r => r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)))}");
            output.WriteLine($"503 by step: {Count(replies.Where(r => r.Status == 503).Select(r => r.Step.ToString()))}");
            output.WriteLine($"503 answered after PostgreSQL was back: {replies.Count(r => r.Status == 503 && r.Sent >= starting)} (after /healthz was 200 again: {replies.Count(r => r.Status == 503 && r.Sent >= healthy)})");
            output.WriteLine($"flows: {flows.Count}; by end: {Count(flows.Select(f => f.End.ToString()))}; interrupted by the outage and then issued: {flows.Count(f => f.End == FlowEnd.Issued && f.Interrupted)}");
            output.WriteLine($"management calls: {Count(probe.Replies.Where(r => r.Call is not "healthz" and not "grpc.health").Select(r => $"{r.Status}/{r.Reason}"))}");
            output.WriteLine($"health: {Count(probe.Replies.Where(r => r.Call is "healthz" or "grpc.health").Select(r => $"{r.Call} {r.Status}"))}");

            // Never a 500 (nor any other 5xx but 503), never a broken connection: the host stayed up.
            Assert.All(replies, r => Assert.True(r.Status is >= 200 and < 500 or 503, r.ToString()));
            // Every 503 is the spec's shape: Retry-After as configured, no-store, JSON temporarily_unavailable.
            var unavailable = replies.Where(r => r.Status == 503).ToList();
            Assert.NotEmpty(unavailable);
            Assert.All(unavailable, r => Assert.True(
                r.RetryAfter == FaultWorld.RetryAfterSeconds && r.CacheControl == "no-store" && r.ContentType == "application/json" && r.Error == "temporarily_unavailable",
                r.ToString()));
            // While PostgreSQL was down, nothing succeeded and nothing was refused for another reason, but for nonces in
            // its first seconds: the nonce endpoint needs no database and trusts a tenant seen within the last
            // ExistenceCacheTime (docs/wallet-endpoints.md), so it may mint until that runs out. After it, 503 too.
            Assert.NotEmpty(during);
            var nonceWindow = down + Issuer2.Core.Metadata.TenantDirectory.ExistenceCacheTime;
            Assert.All(during, r => Assert.True(r.Status == 503 || (r.Status == 200 && r.Step == FlowStep.Nonce && r.Sent < nonceWindow), r.ToString()));
            Assert.Contains(during, r => r.Status == 503 && r.Step != FlowStep.Nonce);
            // Every flow ended as a wallet would expect: a credential, or a refusal its lost answer explains.
            Assert.All(flows, f => Assert.True(f.End is FlowEnd.Issued or FlowEnd.RefusedAfterUnknownOutcome or FlowEnd.OfferUsedUp, $"{f.End}: {f.Detail}"));
            // Flows the outage interrupted went on to their credential once it was over.
            Assert.Contains(flows, f => f.End == FlowEnd.Issued && f.Interrupted);

            // gRPC: UNAVAILABLE with DATABASE_UNAVAILABLE during the outage, never INTERNAL.
            var management = probe.Replies.Where(r => r.Call is not "healthz" and not "grpc.health").ToList();
            Assert.DoesNotContain(management, r => r.Status == nameof(StatusCode.Internal));
            var managementDuring = management.Where(r => r.Sent >= down && r.Received <= starting).ToList();
            Assert.NotEmpty(managementDuring);
            Assert.All(managementDuring, r => Assert.True(r.Status == nameof(StatusCode.Unavailable) && r.Reason == "DATABASE_UNAVAILABLE", r.ToString()));
            Assert.All(management.Where(r => r.Status != nameof(StatusCode.OK)), r => Assert.True(r.Status == nameof(StatusCode.Unavailable) && r.Reason == "DATABASE_UNAVAILABLE", r.ToString()));
            // The open event stream ended UNAVAILABLE too (its client resumes from its cursor).
            var ended = await streamEnd.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(ended is { StatusCode: StatusCode.Unavailable } && ended.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason == "DATABASE_UNAVAILABLE",
                $"the event stream ended with {ended?.StatusCode.ToString() ?? "no error"}: {ended?.Status.Detail}");

            // Health: both say why while the database is down.
            var healthz = probe.Within("healthz", down, starting);
            Assert.NotEmpty(healthz);
            Assert.All(healthz, r => Assert.True(r.Status == "503" && DatabaseDescription(r.Reason!).StartsWith("The database is unavailable", StringComparison.Ordinal), r.ToString()));
            Assert.DoesNotContain(healthz, r => r.Reason!.Contains(connectionString, StringComparison.Ordinal) || r.Reason.Contains("Username", StringComparison.OrdinalIgnoreCase));
            var grpcHealth = probe.Within("grpc.health", down, starting);
            Assert.NotEmpty(grpcHealth);
            Assert.All(grpcHealth, r => Assert.True(
                r.Status == nameof(HealthCheckResponse.Types.ServingStatus.NotServing) && r.Reason is not null && r.Reason.StartsWith("database: The database is unavailable", StringComparison.Ordinal),
                r.ToString()));
            output.WriteLine($"a reason given: {healthz[0].Reason}");

            // After recovery: every flow of the fresh offers issued, every step answered at its first attempt.
            Assert.All(after.Flows, f => Assert.True(f.End == FlowEnd.Issued, $"{f.End}: {f.Detail}"));
            Assert.Equal(30, after.Flows.Count);
            Assert.All(after.Replies, r => Assert.True(r.Status == 200 && r.Attempt == 1, r.ToString()));
            Assert.Equal(nameof(HealthCheckResponse.Types.ServingStatus.Serving), (await FaultWorld.GrpcHealthAsync(channel)).Status.ToString());

            // The books: exactly once, whatever the outage interrupted.
            var totals = await IssuanceLedger.AssertConsistentAsync(channel, tenant, [.. flows, .. after.Flows]);
            output.WriteLine($"ledger: {totals}");
        }
        finally
        {
            TestEnvironment.DeleteDirectory(data);
        }
    }

    [Fact]
    public async Task ConnectionPoolExhausted_Wallets503RetryAfter_GrpcAndGrpcWebUnavailable_HealthzSaysWhy_ThenTheHeldRequestsSucceed()
    {
        // A cluster of its own: the test holds a row lock for seconds (see PostgresDatabase.CreateAsync).
        await using var cluster = await PostgresCluster.StartNewAsync();
        await using var database = await PostgresDatabase.CreateAsync(cluster.ConnectionString);
        var data = TestEnvironment.NewTempDirectory("pool");
        var adminKey = TestEnvironment.NewAdminKey();
        try
        {
            // Two pooled connections, and two seconds to wait for one.
            var pooled = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = 2, Timeout = 2 }.ConnectionString;
            await using var host = ServerProcess.Start(FaultWorld.Settings(pooled, data, adminKey, TestEnvironment.NewKeyEncryptionKey()), FaultWorld.PublicBaseUrl);
            await host.WaitUntilHealthyAsync();
            using var channel = Clients.Channel(host.GrpcUrl);
            var tenant = await FaultWorld.CreateTenantAsync(channel, adminKey, offers: 1, maxUses: 2);
            using var wallet = new TestWallet(host.HttpUrl, FaultWorld.PublicBaseUrl);
            var codes = new[] { await wallet.ResolveCodeAsync(tenant.Offers[0].OfferUrl), await wallet.ResolveCodeAsync(tenant.Offers[0].OfferUrl) };

            // Both connections taken by token requests that wait for the offer's row, locked here.
            await using var holder = new Npgsql.NpgsqlConnection(database.ConnectionString);
            await holder.OpenAsync();
            await using var hold = await holder.BeginTransactionAsync();
            await using (var take = new Npgsql.NpgsqlCommand("SELECT 1 FROM offers FOR UPDATE", holder, hold))
            {
                await take.ExecuteScalarAsync();
            }

            var held = codes.Select(code => wallet.RedeemCodeAsync(tenant.TenantId, code)).ToList();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while ((await database.QueryColumnAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))[0] != "2")
            {
                Assert.True(DateTime.UtcNow < deadline, "the two token requests did not both wait for the row");
                await Task.Delay(50);
            }

            var nonce = await wallet.NonceAsync(tenant.TenantId);
            var getOffer = await Assert.ThrowsAsync<RpcException>(() => tenant.ClientsOn(channel).Offers.GetOfferAsync(new Issuer2.Grpc.V1.GetOfferRequest { Name = tenant.Offers[0].Offer.Name }).ResponseAsync);
            using var web = GrpcChannel.ForAddress(host.HttpUrl, new GrpcChannelOptions
            {
                HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
                HttpVersion = System.Net.HttpVersion.Version11,
            });
            var getOfferWeb = await Assert.ThrowsAsync<RpcException>(() => tenant.ClientsOn(web).Offers.GetOfferAsync(new Issuer2.Grpc.V1.GetOfferRequest { Name = tenant.Offers[0].Offer.Name }).ResponseAsync);
            using var http = new HttpClient();
            using var healthz = await http.GetAsync(new Uri(host.HttpUrl + "/healthz"));
            var health = await healthz.Content.ReadAsStringAsync();
            await hold.CommitAsync();
            var tokens = await Task.WhenAll(held).WaitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"nonce: {nonce} (Retry-After {nonce.RetryAfter}); GetOffer: {getOffer.StatusCode} {getOffer.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason}; " +
                $"over gRPC-Web: {getOfferWeb.StatusCode} {getOfferWeb.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason}; /healthz {(int)healthz.StatusCode} {health}");

            Assert.True(nonce.StatusCode == 503 && nonce.Error == "temporarily_unavailable" && nonce.RetryAfter == FaultWorld.RetryAfterSeconds && nonce.CacheControl == "no-store", nonce.ToString());
            Assert.Equal(StatusCode.Unavailable, getOffer.StatusCode);
            Assert.Equal("DATABASE_UNAVAILABLE", getOffer.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason);
            Assert.Equal(StatusCode.Unavailable, getOfferWeb.StatusCode);
            Assert.Equal("DATABASE_UNAVAILABLE", getOfferWeb.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason);
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, healthz.StatusCode);
            Assert.StartsWith("The database is unavailable: the connection pool is exhausted", DatabaseDescription(health), StringComparison.Ordinal);
            Assert.All(tokens, t => Assert.True(t.StatusCode == 200, t.ToString()));
            Assert.Equal(200, (await wallet.NonceAsync(tenant.TenantId)).StatusCode);
        }
        finally
        {
            TestEnvironment.DeleteDirectory(data);
        }
    }

    [Fact]
    public async Task SqliteBusyPastItsTimeout_Wallets503RetryAfter_GrpcUnavailable_ThenWritesSucceed()
    {
        var data = TestEnvironment.NewTempDirectory("sqlite-busy");
        var adminKey = TestEnvironment.NewAdminKey();
        var file = Path.Combine(data, "issuer2.db");
        try
        {
            var settings = FaultWorld.Settings($"Data Source={file};Default Timeout=1", data, adminKey, TestEnvironment.NewKeyEncryptionKey());
            settings["Issuer2:Database:Provider"] = "Sqlite";
            await using var host = ServerProcess.Start(settings, FaultWorld.PublicBaseUrl);
            await host.WaitUntilHealthyAsync();
            using var channel = Clients.Channel(host.GrpcUrl);
            var tenant = await FaultWorld.CreateTenantAsync(channel, adminKey, offers: 1, maxUses: 1);
            using var wallet = new TestWallet(host.HttpUrl, FaultWorld.PublicBaseUrl);
            var offerUri = wallet.OnThisHost(OfferUrl.Parse(tenant.Offers[0].OfferUrl).CredentialOfferUri!);

            // Another writer holds the database's write lock longer than the host's busy timeout (1 s).
            WalletReply busy;
            RpcException createOffer;
            await using (var writer = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
            {
                await writer.OpenAsync();
                await using (var begin = writer.CreateCommand())
                {
                    begin.CommandText = "BEGIN IMMEDIATE";
                    await begin.ExecuteNonQueryAsync();
                }

                busy = await wallet.GetAsync(offerUri);
                createOffer = await Assert.ThrowsAsync<RpcException>(() => tenant.ClientsOn(channel).Offers.CreateOfferAsync(
                    new Issuer2.Grpc.V1.CreateOfferRequest { Parent = tenant.Tenant.Name, Profile = tenant.Profile.Name }).ResponseAsync);
                await using var rollback = writer.CreateCommand();
                rollback.CommandText = "ROLLBACK";
                await rollback.ExecuteNonQueryAsync();
            }

            var after = await wallet.GetAsync(offerUri);
            output.WriteLine($"resolve while locked: {busy} (Retry-After {busy.RetryAfter}); CreateOffer: {createOffer.StatusCode} {createOffer.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason}; resolve after: {after.StatusCode}");

            Assert.True(busy.StatusCode == 503 && busy.Error == "temporarily_unavailable" && busy.RetryAfter == FaultWorld.RetryAfterSeconds && busy.CacheControl == "no-store", busy.ToString());
            Assert.Equal(StatusCode.Unavailable, createOffer.StatusCode);
            Assert.Equal("DATABASE_UNAVAILABLE", createOffer.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason);
            Assert.Equal(200, after.StatusCode);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestEnvironment.DeleteDirectory(data);
        }
    }

    /// <summary>The description of the database check in a /healthz body.</summary>
    private static string DatabaseDescription(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("checks").GetProperty("database").GetProperty("description").GetString() ?? "";
    }

    /// <summary>Reads the stream until it ends; the RpcException it ended with, or null.</summary>
    private static async Task<RpcException?> ReadToEndAsync(AsyncServerStreamingCall<Issuer2.Grpc.V1.SubscribeEventsResponse> stream)
    {
        try
        {
            // Bounded: a live stream sends at most a few hundred items in this test.
            for (var i = 0; i < 100_000 && await stream.ResponseStream.MoveNext(CancellationToken.None); i++)
            {
            }

            return null;
        }
        catch (RpcException e)
        {
            return e;
        }
    }

    internal static async Task WaitForFlowsAsync(LoadDriver load, int count, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (load.Flows.Count(f => f.End == FlowEnd.Issued) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} flows issued within {bound}: {string.Join("; ", load.Replies.TakeLast(5))}");
            await Task.Delay(100);
        }
    }

    internal static string Count(IEnumerable<string> values) =>
        string.Join(", ", values.GroupBy(v => v, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}"));
}
