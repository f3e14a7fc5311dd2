using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;
using Microsoft.Extensions.Time.Testing;

namespace Issuer2.Core.Tests.Credentials;

/// <summary>Each bad proof differs from a good one in one thing only, and is invalid_proof for that thing.</summary>
public sealed class ProofValidatorTests : IDisposable
{
    private const string Audience = "https://issuer.example/acme";
    private const string Nonce = "a-c-nonce";

    private readonly FakeTimeProvider _clock = new(TestBed.Start);
    private readonly HolderKey _holder = new();
    private readonly ProofValidator _validator;

    public ProofValidatorTests()
    {
        _validator = new ProofValidator(_clock);
    }

    public void Dispose() => _holder.Dispose();

    private DateTimeOffset Now => _clock.GetUtcNow();

    private JsonObject Payload() => HolderKey.ProofPayload(Audience, Nonce, Now);

    private Task<Result<ValidatedProof, WalletError>> Validate(string? proof) => _validator.ValidateAsync(proof, Audience, clientId: null);

    private Task<Result<ValidatedProof, WalletError>> Validate(JsonObject header, JsonObject payload) => Validate(_holder.Sign(header, payload));

    private JsonObject HeaderWith(string name, JsonNode? value)
    {
        var header = _holder.ProofHeader();
        header[name] = value;
        return header;
    }

    private JsonObject HeaderWithout(string name)
    {
        var header = _holder.ProofHeader();
        header.Remove(name);
        return header;
    }

    private JsonObject PayloadWithout(string name)
    {
        var payload = Payload();
        payload.Remove(name);
        return payload;
    }

    private static JsonObject PayloadIssuedAt(DateTimeOffset issuedAt) => HolderKey.ProofPayload(Audience, Nonce, issuedAt);

    /// <summary>The proof was refused as invalid_proof, and the description names <paramref name="what"/>.</summary>
    private static void AssertInvalidProof(Result<ValidatedProof, WalletError> result, string what)
    {
        Assert.Equal(WalletErrors.InvalidProof, result.Error?.SpecCode);
        Assert.Contains(what, result.Error!.Description, StringComparison.Ordinal);
    }

    // A good proof

    [Fact]
    public async Task Validate_GoodProof_ReturnsTheHolderKeyThumbprintAndNonce()
    {
        var result = await Validate(_holder.Proof(Audience, Nonce, Now));

        Assert.Equal(Nonce, result.Value.Nonce);
        Assert.Equal(_holder.Thumbprint(), result.Value.Thumbprint);
        Assert.True(JsonNode.DeepEquals(_holder.PublicJwk(), JsonNode.Parse(result.Value.HolderKeyJson)));
    }

    [Fact]
    public async Task Validate_KidAsDidJwk_IsAccepted()
    {
        var header = HeaderWithout("jwk");
        header["kid"] = _holder.DidJwk();

        var result = await Validate(header, Payload());

        Assert.Equal(_holder.Thumbprint(), result.Value.Thumbprint);
    }

    [Fact]
    public async Task Validate_IatAtTheEdgeOfTheClockSkew_IsAccepted()
    {
        var result = await Validate(_holder.Sign(_holder.ProofHeader(), PayloadIssuedAt(Now + ProofValidator.ClockSkew)));

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public async Task Validate_IatExactlyFiveMinutesOld_IsAccepted()
    {
        var result = await Validate(_holder.Sign(_holder.ProofHeader(), PayloadIssuedAt(Now - TimeSpan.FromMinutes(5))));

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public async Task Validate_JwkWithExtraPublicMembers_PassesOnlyThePublicKeyMembers()
    {
        var jwk = _holder.PublicJwk();
        jwk["use"] = "sig";
        jwk["kid"] = "wallet-key-1";

        var result = await Validate(HeaderWith("jwk", jwk), Payload());

        Assert.True(JsonNode.DeepEquals(_holder.PublicJwk(), JsonNode.Parse(result.Value.HolderKeyJson)));
    }

    // The header

    [Theory]
    [InlineData("JWT")]
    [InlineData("openid4vci-proof+JWT")]
    [InlineData("dc+sd-jwt")]
    public async Task Validate_WrongTyp_IsInvalidProof(string typ)
    {
        var result = await Validate(HeaderWith("typ", typ), Payload());

        AssertInvalidProof(result, "typ");
    }

    [Fact]
    public async Task Validate_WithoutTyp_IsInvalidProof()
    {
        var result = await Validate(HeaderWithout("typ"), Payload());

        AssertInvalidProof(result, "typ");
    }

    [Theory]
    [InlineData("ES384")]
    [InlineData("HS256")]
    [InlineData("RS256")]
    [InlineData("none")]
    public async Task Validate_WrongAlg_IsInvalidProof(string alg)
    {
        var result = await Validate(HeaderWith("alg", alg), Payload());

        AssertInvalidProof(result, "alg");
    }

    [Fact]
    public async Task Validate_PrivateKeyInJwk_IsInvalidProof()
    {
        var result = await Validate(HeaderWith("jwk", _holder.PrivateJwk()), Payload());

        AssertInvalidProof(result, "private");
    }

    [Fact]
    public async Task Validate_BothJwkAndKid_IsInvalidProof()
    {
        var result = await Validate(HeaderWith("kid", _holder.DidJwk()), Payload());

        AssertInvalidProof(result, "exactly one of jwk or kid");
    }

    [Fact]
    public async Task Validate_NeitherJwkNorKid_IsInvalidProof()
    {
        var result = await Validate(HeaderWithout("jwk"), Payload());

        AssertInvalidProof(result, "exactly one of jwk or kid");
    }

    [Theory]
    [InlineData("https://wallet.example/keys/1")]
    [InlineData("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")]
    [InlineData("did:jwk:not-base64-json")]
    public async Task Validate_KidThatIsNotADidJwk_IsInvalidProof(string kid)
    {
        var header = HeaderWithout("jwk");
        header["kid"] = kid;

        var result = await Validate(header, Payload());

        AssertInvalidProof(result, "did:jwk");
    }

    [Fact]
    public async Task Validate_X5c_IsInvalidProof()
    {
        var result = await Validate(HeaderWith("x5c", new JsonArray("MIIB")), Payload());

        Assert.Equal(WalletErrors.InvalidProof, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Validate_JwkOfAnotherCurve_IsInvalidProof()
    {
        var jwk = _holder.PublicJwk();
        jwk["crv"] = "P-384";

        var result = await Validate(HeaderWith("jwk", jwk), Payload());

        AssertInvalidProof(result, "P-256");
    }

    // The signature and the claims

    [Fact]
    public async Task Validate_SignedByAnotherKeyThanItsJwk_IsInvalidProof()
    {
        using var other = new HolderKey();

        var result = await Validate(other.Sign(_holder.ProofHeader(), Payload()));

        AssertInvalidProof(result, "signature");
    }

    [Fact]
    public async Task Validate_PayloadChangedAfterSigning_IsInvalidProof()
    {
        var proof = _holder.Proof(Audience, Nonce, Now).Split('.');
        var tampered = string.Join('.', proof[0], HolderKey.Encode(HolderKey.ProofPayload(Audience, "another-nonce", Now)), proof[2]);

        var result = await Validate(tampered);

        AssertInvalidProof(result, "signature");
    }

    [Theory]
    [InlineData("https://issuer.example/globex")]
    [InlineData("https://issuer.example")]
    [InlineData("https://issuer.example/ACME")]
    [InlineData("https://ISSUER.example/acme")]
    public async Task Validate_WrongAud_IsInvalidProof(string audience)
    {
        var result = await Validate(_holder.Proof(audience, Nonce, Now));

        AssertInvalidProof(result, "aud");
    }

    [Fact]
    public async Task Validate_AudWithATrailingSlash_IsInvalidProof()
    {
        var result = await Validate(_holder.Proof(Audience + "/", Nonce, Now));

        Assert.Equal(WalletErrors.InvalidProof, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Validate_WithoutAud_IsInvalidProof()
    {
        var result = await Validate(_holder.ProofHeader(), PayloadWithout("aud"));

        Assert.Equal(WalletErrors.InvalidProof, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Validate_WithoutIat_IsInvalidProof()
    {
        var result = await Validate(_holder.ProofHeader(), PayloadWithout("iat"));

        AssertInvalidProof(result, "no iat");
    }

    [Fact]
    public async Task Validate_IatBeyondTheClockSkew_IsInvalidProof()
    {
        var result = await Validate(_holder.ProofHeader(), PayloadIssuedAt(Now + ProofValidator.ClockSkew + TimeSpan.FromSeconds(1)));

        AssertInvalidProof(result, "future");
    }

    [Fact]
    public async Task Validate_IatOlderThanFiveMinutes_IsInvalidProof()
    {
        var result = await Validate(_holder.ProofHeader(), PayloadIssuedAt(Now - TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1)));

        AssertInvalidProof(result, "too old");
    }

    [Fact]
    public async Task Validate_WithoutNonce_IsInvalidProof()
    {
        var result = await Validate(_holder.ProofHeader(), PayloadWithout("nonce"));

        AssertInvalidProof(result, "nonce");
    }

    [Fact]
    public async Task Validate_EmptyNonce_IsInvalidProof()
    {
        var payload = Payload();
        payload["nonce"] = "";

        var result = await Validate(_holder.ProofHeader(), payload);

        AssertInvalidProof(result, "nonce");
    }

    // The shape

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-jwt")]
    [InlineData("a.b")]
    public async Task Validate_NotACompactJwt_IsInvalidProof(string? proof)
    {
        var result = await Validate(proof);

        Assert.Equal(WalletErrors.InvalidProof, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Validate_UnsignedProof_IsInvalidProof()
    {
        var header = HeaderWith("alg", "none");
        var unsigned = HolderKey.Encode(header) + "." + HolderKey.Encode(Payload()) + ".";

        var result = await Validate(unsigned);

        Assert.Equal(WalletErrors.InvalidProof, result.Error?.SpecCode);
    }
}
