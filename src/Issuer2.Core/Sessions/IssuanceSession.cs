namespace Issuer2.Core.Sessions;

/// <summary>One wallet's journey through one use of an offer: created when a token is issued.</summary>
public sealed class IssuanceSession
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }

    /// <summary>The offer the session used; null for a wallet-initiated session, which belongs to its profile (OID4VCI 1.0 §3.4).</summary>
    public string? OfferId { get; init; }

    /// <summary>The claims mapped from the user's sign-in at the IdP, encrypted; cleared when the credential is issued.</summary>
    public byte[]? EncryptedClaims { get; set; }

    /// <summary>The credential configuration the session may receive (the offer's profile id).</summary>
    public required string ConfigurationId { get; init; }

    public required Guid ProfileUid { get; init; }
    public required int ProfileVersion { get; init; }

    /// <summary>The client_id the token was issued to; null for anonymous pre-authorized access (key proofs then carry no iss).</summary>
    public string? ClientId { get; init; }

    /// <summary>Set when the token response returned authorization_details: the wallet must then name this identifier.</summary>
    public string? CredentialIdentifier { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When every credential of the offer was issued.</summary>
    public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>An opaque access token, stored as its hash, bound to one session, valid minutes.</summary>
public sealed class AccessToken
{
    public required byte[] TokenHash { get; init; }
    public required string TenantId { get; init; }
    public required string SessionId { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>The RFC 7638 thumbprint of the DPoP key the token is bound to (RFC 9449 §6); null for a bearer token.</summary>
    public string? DpopJkt { get; init; }
}

/// <summary>
/// What was issued: metadata only (session, configuration, format, holder key thumbprint, times), never claim
/// values. Status lists will build on it.
/// </summary>
public sealed class IssuedCredential
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string SessionId { get; init; }
    public string? OfferId { get; init; }
    public required string ConfigurationId { get; init; }
    public required string Format { get; init; }
    public required string HolderKeyThumbprint { get; init; }
    public required DateTimeOffset IssuedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Returned with the credential; the wallet names it at the notification endpoint.</summary>
    public required string NotificationId { get; init; }

    public string? NotificationEvent { get; set; }
    public DateTimeOffset? NotifiedAt { get; set; }
}

/// <summary>A c_nonce that was used: its hash, kept until the nonce would have expired anyway.</summary>
public sealed class ConsumedNonce
{
    public required byte[] NonceHash { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
}
