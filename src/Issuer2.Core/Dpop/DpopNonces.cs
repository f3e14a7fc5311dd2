using Issuer2.Core.Nonces;
using Issuer2.Core.Security;

namespace Issuer2.Core.Dpop;

/// <summary>
/// Server DPoP-Nonce values (RFC 9449 §8, §9), self-contained like c_nonce values (<see cref="SealedNonces"/> under
/// the purpose <c>dpop_nonce</c>): minting and checking write nothing, any host checks what any other minted, and a
/// c_nonce is never a DPoP-Nonce. A nonce is not single use: the proof's jti is (<see cref="IDpopReplayStore"/>); the
/// nonce only bounds how long ago the wallet last heard from this issuer.
/// </summary>
public sealed class DpopNonces(NonceKeys keys, TimeProvider clock)
{
    /// <summary>How long a DPoP-Nonce is accepted after it was minted: as long as a proof's iat may be old.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly SealedNonces _sealed = new(keys, clock, "dpop_nonce", Lifetime);

    /// <summary>A fresh DPoP-Nonce of the tenant.</summary>
    public string Mint(string tenantId) => _sealed.Mint(tenantId);

    /// <summary>Whether <paramref name="nonce"/> was minted by this issuer for this tenant, in its canonical spelling, and has not expired.</summary>
    public bool IsValid(string tenantId, string? nonce) => _sealed.Open(tenantId, nonce) is not null;
}
