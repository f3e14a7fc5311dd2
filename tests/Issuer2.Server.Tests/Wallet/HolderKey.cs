using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// A wallet's P-256 key and the <c>jwt</c> key proofs it signs (OID4VCI 1.0 Appendix F.1), built here from
/// System.Security.Cryptography alone so that no issuer code vouches for them.
/// </summary>
public sealed class HolderKey : IDisposable
{
    public const string ProofType = "openid4vci-proof+jwt";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The public JWK: kty, crv, x, y.</summary>
    public JsonObject PublicJwk()
    {
        var q = _key.ExportParameters(includePrivateParameters: false).Q;
        return new JsonObject
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = TestEnvironment.Base64Url(q.X!),
            ["y"] = TestEnvironment.Base64Url(q.Y!),
        };
    }

    /// <summary>The JWK with the private member "d" as well: what a proof must never carry.</summary>
    public JsonObject PrivateJwk()
    {
        var jwk = PublicJwk();
        jwk["d"] = TestEnvironment.Base64Url(_key.ExportParameters(includePrivateParameters: true).D!);
        return jwk;
    }

    /// <summary>A proof header as a wallet sends it: typ, alg ES256, the public jwk.</summary>
    public JsonObject ProofHeader() => new()
    {
        ["typ"] = ProofType,
        ["alg"] = "ES256",
        ["jwk"] = PublicJwk(),
    };

    /// <summary>A proof payload: aud, iat, and the nonce when there is one.</summary>
    public static JsonObject ProofPayload(string audience, string? nonce, DateTimeOffset issuedAt)
    {
        var payload = new JsonObject
        {
            ["aud"] = audience,
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
        };
        if (nonce is not null)
        {
            payload["nonce"] = nonce;
        }

        return payload;
    }

    /// <summary>A valid proof for this issuer and nonce, made at <paramref name="issuedAt"/>.</summary>
    public string Proof(string audience, string? nonce, DateTimeOffset issuedAt) =>
        Sign(ProofHeader(), ProofPayload(audience, nonce, issuedAt));

    /// <summary>Signs header and payload as given (ES256, IEEE P1363 signature), whatever they say.</summary>
    public string Sign(JsonObject header, JsonObject payload)
    {
        var input = Encode(header) + "." + Encode(payload);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return input + "." + TestEnvironment.Base64Url(signature);
    }

    /// <summary>Signs header and payload JSON text exactly as given (e.g. with a repeated member).</summary>
    public string SignRaw(string headerJson, string payloadJson)
    {
        var input = TestEnvironment.Base64Url(Encoding.UTF8.GetBytes(headerJson)) + "." + TestEnvironment.Base64Url(Encoding.UTF8.GetBytes(payloadJson));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return input + "." + TestEnvironment.Base64Url(signature);
    }

    /// <summary>The unsigned compact form "header.payload." (alg none).</summary>
    public static string WithoutSignature(JsonObject header, JsonObject payload) => Encode(header) + "." + Encode(payload) + ".";

    public static string Encode(JsonNode node) => TestEnvironment.Base64Url(Encoding.UTF8.GetBytes(node.ToJsonString()));

    public void Dispose() => _key.Dispose();
}
