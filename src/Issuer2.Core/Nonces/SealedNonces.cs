using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using Issuer2.Core.Common;
using Issuer2.Core.Security;

namespace Issuer2.Core.Nonces;

/// <summary>A sealed nonce that opened: when it expires, and a key that names it whatever its spelling (SHA-256 of its contents).</summary>
public sealed record OpenedNonce(DateTimeOffset ExpiresAt, byte[] Key);

/// <summary>
/// The one way Issuer2 makes server nonces that need no row: an expiry and 128 random bits, encrypted and
/// authenticated under the nonce key of the current epoch (<see cref="NonceKeys"/>: a key of its own, rotated on a
/// schedule) and bound to one purpose and one tenant,
/// so a nonce of one kind (a c_nonce) is never accepted as another (a DPoP-Nonce), nor for another tenant. Any host
/// with the same key ring and clock opens what any other minted. Users: <see cref="NonceService"/> (c_nonce) and
/// <see cref="Dpop.DpopNonces"/> (DPoP-Nonce).
/// </summary>
public sealed class SealedNonces(NonceKeys keys, TimeProvider clock, string purpose, TimeSpan lifetime)
{
    /// <summary>The longest life of any nonce sealed here: the nonce key epoch must be at least this long.</summary>
    public static TimeSpan LongestLifetime => NonceService.Lifetime > Dpop.DpopNonces.Lifetime ? NonceService.Lifetime : Dpop.DpopNonces.Lifetime;

    /// <summary>Longer than any nonce this class mints; longer input is refused unread.</summary>
    public const int MaxLength = 256;

    private const int PayloadLength = 24;

    public string Mint(string tenantId)
    {
        Span<byte> payload = stackalloc byte[PayloadLength];
        BinaryPrimitives.WriteInt64BigEndian(payload, (clock.UtcNow() + lifetime).UtcTicks);
        RandomNumberGenerator.Fill(payload[8..]);
        return Base64Url.EncodeToString(keys.Seal(payload, Context(tenantId)));
    }

    /// <summary>
    /// The nonce when it was minted for this purpose and tenant, is written exactly as it was minted, and has not
    /// expired; null otherwise. <see cref="OpenedNonce.Key"/> is keyed by what the nonce decrypts to, so no second
    /// spelling of one nonce (whitespace, padding, other base64 characters) names another.
    /// </summary>
    public OpenedNonce? Open(string tenantId, string? nonce)
    {
        if (string.IsNullOrEmpty(nonce) || nonce.Length > MaxLength) return null;
        try
        {
            var bytes = Base64Url.DecodeFromChars(nonce);
            // Only the canonical spelling: the decoder skips whitespace, re-encoding does not bring it back.
            if (!string.Equals(Base64Url.EncodeToString(bytes), nonce, StringComparison.Ordinal)) return null;
            var payload = keys.Open(bytes, Context(tenantId));
            if (payload is not { Length: PayloadLength }) return null;
            var expiresAt = new DateTimeOffset(BinaryPrimitives.ReadInt64BigEndian(payload), TimeSpan.Zero);
            if (clock.UtcNow() >= expiresAt) return null;
            return new OpenedNonce(expiresAt, SHA256.HashData(payload));
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private string Context(string tenantId) => $"{purpose}/{tenantId}";
}
