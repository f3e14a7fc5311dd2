namespace Issuer2.Core.Authorization;

/// <summary>Where an authorization request stands; each step moves it on by one conditional update.</summary>
public enum AuthorizationStage
{
    /// <summary>Accepted (pushed, or sent to /authorize with PAR off); its request_uri not yet used.</summary>
    Requested,

    /// <summary>The user was sent to the tenant's IdP; the browser holds the binding cookie.</summary>
    AtProvider,

    /// <summary>The IdP's ID token checked out and the claims were mapped; waiting for the user's consent.</summary>
    Authenticated,

    /// <summary>The user consented; the wallet holds a one-time authorization code.</summary>
    CodeIssued,

    /// <summary>The code was redeemed at the token endpoint.</summary>
    Redeemed,

    /// <summary>Refused after it was accepted (IdP failure, bad ID token, missing claim, consent refused).</summary>
    Refused,
}

/// <summary>
/// One wallet's authorization request (RFC 6749 §4.1 with PKCE, PAR, OID4VCI 1.0 §5) from the push to the redeemed
/// code: a row, so any host may serve any step. Secrets (request_uri, the IdP state, the browser cookie, the code) are
/// stored as hashes; the IdP PKCE verifier and the mapped claims encrypted under the key-encryption key.
/// </summary>
public sealed class Authorization
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public AuthorizationStage Stage { get; set; }

    /// <summary>The wallet's client_id and redirect_uri, its state (echoed back) and PKCE S256 challenge.</summary>
    public required string ClientId { get; init; }
    public required string RedirectUri { get; init; }
    public string? State { get; init; }
    public required string CodeChallenge { get; init; }

    /// <summary>The one credential configuration granted, and the profile version the credential is issued from.</summary>
    public required string ConfigurationId { get; init; }
    public required Guid ProfileUid { get; init; }
    public required int ProfileVersion { get; init; }

    /// <summary>The granted scope when the wallet asked by scope; echoed in the token response.</summary>
    public string? Scope { get; init; }

    /// <summary>Whether the wallet asked with authorization_details: the token response then returns credential_identifiers (§6.2).</summary>
    public bool UsesAuthorizationDetails { get; init; }

    /// <summary>The offer the issuer_state tied the flow to; null for wallet-initiated issuance (OID4VCI 1.0 §3.4).</summary>
    public string? OfferId { get; init; }
    public byte[]? IssuerStateHash { get; init; }

    /// <summary>
    /// The thumbprint of the DPoP key the pushed request bound the grant to (its dpop_jkt or DPoP header, RFC 9449
    /// §10); the token request's proof must then be by that key. Null: not bound.
    /// </summary>
    public string? DpopJkt { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The end of the whole flow: no step is taken after it.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>SHA-256 of the pushed request's request_uri; null when PAR was not used.</summary>
    public byte[]? RequestUriHash { get; set; }
    public DateTimeOffset? RequestUriExpiresAt { get; set; }

    /// <summary>The browser's binding cookie (hash) and our request to the IdP: its state (hash), nonce and PKCE verifier (encrypted).</summary>
    public byte[]? BrowserHash { get; set; }
    public byte[]? ProviderStateHash { get; set; }
    public string? ProviderNonce { get; set; }
    public byte[]? EncryptedProviderVerifier { get; set; }

    /// <summary>When the user signed in, and the claims mapped from the IdP (encrypted; removed once they moved to the session).</summary>
    public DateTimeOffset? AuthenticatedAt { get; set; }
    public byte[]? EncryptedClaims { get; set; }

    /// <summary>The one-time authorization code (hash) and its end; the session its redemption opened.</summary>
    public byte[]? CodeHash { get; set; }
    public DateTimeOffset? CodeExpiresAt { get; set; }
    public DateTimeOffset? RedeemedAt { get; set; }
    public string? SessionId { get; set; }
}
