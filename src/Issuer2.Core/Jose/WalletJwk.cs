using System.Buffers.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Jose;

/// <summary>
/// The one rule for a wallet's key in a JWT header (key proofs, DPoP proofs): which algorithms, which keys, and its
/// RFC 7638 thumbprint. A wallet key is an EC P-256 public key signing ES256, as HAIP 1.0 requires of wallets; a JWK
/// carrying any private member is refused outright, whatever else it holds.
/// </summary>
public static class WalletJwk
{
    /// <summary>The signature algorithms of wallet keys: advertised as proof_signing_alg_values_supported and dpop_signing_alg_values_supported.</summary>
    public static readonly IReadOnlyList<string> Algorithms = [SecurityAlgorithms.EcdsaSha256];

    /// <summary>Members of private (or symmetric) JWKs, RFC 7518 §6.2.2, §6.3.2, §6.4.1.</summary>
    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

    /// <summary>Whether the JWK carries private or symmetric key material.</summary>
    public static bool HasPrivateMembers(JsonElement jwk)
    {
        if (jwk.ValueKind != JsonValueKind.Object) return false;
        foreach (var member in PrivateMembers)
        {
            if (jwk.TryGetProperty(member, out _)) return true;
        }
        return false;
    }

    /// <summary>
    /// The key when <paramref name="jwk"/> is an EC P-256 public key (x and y base64url of 32 bytes each), and its
    /// JSON with the public members only (kty, crv, x, y), which is what travels on (cnf.jwk, the token's binding).
    /// </summary>
    public static bool TryPublicKey(JsonElement jwk, out JsonWebKey key, out string json)
    {
        key = null!;
        json = "";
        if (jwk.ValueKind != JsonValueKind.Object) return false;
        var (kty, crv, x, y) = (WalletJwt.StringMember(jwk, "kty"), WalletJwt.StringMember(jwk, "crv"), WalletJwt.StringMember(jwk, "x"), WalletJwt.StringMember(jwk, "y"));
        if (kty != "EC" || crv != "P-256" || x is null || y is null) return false;
        try
        {
            if (Base64Url.DecodeFromChars(x).Length != 32 || Base64Url.DecodeFromChars(y).Length != 32) return false;
        }
        catch (FormatException)
        {
            return false;
        }
        key = new JsonWebKey { Kty = kty, Crv = crv, X = x, Y = y };
        json = JsonSerializer.Serialize(new { kty, crv, x, y });
        return true;
    }

    /// <summary>The RFC 7638 JWK thumbprint (SHA-256 over the required members), base64url: 43 characters.</summary>
    /// <summary>Whether a value has the shape of an RFC 7638 SHA-256 thumbprint in base64url: 43 characters.</summary>
    public static bool IsThumbprint(string? value) =>
        value is { Length: 43 } && value.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    public static string Thumbprint(JsonWebKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Base64Url.EncodeToString(key.ComputeJwkThumbprint());
    }
}
