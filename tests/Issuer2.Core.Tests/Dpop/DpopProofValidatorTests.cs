using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Dpop;
using Issuer2.Core.Nonces;
using Issuer2.Core.Security;
using Issuer2.Core.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace Issuer2.Core.Tests.Dpop;

/// <summary>
/// RFC 9449 §4.3, check by check: each bad proof differs from a good one in one thing only, is refused for that thing,
/// and records no jti; a missing or bad nonce, when one is required, is answered with a fresh one.
/// </summary>
public sealed class DpopProofValidatorTests : IDisposable
{
    private const string Tenant = TestBed.TenantId;
    private const string TokenUrl = "https://issuer.example/acme/token";
    private const string CredentialUrl = "https://issuer.example/acme/credential";
    private const string AccessToken = "an-opaque-access-token-4f1c";

    private static readonly DpopRequest AtToken = new("POST", TokenUrl);
    private static readonly DpopRequest AtCredential = new("POST", CredentialUrl, AccessToken);

    private readonly FakeTimeProvider _clock = new(TestBed.Start);
    private readonly HolderKey _holder = new();
    private readonly HolderKey _otherHolder = new();
    private readonly InMemoryDpopReplayStore _replays = new();
    private readonly DpopNonces _nonces;
    private readonly DpopProofValidator _validator;

    public DpopProofValidatorTests()
    {
        _nonces = new DpopNonces(TestBed.NonceKeysOf(1, _clock), _clock);
        _validator = new DpopProofValidator(_nonces, _replays, _clock);
    }

    public void Dispose()
    {
        _holder.Dispose();
        _otherHolder.Dispose();
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    private JsonObject Header() => new() { ["typ"] = "dpop+jwt", ["alg"] = "ES256", ["jwk"] = _holder.PublicJwk() };

    private JsonObject Payload(string htu = TokenUrl, DateTimeOffset? issuedAt = null) => new()
    {
        ["jti"] = Guid.NewGuid().ToString(),
        ["htm"] = "POST",
        ["htu"] = htu,
        ["iat"] = (issuedAt ?? Now).ToUnixTimeSeconds(),
    };

    private JsonObject ResourcePayload(string? ath = null)
    {
        var payload = Payload(CredentialUrl);
        payload["ath"] = ath ?? DpopProofValidator.TokenHash(AccessToken);
        return payload;
    }

    /// <summary>A proof by the holder: a good one, changed by <paramref name="header"/> and <paramref name="payload"/>.</summary>
    private string Proof(Action<JsonObject>? header = null, Action<JsonObject>? payload = null, JsonObject? basePayload = null)
    {
        var h = Header();
        var p = basePayload ?? Payload();
        header?.Invoke(h);
        payload?.Invoke(p);
        return _holder.Sign(h, p);
    }

    private Task<Result<ValidatedDpopProof, DpopRefusal>> Validate(string proof, DpopRequest? request = null, bool requireNonce = false) =>
        _validator.ValidateAsync(Tenant, proof, request ?? AtToken, requireNonce, default);

    private static string Hs256(JsonObject header, JsonObject payload)
    {
        var input = HolderKey.Encode(header) + "." + HolderKey.Encode(payload);
        var mac = HMACSHA256.HashData(Encoding.ASCII.GetBytes("a-shared-secret-of-32-bytes-long"), Encoding.ASCII.GetBytes(input));
        return input + "." + Base64Url.EncodeToString(mac);
    }

    private static string Rs256(int keySize, JsonObject payload)
    {
        using var rsa = RSA.Create(keySize);
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        var header = new JsonObject
        {
            ["typ"] = "dpop+jwt", ["alg"] = "RS256",
            ["jwk"] = new JsonObject { ["kty"] = "RSA", ["n"] = Base64Url.EncodeToString(parameters.Modulus), ["e"] = Base64Url.EncodeToString(parameters.Exponent) },
        };
        var input = HolderKey.Encode(header) + "." + HolderKey.Encode(payload);
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return input + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>One refusal: the proof (made by the test instance), the request it is sent with, and a word its description names.</summary>
    private sealed record Refusal(Func<DpopProofValidatorTests, string> Proof, string Says, bool AtResource = false);

    private static readonly Dictionary<string, Refusal> Refusals = new(StringComparer.Ordinal)
    {
        // The strict reader.
        ["not a JWT"] = new(_ => "not-a-jwt", "compact"),
        ["empty"] = new(_ => "", "compact JWT"),
        ["unsigned (empty signature part)"] = new(t => HolderKey.WithoutSignature(t.Header(), t.Payload()), "three parts"),
        ["unknown crit header"] = new(t => t.Proof(header: h => { h["crit"] = new JsonArray("exp"); h["exp"] = 1; }), "crit"),
        ["jti a number"] = new(t => t.Proof(payload: p => p["jti"] = 42), "jti"),
        ["exp passed"] = new(t => t.Proof(payload: p => p["exp"] = (t.Now - TimeSpan.FromMinutes(2)).ToUnixTimeSeconds()), "expired"),

        // typ.
        ["no typ"] = new(t => t.Proof(header: h => h.Remove("typ")), "typ"),
        ["typ JWT"] = new(t => t.Proof(header: h => h["typ"] = "JWT"), "typ"),
        ["typ of a key proof"] = new(t => t.Proof(header: h => h["typ"] = "openid4vci-proof+jwt"), "typ"),
        ["typ in upper case"] = new(t => t.Proof(header: h => h["typ"] = "DPOP+JWT"), "typ"),

        // alg: asymmetric and of the list only.
        ["alg none"] = new(t => t.Proof(header: h => h["alg"] = "none"), "alg"),
        ["alg none, unsigned"] = new(t => { var h = t.Header(); h["alg"] = "none"; return HolderKey.WithoutSignature(h, t.Payload()); }, "three parts"),
        ["alg HS256"] = new(t => { var h = t.Header(); h["alg"] = "HS256"; return Hs256(h, t.Payload()); }, "alg"),
        ["alg RS256 with a 1024-bit key"] = new(t => Rs256(1024, t.Payload()), "alg"),
        ["alg RS256 with a 2048-bit key"] = new(t => Rs256(2048, t.Payload()), "alg"),
        ["alg ES384"] = new(t => t.Proof(header: h => h["alg"] = "ES384"), "alg"),

        // jwk: present, an object, public only, P-256.
        ["jwk missing"] = new(t => t.Proof(header: h => h.Remove("jwk")), "public key as a jwk"),
        ["jwk missing, kid instead"] = new(t => t.Proof(header: h => { h.Remove("jwk"); h["kid"] = t._holder.DidJwk(); }), "public key as a jwk"),
        ["jwk a string"] = new(t => t.Proof(header: h => h["jwk"] = "key"), "public key as a jwk"),
        ["private key in jwk"] = new(t => t.Proof(header: h => h["jwk"] = t._holder.PrivateJwk()), "private"),
        ["symmetric k in jwk"] = new(t => t.Proof(header: h => h["jwk"]!["k"] = "c2VjcmV0"), "private"),
        ["jwk of another curve"] = new(t => t.Proof(header: h => h["jwk"]!["crv"] = "P-384"), "P-256"),
        ["jwk of another key type"] = new(t => t.Proof(header: h => h["jwk"]!["kty"] = "OKP"), "P-256"),

        // Signature.
        ["signed by another key"] = new(t => t._otherHolder.Sign(t.Header(), t.Payload()), "signature"),
        ["signature of another proof"] = new(t => { var a = t.Proof(); var b = t.Proof(); return a[..a.LastIndexOf('.')] + b[b.LastIndexOf('.')..]; }, "signature"),

        // htm.
        ["htm missing"] = new(t => t.Proof(payload: p => p.Remove("htm")), "htm"),
        ["htm GET"] = new(t => t.Proof(payload: p => p["htm"] = "GET"), "htm"),
        ["htm in lower case"] = new(t => t.Proof(payload: p => p["htm"] = "post"), "htm"),

        // htu: the public URL of this endpoint.
        ["htu missing"] = new(t => t.Proof(payload: p => p.Remove("htu")), "htu"),
        ["htu of another endpoint"] = new(t => t.Proof(payload: p => p["htu"] = CredentialUrl), "htu"),
        ["htu of another tenant"] = new(t => t.Proof(payload: p => p["htu"] = "https://issuer.example/globex/token"), "htu"),
        ["htu of another host"] = new(t => t.Proof(payload: p => p["htu"] = "https://evil.example/acme/token"), "htu"),
        ["htu over http"] = new(t => t.Proof(payload: p => p["htu"] = "http://issuer.example/acme/token"), "htu"),
        ["htu on another port"] = new(t => t.Proof(payload: p => p["htu"] = "https://issuer.example:8443/acme/token"), "htu"),
        ["htu with user information"] = new(t => t.Proof(payload: p => p["htu"] = "https://wallet@issuer.example/acme/token"), "htu"),
        ["htu path in another case"] = new(t => t.Proof(payload: p => p["htu"] = "https://issuer.example/ACME/token"), "htu"),
        ["htu with a trailing slash"] = new(t => t.Proof(payload: p => p["htu"] = "https://issuer.example/acme/token/"), "htu"),
        ["htu relative"] = new(t => t.Proof(payload: p => p["htu"] = "/acme/token"), "htu"),
        ["htu with a backslash"] = new(t => t.Proof(payload: p => p["htu"] = "https://issuer.example\\acme/token"), "htu"),
        ["htu a number"] = new(t => t.Proof(payload: p => p["htu"] = 1), "htu"),

        // iat: at most MaxAge old, MaxAhead ahead.
        ["iat missing"] = new(t => t.Proof(payload: p => p.Remove("iat")), "iat"),
        ["iat too old"] = new(t => t.Proof(basePayload: t.Payload(issuedAt: t.Now - DpopProofValidator.MaxAge - TimeSpan.FromSeconds(1))), "too old"),
        ["iat too far ahead"] = new(t => t.Proof(basePayload: t.Payload(issuedAt: t.Now + DpopProofValidator.MaxAhead + TimeSpan.FromSeconds(1))), "future"),

        // jti.
        ["jti missing"] = new(t => t.Proof(payload: p => p.Remove("jti")), "jti"),
        ["jti empty"] = new(t => t.Proof(payload: p => p["jti"] = ""), "jti"),
        ["jti of 257 characters"] = new(t => t.Proof(payload: p => p["jti"] = new string('j', 257)), "jti"),

        // ath, at resource endpoints.
        ["ath missing at a resource"] = new(t => t.Proof(basePayload: t.ResourcePayload(), payload: p => p.Remove("ath")), "ath", AtResource: true),
        ["ath of another token"] = new(t => t.Proof(basePayload: t.ResourcePayload(DpopProofValidator.TokenHash("another-token"))), "ath", AtResource: true),
        ["ath of the token in hex"] = new(t => t.Proof(basePayload: t.ResourcePayload(Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(AccessToken))))), "ath", AtResource: true),
        ["ath with padding"] = new(t => t.Proof(basePayload: t.ResourcePayload(DpopProofValidator.TokenHash(AccessToken) + "=")), "ath", AtResource: true),
        ["ath a number"] = new(t => t.Proof(basePayload: t.ResourcePayload(), payload: p => p["ath"] = 1), "ath", AtResource: true),
    };

    public static TheoryData<string> RefusalNames => new(Refusals.Keys);

    // Refusals

    [Theory]
    [MemberData(nameof(RefusalNames))]
    public async Task Validate_BadProof_IsInvalidProofForThatThing_AndRecordsNoJti(string name)
    {
        var refusal = Refusals[name];
        var proof = refusal.Proof(this);

        var result = await Validate(proof, refusal.AtResource ? AtCredential : AtToken);

        Assert.Equal(DpopProblem.InvalidProof, result.Error?.Problem);
        Assert.Contains(refusal.Says, result.Error!.Description, StringComparison.Ordinal);
        Assert.Null(result.Error.Nonce);
        Assert.Empty(_replays.Recorded);
    }

    [Theory]
    [MemberData(nameof(RefusalNames))]
    public async Task Validate_BadProof_DescriptionFitsAWwwAuthenticateParameter(string name)
    {
        var refusal = Refusals[name];

        var result = await Validate(refusal.Proof(this), refusal.AtResource ? AtCredential : AtToken);

        Assert.True(IsQuotableAscii(result.Error!.Description), result.Error.Description);
    }

    [Fact]
    public async Task Validate_SameProofTwice_SecondIsRefusedAsReplayed()
    {
        var proof = Proof();
        var first = await Validate(proof);

        var second = await Validate(proof);

        Assert.True(first.IsSuccess);
        Assert.Equal(DpopProblem.InvalidProof, second.Error?.Problem);
        Assert.Contains("replayed", second.Error!.Description, StringComparison.Ordinal);
        Assert.Single(_replays.Recorded);
    }

    [Fact]
    public async Task Validate_SameJtiInANewProofOfTheSameKey_IsRefusedAsReplayed()
    {
        await Validate(Proof(payload: p => p["jti"] = "jti-1"));
        _clock.Advance(TimeSpan.FromSeconds(10));

        var again = await Validate(Proof(payload: p => p["jti"] = "jti-1"));

        Assert.Contains("replayed", again.Error?.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_SameJtiByTwoKeys_BothAreAccepted()
    {
        var payload = Payload();
        payload["jti"] = "shared-jti";
        var otherHeader = Header();
        otherHeader["jwk"] = _otherHolder.PublicJwk();

        var mine = await Validate(_holder.Sign(Header(), payload));
        var theirs = await Validate(_otherHolder.Sign(otherHeader, payload.DeepClone().AsObject()));

        Assert.True(mine.IsSuccess);
        Assert.True(theirs.IsSuccess);
        Assert.Equal(2, _replays.Recorded.Count);
    }

    [Fact]
    public async Task Validate_GoodProof_RecordsItsJtiForTheWindowAndOneSkew()
    {
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(Now.ToUnixTimeSeconds());
        await Validate(Proof(basePayload: Payload(issuedAt: issuedAt)));

        var expiresAt = Assert.Single(_replays.Recorded).Value;

        Assert.Equal(issuedAt + DpopProofValidator.MaxAge + DpopProofValidator.MaxAhead, expiresAt);
    }

    // Nonces: required, then missing or bad → use_dpop_nonce with a fresh one

    public static TheoryData<string> BadNonces => new() { "missing", "stale", "forged", "tampered", "other tenant", "a c_nonce", "another kek" };

    private string NonceFor(string kind)
    {
        switch (kind)
        {
            case "stale":
                var stale = _nonces.Mint(Tenant);
                _clock.Advance(DpopNonces.Lifetime);
                return stale;
            case "forged":
                return Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(57));
            case "tampered":
                var minted = _nonces.Mint(Tenant).ToCharArray();
                minted[20] = minted[20] == 'A' ? 'B' : 'A';
                return new string(minted);
            case "other tenant":
                return _nonces.Mint(TestBed.OtherTenantId);
            case "a c_nonce":
                return new NonceService(TestBed.NonceKeysOf(1, _clock), _clock).Mint(Tenant);
            case "another kek":
                return new DpopNonces(TestBed.NonceKeysOf(2, _clock), _clock).Mint(Tenant);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    [Theory]
    [MemberData(nameof(BadNonces))]
    public async Task Validate_NonceRequiredAndBad_IsUseNonceWithAFreshNonce_AndRecordsNoJti(string kind)
    {
        var nonce = kind == "missing" ? null : NonceFor(kind);
        var proof = Proof(payload: p => { if (nonce is not null) p["nonce"] = nonce; });

        var result = await Validate(proof, requireNonce: true);

        Assert.Equal(DpopProblem.UseNonce, result.Error?.Problem);
        Assert.True(_nonces.IsValid(Tenant, result.Error!.Nonce));
        Assert.NotEqual(nonce, result.Error.Nonce);
        Assert.True(IsQuotableAscii(result.Error.Description), result.Error.Description);
        Assert.Empty(_replays.Recorded);
    }

    [Fact]
    public async Task Validate_NonceRequiredAndTheFreshOneGiven_IsAccepted()
    {
        var refused = await Validate(Proof(), requireNonce: true);

        var retried = await Validate(Proof(payload: p => p["nonce"] = refused.Error!.Nonce), requireNonce: true);

        Assert.True(retried.IsSuccess);
    }

    [Fact]
    public async Task Validate_NonceIsNotSingleUse_TwoProofsWithOneNonceAreAccepted()
    {
        var nonce = _nonces.Mint(Tenant);

        var first = await Validate(Proof(payload: p => p["nonce"] = nonce), requireNonce: true);
        var second = await Validate(Proof(payload: p => p["nonce"] = nonce), requireNonce: true);

        Assert.True(first.IsSuccess);
        Assert.True(second.IsSuccess);
    }

    [Fact]
    public async Task Validate_NonceNotRequired_AnUnknownNonceIsIgnored()
    {
        var result = await Validate(Proof(payload: p => p["nonce"] = "not-ours"), requireNonce: false);

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public async Task Validate_NonceRequiredButProofBadOtherwise_IsInvalidProofNotUseNonce()
    {
        var result = await Validate(Proof(payload: p => p["htm"] = "GET"), requireNonce: true);

        Assert.Equal(DpopProblem.InvalidProof, result.Error?.Problem);
    }

    // Good proofs

    [Fact]
    public async Task Validate_GoodProof_ReturnsTheRfc7638ThumbprintAndThePublicJwk()
    {
        var result = await Validate(Proof());

        Assert.Equal(_holder.Thumbprint(), result.Value.Thumbprint);
        Assert.True(JsonNode.DeepEquals(_holder.PublicJwk(), JsonNode.Parse(result.Value.PublicJwk)));
    }

    [Fact]
    public async Task Validate_JwkWithExtraPublicMembers_ReturnsOnlyTheKeyMembers()
    {
        var result = await Validate(Proof(header: h => { h["jwk"]!["kid"] = "k1"; h["jwk"]!["use"] = "sig"; }));

        Assert.True(JsonNode.DeepEquals(_holder.PublicJwk(), JsonNode.Parse(result.Value.PublicJwk)));
        Assert.Equal(_holder.Thumbprint(), result.Value.Thumbprint);
    }

    [Fact]
    public async Task Validate_GoodProofAtAResource_WithTheTokensAth_IsAccepted()
    {
        var result = await Validate(Proof(basePayload: ResourcePayload()), AtCredential);

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public async Task Validate_AthAtTheTokenEndpoint_IsIgnored()
    {
        var result = await Validate(Proof(payload: p => p["ath"] = "whatever"));

        Assert.True(result.IsSuccess);
    }

    [Theory]
    [InlineData("https://issuer.example/acme/token?x=1")]
    [InlineData("https://issuer.example/acme/token#frag")]
    [InlineData("https://issuer.example/acme/token?a=b c#d")]
    [InlineData("HTTPS://ISSUER.EXAMPLE/acme/token")]
    [InlineData("https://issuer.example:443/acme/token")]
    public async Task Validate_HtuEqualAfterNormalisationOrDifferingInQueryOrFragment_IsAccepted(string htu)
    {
        var result = await Validate(Proof(basePayload: Payload(htu)));

        Assert.True(result.IsSuccess, result.Error?.Description);
    }

    [Fact]
    public async Task Validate_PublicUrlOnAnotherPort_MatchesOnlyThatPort()
    {
        var request = new DpopRequest("POST", "http://127.0.0.1:5080/acme/token");

        var same = await Validate(Proof(basePayload: Payload("http://127.0.0.1:5080/acme/token")), request);
        var other = await Validate(Proof(basePayload: Payload("http://127.0.0.1:5081/acme/token")), request);

        Assert.True(same.IsSuccess);
        Assert.Contains("htu", other.Error?.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-300)]
    [InlineData(60)]
    public async Task Validate_IatAtTheEdgesOfTheWindow_IsAccepted(int seconds)
    {
        var result = await Validate(Proof(basePayload: Payload(issuedAt: Now + TimeSpan.FromSeconds(seconds))));

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public async Task Validate_JtiOf256Characters_IsAccepted()
    {
        var result = await Validate(Proof(payload: p => p["jti"] = new string('j', 256)));

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public void Algorithms_AreThoseOfKeyProofs()
    {
        Assert.Equal(["ES256"], DpopProofValidator.Algorithms);
        Assert.Equal(ProofValidator.SupportedAlgorithms, DpopProofValidator.Algorithms);
    }

    [Fact]
    public void TokenHash_IsBase64UrlSha256OfTheTokensAscii()
    {
        // RFC 9449 §7.1's example: the hash of the access token Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU.
        Assert.Equal("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo", DpopProofValidator.TokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"));
    }

    private static bool IsQuotableAscii(string text) => text.All(c => c is >= ' ' and <= '~' and not '"' and not '\\');
}
