using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Dpop;

/// <summary>
/// The protected resources (credential, notification) of a tenant with DPoP optional: a DPoP-bound token needs the
/// DPoP scheme and a proof of its key with ath (RFC 9449 §7); a bearer token the Bearer scheme. Each refusal is a 401
/// with a DPoP challenge (§7.1) and the spec's body, changes nothing but what the row allows (compared on a snapshot
/// of every table), and the very same credential request then succeeds when sent right: no c_nonce, no session used.
/// </summary>
public abstract class DpopResourceRefusalTests(ServerFixture fixture)
{
    /// <summary>What a credential request presents: the Authorization scheme, the token, the DPoP header (null: none).</summary>
    private sealed record Presented(string Scheme, string Token, string? Proof);

    /// <summary>The tokens and keys a row is made of: a token bound to Key, a bearer token, and a key of no token.</summary>
    private sealed record Tokens(DpopTenant T, DpopKey Key, DpopKey Other, string Bound, string Unbound);

    /// <summary>A bad request, the error it gets, and whether it may record one jti (its proof passed every check of its own).</summary>
    private sealed record Row(Func<Tokens, Presented> Present, string Error, bool RecordsJti = false, bool UsesUnboundToken = false);

    private static readonly Dictionary<string, Row> Rows = new(StringComparer.Ordinal)
    {
        ["a proof of another key"] = new(x => new("DPoP", x.Bound, x.T.CredentialProof(x.Other, x.Bound)), "invalid_token", RecordsJti: true),
        ["ath missing"] = new(x => new("DPoP", x.Bound, x.Key.Proof("POST", x.T.CredentialUrl, x.T.Now)), "invalid_dpop_proof"),
        ["ath of another token"] = new(x => new("DPoP", x.Bound, x.T.CredentialProof(x.Key, x.Unbound)), "invalid_dpop_proof"),
        ["ath of the token in another encoding (hex)"] = new(
            x => new("DPoP", x.Bound, x.Key.Proof("POST", x.T.CredentialUrl, x.T.Now, payload: p => p["ath"] = Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(x.Bound))))),
            "invalid_dpop_proof"),
        ["the bound token as Bearer, with a proof"] = new(x => new("Bearer", x.Bound, x.T.CredentialProof(x.Key, x.Bound)), "invalid_token"),
        ["the bound token as Bearer, no proof"] = new(x => new("Bearer", x.Bound, null), "invalid_token"),
        ["the bound token with the DPoP scheme, no proof"] = new(x => new("DPoP", x.Bound, null), "invalid_dpop_proof"),
        ["htu of the token endpoint"] = new(x => new("DPoP", x.Bound, x.Key.Proof("POST", x.T.TokenUrl, x.T.Now, accessToken: x.Bound)), "invalid_dpop_proof"),
        ["htu of the notification endpoint"] = new(x => new("DPoP", x.Bound, x.Key.Proof("POST", x.T.NotificationUrl, x.T.Now, accessToken: x.Bound)), "invalid_dpop_proof"),
        ["htm GET"] = new(x => new("DPoP", x.Bound, x.Key.Proof("GET", x.T.CredentialUrl, x.T.Now, accessToken: x.Bound)), "invalid_dpop_proof"),
        ["iat 6 minutes old"] = new(x => new("DPoP", x.Bound, x.Key.Proof("POST", x.T.CredentialUrl, x.T.Now - TimeSpan.FromMinutes(6), accessToken: x.Bound)), "invalid_dpop_proof"),
        ["typ jwt"] = new(x => new("DPoP", x.Bound, x.Key.Proof("POST", x.T.CredentialUrl, x.T.Now, accessToken: x.Bound, header: h => h["typ"] = "jwt")), "invalid_dpop_proof"),
        ["two good proofs in one DPoP header"] = new(x => new("DPoP", x.Bound, x.T.CredentialProof(x.Key, x.Bound) + ", " + x.T.CredentialProof(x.Key, x.Bound)), "invalid_dpop_proof"),
        ["an unbound token with the DPoP scheme"] = new(x => new("DPoP", x.Unbound, x.T.CredentialProof(x.Key, x.Unbound)), "invalid_token", UsesUnboundToken: true),
        ["an unbound token with the DPoP scheme, no proof"] = new(x => new("DPoP", x.Unbound, null), "invalid_token", UsesUnboundToken: true),
    };

    public static TheoryData<string> RowNames => [.. Rows.Keys];

    [Theory]
    [MemberData(nameof(RowNames))]
    public async Task Credential_Refused_401WithDpopChallenge_ChangesOnlyWhatIsAllowed_ThenTheSameRequestSucceeds(string why)
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Optional);
        using var key = new DpopKey();
        using var other = new DpopKey();
        using var holder = new HolderKey();
        var tokens = new Tokens(t, key, other, await t.AccessTokenAsync(key), await t.AccessTokenAsync(null));
        var row = Rows[why];
        var presented = row.Present(tokens);
        var body = await t.CredentialBodyAsync(holder);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var reply = await t.CredentialAsync(presented.Scheme, presented.Token, body, presented.Proof);

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        DpopAssert.DpopChallenge(reply, row.Error);
        Assert.Null(reply.DpopNonce);
        var delta = DpopAssert.OnlyChanged(before, after, why, row.RecordsJti ? ["dpop_proofs"] : []);
        if (row.RecordsJti) DpopAssert.OneNewRow(delta, "dpop_proofs");

        // The same body, sent right: the refusal used neither the c_nonce nor the session.
        var right = row.UsesUnboundToken
            ? await t.CredentialAsync("Bearer", tokens.Unbound, body, null)
            : await t.CredentialAsync("DPoP", tokens.Bound, body, t.CredentialProof(key, tokens.Bound));
        Assert.True(right.Status == HttpStatusCode.OK, $"{why}, then sent right: {right}");
        Assert.False(string.IsNullOrEmpty(right.Json.GetProperty("credentials")[0].GetProperty("credential").GetString()));
    }

    [Fact]
    public async Task Credential_BoundToken_ProofReplayed_SecondIsInvalidDpopProof()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Optional);
        using var key = new DpopKey();
        using var holder = new HolderKey();
        var token = await t.AccessTokenAsync(key);
        var proof = t.CredentialProof(key, token);
        // A request that fails after the proof passed (no body): the jti is spent.
        var first = await DpopHttp.SendAsync(Authorized(t, token, null), proof);
        Assert.True(first.StatusCode == 400, $"first: {first}");
        var body = await t.CredentialBodyAsync(holder);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var replayed = await t.CredentialAsync("DPoP", token, body, proof);

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        DpopAssert.DpopChallenge(replayed, "invalid_dpop_proof");
        DpopAssert.OnlyChanged(before, after, "replayed proof");
    }

    [Fact]
    public async Task Notification_BoundToken_AsBearerWithoutAthOrForAnotherUrl_Refused_ChangesNothing_ThenSentRightIsRecorded()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Optional);
        using var key = new DpopKey();
        using var holder = new HolderKey();
        var token = await t.AccessTokenAsync(key);
        var issued = await t.CredentialAsync("DPoP", token, await t.CredentialBodyAsync(holder), t.CredentialProof(key, token));
        Assert.True(issued.Status == HttpStatusCode.OK, $"credential: {issued}");
        var notification = new JsonObject { ["notification_id"] = issued.Text("notification_id"), ["event"] = "credential_accepted" };
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var asBearer = await DpopHttp.PostJsonAsync(t.Host, t.NotificationUrl, "Bearer", token, notification, null);
        var noAth = await DpopHttp.PostJsonAsync(t.Host, t.NotificationUrl, "DPoP", token, notification, key.Proof("POST", t.NotificationUrl, t.Now));
        var wrongHtu = await DpopHttp.PostJsonAsync(t.Host, t.NotificationUrl, "DPoP", token, notification, key.Proof("POST", t.CredentialUrl, t.Now, accessToken: token));

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        DpopAssert.DpopChallenge(asBearer, "invalid_token");
        DpopAssert.DpopChallenge(noAth, "invalid_dpop_proof");
        DpopAssert.DpopChallenge(wrongHtu, "invalid_dpop_proof");
        DpopAssert.OnlyChanged(before, after, "refused notifications");
        var right = await DpopHttp.PostJsonAsync(t.Host, t.NotificationUrl, "DPoP", token, notification, key.Proof("POST", t.NotificationUrl, t.Now, accessToken: token));
        Assert.True(right.Status == HttpStatusCode.NoContent, $"notification sent right: {right}");
        var credential = Assert.Single((await DatabaseSnapshot.TakeAsync(fixture))["issued_credentials"], r => r["tenant_id"] == t.TenantId);
        Assert.Equal("credential_accepted", credential["notification_event"]);
    }

    [Fact]
    public async Task Credential_NonceRequired_ProofWithoutNonce_401UseDpopNonceWithOne_ThenThatNonceSucceeds()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required, requireNonce: true);
        using var key = new DpopKey();
        using var holder = new HolderKey();
        var token = await t.AccessTokenAsync(key);
        var body = await t.CredentialBodyAsync(holder);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var refused = await t.CredentialAsync("DPoP", token, body, t.CredentialProof(key, token));

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        DpopAssert.DpopChallenge(refused, "use_dpop_nonce");
        Assert.False(string.IsNullOrEmpty(refused.DpopNonce), $"no DPoP-Nonce: {refused}");
        DpopAssert.OnlyChanged(before, after, "no nonce at the credential endpoint");
        var retried = await t.CredentialAsync("DPoP", token, body, t.CredentialProof(key, token, refused.DpopNonce));
        Assert.True(retried.Status == HttpStatusCode.OK, $"with the nonce: {retried}");
        Assert.False(string.IsNullOrEmpty(retried.DpopNonce));
    }

    private static HttpRequestMessage Authorized(DpopTenant t, string token, HttpContent? content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, DpopHttp.On(t.Host, t.CredentialUrl)) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", "DPoP " + token);
        return request;
    }
}

public sealed class DpopResourceRefusalTests_Sqlite(SqliteServerFixture fixture)
    : DpopResourceRefusalTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class DpopResourceRefusalTests_Postgres(PostgresServerFixture fixture)
    : DpopResourceRefusalTests(fixture), IClassFixture<PostgresServerFixture>;
