using System.Diagnostics;
using System.Globalization;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;
using Xunit.Abstractions;

namespace Issuer2.Server.Tests.Faults;

/// <summary>
/// A host (a separate OS process) killed with SIGKILL in the middle of a wallet load and started again on the same
/// PostgreSQL database: the wallets' retries land on the new process, nothing is applied twice, and the books balance.
/// </summary>
public sealed class HostCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task HostKilledMidLoad_AndStartedAgain_WalletsRetryOnTheNewProcess_NothingAppliedTwice()
    {
        var clock = Stopwatch.StartNew();
        await using var database = await PostgresDatabase.CreateAsync();
        var adminKey = TestEnvironment.NewAdminKey();
        var kek = TestEnvironment.NewKeyEncryptionKey();
        var dataA = TestEnvironment.NewTempDirectory("crash-a");
        var dataB = TestEnvironment.NewTempDirectory("crash-b");
        try
        {
            await using var first = ServerProcess.Start(FaultWorld.Settings(database.ConnectionString, dataA, adminKey, kek), FaultWorld.PublicBaseUrl);
            await first.WaitUntilHealthyAsync();
            FaultTenant tenant;
            using (var firstChannel = Clients.Channel(first.GrpcUrl))
            {
                tenant = await FaultWorld.CreateTenantAsync(firstChannel, adminKey, offers: 50, maxUses: 3);
            }

            using var walletA = new TestWallet(first.HttpUrl, FaultWorld.PublicBaseUrl);
            await using var load = new LoadDriver(tenant, walletA, Enumerable.Range(0, 40), workers: 6, pace: TimeSpan.FromMilliseconds(20), clock);
            load.Start();
            await DatabaseOutageTests.WaitForFlowsAsync(load, 15, TimeSpan.FromSeconds(30));
            var killing = clock.Elapsed;
            await first.KillAsync();
            var killed = clock.Elapsed;

            await using var second = ServerProcess.Start(FaultWorld.Settings(database.ConnectionString, dataB, adminKey, kek), FaultWorld.PublicBaseUrl);
            await second.WaitUntilHealthyAsync();
            using var walletB = new TestWallet(second.HttpUrl, FaultWorld.PublicBaseUrl);
            var retargeted = clock.Elapsed;
            load.Retarget(walletB);
            await Task.Delay(TimeSpan.FromSeconds(2));
            await load.StopAsync(TimeSpan.FromSeconds(60));

            using var channel = Clients.Channel(second.GrpcUrl);
            await using var after = new LoadDriver(tenant, walletB, Enumerable.Range(40, 10), workers: 3, pace: TimeSpan.Zero, clock);
            after.Start();
            await after.RunToEndAsync(TimeSpan.FromSeconds(60));

            var replies = load.Replies;
            var flows = load.Flows;
            output.WriteLine($"SIGKILL at {killing.TotalSeconds:0.0} s (gone at {killed.TotalSeconds:0.0} s), new process healthy and used from {retargeted.TotalSeconds:0.0} s");
            output.WriteLine($"wallet requests: {replies.Count}; by status: {DatabaseOutageTests.Count(replies.Select(r => r.Status.ToString(CultureInfo.InvariantCulture)))}");
            output.WriteLine($"without an answer, by step and error: {DatabaseOutageTests.Count(replies.Where(r => r.Status == 0).Select(r => $"{r.Step} {r.Failure}"))}");
            output.WriteLine($"flows: {flows.Count}; by end: {DatabaseOutageTests.Count(flows.Select(f => f.End.ToString()))}");
            output.WriteLine($"flows with a lost answer: token {flows.Count(f => f.TokenOutcomeUnknown)}, credential {flows.Count(f => f.CredentialOutcomeUnknown)}; interrupted and then issued: {flows.Count(f => f.End == FlowEnd.Issued && f.Interrupted)}");

            // The database never went away: no 5xx at all; requests went unanswered only while no process ran.
            Assert.All(replies, r => Assert.True(r.Status is 0 or (>= 200 and < 500), r.ToString()));
            Assert.Contains(replies, r => r.Status == 0);
            Assert.All(replies.Where(r => r.Status == 0), r => Assert.True(r.Sent < retargeted && r.Received >= killing, r.ToString()));
            Assert.All(flows, f => Assert.True(f.End is FlowEnd.Issued or FlowEnd.RefusedAfterUnknownOutcome or FlowEnd.OfferUsedUp, $"{f.End}: {f.Detail}"));
            Assert.Contains(flows, f => f.End == FlowEnd.Issued && f.Interrupted);
            Assert.All(after.Flows, f => Assert.True(f.End == FlowEnd.Issued, $"{f.End}: {f.Detail}"));
            Assert.Equal(30, after.Flows.Count);

            var totals = await IssuanceLedger.AssertConsistentAsync(channel, tenant, [.. flows, .. after.Flows]);
            output.WriteLine($"ledger: {totals}");
        }
        finally
        {
            TestEnvironment.DeleteDirectory(dataA);
            TestEnvironment.DeleteDirectory(dataB);
        }
    }
}
