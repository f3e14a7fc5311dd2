namespace Issuer2.Core.Wallet;

/// <summary>The OAuth 2.0 (RFC 6749, RFC 6750) and OID4VCI 1.0 error codes wallets receive; never retyped elsewhere.</summary>
public static class WalletErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidGrant = "invalid_grant";
    public const string UnsupportedGrantType = "unsupported_grant_type";
    public const string InvalidClient = "invalid_client";
    public const string InvalidToken = "invalid_token";
    public const string InvalidAuthorizationDetails = "invalid_authorization_details";
    public const string InvalidCredentialRequest = "invalid_credential_request";
    public const string UnknownCredentialConfiguration = "unknown_credential_configuration";
    public const string UnknownCredentialIdentifier = "unknown_credential_identifier";
    public const string InvalidProof = "invalid_proof";
    public const string InvalidNonce = "invalid_nonce";
    public const string CredentialRequestDenied = "credential_request_denied";
    public const string InvalidNotificationId = "invalid_notification_id";
    public const string InvalidNotificationRequest = "invalid_notification_request";
    public const string NotFound = "not_found";
}

/// <summary>
/// An expected failure of a wallet request: an error code of the specs and a description (ASCII, without
/// '"' or '\', per OID4VCI §8.3.1.2). The HTTP adapter alone picks the status.
/// </summary>
public sealed record WalletError(string Code, string Description)
{
    public static WalletError InvalidRequest(string description) => new(WalletErrors.InvalidRequest, description);

    public static WalletError InvalidGrant(string description) => new(WalletErrors.InvalidGrant, description);

    public static WalletError InvalidToken(string description) => new(WalletErrors.InvalidToken, description);

    public static WalletError InvalidCredentialRequest(string description) => new(WalletErrors.InvalidCredentialRequest, description);

    public static WalletError InvalidProof(string description) => new(WalletErrors.InvalidProof, description);

    public static WalletError InvalidNonce(string description) => new(WalletErrors.InvalidNonce, description);

    public static WalletError Denied(string description) => new(WalletErrors.CredentialRequestDenied, description);

    public static WalletError NotFound(string description) => new(WalletErrors.NotFound, description);
}

/// <summary>Either a value or a <see cref="WalletError"/>.</summary>
public readonly struct WalletResult<T>
{
    private readonly T? _value;

    private WalletResult(T? value, WalletError? error)
    {
        _value = value;
        Error = error;
    }

    public WalletError? Error { get; }

    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Error is null;

    public T Value => IsSuccess ? _value! : throw new InvalidOperationException($"The result is an error: {Error.Code}");

#pragma warning disable CA2225 // Implicit conversions are the point: use cases return values or errors directly.
    public static implicit operator WalletResult<T>(T value) => new(value, null);

    public static implicit operator WalletResult<T>(WalletError error) => new(default, error);
#pragma warning restore CA2225
}
