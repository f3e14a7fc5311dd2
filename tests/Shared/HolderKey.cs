using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Issuer2.Tests.Shared;

/// <summary>
/// A wallet's P-256 key and the <c>jwt</c> key proofs it signs (OID4VCI 1.0 Appendix F.1), built from
/// System.Security.Cryptography alone so that no issuer code vouches for them. One file, compiled into both test
/// projects (Issuer2.Core.Tests and Issuer2.Server.Tests link it).
/// </summary>
public sealed class HolderKey : IDisposable
{
    public const string ProofType = "openid4vci-proof+jwt";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The public JWK: kty, crv, x, y.</summary>
    public JsonObject PublicJwk()
    {
        var q = _key.ExportParameters(includePrivateParameters: false).Q;
        return new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64Url.EncodeToString(q.X), ["y"] = Base64Url.EncodeToString(q.Y) };
    }

    /// <summary>The JWK with the private member "d" as well: what a proof must never carry.</summary>
    public JsonObject PrivateJwk()
    {
        var jwk = PublicJwk();
        jwk["d"] = Base64Url.EncodeToString(_key.ExportParameters(includePrivateParameters: true).D);
        return jwk;
    }

    /// <summary>The RFC 7638 thumbprint of the public key, computed from its canonical JSON.</summary>
    public string Thumbprint()
    {
        var jwk = PublicJwk();
        var canonical = $$"""{"crv":"P-256","kty":"EC","x":"{{jwk["x"]}}","y":"{{jwk["y"]}}"}""";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>The key as a did:jwk URL with a fragment, as a wallet puts it in <c>kid</c>.</summary>
    public string DidJwk() => "did:jwk:" + Encode(PublicJwk()) + "#0";

    /// <summary>A proof header as a wallet sends it: typ, alg ES256, the public jwk.</summary>
    public JsonObject ProofHeader() => new() { ["typ"] = ProofType, ["alg"] = "ES256", ["jwk"] = PublicJwk() };

    /// <summary>A proof payload: aud, iat, and the nonce when there is one.</summary>
    public static JsonObject ProofPayload(string audience, string? nonce, DateTimeOffset issuedAt)
    {
        var payload = new JsonObject { ["aud"] = audience, ["iat"] = issuedAt.ToUnixTimeSeconds() };
        if (nonce is not null) payload["nonce"] = nonce;
        return payload;
    }

    /// <summary>A valid proof for this audience and nonce, made at <paramref name="issuedAt"/>.</summary>
    public string Proof(string audience, string? nonce, DateTimeOffset issuedAt) => Sign(ProofHeader(), ProofPayload(audience, nonce, issuedAt));

    /// <summary>Signs header and payload as given (ES256, IEEE P1363 signature), whatever they say.</summary>
    public string Sign(JsonObject header, JsonObject payload)
    {
        var input = Encode(header) + "." + Encode(payload);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return input + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>Signs header and payload JSON text exactly as given (e.g. with a repeated member).</summary>
    public string SignRaw(string headerJson, string payloadJson)
    {
        var input = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(headerJson)) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payloadJson));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return input + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>The unsigned compact form "header.payload." (alg none).</summary>
    public static string WithoutSignature(JsonObject header, JsonObject payload) => Encode(header) + "." + Encode(payload) + ".";

    public static string Encode(JsonNode node) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(node.ToJsonString()));

    public void Dispose() => _key.Dispose();
}
