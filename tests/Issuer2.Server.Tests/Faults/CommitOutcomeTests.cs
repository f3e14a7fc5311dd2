using System.Net;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;
using Npgsql;
using Xunit.Abstractions;

namespace Issuer2.Server.Tests.Faults;

/// <summary>
/// A request whose commit outcome is unknown — its connection drops while the COMMIT runs — answers 503, never a
/// success it cannot prove, and a retry of it cannot apply twice. Made deterministic on a cluster of the test's own:
/// with a synchronous standby that does not exist, every COMMIT commits locally and then waits; ending that backend
/// then (as a failover or a crash would) leaves a transaction that committed while its client heard nothing.
/// </summary>
public sealed class CommitOutcomeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ConnectionLostDuringCommit_Answers503_AndTheRetryIsRefusedAsAlreadyDone_TokenAndCredential()
    {
        await using var cluster = await PostgresCluster.StartNewAsync();
        var connectionString = await cluster.CreateDatabaseAsync();
        var data = TestEnvironment.NewTempDirectory("commit-outcome");
        var adminKey = TestEnvironment.NewAdminKey();
        try
        {
            await using var host = ServerProcess.Start(FaultWorld.Settings(connectionString, data, adminKey, TestEnvironment.NewKeyEncryptionKey()), FaultWorld.PublicBaseUrl);
            await host.WaitUntilHealthyAsync();
            using var channel = Clients.Channel(host.GrpcUrl);
            var tenant = await FaultWorld.CreateTenantAsync(channel, adminKey, offers: 2, maxUses: 1);
            using var wallet = new TestWallet(host.HttpUrl, FaultWorld.PublicBaseUrl);

            // The token: committed, but its answer lost.
            var code = await wallet.ResolveCodeAsync(tenant.Offers[0].OfferUrl);
            var lostToken = await WithCommitLostAsync(cluster, () => wallet.RedeemCodeAsync(tenant.TenantId, code));
            var tokenRetry = await wallet.RedeemCodeAsync(tenant.TenantId, code);

            // The credential: committed, but its answer lost.
            var accessToken = await wallet.AccessTokenAsync(tenant.TenantId, tenant.Offers[1].OfferUrl);
            using var key = new HolderKey();
            var body = TestWallet.CredentialRequest(tenant.ConfigurationId, key.Proof(tenant.CredentialIssuer, await wallet.FreshNonceAsync(tenant.TenantId), DateTimeOffset.UtcNow));
            var lostCredential = await WithCommitLostAsync(cluster, () => wallet.CredentialAsync(tenant.TenantId, accessToken, body));
            var credentialRetry = await wallet.CredentialAsync(tenant.TenantId, accessToken, body);
            var freshNonce = TestWallet.CredentialRequest(tenant.ConfigurationId, key.Proof(tenant.CredentialIssuer, await wallet.FreshNonceAsync(tenant.TenantId), DateTimeOffset.UtcNow));
            var credentialAgain = await wallet.CredentialAsync(tenant.TenantId, accessToken, freshNonce);
            output.WriteLine($"token: {lostToken} (Retry-After {lostToken.RetryAfter}), retried: {tokenRetry}");
            output.WriteLine($"credential: {lostCredential} (Retry-After {lostCredential.RetryAfter}), retried: {credentialRetry}, with a fresh nonce: {credentialAgain}");

            output.WriteLine("the host logged: " + string.Join(" | ", host.StandardOutputLines.Where(l => l.Contains("the database is unavailable", StringComparison.Ordinal)).Select(l => l.Trim())));

            // Never a success it cannot prove: 503 with the spec's body.
            foreach (var lost in new[] { lostToken, lostCredential })
            {
                Assert.True(lost.Status == HttpStatusCode.ServiceUnavailable && lost.Error == "temporarily_unavailable", lost.ToString());
                Assert.Equal(FaultWorld.RetryAfterSeconds, lost.RetryAfter);
                Assert.Equal("no-store", lost.CacheControl);
            }

            // The retries find the work done: the code is used, the nonce is used, the session has its credential.
            Assert.True(tokenRetry.Status == HttpStatusCode.BadRequest && tokenRetry.Error == "invalid_grant", tokenRetry.ToString());
            // (The session's "already issued" is read before the nonce is tried: either refusal says the work is done.)
            Assert.True(credentialRetry.Status == HttpStatusCode.BadRequest && credentialRetry.Error is "credential_request_denied" or "invalid_nonce", credentialRetry.ToString());
            Assert.True(credentialAgain.Status == HttpStatusCode.BadRequest && credentialAgain.Error == "credential_request_denied", credentialAgain.ToString());

            // Each committed exactly once.
            var offers = tenant.ClientsOn(channel).Offers;
            Assert.Equal(1, (await offers.GetOfferAsync(new GetOfferRequest { Name = tenant.Offers[0].Offer.Name })).Offer.UseCount);
            Assert.Equal(1, (await offers.GetOfferAsync(new GetOfferRequest { Name = tenant.Offers[1].Offer.Name })).Offer.IssuedCredentialCount);
            var totals = await IssuanceLedger.AssertConsistentAsync(channel, tenant,
            [
                new FlowRecord(0, FlowEnd.RefusedAfterUnknownOutcome, false, true, false, false, "token answer lost"),
                new FlowRecord(1, FlowEnd.RefusedAfterUnknownOutcome, true, false, false, true, "credential answer lost"),
            ]);
            Assert.Equal(new LedgerTotals(2, 1, 2, 1), totals);
        }
        finally
        {
            TestEnvironment.DeleteDirectory(data);
        }
    }

    /// <summary>
    /// Sends the request while every COMMIT waits for a synchronous standby that does not exist; once the request's
    /// backend waits there (its transaction committed locally), ends that backend, then lets commits through again.
    /// </summary>
    private static async Task<WalletReply> WithCommitLostAsync(PostgresCluster cluster, Func<Task<WalletReply>> send)
    {
        await SetSynchronousStandbyAsync(cluster, "issuer2_no_such_standby");
        try
        {
            var reply = send();
            var pid = await WaitForCommitWaitAsync(cluster);
            await using (var connection = new NpgsqlConnection(cluster.ConnectionString))
            {
                await connection.OpenAsync();
                await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", connection);
                terminate.Parameters.AddWithValue("pid", pid);
                Assert.Equal(true, await terminate.ExecuteScalarAsync());
            }

            return await reply.WaitAsync(Bound);
        }
        finally
        {
            await SetSynchronousStandbyAsync(cluster, null);
        }
    }

    private static async Task SetSynchronousStandbyAsync(PostgresCluster cluster, string? name)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync();
        var sql = name is null ? "ALTER SYSTEM RESET synchronous_standby_names" : $"ALTER SYSTEM SET synchronous_standby_names = '{name}'";
        await using (var alter = new NpgsqlCommand(sql, connection))
        {
            await alter.ExecuteNonQueryAsync();
        }

        await using (var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection))
        {
            await reload.ExecuteNonQueryAsync();
        }

        // The reload reaches the backends asynchronously: wait until a new session sees it.
        var deadline = DateTime.UtcNow + Bound;
        while (true)
        {
            await using var check = new NpgsqlConnection(cluster.ConnectionString);
            await check.OpenAsync();
            await using var show = new NpgsqlCommand("SHOW synchronous_standby_names", check);
            if ((string?)await show.ExecuteScalarAsync() == (name ?? ""))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"synchronous_standby_names did not become '{name}' within {Bound}");
            await Task.Delay(50);
        }
    }

    private static async Task<int> WaitForCommitWaitAsync(PostgresCluster cluster)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow + Bound;
        while (true)
        {
            await using var find = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep' LIMIT 1", connection);
            if (await find.ExecuteScalarAsync() is int pid)
            {
                return pid;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no COMMIT waited for the standby within {Bound}:\n{cluster.Log()}");
            await Task.Delay(20);
        }
    }
}
