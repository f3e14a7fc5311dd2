namespace Issuer2.Core.Dpop;

/// <summary>Whether a tenant's token, PAR and resource endpoints take DPoP proofs (RFC 9449).</summary>
public enum DpopMode
{
    /// <summary>No DPoP: a DPoP header is ignored and tokens are bearer tokens; the metadata advertises no DPoP.</summary>
    Off,

    /// <summary>A proof, when sent, binds the token to its key; without one the token is a bearer token.</summary>
    Optional,

    /// <summary>Every token request must carry a proof: all tokens are DPoP-bound (HAIP 1.0).</summary>
    Required,
}

/// <summary>A tenant's DPoP policy: the mode, and whether every proof must carry a server DPoP-Nonce (RFC 9449 §8, §9).</summary>
public sealed record DpopSettings(DpopMode Mode, bool RequireNonce)
{
    /// <summary>Optional, no nonce required: wallets that use DPoP get bound tokens, the others keep working.</summary>
    public static readonly DpopSettings Default = new(DpopMode.Optional, false);
}
