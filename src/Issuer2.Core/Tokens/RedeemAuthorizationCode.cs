using Issuer2.Core.Authorization;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Metadata;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Tenants;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tokens;

/// <summary>
/// The authorization code grant (RFC 6749 §4.1.3 with PKCE, OID4VCI 1.0 §6.1): the code, client_id, redirect_uri and
/// code_verifier must match the grant; the code, one use of its offer and a single-use issuer_state are consumed in
/// one transaction. A code used again revokes the token its first use produced (RFC 6749 §4.1.2).
/// </summary>
public sealed class RedeemAuthorizationCode(
    TenantDirectory tenants, IAuthorizationStore store, IEventJournal journal, KeyRing keys, Dpop.SenderConstraint sender, IRateGate gate, TimeProvider clock)
{
    private readonly SecretProtector _secrets = keys.Protector(KeyPurpose.SecretsAtRest);

    /// <summary>Redeems the code; the token is bound to the key the request's DPoP proof proved, if any (RFC 9449).</summary>
    public async Task<Result<TokenResponse, WalletError>> ExecuteAsync(string tenantId, TokenRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var snapshot = await tenants.FindAsync(tenantId, ct);
        if (snapshot is null || !AcceptAuthorizationRequest.IsOn(snapshot.Tenant))
            return new WalletError(WalletErrorCode.UnsupportedGrantType, "This issuer does not run the authorization code flow.");
        var tenant = snapshot.Tenant;
        var bound = await sender.AtTokenEndpointAsync(tenant, request.Dpop, ct);
        if (!bound.IsSuccess) return bound.Error;
        var dpopKey = bound.Value;

        // The request's shape.
        if (string.IsNullOrEmpty(request.Code)) return WalletError.InvalidRequest("code is required.");
        if (string.IsNullOrEmpty(request.RedirectUri)) return WalletError.InvalidRequest("redirect_uri is required.");
        if (string.IsNullOrEmpty(request.CodeVerifier)) return WalletError.InvalidRequest("code_verifier is required (PKCE).");
        if (!Pkce.IsWellFormedVerifier(request.CodeVerifier)) return WalletError.InvalidRequest("code_verifier must be 43 to 128 unreserved characters.");
        if (string.IsNullOrEmpty(request.ClientId)) return WalletError.InvalidRequest("client_id is required.");
        if (request.Resource is not null && request.Resource != tenant.CredentialIssuer)
            return new WalletError(WalletErrorCode.InvalidTarget, "resource must be this credential issuer's identifier.");
        if (tenant.AuthorizationServer.ClientMode == WalletClientMode.Registered
            && tenant.AuthorizationServer.RegisteredClients.All(c => c.ClientId != request.ClientId))
            return new WalletError(WalletErrorCode.InvalidClient, "The client_id is not registered with this issuer.");
        var requested = AuthorizationDetails.Parse(request.AuthorizationDetails);
        if (!requested.IsSuccess) return requested.Error;

        var invalidCode = WalletError.InvalidGrant("The authorization code is unknown, used or expired.");
        if (request.Code.Length > 128) return invalidCode;
        var a = await store.FindByCodeAsync(tenant.Id, Secrets.Hash(request.Code), ct);
        if (a is null) return invalidCode;
        // Too many token requests for the offer this code came from: refused before anything is decided or written
        // (a replayed code's revocation included; it happens on the next request the limit lets through).
        if (a.OfferId is not null && gate.Refusal(OfferLimit.Token, tenant.Id, a.OfferId) is { } limited) return limited;
        var now = clock.UtcNow();
        if (a.Stage == AuthorizationStage.Redeemed)
        {
            // RFC 6749 §4.1.2: the code leaked or was replayed; what its first use obtained is revoked.
            await store.RevokeTokensAsync(a, Refusal(a, now, TokenRefusalReasons.CodeUsed), ct);
            return invalidCode;
        }
        if (a.Stage != AuthorizationStage.CodeIssued) return invalidCode;
        if (a.CodeExpiresAt <= now) return await RefuseAsync(a, now, TokenRefusalReasons.CodeExpired, invalidCode, ct);
        if (a.ClientId != request.ClientId || a.RedirectUri != request.RedirectUri || !Pkce.Verifies(request.CodeVerifier, a.CodeChallenge))
            return await RefuseAsync(a, now, TokenRefusalReasons.CodeMismatch,
                WalletError.InvalidGrant("client_id, redirect_uri or code_verifier do not match the authorization request."), ct);
        // RFC 9449 §10: a grant bound to a key at PAR is redeemed only with a proof of that key.
        if (a.DpopJkt is not null && a.DpopJkt != dpopKey)
            return await RefuseAsync(a, now, TokenRefusalReasons.CodeMismatch,
                WalletError.InvalidGrant("The authorization request was bound to another DPoP key (dpop_jkt); prove that key."), ct);
        if (requested.Value.Any(id => id != a.ConfigurationId))
            return await RefuseAsync(a, now, TokenRefusalReasons.AuthorizationDetailsNotGranted,
                new WalletError(WalletErrorCode.InvalidAuthorizationDetails, "authorization_details asks for a credential configuration this grant does not give."), ct);

        // §6.2: credential_identifiers exactly when the authorization request or this token request used authorization_details.
        var credentialIdentifier = a.UsesAuthorizationDetails || requested.Value.Count > 0 ? a.ConfigurationId : null;
        var offer = a.OfferId is null ? null : await store.FindOfferAsync(tenant.Id, a.OfferId, ct);
        if (a.OfferId is not null && (offer is null || TokenRefusalReasons.ForState(offer.StateAt(now)) is not null))
        {
            var reason = offer is null ? TokenRefusalReasons.OfferRevoked : TokenRefusalReasons.ForState(offer.StateAt(now))!;
            return await RefuseAsync(a, now, reason, TokenRefusalReasons.OfferEnded(reason), ct);
        }

        var opened = AccessTokens.Open(new SessionGrant(tenant.Id, a.OfferId, a.ConfigurationId, a.ProfileUid, a.ProfileVersion),
            a.ClientId, credentialIdentifier, now, credentialIdentifier is null ? a.Scope : null, dpopKey);
        var claims = ClaimsAtRest.Open(_secrets, a.EncryptedClaims, ClaimsAtRest.ForAuthorization(a.TenantId, a.Id));
        opened.Session.EncryptedClaims = ClaimsAtRest.Seal(_secrets, claims, ClaimsAtRest.ForSession(a.TenantId, opened.Session.Id));
        var issued = IssuerEvent.Create(tenant.Id, EventTypes.TokenIssued, now,
            new EventDetails.TokenIssued(offer is null ? 0 : offer.UseCount + 1, offer?.MaxUses ?? 0, AuthorizationGrant.Type),
            a.OfferId, opened.Session.Id, a.ConfigurationId);
        if (!await store.RedeemAsync(a, now, opened.Session, opened.Token, issued, ct))
        {
            // Another request redeemed the code, or took the offer's last use or the issuer_state first.
            var current = await store.FindByCodeAsync(tenant.Id, a.CodeHash!, ct);
            if (current is { Stage: AuthorizationStage.Redeemed })
            {
                // Used twice, if at the same moment: the code leaked, so what it obtained is revoked as for any reuse.
                await store.RevokeTokensAsync(current, Refusal(current, now, TokenRefusalReasons.RedeemedConcurrently), ct);
                return invalidCode;
            }
            var offerNow = a.OfferId is null ? null : await store.FindOfferAsync(tenant.Id, a.OfferId, ct);
            if (offerNow is not null && TokenRefusalReasons.ForState(offerNow.StateAt(now)) is { } ended)
                return await RefuseAsync(a, now, ended, TokenRefusalReasons.OfferEnded(ended), ct);
            return await RefuseAsync(a, now, TokenRefusalReasons.IssuerStateUsed, WalletError.InvalidGrant("The offer's issuer_state was already used."), ct);
        }
        return opened.Response with { DpopNonce = sender.FreshNonce(tenant) };
    }

    private async Task<Result<TokenResponse, WalletError>> RefuseAsync(Authorization.Authorization a, DateTimeOffset now, string reason, WalletError error, CancellationToken ct)
    {
        await journal.RecordRefusalAsync(Events.Refusal.Token(a.TenantId, reason, a.OfferId, a.SessionId, a.ConfigurationId), now, ct);
        return error;
    }

    /// <summary>The refusal that revokes what a replayed code obtained: written with the revocation, once per replay the limits let through.</summary>
    private static IssuerEvent Refusal(Authorization.Authorization a, DateTimeOffset now, string reason) =>
        IssuerEvent.Create(a.TenantId, EventTypes.TokenRefused, now, new EventDetails.TokenRefused(reason), a.OfferId, a.SessionId, a.ConfigurationId);
}
