using Issuer2.Core.Common;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using Issuer2.Core.Security;

namespace Issuer2.Core.Nonces;

/// <summary>A nonce that verified: when it expires, and the key its single use is recorded under.</summary>
public sealed record VerifiedNonce(DateTimeOffset ExpiresAt, byte[] ConsumedKey);

/// <summary>
/// Self-contained c_nonce values (OID4VCI 1.0 §7): an expiry and 128 random bits, encrypted and authenticated
/// under the key-encryption key and bound to the tenant. Minting writes nothing, so the anonymous nonce
/// endpoint costs no row; single use is enforced when a nonce is consumed (<see cref="VerifiedNonce.ConsumedKey"/>).
/// </summary>
public sealed class NonceService(SecretProtector protector, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    public const int MaxLength = 256;

    private const int PayloadLength = 24;

    public string Mint(string tenantId)
    {
        Span<byte> payload = stackalloc byte[PayloadLength];
        BinaryPrimitives.WriteInt64BigEndian(payload, (clock.UtcNow() + Lifetime).UtcTicks);
        RandomNumberGenerator.Fill(payload[8..]);
        return Base64Url.EncodeToString(protector.Encrypt(payload, Context(tenantId)));
    }

    /// <summary>
    /// The nonce when it was minted by this issuer for this tenant, is written exactly as it was minted, and has not
    /// expired; null otherwise. Single use is keyed by what the nonce decrypts to, so no second spelling of one nonce
    /// (whitespace, padding, other base64 characters) can be consumed again.
    /// </summary>
    public VerifiedNonce? Verify(string tenantId, string? nonce)
    {
        if (string.IsNullOrEmpty(nonce) || nonce.Length > MaxLength) return null;
        try
        {
            var bytes = Base64Url.DecodeFromChars(nonce);
            // Only the canonical spelling: the decoder skips whitespace, re-encoding does not bring it back.
            if (!string.Equals(Base64Url.EncodeToString(bytes), nonce, StringComparison.Ordinal)) return null;
            var payload = protector.Decrypt(bytes, Context(tenantId));
            if (payload.Length != PayloadLength) return null;
            var expiresAt = new DateTimeOffset(BinaryPrimitives.ReadInt64BigEndian(payload), TimeSpan.Zero);
            if (clock.UtcNow() >= expiresAt) return null;
            return new VerifiedNonce(expiresAt, SHA256.HashData(payload));
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static string Context(string tenantId) => $"c_nonce/{tenantId}";
}

/// <summary>The nonce endpoint (OID4VCI 1.0 §7): anonymous and write-free, a fresh c_nonce of a live tenant.</summary>
public sealed class IssueNonce(Metadata.TenantDirectory tenants, NonceService nonces)
{
    public async Task<Result<string, Wallet.WalletError>> ExecuteAsync(string tenantId, CancellationToken ct) =>
        await tenants.ExistsAsync(tenantId, ct) ? nonces.Mint(tenantId) : Metadata.TenantDirectory.NoIssuerHere();
}
