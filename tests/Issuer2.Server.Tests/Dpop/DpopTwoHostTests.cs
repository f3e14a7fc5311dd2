using System.Net;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Dpop;

/// <summary>
/// A DPoP proof's jti is single-use across hosts (RFC 9449 §11.1): two server processes on one PostgreSQL database
/// share the dpop_proofs table, so a proof used on host A is a replay on host B, and of a proof sent to both hosts at
/// once exactly one request gets a token. Proofs name the public URL both hosts share, never a host's own address.
/// </summary>
public sealed class DpopTwoHostTests(TwoHostsFixture hosts) : IClassFixture<TwoHostsFixture>
{
    private const int Concurrency = 20;

    [Fact]
    public async Task ProofUsedOnHostA_ReplayedOnHostB_InvalidDpopProof_ChangesNothing_AFreshProofRedeemsOnB()
    {
        var (tenant, profile) = await TenantAsync();
        using var key = new DpopKey();
        var (first, second) = (await CodeAsync(tenant, profile), await CodeAsync(tenant, profile));
        var proof = Proof(tenant, key);
        var onA = await RedeemAsync(hosts.A.HttpUrl, tenant, first, proof);
        Assert.True(onA.Status == HttpStatusCode.OK && onA.Text("token_type") == "DPoP", $"host A: {onA}");
        var before = await SnapshotAsync();

        var onB = await RedeemAsync(hosts.B.HttpUrl, tenant, second, proof);

        var after = await SnapshotAsync();
        Assert.True(onB.Status == HttpStatusCode.BadRequest && onB.Error == "invalid_dpop_proof", $"replay on host B: {onB}");
        Assert.Contains("replayed", onB.Json.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        DpopAssert.OnlyChanged(before, after, "replay on host B");
        var fresh = await RedeemAsync(hosts.B.HttpUrl, tenant, second, Proof(tenant, key));
        Assert.True(fresh.Status == HttpStatusCode.OK, $"a fresh proof on host B: {fresh}");
        Assert.Equal([key.Thumbprint, key.Thumbprint], DpopAssert.BoundKeys(await SnapshotAsync(), tenant.TenantId));
    }

    [Fact]
    public async Task OneProof_TwentyConcurrentTokenRequestsOnTwoHosts_ExactlyOneToken()
    {
        var (tenant, profile) = await TenantAsync();
        using var key = new DpopKey();
        var codes = new List<string>();
        for (var i = 0; i < Concurrency; i++) codes.Add(await CodeAsync(tenant, profile));
        var proof = Proof(tenant, key);

        var replies = await AllAtOnceAsync(Concurrency, i => RedeemAsync(i % 2 == 0 ? hosts.A.HttpUrl : hosts.B.HttpUrl, tenant, codes[i], proof));

        Assert.Equal(1, replies.Count(r => r.Status == HttpStatusCode.OK));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => Assert.True(r.Status == HttpStatusCode.BadRequest && r.Error == "invalid_dpop_proof", r.ToString()));
        Assert.Equal([key.Thumbprint], DpopAssert.BoundKeys(await SnapshotAsync(), tenant.TenantId));
    }

    [Fact]
    public async Task ProofForTheHostsOwnAddress_NotThePublicUrl_InvalidDpopProof()
    {
        var (tenant, profile) = await TenantAsync();
        using var key = new DpopKey();
        var ownAddress = DpopHttp.On(hosts.A.HttpUrl, tenant.CredentialIssuer + "/token").AbsoluteUri;

        var reply = await RedeemAsync(hosts.A.HttpUrl, tenant, await CodeAsync(tenant, profile), key.Proof("POST", ownAddress, DateTimeOffset.UtcNow));

        Assert.True(reply.Status == HttpStatusCode.BadRequest && reply.Error == "invalid_dpop_proof", $"htu {ownAddress}: {reply}");
    }

    [Fact]
    public async Task DpopNonceFromHostA_IsAcceptedOnHostB()
    {
        var (tenant, profile) = await TenantAsync(requireNonce: true);
        using var key = new DpopKey();
        var nonce = (await DpopHttp.PostAsync(hosts.A.HttpUrl, tenant.CredentialIssuer + "/nonce")).DpopNonce;
        Assert.False(string.IsNullOrEmpty(nonce));

        var reply = await RedeemAsync(hosts.B.HttpUrl, tenant, await CodeAsync(tenant, profile), key.Proof("POST", tenant.CredentialIssuer + "/token", DateTimeOffset.UtcNow, nonce));

        Assert.True(reply.Status == HttpStatusCode.OK && reply.Text("token_type") == "DPoP", $"host A's nonce on host B: {reply}");
    }

    private async Task<(TwoHostTenant Tenant, Profile Profile)> TenantAsync(bool requireNonce = false)
    {
        var tenant = await hosts.CreateTenantAsync(t => t.Dpop = new DpopSettings { Mode = DpopMode.Required, RequireNonce = requireNonce });
        return (tenant, await TwoHostsFixture.CreateProfileAsync(tenant));
    }

    private static async Task<string> CodeAsync(TwoHostTenant tenant, Profile profile) =>
        OfferUrl.Parse((await TwoHostsFixture.CreateOfferAsync(tenant, profile, r => r.DeliveryMode = DeliveryMode.ByValue)).OfferUrl).PreAuthorizedCode();

    /// <summary>A proof for the token endpoint's public URL, on the real clock (the hosts' own).</summary>
    private static string Proof(TwoHostTenant tenant, DpopKey key) => key.Proof("POST", tenant.CredentialIssuer + "/token", DateTimeOffset.UtcNow);

    private static Task<DpopReply> RedeemAsync(string host, TwoHostTenant tenant, string code, string proof) =>
        DpopHttp.PostFormAsync(host, tenant.CredentialIssuer + "/token", DpopHttp.Form(DpopHttp.PreAuthorized(code)), proof);

    private Task<DatabaseSnapshot> SnapshotAsync() => DatabaseSnapshot.TakeAsync("Postgres", hosts.Database.ConnectionString);

    private static async Task<T[]> AllAtOnceAsync<T>(int count, Func<int, Task<T>> call)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.Task;
            return await call(i);
        }).ToList();
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }
}
