namespace Issuer2.Core.Wallet;

/// <summary>The error codes wallets receive (RFC 6749 §5.2, RFC 6750 §3.1, RFC 9396, OID4VCI 1.0 §8.3.1.2, §11.3): a closed set.</summary>
public enum WalletErrorCode
{
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    InvalidAuthorizationDetails,
    InvalidToken,
    InsufficientScope,
    InvalidCredentialRequest,
    UnknownCredentialConfiguration,
    UnknownCredentialIdentifier,
    InvalidProof,
    InvalidNonce,
    InvalidEncryptionParameters,
    CredentialRequestDenied,
    InvalidNotificationId,
    InvalidNotificationRequest,
    NotFound,
    UnsupportedResponseType,
    InvalidScope,
    InvalidTarget,
    AccessDenied,
    TemporarilyUnavailable,
    InvalidDpopProof,
    UseDpopNonce,

    /// <summary>RFC 6585 §4: a limit or cap was reached (HTTP 429 with <c>Retry-After</c>); sent as <c>temporarily_unavailable</c>.</summary>
    TooManyRequests,
    UnsupportedCredentialType,
    UnsupportedCredentialFormat,
}

/// <summary>The spec strings of <see cref="WalletErrorCode"/>: written here once, never retyped elsewhere.</summary>
public static class WalletErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidClient = "invalid_client";
    public const string InvalidGrant = "invalid_grant";
    public const string UnsupportedGrantType = "unsupported_grant_type";
    public const string InvalidAuthorizationDetails = "invalid_authorization_details";
    public const string InvalidToken = "invalid_token";
    public const string InsufficientScope = "insufficient_scope";
    public const string InvalidCredentialRequest = "invalid_credential_request";
    public const string UnknownCredentialConfiguration = "unknown_credential_configuration";
    public const string UnknownCredentialIdentifier = "unknown_credential_identifier";
    public const string InvalidProof = "invalid_proof";
    public const string InvalidNonce = "invalid_nonce";
    public const string InvalidEncryptionParameters = "invalid_encryption_parameters";
    public const string CredentialRequestDenied = "credential_request_denied";
    public const string InvalidNotificationId = "invalid_notification_id";
    public const string InvalidNotificationRequest = "invalid_notification_request";
    public const string UnsupportedResponseType = "unsupported_response_type";
    public const string InvalidScope = "invalid_scope";
    public const string InvalidTarget = "invalid_target";
    public const string AccessDenied = "access_denied";
    public const string InvalidDpopProof = "invalid_dpop_proof";
    public const string UseDpopNonce = "use_dpop_nonce";

    /// <summary>OID4VCI draft 13 §7.3.1.2: the requested credential type (vct) is not issued here.</summary>
    public const string UnsupportedCredentialType = "unsupported_credential_type";

    /// <summary>OID4VCI draft 13 §7.3.1.2: the requested credential format is not issued here.</summary>
    public const string UnsupportedCredentialFormat = "unsupported_credential_format";

    /// <summary>Not a spec code: what Issuer2 answers for a tenant or offer URI that names nothing (HTTP 404).</summary>
    public const string NotFound = "not_found";

    /// <summary>
    /// RFC 6749 §4.1.2.1: the server cannot handle the request now (HTTP 503 with <c>Retry-After</c>). The HTTP
    /// adapter writes it for database faults (no decision of Core's); Core sends it as
    /// <see cref="WalletErrorCode.TemporarilyUnavailable"/> when the tenant's IdP cannot be reached.
    /// </summary>
    public const string TemporarilyUnavailable = "temporarily_unavailable";

    /// <summary>The spec string of a code.</summary>
    public static string Of(WalletErrorCode code) => code switch
    {
        WalletErrorCode.InvalidRequest => InvalidRequest,
        WalletErrorCode.InvalidClient => InvalidClient,
        WalletErrorCode.InvalidGrant => InvalidGrant,
        WalletErrorCode.UnsupportedGrantType => UnsupportedGrantType,
        WalletErrorCode.InvalidAuthorizationDetails => InvalidAuthorizationDetails,
        WalletErrorCode.InvalidToken => InvalidToken,
        WalletErrorCode.InsufficientScope => InsufficientScope,
        WalletErrorCode.InvalidCredentialRequest => InvalidCredentialRequest,
        WalletErrorCode.UnknownCredentialConfiguration => UnknownCredentialConfiguration,
        WalletErrorCode.UnknownCredentialIdentifier => UnknownCredentialIdentifier,
        WalletErrorCode.InvalidProof => InvalidProof,
        WalletErrorCode.InvalidNonce => InvalidNonce,
        WalletErrorCode.InvalidEncryptionParameters => InvalidEncryptionParameters,
        WalletErrorCode.CredentialRequestDenied => CredentialRequestDenied,
        WalletErrorCode.InvalidNotificationId => InvalidNotificationId,
        WalletErrorCode.InvalidNotificationRequest => InvalidNotificationRequest,
        WalletErrorCode.NotFound => NotFound,
        WalletErrorCode.UnsupportedResponseType => UnsupportedResponseType,
        WalletErrorCode.InvalidScope => InvalidScope,
        WalletErrorCode.InvalidTarget => InvalidTarget,
        WalletErrorCode.AccessDenied => AccessDenied,
        WalletErrorCode.TemporarilyUnavailable => TemporarilyUnavailable,
        WalletErrorCode.InvalidDpopProof => InvalidDpopProof,
        WalletErrorCode.UseDpopNonce => UseDpopNonce,
        // Note: OAuth has no code of its own for 429; temporarily_unavailable (RFC 6749 §4.1.2.1) says "try again later".
        WalletErrorCode.TooManyRequests => TemporarilyUnavailable,
        WalletErrorCode.UnsupportedCredentialType => UnsupportedCredentialType,
        WalletErrorCode.UnsupportedCredentialFormat => UnsupportedCredentialFormat,
    };
}

/// <summary>
/// An expected failure of a wallet request: a code of the closed set and a description (ASCII, without '"' or
/// '\', per OID4VCI §8.3.1.2). The HTTP adapter alone picks the status.
/// </summary>
public sealed record WalletError(WalletErrorCode Code, string Description)
{
    /// <summary>The spec string sent as <c>error</c>.</summary>
    public string SpecCode => WalletErrors.Of(Code);

    /// <summary>A fresh server nonce to send in the <c>DPoP-Nonce</c> header (RFC 9449 §8, §9), when the answer carries one.</summary>
    public string? DpopNonce { get; init; }

    /// <summary>At a protected resource: answer with the <c>DPoP</c> authentication scheme's challenge (RFC 9449 §7.1) rather than Bearer's.</summary>
    public bool DpopChallenge { get; init; }

    /// <summary>How long the wallet should wait before it retries: sent as <c>Retry-After</c> in whole seconds (RFC 9110 §10.2.3).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>A fresh c_nonce the error body carries (<c>c_nonce</c>, <c>c_nonce_expires_in</c>): draft 13's invalid_proof (§7.3.2).</summary>
    public Nonces.FreshCNonce? CNonce { get; init; }

    public static WalletError InvalidRequest(string description) => new(WalletErrorCode.InvalidRequest, description);

    public static WalletError InvalidGrant(string description) => new(WalletErrorCode.InvalidGrant, description);

    public static WalletError InvalidToken(string description) => new(WalletErrorCode.InvalidToken, description);

    public static WalletError InvalidCredentialRequest(string description) => new(WalletErrorCode.InvalidCredentialRequest, description);

    public static WalletError InvalidProof(string description) => new(WalletErrorCode.InvalidProof, description);

    public static WalletError InvalidNonce(string description) => new(WalletErrorCode.InvalidNonce, description);

    public static WalletError Denied(string description) => new(WalletErrorCode.CredentialRequestDenied, description);

    public static WalletError NotFound(string description) => new(WalletErrorCode.NotFound, description);

    /// <summary>RFC 6585 §4: too many requests for now; retry after <paramref name="retryAfter"/>.</summary>
    public static WalletError TooManyRequests(string description, TimeSpan retryAfter) =>
        new(WalletErrorCode.TooManyRequests, description) { RetryAfter = retryAfter };

    public override string ToString() => $"{SpecCode}: {Description}";
}
