using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Credentials.SdJwt;

/// <summary>Everything an SD-JWT VC carries besides its claims; <see cref="Typ"/> its header's typ.</summary>
public sealed record SdJwtVcEnvelope(string Issuer, string Vct, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, string HolderKeyJson, string Typ = SdJwtVcIssuer.Type);

/// <summary>
/// Issues SD-JWT VCs (RFC 9901, SD-JWT VC): an issuer-signed JWT with <c>typ</c> <c>dc+sd-jwt</c>, the
/// selectively disclosable claims replaced by SHA-256 digests of disclosures with fresh 128-bit salts, the rest
/// in the clear, bound to the holder's key by <c>cnf.jwk</c>.
/// </summary>
public static class SdJwtVcIssuer
{
    public const string Type = "dc+sd-jwt";

    /// <summary>The typ SD-JWT VC used until November 2024, which OID4VCI draft 13's wallets expect (docs/wallet-endpoints.md).</summary>
    public const string LegacyType = "vc+sd-jwt";
    public const string HashAlgorithm = "sha-256";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public static string Issue(SdJwtVcEnvelope envelope, IEnumerable<IssuedClaim> claims, SigningCredentials signer)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(claims);
        var payload = new JsonObject
        {
            ["iss"] = envelope.Issuer,
            ["iat"] = envelope.IssuedAt.ToUnixTimeSeconds(),
            ["exp"] = envelope.ExpiresAt.ToUnixTimeSeconds(),
            ["vct"] = envelope.Vct,
            ["cnf"] = new JsonObject { ["jwk"] = JsonNode.Parse(envelope.HolderKeyJson) },
        };

        var disclosures = new List<string>();
        var digestsByObject = new Dictionary<JsonObject, List<string>>(ReferenceEqualityComparer.Instance);
        foreach (var claim in claims)
        {
            // Intermediate objects are always visible; the leaf is a disclosure or a plain member.
            var parent = payload;
            foreach (var segment in claim.Path.Take(claim.Path.Count - 1))
            {
                if (parent[segment] is not JsonObject child)
                {
                    child = [];
                    parent[segment] = child;
                }
                parent = child;
            }
            var name = claim.Path[^1];
            var value = JsonNode.Parse(claim.Value.GetRawText());
            if (!claim.SelectivelyDisclosable)
            {
                parent[name] = value;
                continue;
            }
            var disclosure = Disclosure(name, value);
            disclosures.Add(disclosure);
            if (!digestsByObject.TryGetValue(parent, out var digests)) digestsByObject[parent] = digests = [];
            digests.Add(Digest(disclosure));
        }

        // Sorted digests reveal nothing about the order of claims (RFC 9901 §4.2.4.1).
        foreach (var (obj, digests) in digestsByObject)
        {
            digests.Sort(StringComparer.Ordinal);
            obj["_sd"] = new JsonArray([.. digests.Select(d => (JsonNode)d!)]);
        }
        if (digestsByObject.Count > 0) payload["_sd_alg"] = HashAlgorithm;

        var jwt = Handler.CreateToken(payload.ToJsonString(), signer, new Dictionary<string, object> { ["typ"] = envelope.Typ });
        var sb = new StringBuilder(jwt).Append('~');
        foreach (var d in disclosures) sb.Append(d).Append('~');
        return sb.ToString();
    }

    /// <summary>base64url of the JSON array [salt, name, value], the salt 128 random bits.</summary>
    private static string Disclosure(string name, JsonNode? value)
    {
        var salt = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        var array = new JsonArray(salt, name, value);
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes(array.ToJsonString()));
    }

    public static string Digest(string disclosure) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(disclosure)));
}
