using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Authorization;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Dpop;

/// <summary>
/// DPoP in the authorization code flow (RFC 9449 §10): PAR takes dpop_jkt and a DPoP header, which must agree; a grant
/// bound there is redeemed only with a proof of that key (else invalid_grant, the code kept for the right key); a
/// tenant that requires DPoP refuses a code redeemed without a proof. Against the real test OpenID Provider, the
/// browser part driven by hand (<see cref="HandDrivenFlow"/>).
/// </summary>
public abstract class DpopAuthorizationTests(ServerFixture fixture, OpenIdProviderFixture idp)
{
    private OpenIdProvider Provider => idp.Provider;

    private string Host => fixture.Host.HttpUrl;

    /// <summary>A bad pushed request: what it adds to a good one, and whether it may record one jti (its proof passed every check of its own).</summary>
    private sealed record ParRow(Func<AuthorizedTenant, DpopKey, DpopKey, DateTimeOffset, (Dictionary<string, string> More, string? Proof)> Make, bool RecordsJti = false);

    private static readonly Dictionary<string, ParRow> ParRefusals = new(StringComparer.Ordinal)
    {
        ["dpop_jkt of another key than the proof's"] = new((t, key, other, now) => (new() { ["dpop_jkt"] = other.Thumbprint }, ParProof(t, key, now)), RecordsJti: true),
        ["dpop_jkt not a thumbprint"] = new((_, _, _, _) => (new() { ["dpop_jkt"] = "not-a-thumbprint" }, null)),
        ["dpop_jkt a thumbprint in hex"] = new((_, key, _, _) => (new() { ["dpop_jkt"] = Convert.ToHexString(Base64Url.DecodeFromChars(key.Thumbprint)) }, null)),
        ["a proof for the token endpoint"] = new((t, key, _, now) => ([], key.Proof("POST", TokenUrl(t), now))),
        ["a proof with a private key in jwk"] = new((t, key, _, now) => ([], key.Proof("POST", ParUrl(t), now, header: h => h["jwk"] = key.Key.PrivateJwk()))),
        ["a proof 6 minutes old, with the matching dpop_jkt"] = new((t, key, _, now) => (new() { ["dpop_jkt"] = key.Thumbprint }, key.Proof("POST", ParUrl(t), now - TimeSpan.FromMinutes(6)))),
    };

    public static TheoryData<string> ParRefusalNames => [.. ParRefusals.Keys];

    [Theory]
    [MemberData(nameof(ParRefusalNames))]
    public async Task Par_BadDpop_400InvalidDpopProof_StoresNoRequest(string why)
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);
        WalletSetup.CatchUpWithRealTime(fixture);
        using var key = new DpopKey();
        using var other = new DpopKey();
        var row = ParRefusals[why];
        var (more, proof) = row.Make(t, key, other, fixture.Now);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var reply = await DpopHttp.PostFormAsync(Host, ParUrl(t), ParForm(t, more), proof);

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(reply.Status == HttpStatusCode.BadRequest && reply.Error == "invalid_dpop_proof", $"{why}: {reply}");
        DpopAssert.SpecBody(reply);
        var delta = DpopAssert.OnlyChanged(before, after, why, row.RecordsJti ? ["dpop_proofs"] : []);
        if (row.RecordsJti) DpopAssert.OneNewRow(delta, "dpop_proofs");
    }

    [Fact]
    public async Task Par_DpopJktAndAProofOfThatKey_Agree_Accepted()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);
        WalletSetup.CatchUpWithRealTime(fixture);
        using var key = new DpopKey();

        var reply = await DpopHttp.PostFormAsync(Host, ParUrl(t), ParForm(t, new() { ["dpop_jkt"] = key.Thumbprint }), ParProof(t, key, fixture.Now));

        Assert.True(reply.Status == HttpStatusCode.Created, $"PAR: {reply}");
        var stored = Assert.Single((await DatabaseSnapshot.TakeAsync(fixture))["authorizations"], r => r["tenant_id"] == t.Tenant.TenantId);
        Assert.Equal(key.Thumbprint, stored["dpop_jkt"]);
    }

    [Fact]
    public async Task Par_NonceRequired_ProofWithoutNonce_400UseDpopNonceWithOne_StoresNothing_ThenThatNonceIsAccepted()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider, tenant => tenant.Dpop = new DpopSettings { Mode = DpopMode.Required, RequireNonce = true });
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);
        WalletSetup.CatchUpWithRealTime(fixture);
        using var key = new DpopKey();
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var refused = await DpopHttp.PostFormAsync(Host, ParUrl(t), ParForm(t, []), ParProof(t, key, fixture.Now));

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(refused.Status == HttpStatusCode.BadRequest && refused.Error == "use_dpop_nonce", $"PAR without a nonce: {refused}");
        DpopAssert.SpecBody(refused);
        Assert.False(string.IsNullOrEmpty(refused.DpopNonce), $"no DPoP-Nonce: {refused}");
        DpopAssert.OnlyChanged(before, after, "PAR without a nonce");
        var accepted = await DpopHttp.PostFormAsync(Host, ParUrl(t), ParForm(t, []), key.Proof("POST", ParUrl(t), fixture.Now, refused.DpopNonce));
        Assert.True(accepted.Status == HttpStatusCode.Created, $"PAR with the nonce: {accepted}");
        var stored = Assert.Single((await DatabaseSnapshot.TakeAsync(fixture))["authorizations"], r => r["tenant_id"] == t.Tenant.TenantId);
        Assert.Equal(key.Thumbprint, stored["dpop_jkt"]);
    }

    [Theory]
    [InlineData("dpop_jkt")]
    [InlineData("DPoP header")]
    [InlineData("both")]
    public async Task BoundAtPar_RedeemedWithAnotherKeyOrNone_InvalidGrant_CodeKept_ThenTheBoundKeyRedeems(string bindBy)
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);
        WalletSetup.CatchUpWithRealTime(fixture);
        using var key = new DpopKey();
        using var other = new DpopKey();
        var flow = new HandDrivenFlow(t.Tenant.Tenant.CredentialIssuer, t.Profile.Scope);
        await flow.PushAsync(
            Host,
            more: bindBy == "DPoP header" ? null : new Dictionary<string, string> { ["dpop_jkt"] = key.Thumbprint },
            dpopProof: bindBy == "dpop_jkt" ? null : ParProof(t, key, fixture.Now));
        await flow.ToCodeAsync(Host, Provider, OpenIdProvider.Alice);
        Assert.Equal(key.Thumbprint, Assert.Single((await DatabaseSnapshot.TakeAsync(fixture))["authorizations"], r => r["tenant_id"] == t.Tenant.TenantId)["dpop_jkt"]);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var byOther = await RedeemAsync(t, flow, other.Proof("POST", TokenUrl(t), fixture.Now));
        var byNone = await RedeemAsync(t, flow, null);

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(byOther.Status == HttpStatusCode.BadRequest && byOther.Error == "invalid_grant", $"another key: {byOther}");
        Assert.True(byNone.Status == HttpStatusCode.BadRequest && byNone.Error == "invalid_grant", $"no proof: {byNone}");
        // Two token.refused events (code_mismatch), the other key's proof's jti; no token, the code not consumed.
        var delta = DpopAssert.OnlyChanged(before, after, bindBy, "dpop_proofs", "events");
        DpopAssert.OneNewRow(delta, "dpop_proofs");
        var (removed, added) = delta.Changes["events"];
        Assert.Empty(removed);
        Assert.Equal(2, added.Count);
        Assert.All(added, e => Assert.Equal("token.refused", e["type"]));
        Assert.All(added, e => Assert.Contains("code_mismatch", e["detail"], StringComparison.Ordinal));

        var byKey = await RedeemAsync(t, flow, key.Proof("POST", TokenUrl(t), fixture.Now));
        Assert.True(byKey.Status == HttpStatusCode.OK, $"the bound key: {byKey}");
        Assert.Equal("DPoP", byKey.Text("token_type"));
        Assert.Equal([key.Thumbprint], DpopAssert.BoundKeys(await DatabaseSnapshot.TakeAsync(fixture), t.Tenant.TenantId));
    }

    [Fact]
    public async Task RequiredTenant_CodeRedeemedWithoutProof_InvalidDpopProof_ChangesNothing_ThenAProofRedeems()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider, tenant => tenant.Dpop = new DpopSettings { Mode = DpopMode.Required });
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);
        WalletSetup.CatchUpWithRealTime(fixture);
        using var key = new DpopKey();
        var flow = new HandDrivenFlow(t.Tenant.Tenant.CredentialIssuer, t.Profile.Scope);
        await flow.PushAsync(Host);
        await flow.ToCodeAsync(Host, Provider, OpenIdProvider.Bob);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var refused = await RedeemAsync(t, flow, null);

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(refused.Status == HttpStatusCode.BadRequest && refused.Error == "invalid_dpop_proof", $"no proof: {refused}");
        DpopAssert.OnlyChanged(before, after, "no proof for the code");
        var redeemed = await RedeemAsync(t, flow, key.Proof("POST", TokenUrl(t), fixture.Now));
        Assert.True(redeemed.Status == HttpStatusCode.OK, $"with a proof: {redeemed}");
        Assert.Equal("DPoP", redeemed.Text("token_type"));
        Assert.Equal([key.Thumbprint], DpopAssert.BoundKeys(await DatabaseSnapshot.TakeAsync(fixture), t.Tenant.TenantId));
    }

    private static string ParUrl(AuthorizedTenant t) => t.Tenant.Tenant.CredentialIssuer + "/par";

    private static string TokenUrl(AuthorizedTenant t) => t.Tenant.Tenant.CredentialIssuer + "/token";

    private static string ParProof(AuthorizedTenant t, DpopKey key, DateTimeOffset now) => key.Proof("POST", ParUrl(t), now);

    /// <summary>A good wallet-initiated pushed request (the profile's scope, PKCE S256) with <paramref name="more"/> added.</summary>
    private static Dictionary<string, string> ParForm(AuthorizedTenant t, Dictionary<string, string> more)
    {
        var verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var form = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["client_id"] = HandDrivenFlow.ClientId,
            ["response_type"] = "code",
            ["redirect_uri"] = AuthorizationWorld.WalletRedirect,
            ["code_challenge"] = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            ["code_challenge_method"] = "S256",
            ["scope"] = t.Profile.Scope,
            ["resource"] = t.Tenant.Tenant.CredentialIssuer,
        };
        foreach (var (name, value) in more) form[name] = value;
        return form;
    }

    private Task<DpopReply> RedeemAsync(AuthorizedTenant t, HandDrivenFlow flow, string? proof) =>
        DpopHttp.PostFormAsync(Host, TokenUrl(t), DpopHttp.Form(
            ("grant_type", "authorization_code"), ("code", flow.Code!), ("code_verifier", flow.Verifier),
            ("redirect_uri", AuthorizationWorld.WalletRedirect), ("client_id", HandDrivenFlow.ClientId)), proof);
}

[Collection(nameof(WithOpenIdProvider))]
public sealed class DpopAuthorizationTests_Sqlite(SqliteServerFixture fixture, OpenIdProviderFixture idp)
    : DpopAuthorizationTests(fixture, idp), IClassFixture<SqliteServerFixture>;

[Collection(nameof(WithOpenIdProvider))]
public sealed class DpopAuthorizationTests_Postgres(PostgresServerFixture fixture, OpenIdProviderFixture idp)
    : DpopAuthorizationTests(fixture, idp), IClassFixture<PostgresServerFixture>;
