using Issuer2.Core.Common;
using Issuer2.Core.Security;

namespace Issuer2.Core.Nonces;

/// <summary>A nonce that verified: when it expires, and the key its single use is recorded under.</summary>
public sealed record VerifiedNonce(DateTimeOffset ExpiresAt, byte[] ConsumedKey);

/// <summary>A c_nonce handed out with an answer, and <c>c_nonce_expires_in</c>: its lifetime in seconds.</summary>
public sealed record FreshCNonce(string Value, int ExpiresIn);

/// <summary>
/// Self-contained c_nonce values (OID4VCI 1.0 §7), sealed by <see cref="SealedNonces"/> under the purpose
/// <c>c_nonce</c>. Minting writes nothing, so the anonymous nonce endpoint costs no row; single use is enforced when
/// a nonce is consumed (<see cref="VerifiedNonce.ConsumedKey"/>).
/// </summary>
public sealed class NonceService(NonceKeys keys, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    public const int MaxLength = SealedNonces.MaxLength;

    private readonly SealedNonces _sealed = new(keys, clock, "c_nonce", Lifetime);

    public string Mint(string tenantId) => _sealed.Mint(tenantId);

    /// <summary>A fresh c_nonce with its lifetime, as the token response and draft-13 credential answers carry it (OID4VCI draft 13 §6.2, §7.3).</summary>
    public FreshCNonce Fresh(string tenantId) => new(Mint(tenantId), (int)Lifetime.TotalSeconds);

    /// <summary>
    /// The nonce when it was minted by this issuer for this tenant, is written exactly as it was minted, and has not
    /// expired; null otherwise. Single use is keyed by what the nonce decrypts to, so no second spelling of one nonce
    /// can be consumed again.
    /// </summary>
    public VerifiedNonce? Verify(string tenantId, string? nonce) =>
        _sealed.Open(tenantId, nonce) is { } opened ? new VerifiedNonce(opened.ExpiresAt, opened.Key) : null;
}

/// <summary>A fresh c_nonce, and a DPoP-Nonce when the tenant requires server nonces in DPoP proofs (OID4VCI 1.0 §7.2).</summary>
public sealed record IssuedNonce(string CNonce, string? DpopNonce);

/// <summary>The nonce endpoint (OID4VCI 1.0 §7): anonymous and write-free, a fresh c_nonce of a live tenant.</summary>
public sealed class IssueNonce(Metadata.TenantDirectory tenants, NonceService nonces, Dpop.SenderConstraint sender)
{
    public async Task<Result<IssuedNonce, Wallet.WalletError>> ExecuteAsync(string tenantId, CancellationToken ct)
    {
        var snapshot = await tenants.FindRecentAsync(tenantId, ct);
        return snapshot is null
            ? Metadata.TenantDirectory.NoIssuerHere()
            : new IssuedNonce(nonces.Mint(tenantId), sender.FreshNonce(snapshot.Tenant));
    }
}
