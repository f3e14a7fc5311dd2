using Issuer2.Core.Common;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using Issuer2.Core.Security;

namespace Issuer2.Core.Nonces;

/// <summary>
/// Self-contained c_nonce values (OID4VCI 1.0 §7): an expiry and 128 random bits, encrypted and authenticated
/// under the key-encryption key and bound to the tenant. Minting writes nothing, so the anonymous nonce
/// endpoint costs no row; single use is enforced when a nonce is consumed (<see cref="ConsumedNonceKey"/>).
/// </summary>
public sealed class NonceService(SecretProtector protector, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    public string Mint(string tenantId)
    {
        Span<byte> payload = stackalloc byte[24];
        BinaryPrimitives.WriteInt64BigEndian(payload, (clock.UtcNow() + Lifetime).UtcTicks);
        RandomNumberGenerator.Fill(payload[8..]);
        return Base64Url.EncodeToString(protector.Encrypt(payload, Context(tenantId)));
    }

    /// <summary>The nonce's expiry when it was minted by this issuer for this tenant and has not expired; null otherwise.</summary>
    public DateTimeOffset? Verify(string tenantId, string? nonce)
    {
        if (string.IsNullOrEmpty(nonce) || nonce.Length > 256) return null;
        try
        {
            var payload = protector.Decrypt(Base64Url.DecodeFromChars(nonce), Context(tenantId));
            if (payload.Length != 24) return null;
            var expiresAt = new DateTimeOffset(BinaryPrimitives.ReadInt64BigEndian(payload), TimeSpan.Zero);
            return clock.UtcNow() < expiresAt ? expiresAt : null;
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The key under which a consumed nonce is recorded; a second consumption collides on it.</summary>
    public static byte[] ConsumedNonceKey(string nonce) => Secrets.Hash(nonce);

    private static string Context(string tenantId) => $"c_nonce/{tenantId}";
}

/// <summary>The nonce endpoint (OID4VCI 1.0 §7): anonymous and write-free, a fresh c_nonce of a live tenant.</summary>
public sealed class IssueNonce(Metadata.TenantDirectory tenants, NonceService nonces)
{
    public async Task<Result<string, Wallet.WalletError>> ExecuteAsync(string tenantId, CancellationToken ct) =>
        await tenants.ExistsAsync(tenantId, ct) ? nonces.Mint(tenantId) : Metadata.TenantDirectory.NoIssuerHere();
}
