using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>One disclosure of an SD-JWT: its salt, claim name and value, and the digest the issuer JWT lists.</summary>
internal sealed record Disclosure(string Salt, string Name, JsonNode? Value, string Digest);

/// <summary>
/// An SD-JWT (RFC 9901) taken apart as a verifier does, with System.Security.Cryptography alone: the issuer JWT's
/// header and payload, its signature checked against a public JWK, and the disclosures with their digests.
/// </summary>
internal sealed class SdJwtReader
{
    private readonly string _signedInput;
    private readonly byte[] _signature;

    public SdJwtReader(string sdJwt)
    {
        var parts = sdJwt.Split('~');
        var jwt = parts[0].Split('.');
        Header = Decode(jwt[0]).AsObject();
        Payload = Decode(jwt[1]).AsObject();
        _signedInput = jwt[0] + "." + jwt[1];
        _signature = Base64Url.DecodeFromChars(jwt[2]);
        EndsWithTilde = sdJwt.EndsWith('~');
        Disclosures = [.. parts.Skip(1).Where(p => p.Length > 0).Select(Disclose)];
    }

    public JsonObject Header { get; }
    public JsonObject Payload { get; }
    public IReadOnlyList<Disclosure> Disclosures { get; }

    /// <summary>An SD-JWT without a key binding JWT ends with "~".</summary>
    public bool EndsWithTilde { get; }

    /// <summary>Whether the ES256 signature of the issuer JWT verifies with the public JWK (JSON text).</summary>
    public bool SignatureVerifiesWith(string publicJwk)
    {
        var jwk = JsonNode.Parse(publicJwk)!;
        using var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint
            {
                X = Base64Url.DecodeFromChars(jwk["x"]!.GetValue<string>()),
                Y = Base64Url.DecodeFromChars(jwk["y"]!.GetValue<string>()),
            },
        });
        return key.VerifyData(Encoding.ASCII.GetBytes(_signedInput), _signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>The disclosure of a claim by name; null when the credential discloses no such claim.</summary>
    public Disclosure? DisclosureOf(string name) => Disclosures.SingleOrDefault(d => d.Name == name);

    /// <summary>The digests an object of the payload lists in <c>_sd</c>, in their order.</summary>
    public static string[] Digests(JsonNode? obj) => [.. obj?["_sd"]?.AsArray().Select(d => d!.GetValue<string>()) ?? []];

    private static JsonNode Decode(string part) => JsonNode.Parse(Base64Url.DecodeFromChars(part))!;

    private static Disclosure Disclose(string encoded)
    {
        var array = Decode(encoded).AsArray();
        var digest = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(encoded)));
        return new Disclosure(array[0]!.GetValue<string>(), array[1]!.GetValue<string>(), array[2]?.DeepClone(), digest);
    }
}
