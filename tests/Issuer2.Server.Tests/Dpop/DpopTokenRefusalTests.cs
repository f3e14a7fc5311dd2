using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Issuer2.Core.Offers;
using Issuer2.Core.Wallet;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Dpop;

/// <summary>
/// The token endpoint of a tenant that requires DPoP, with proofs made by hand: each bad proof differs from a good one
/// in one thing, is answered 400 invalid_dpop_proof (or use_dpop_nonce, with a fresh DPoP-Nonce) with the spec's body,
/// and — compared on a snapshot of every table — changes nothing: no code consumed, no token, no jti recorded. The
/// same code then redeems with a good proof.
/// </summary>
public abstract class DpopTokenRefusalTests(ServerFixture fixture)
{
    /// <summary>A bad proof for POST {issuer}/token, made by the test's key (null: no DPoP header).</summary>
    private static readonly Dictionary<string, Func<DpopTenant, DpopKey, string?>> BadProofs = new(StringComparer.Ordinal)
    {
        ["no proof (the tenant requires one)"] = (_, _) => null,
        ["htm GET"] = (t, k) => k.Proof("GET", t.TokenUrl, t.Now),
        ["htm post (lower case)"] = (t, k) => k.Proof("post", t.TokenUrl, t.Now),
        ["htu of the credential endpoint"] = (t, k) => k.Proof("POST", t.CredentialUrl, t.Now),
        ["htu of another tenant's token endpoint"] = (t, k) => k.Proof("POST", $"{t.Host}/{ServerFixture.NewTenantId()}/token", t.Now),
        ["htu on another host"] = (t, k) => k.Proof("POST", t.TokenUrl.Replace("127.0.0.1", "127.0.0.2", StringComparison.Ordinal), t.Now),
        ["htu with https for http"] = (t, k) => k.Proof("POST", t.TokenUrl.Replace("http://", "https://", StringComparison.Ordinal), t.Now),
        ["no htu"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, payload: p => p.Remove("htu")),
        ["typ jwt"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, header: h => h["typ"] = "jwt"),
        ["typ of a key proof"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, header: h => h["typ"] = HolderKey.ProofType),
        ["no typ"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, header: h => h.Remove("typ")),
        ["alg none, unsigned"] = (t, k) => HolderKey.WithoutSignature(NoneHeader(k), DpopKey.Payload("POST", t.TokenUrl, t.Now)),
        ["alg none, with an ES256 signature"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, header: h => h["alg"] = "none"),
        ["alg HS256 (HMAC)"] = (t, k) => Hs256(k, DpopKey.Payload("POST", t.TokenUrl, t.Now)),
        ["a private key in jwk"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, header: h => h["jwk"] = k.Key.PrivateJwk()),
        ["no jwk"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, header: h => h.Remove("jwk")),
        ["signed by another key than its jwk"] = (t, k) => SignedByAnother(DpopKey.Payload("POST", t.TokenUrl, t.Now), k),
        ["iat 6 minutes old"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now - TimeSpan.FromMinutes(6)),
        ["iat 2 minutes ahead"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now + TimeSpan.FromMinutes(2)),
        ["no iat"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, payload: p => p.Remove("iat")),
        ["no jti"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, payload: p => p.Remove("jti")),
        ["iat a string"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, payload: p => p["iat"] = t.Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
        ["jti of 257 characters"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, payload: p => p["jti"] = new string('j', 257)),
        ["alg RS256 with an RSA jwk"] = (t, _) => Rs256(DpopKey.Payload("POST", t.TokenUrl, t.Now)),
        ["two good proofs in one DPoP header"] = (t, k) => t.TokenProof(k) + ", " + t.TokenProof(k),
        ["not a JWT"] = (_, _) => "not-a-jwt",
        ["htu path in upper case"] = (t, k) => k.Proof("POST", $"{t.Host}/{t.TenantId}/TOKEN", t.Now),
        ["htu with a trailing slash"] = (t, k) => k.Proof("POST", t.TokenUrl + "/", t.Now),
        ["htu with user information"] = (t, k) => k.Proof("POST", t.TokenUrl.Replace("http://", "http://user@", StringComparison.Ordinal), t.Now),
        ["htu relative"] = (t, k) => k.Proof("POST", $"/{t.TenantId}/token", t.Now),
    };

    /// <summary>Proofs that differ from the plainest good one in what RFC 9449 §4.3 lets them differ in.</summary>
    private static readonly Dictionary<string, Func<DpopTenant, DpopKey, string>> AllowedVariants = new(StringComparer.Ordinal)
    {
        ["htu with a query"] = (t, k) => k.Proof("POST", t.TokenUrl + "?x=1", t.Now),
        ["htu with a fragment"] = (t, k) => k.Proof("POST", t.TokenUrl + "#f", t.Now),
        ["htu scheme and host in upper case"] = (t, k) => k.Proof("POST", t.TokenUrl.Replace("http://", "HTTP://", StringComparison.Ordinal), t.Now),
        ["htu with a dot segment"] = (t, k) => k.Proof("POST", $"{t.Host}/{t.TenantId}/x/../token", t.Now),
        ["htu with an unreserved character percent-encoded"] = (t, k) => k.Proof("POST", $"{t.Host}/{t.TenantId}/%74oken", t.Now),
        ["iat 55 seconds ahead"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now + TimeSpan.FromSeconds(55)),
        ["iat 4 minutes 55 seconds old"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now - TimeSpan.FromSeconds(295)),
        ["jwk with kid, use and alg members"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, header: h =>
        {
            var jwk = k.Key.PublicJwk();
            jwk["kid"] = "wallet-dpop-1";
            jwk["use"] = "sig";
            jwk["alg"] = "ES256";
            h["jwk"] = jwk;
        }),
        ["jwk members in canonical order"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, header: h =>
        {
            var jwk = k.Key.PublicJwk();
            h["jwk"] = new JsonObject { ["crv"] = "P-256", ["kty"] = "EC", ["x"] = jwk["x"]!.GetValue<string>(), ["y"] = jwk["y"]!.GetValue<string>() };
        }),
        ["a jti of 256 characters"] = (t, k) => k.Proof("POST", t.TokenUrl, t.Now, payload: p => p["jti"] = new string('j', 200) + Guid.NewGuid().ToString("N")[..24] + new string('j', 32)),
    };

    public static TheoryData<string> AllowedVariantNames => [.. AllowedVariants.Keys];

    [Theory]
    [MemberData(nameof(AllowedVariantNames))]
    public async Task Token_ProofVariantTheRfcAllows_Accepted_TokenBoundToTheKeysThumbprint(string why)
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required);
        using var key = new DpopKey();

        var reply = await t.RedeemAsync(await t.CodeAsync(), AllowedVariants[why](t, key));

        Assert.True(reply.Status == HttpStatusCode.OK && reply.Text("token_type") == "DPoP", $"{why}: {reply}");
        Assert.Equal([key.Thumbprint], DpopAssert.BoundKeys(await DatabaseSnapshot.TakeAsync(fixture), t.TenantId));
    }

    public static TheoryData<string> BadProofNames => [.. BadProofs.Keys];

    [Theory]
    [MemberData(nameof(BadProofNames))]
    public async Task Token_BadProof_InvalidDpopProof_ChangesNothing_CodeStillRedeems(string why)
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required);
        using var key = new DpopKey();
        var code = await t.CodeAsync();
        var proof = BadProofs[why](t, key);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var reply = await t.RedeemAsync(code, proof);

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(reply.Status == HttpStatusCode.BadRequest && reply.Error == "invalid_dpop_proof", $"{why}: {reply}");
        DpopAssert.SpecBody(reply);
        Assert.Null(reply.WwwAuthenticate);
        DpopAssert.OnlyChanged(before, after, why);
        var good = await t.RedeemAsync(code, t.TokenProof(key));
        Assert.True(good.Status == HttpStatusCode.OK && good.Text("token_type") == "DPoP", $"{why}, then a good proof: {good}");
    }

    [Fact]
    public async Task Token_TwoDpopHeaderLines_InvalidDpopProof_ChangesNothing()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required);
        using var key = new DpopKey();
        var code = await t.CodeAsync();
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var (status, body) = await DpopHttp.PostFormWithHeaderLinesAsync(t.Host, t.TokenUrl, DpopHttp.Form(DpopHttp.PreAuthorized(code)), t.TokenProof(key), t.TokenProof(key));

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(status == 400 && body.Contains("\"invalid_dpop_proof\"", StringComparison.Ordinal), $"two DPoP headers: {status} {body}");
        DpopAssert.OnlyChanged(before, after, "two DPoP headers");
        var (single, _) = await DpopHttp.PostFormWithHeaderLinesAsync(t.Host, t.TokenUrl, DpopHttp.Form(DpopHttp.PreAuthorized(code)), t.TokenProof(key));
        Assert.Equal(200, single);
    }

    [Fact]
    public async Task Token_SameProofTwice_SecondIsRefusedAsReplay_ChangesNothing()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required);
        using var key = new DpopKey();
        var (first, second) = (await t.CodeAsync(), await t.CodeAsync());
        var proof = t.TokenProof(key);
        var redeemed = await t.RedeemAsync(first, proof);
        Assert.True(redeemed.Status == HttpStatusCode.OK, $"first: {redeemed}");
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var replayed = await t.RedeemAsync(second, proof);

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(replayed.Status == HttpStatusCode.BadRequest && replayed.Error == "invalid_dpop_proof", $"replay: {replayed}");
        Assert.Contains("replayed", replayed.Json.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        DpopAssert.OnlyChanged(before, after, "replay");
        var fresh = await t.RedeemAsync(second, t.TokenProof(key));
        Assert.Equal(HttpStatusCode.OK, fresh.Status);
    }

    [Fact]
    public async Task Token_SameJtiInANewProof_IsRefusedAsReplay_AnotherKeysJtiIsItsOwn()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required);
        using var key = new DpopKey();
        using var other = new DpopKey();
        var jti = Guid.NewGuid().ToString();
        var redeemed = await t.RedeemAsync(await t.CodeAsync(), key.Proof("POST", t.TokenUrl, t.Now, payload: p => p["jti"] = jti));
        Assert.True(redeemed.Status == HttpStatusCode.OK, $"first: {redeemed}");
        var code = await t.CodeAsync();
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        // A new proof (a second later) with the jti of the first.
        var replayed = await t.RedeemAsync(code, key.Proof("POST", t.TokenUrl, t.Now + TimeSpan.FromSeconds(1), payload: p => p["jti"] = jti));

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(replayed.Status == HttpStatusCode.BadRequest && replayed.Error == "invalid_dpop_proof", $"replay: {replayed}");
        DpopAssert.OnlyChanged(before, after, "same jti");
        // The jti is single-use per key: another key's proof with that jti is not a replay.
        var byOther = await t.RedeemAsync(code, other.Proof("POST", t.TokenUrl, t.Now, payload: p => p["jti"] = jti));
        Assert.True(byOther.Status == HttpStatusCode.OK, $"other key: {byOther}");
    }

    [Fact]
    public async Task Token_GoodProof_TokenIsDpop_StoredWithTheKeysThumbprint_OneJtiRecorded()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required);
        using var key = new DpopKey();
        var code = await t.CodeAsync();
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var reply = await t.RedeemAsync(code, t.TokenProof(key));

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(reply.Status == HttpStatusCode.OK, $"token: {reply}");
        Assert.Equal("DPoP", reply.Text("token_type"));
        Assert.Null(reply.DpopNonce);
        var delta = DatabaseDelta.Between(before, after);
        Assert.Equal([key.Thumbprint], DpopAssert.BoundKeys(after, t.TenantId));
        // The jti's row lives until the proof could no longer be accepted anywhere: iat + 5 min + 60 s.
        var recorded = DpopAssert.OneNewRow(delta, "dpop_proofs");
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(t.Now.ToUnixTimeSeconds());
        Assert.Equal(issuedAt + TimeSpan.FromMinutes(6), StoredTime(recorded["expires_at"]!));
    }

    [Fact]
    public async Task Token_OptionalTenant_WithoutProof_BearerToken_NoKeyStored()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Optional);

        var reply = await t.RedeemAsync(await t.CodeAsync(), null);

        Assert.True(reply.Status == HttpStatusCode.OK, $"token: {reply}");
        Assert.Equal("Bearer", reply.Text("token_type"));
        Assert.Equal([null], DpopAssert.BoundKeys(await DatabaseSnapshot.TakeAsync(fixture), t.TenantId));
    }

    [Fact]
    public async Task Token_OptionalTenant_BadProof_IsRefused_NotIgnored()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Optional);
        using var key = new DpopKey();

        var reply = await t.RedeemAsync(await t.CodeAsync(), key.Proof("POST", t.CredentialUrl, t.Now));

        Assert.True(reply.Status == HttpStatusCode.BadRequest && reply.Error == "invalid_dpop_proof", $"token: {reply}");
    }

    [Fact]
    public async Task Token_OffTenant_ProofIsIgnored_BearerToken_NoJtiRecorded()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Off);
        using var key = new DpopKey();
        var code = await t.CodeAsync();
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var reply = await t.RedeemAsync(code, t.TokenProof(key));

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(reply.Status == HttpStatusCode.OK, $"token: {reply}");
        Assert.Equal("Bearer", reply.Text("token_type"));
        Assert.Equal([null], DpopAssert.BoundKeys(after, t.TenantId));
        Assert.Equal(before.Checksum("dpop_proofs"), after.Checksum("dpop_proofs"));
    }

    [Fact]
    public async Task Token_NonceRequired_ProofWithoutNonce_UseDpopNonceWithOne_ChangesNothing_ThenThatNonceSucceeds()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required, requireNonce: true);
        using var key = new DpopKey();
        var code = await t.CodeAsync();
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var refused = await t.RedeemAsync(code, t.TokenProof(key));

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(refused.Status == HttpStatusCode.BadRequest && refused.Error == "use_dpop_nonce", $"no nonce: {refused}");
        DpopAssert.SpecBody(refused);
        Assert.False(string.IsNullOrEmpty(refused.DpopNonce), $"no DPoP-Nonce header: {refused}");
        DpopAssert.OnlyChanged(before, after, "no nonce");

        var retried = await t.RedeemAsync(code, t.TokenProof(key, refused.DpopNonce));

        Assert.True(retried.Status == HttpStatusCode.OK, $"with the nonce: {retried}");
        Assert.Equal("DPoP", retried.Text("token_type"));
        // RFC 9449 §8.2: a fresh nonce for the next request comes with the answer.
        Assert.False(string.IsNullOrEmpty(retried.DpopNonce));
        Assert.Equal([key.Thumbprint], DpopAssert.BoundKeys(await DatabaseSnapshot.TakeAsync(fixture), t.TenantId));
    }

    [Fact]
    public async Task Token_NonceNotRequired_ANonceInTheProofIsIgnored()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required);
        using var key = new DpopKey();

        var reply = await t.RedeemAsync(await t.CodeAsync(), t.TokenProof(key, "a-nonce-this-issuer-never-gave"));

        Assert.True(reply.Status == HttpStatusCode.OK, $"token: {reply}");
        Assert.Null(reply.DpopNonce);
    }

    [Fact]
    public async Task Token_NonceRequired_NoProofAtAll_IsInvalidDpopProof()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required, requireNonce: true);

        var reply = await t.RedeemAsync(await t.CodeAsync(), null);

        Assert.True(reply.Status == HttpStatusCode.BadRequest && reply.Error == "invalid_dpop_proof", $"no proof: {reply}");
    }

    /// <summary>Nonces that are not a current DPoP-Nonce of the tenant.</summary>
    private static readonly Dictionary<string, Func<DpopTenant, DpopTenant, Task<string>>> ForgedNonces = new(StringComparer.Ordinal)
    {
        ["random text"] = (_, _) => Task.FromResult(Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32))),
        ["a DPoP-Nonce of another tenant"] = async (_, other) => (await DpopHttp.PostAsync(other.Host, other.Issuer + "/nonce")).DpopNonce!,
        ["a c_nonce of the tenant"] = (t, _) => t.CNonceAsync(),
        ["a DPoP-Nonce with its last character changed"] = async (t, _) =>
        {
            var nonce = (await DpopHttp.PostAsync(t.Host, t.Issuer + "/nonce")).DpopNonce!;
            return nonce[..^1] + (nonce[^1] == 'A' ? 'B' : 'A');
        },
        ["empty"] = (_, _) => Task.FromResult(""),
    };

    public static TheoryData<string> ForgedNonceNames => [.. ForgedNonces.Keys];

    [Theory]
    [MemberData(nameof(ForgedNonceNames))]
    public async Task Token_ForgedNonce_UseDpopNonceWithAFreshOne_ChangesNothing(string why)
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required, requireNonce: true);
        var other = await DpopTenant.CreateAsync(fixture, DpopMode.Required, requireNonce: true);
        using var key = new DpopKey();
        var code = await t.CodeAsync();
        var forged = await ForgedNonces[why](t, other);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var refused = await t.RedeemAsync(code, t.TokenProof(key, forged));

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(refused.Status == HttpStatusCode.BadRequest && refused.Error == "use_dpop_nonce", $"{why}: {refused}");
        Assert.False(string.IsNullOrEmpty(refused.DpopNonce));
        Assert.NotEqual(forged, refused.DpopNonce);
        DpopAssert.OnlyChanged(before, after, why);
        var retried = await t.RedeemAsync(code, t.TokenProof(key, refused.DpopNonce));
        Assert.True(retried.Status == HttpStatusCode.OK, $"{why}, then the fresh nonce: {retried}");
    }

    [Fact]
    public async Task NonceEndpoint_GivesADpopNonce_OnlyWhenTheTenantRequiresThem_AndItIsAcceptedAtTheTokenEndpoint()
    {
        var requiring = await DpopTenant.CreateAsync(fixture, DpopMode.Required, requireNonce: true);
        var notRequiring = await DpopTenant.CreateAsync(fixture, DpopMode.Required);
        using var key = new DpopKey();

        var given = await DpopHttp.PostAsync(requiring.Host, requiring.Issuer + "/nonce");
        var none = await DpopHttp.PostAsync(notRequiring.Host, notRequiring.Issuer + "/nonce");

        Assert.Equal(HttpStatusCode.OK, given.Status);
        Assert.False(string.IsNullOrEmpty(given.DpopNonce));
        Assert.Equal(HttpStatusCode.OK, none.Status);
        Assert.Null(none.DpopNonce);
        var redeemed = await requiring.RedeemAsync(await requiring.CodeAsync(), requiring.TokenProof(key, given.DpopNonce));
        Assert.True(redeemed.Status == HttpStatusCode.OK, $"with the nonce endpoint's DPoP-Nonce: {redeemed}");
    }

    /// <summary>A stored instant: UTC ticks on SQLite, an ISO 8601 timestamp from PostgreSQL's row_to_json.</summary>
    private static DateTimeOffset StoredTime(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? new DateTimeOffset(ticks, TimeSpan.Zero)
            : DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static JsonObject NoneHeader(DpopKey key)
    {
        var header = key.Header();
        header["alg"] = "none";
        return header;
    }

    /// <summary>An HS256 proof: a MAC under a secret, the header naming the key's public jwk.</summary>
    private static string Hs256(DpopKey key, JsonObject payload)
    {
        var header = key.Header();
        header["alg"] = "HS256";
        var input = HolderKey.Encode(header) + "." + HolderKey.Encode(payload);
        var mac = HMACSHA256.HashData(Encoding.ASCII.GetBytes("a-shared-secret-of-32-bytes-long"), Encoding.ASCII.GetBytes(input));
        return input + "." + Base64Url.EncodeToString(mac);
    }

    /// <summary>An RS256 proof with its RSA public key as jwk: asymmetric, but not an algorithm of the list.</summary>
    private static string Rs256(JsonObject payload)
    {
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        var header = new JsonObject
        {
            ["typ"] = DpopKey.ProofType, ["alg"] = "RS256",
            ["jwk"] = new JsonObject { ["kty"] = "RSA", ["n"] = Base64Url.EncodeToString(parameters.Modulus), ["e"] = Base64Url.EncodeToString(parameters.Exponent) },
        };
        var input = HolderKey.Encode(header) + "." + HolderKey.Encode(payload);
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return input + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>A proof naming <paramref name="named"/>'s jwk, signed by a key of its own.</summary>
    private static string SignedByAnother(JsonObject payload, DpopKey named)
    {
        using var signer = new DpopKey();
        return signer.Key.Sign(named.Header(), payload);
    }
}

public sealed class DpopTokenRefusalTests_Sqlite(SqliteServerFixture fixture)
    : DpopTokenRefusalTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class DpopTokenRefusalTests_Postgres(PostgresServerFixture fixture)
    : DpopTokenRefusalTests(fixture), IClassFixture<PostgresServerFixture>;

/// <summary>
/// A DPoP-Nonce outlives its 5 minutes on the host's clock: these tests move the clock, so they have a host of their own.
/// </summary>
public abstract class DpopNonceExpiryTests(ServerFixture fixture)
{
    [Fact]
    public async Task Token_NonceOlderThanFiveMinutes_UseDpopNonceWithAFreshOne_ChangesNothing_ThenTheFreshOneSucceeds()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required, requireNonce: true);
        using var key = new DpopKey();
        var stale = (await DpopHttp.PostAsync(t.Host, t.Issuer + "/nonce")).DpopNonce!;
        await AdvanceAsync(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var code = await t.CodeAsync();
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        // The proof itself is fresh (iat now): only the nonce is stale.
        var refused = await t.RedeemAsync(code, t.TokenProof(key, stale));

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(refused.Status == HttpStatusCode.BadRequest && refused.Error == "use_dpop_nonce", $"stale nonce: {refused}");
        Assert.False(string.IsNullOrEmpty(refused.DpopNonce));
        Assert.NotEqual(stale, refused.DpopNonce);
        DpopAssert.OnlyChanged(before, after, "stale nonce");
        var retried = await t.RedeemAsync(code, t.TokenProof(key, refused.DpopNonce));
        Assert.True(retried.Status == HttpStatusCode.OK, $"then the fresh nonce: {retried}");
    }

    [Fact]
    public async Task Token_NonceJustUnderFiveMinutesOld_IsAccepted()
    {
        var t = await DpopTenant.CreateAsync(fixture, DpopMode.Required, requireNonce: true);
        using var key = new DpopKey();
        var nonce = (await DpopHttp.PostAsync(t.Host, t.Issuer + "/nonce")).DpopNonce!;
        await AdvanceAsync(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(5));

        var reply = await t.RedeemAsync(await t.CodeAsync(), t.TokenProof(key, nonce));

        Assert.True(reply.Status == HttpStatusCode.OK, $"a nonce 4:55 old: {reply}");
    }

    /// <summary>
    /// Moves the host's clock, then purges what expired by then. Note: the move wakes the host's maintenance, which
    /// would purge other tests' expired rows (tokens) in the middle of a snapshot comparison; purged here first, before
    /// any snapshot, it finds nothing left to change.
    /// </summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        fixture.Time.Advance(by);
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var offers = scope.ServiceProvider.GetRequiredService<IOfferStore>();
        var wallet = scope.ServiceProvider.GetRequiredService<IWalletRetention>();
        while (await offers.PurgeExpiredRequestsAsync(fixture.Now, 1000, CancellationToken.None) + await wallet.PurgeExpiredAsync(fixture.Now, 1000, CancellationToken.None) > 0)
        {
        }
    }
}

public sealed class DpopNonceExpiryTests_Sqlite(SqliteServerFixture fixture)
    : DpopNonceExpiryTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class DpopNonceExpiryTests_Postgres(PostgresServerFixture fixture)
    : DpopNonceExpiryTests(fixture), IClassFixture<PostgresServerFixture>;
