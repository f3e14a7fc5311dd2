using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Metadata;
using Issuer2.Core.Offers;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tokens;

/// <summary>How a token request tried to authenticate its client (RFC 6749 §2.3), if it did.</summary>
public enum ClientAuthentication
{
    /// <summary>A public client: at most a bare client_id.</summary>
    None,

    /// <summary>An Authorization header (HTTP Basic or any other scheme).</summary>
    AuthorizationHeader,

    /// <summary>client_secret in the body.</summary>
    ClientSecret,

    /// <summary>client_assertion / client_assertion_type in the body (RFC 7523).</summary>
    ClientAssertion,
}

/// <summary>The parameters of a token request (RFC 6749 §4.1.3 / OID4VCI 1.0 §6.1), read once at the edge.</summary>
public sealed record TokenRequest(
    string? GrantType, string? PreAuthorizedCode, string? TxCode, string? AuthorizationDetails,
    string? ClientId = null, ClientAuthentication Authentication = ClientAuthentication.None,
    string? Code = null, string? CodeVerifier = null, string? RedirectUri = null, string? Resource = null, Dpop.DpopHeader? Dpop = null);

/// <summary>
/// A successful token response; <see cref="Scope"/> when the grant was asked for by scope; <see cref="TokenType"/>
/// <c>DPoP</c> for a token bound to a key (RFC 9449 §5), and then perhaps a fresh <see cref="DpopNonce"/>.
/// </summary>
public sealed record TokenResponse(string AccessToken, int ExpiresIn, JsonArray? AuthorizationDetails, string? Scope = null, string TokenType = "Bearer")
{
    public string? DpopNonce { get; init; }

    /// <summary>
    /// A c_nonce for draft-13 wallets, which take their first nonce from here (OID4VCI draft 13 §6.2); 1.0 wallets
    /// ignore the member and ask the nonce endpoint. Of the same kind that endpoint mints: nothing is written for it.
    /// </summary>
    public Nonces.FreshCNonce? CNonce { get; init; }
}

/// <summary>
/// The token endpoint's use case: it checks the grant type and hands the request to the use case of that grant
/// (<see cref="RedeemPreAuthorizedCode"/>, <see cref="RedeemAuthorizationCode"/>), which share the step that opens the
/// session (<see cref="AccessTokens"/>).
/// </summary>
public sealed class IssueToken(RedeemPreAuthorizedCode preAuthorizedCode, RedeemAuthorizationCode authorizationCode, Nonces.NonceService nonces)
{
    public async Task<Result<TokenResponse, WalletError>> ExecuteAsync(string tenantId, TokenRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var shape = CheckShape(request);
        if (shape is not null) return shape;
        // Each grant checks the sender constraint (Dpop.SenderConstraint.AtTokenEndpointAsync) as soon as it holds the
        // tenant, which its first read brings: no read of the tenant here.
        var result = request.GrantType == CredentialOfferDocument.PreAuthorizedGrant
            ? await preAuthorizedCode.ExecuteAsync(tenantId, request, ct)
            : await authorizationCode.ExecuteAsync(tenantId, request, ct);
        return result.IsSuccess ? result.Value with { CNonce = nonces.Fresh(tenantId) } : result;
    }

    /// <summary>What every token request must be before any grant looks at it; null when it is.</summary>
    private static WalletError? CheckShape(TokenRequest request)
    {
        // Only public clients (token_endpoint_auth_methods_supported: ["none"]): an attempt to authenticate fails
        // rather than being ignored (RFC 6749 §5.2), for every grant. A bare client_id is a public client's.
        if (request.Authentication != ClientAuthentication.None)
            return new WalletError(WalletErrorCode.InvalidClient,
                "This issuer authenticates no clients (token_endpoint_auth_method none): send client_id alone, without credentials.");
        if (request.ClientId is { } clientId && !Authorization.ClientPolicy.IsWellFormedClientId(clientId))
            return WalletError.InvalidRequest($"client_id {Authorization.ClientPolicy.ClientIdRule}.");
        return request.GrantType switch
        {
            null or "" => WalletError.InvalidRequest("grant_type is required."),
            CredentialOfferDocument.PreAuthorizedGrant or Authorization.AuthorizationGrant.Type => null,
            _ => new WalletError(WalletErrorCode.UnsupportedGrantType,
                $"The grant types are {CredentialOfferDocument.PreAuthorizedGrant} and {Authorization.AuthorizationGrant.Type}."),
        };
    }
}

/// <summary>
/// The reasons a TOKEN_REFUSED event names (documented on TokenRefusedDetail in session_events_service.proto).
/// </summary>
public static class TokenRefusalReasons
{
    public const string WrongPin = "wrong_pin";
    public const string TxCodeMissing = "tx_code_missing";
    public const string TxCodeUnexpected = "tx_code_unexpected";
    public const string CodeUsed = "code_used";
    public const string CodeExpired = "code_expired";
    public const string OfferRevoked = "offer_revoked";
    public const string OfferLocked = "offer_locked";
    public const string OfferUsedUp = "offer_used_up";
    public const string OfferExpired = "offer_expired";
    public const string AuthorizationDetailsNotGranted = "authorization_details_not_granted";
    public const string RedeemedConcurrently = "redeemed_concurrently";
    public const string CodeMismatch = "code_mismatch";
    public const string IssuerStateUsed = "issuer_state_used";

    /// <summary>
    /// The answer for an offer that ended, for every grant. A locked offer answers every request alike, right PIN or
    /// wrong, however it raced with the lock: nothing tells a late right guess from a wrong one.
    /// </summary>
    public static WalletError OfferEnded(string reason) => reason == OfferLocked
        ? LockedOut
        : WalletError.InvalidGrant($"The offer is no longer valid ({reason.Replace('_', ' ')}).");

    /// <summary>What every request to a locked offer is told.</summary>
    public static readonly WalletError LockedOut = WalletError.InvalidGrant("The offer is locked after too many wrong PINs.");

    /// <summary>Why an offer in <paramref name="state"/> grants no token; null for an active offer.</summary>
    public static string? ForState(OfferState state) => state switch
    {
        OfferState.Revoked => OfferRevoked,
        OfferState.Locked => OfferLocked,
        OfferState.UsedUp => OfferUsedUp,
        OfferState.Expired => OfferExpired,
        OfferState.Active => null,
    };
}
