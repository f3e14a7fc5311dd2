using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Core.Credentials;
using Issuer2.Core.Credentials.SdJwt;
using Issuer2.Core.Tests.Fakes;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Tests.Credentials;

public sealed class SdJwtVcIssuerTests : IDisposable
{
    private static readonly DateTimeOffset IssuedAt = TestBed.Start;
    private readonly ECDsa _issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly HolderKey _holder = new();

    public void Dispose()
    {
        _issuerKey.Dispose();
        _holder.Dispose();
    }

    private string PublicJwk()
    {
        var q = _issuerKey.ExportParameters(includePrivateParameters: false).Q;
        return JsonSerializer.Serialize(new { kty = "EC", crv = "P-256", x = Base64Url.EncodeToString(q.X), y = Base64Url.EncodeToString(q.Y) });
    }

    private SdJwtReader Issue(params IssuedClaim[] claims)
    {
        var envelope = new SdJwtVcEnvelope("https://issuer.example/acme", "https://credentials.example/badge", IssuedAt, IssuedAt.AddDays(1), _holder.PublicJwk().ToJsonString());
        var signer = new SigningCredentials(new ECDsaSecurityKey(_issuerKey) { KeyId = "kid-1" }, SecurityAlgorithms.EcdsaSha256);
        return new SdJwtReader(SdJwtVcIssuer.Issue(envelope, claims, signer));
    }

    private static IssuedClaim Claim(string path, string json, bool disclosable = true) => new(path.Split('.'), disclosable, TestBed.Json(json));

    [Fact]
    public void Issue_WithoutDisclosableClaims_HasNoDisclosuresNoDigestsAndNoSdAlg()
    {
        var credential = Issue(Claim("department", "\"R&D\"", disclosable: false));

        Assert.Empty(credential.Disclosures);
        Assert.False(credential.Payload.ContainsKey("_sd"));
        Assert.False(credential.Payload.ContainsKey("_sd_alg"));
        Assert.Equal("R&D", credential.Payload["department"]!.GetValue<string>());
        Assert.True(credential.EndsWithTilde);
    }

    [Fact]
    public void Issue_SignsWithTheSignersKeyAndKid()
    {
        var credential = Issue(Claim("given_name", "\"Erika\""));

        Assert.True(credential.SignatureVerifiesWith(PublicJwk()));
        Assert.Equal("kid-1", credential.Header["kid"]!.GetValue<string>());
        Assert.Equal(SdJwtVcIssuer.Type, credential.Header["typ"]!.GetValue<string>());
    }

    [Fact]
    public void Issue_NestedClaims_AreDisclosedInsideTheirVisibleParent()
    {
        var credential = Issue(Claim("address.locality", "\"Berlin\""), Claim("address.country", "\"DE\"", disclosable: false));

        var address = credential.Payload["address"]!.AsObject();
        Assert.Equal("DE", address["country"]!.GetValue<string>());
        Assert.Equal([credential.DisclosureOf("locality")!.Digest], SdJwtReader.Digests(address));
        Assert.False(credential.Payload.ContainsKey("_sd"));
        Assert.Equal("sha-256", credential.Payload["_sd_alg"]!.GetValue<string>());
    }

    [Fact]
    public void Issue_DisclosesStructuredValuesAsTheirJson()
    {
        var credential = Issue(Claim("nationalities", """["DE","FR"]"""), Claim("age_over", """{"18":true}"""));

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""["DE","FR"]"""), credential.DisclosureOf("nationalities")!.Value));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"18":true}"""), credential.DisclosureOf("age_over")!.Value));
    }

    [Fact]
    public void Issue_TheSameClaimsTwice_UseFreshSaltsAndSoOtherDigests()
    {
        var first = Issue(Claim("given_name", "\"Erika\""));
        var second = Issue(Claim("given_name", "\"Erika\""));

        Assert.NotEqual(first.DisclosureOf("given_name")!.Salt, second.DisclosureOf("given_name")!.Salt);
        Assert.NotEqual(SdJwtReader.Digests(first.Payload), SdJwtReader.Digests(second.Payload));
    }
}
