using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Metadata;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Authorization;

/// <summary>
/// A refused authorization request. <see cref="Target"/> is set once client_id and redirect_uri checked out: only
/// then may the error travel to the redirect URI (RFC 6749 §4.1.2.1); before, the user agent gets a page.
/// </summary>
public sealed record AuthorizationRefusal(WalletError Error, WalletRedirect? Target = null);

/// <summary>Where a wallet's authorization response goes: its redirect_uri, with its state and our issuer (RFC 9207).</summary>
public sealed record WalletRedirect(string RedirectUri, string? State, string Issuer)
{
    /// <summary>The redirect URI with the parameters appended to its query (RFC 6749 §4.1.2).</summary>
    public string With(params (string Name, string? Value)[] parameters)
    {
        var query = string.Join('&', parameters.Append(("state", State)).Append(("iss", Issuer))
            .Where(p => p.Item2 is not null)
            .Select(p => $"{Uri.EscapeDataString(p.Item1)}={Uri.EscapeDataString(p.Item2!)}"));
        var separator = RedirectUri.Contains('?', StringComparison.Ordinal) ? (RedirectUri.EndsWith('?') || RedirectUri.EndsWith('&') ? "" : "&") : "?";
        return RedirectUri + separator + query;
    }

    /// <summary>An error response (RFC 6749 §4.1.2.1).</summary>
    public string WithError(WalletError error) => With(("error", error.SpecCode), ("error_description", error.Description));
}

/// <summary>An accepted request, ready to be stored, with its event.</summary>
public sealed record AcceptedAuthorization(Authorization Authorization, IssuerEvent Requested);

/// <summary>
/// The one validator of authorization requests, pushed (RFC 9126) or sent to /authorize with PAR off: client and
/// redirect URI by the tenant's policy, response_type code, PKCE S256, resource (RFC 8707), one credential
/// configuration from authorization_details or scope (OID4VCI 1.0 §5.1), and the issuer_state that ties the flow to
/// an offer — or, without one, the profile's open door for wallet-initiated issuance (§3.4).
/// </summary>
public sealed class AcceptAuthorizationRequest(IAuthorizationStore store, TimeProvider clock)
{
    public const int MaxStateLength = 1024;
    public const int MaxScopeLength = 1024;
    public const int MaxIssuerStateLength = 128;

    /// <summary>Whether the tenant runs the authorization code flow: it allows AUTHORIZED offers and has an IdP.</summary>
    public static bool IsOn(Tenant tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return tenant.AllowAuthorized && tenant.IdentityProvider is not null;
    }

    /// <summary>
    /// Checks a request; <paramref name="dpopKey"/> is the key a DPoP proof sent with a pushed request proved, which
    /// binds the grant like dpop_jkt (RFC 9449 §10).
    /// </summary>
    public async Task<Result<AcceptedAuthorization, AuthorizationRefusal>> ExecuteAsync(
        TenantSnapshot snapshot, AuthorizationParameters p, bool pushed, CancellationToken ct, string? dpopKey = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(p);
        var tenant = snapshot.Tenant;
        if (!IsOn(tenant))
            return Refuse(new WalletError(WalletErrorCode.UnsupportedResponseType, "This issuer does not run the authorization code flow."));
        if (pushed && p.RequestUri is not null)
            return Refuse(WalletError.InvalidRequest("A pushed authorization request must not carry request_uri (RFC 9126 §2.1)."));

        // Who and where: until these check out, nothing goes to the redirect URI.
        if (string.IsNullOrEmpty(p.ClientId)) return Refuse(WalletError.InvalidRequest("client_id is required."));
        if (!ClientPolicy.IsWellFormedClientId(p.ClientId))
            return Refuse(WalletError.InvalidRequest($"client_id {ClientPolicy.ClientIdRule}."));
        if (string.IsNullOrEmpty(p.RedirectUri)) return Refuse(WalletError.InvalidRequest("redirect_uri is required."));
        if (ClientPolicy.Check(tenant.AuthorizationServer, p.ClientId, p.RedirectUri) is { } refusedClient) return Refuse(refusedClient);
        if (p.State is { Length: > MaxStateLength }) return Refuse(WalletError.InvalidRequest($"state is longer than {MaxStateLength} characters."));
        var target = new WalletRedirect(p.RedirectUri, p.State, tenant.CredentialIssuer);

        // The request proper.
        if (p.ResponseType != "code")
            return Refuse(new WalletError(WalletErrorCode.UnsupportedResponseType, "response_type must be code."), target);
        if (string.IsNullOrEmpty(p.CodeChallenge)) return Refuse(WalletError.InvalidRequest("code_challenge is required (PKCE, S256)."), target);
        if (p.CodeChallengeMethod != Pkce.S256) return Refuse(WalletError.InvalidRequest("code_challenge_method must be S256."), target);
        if (!Pkce.IsWellFormedChallenge(p.CodeChallenge))
            return Refuse(WalletError.InvalidRequest("code_challenge must be the 43-character BASE64URL of a SHA-256 hash."), target);
        if (p.Resource is not null && p.Resource != tenant.CredentialIssuer)
            return Refuse(new WalletError(WalletErrorCode.InvalidTarget, "resource must be this credential issuer's identifier."), target);
        // RFC 9449 §10: dpop_jkt binds the code to a key; with a proof at PAR too, both must name the same key.
        string? boundKey = null;
        if (Dpop.SenderConstraint.IsOn(tenant))
        {
            if (p.DpopJkt is not null && !Jose.WalletJwk.IsThumbprint(p.DpopJkt))
                return Refuse(new WalletError(WalletErrorCode.InvalidDpopProof, "dpop_jkt must be a base64url SHA-256 JWK thumbprint (RFC 7638)."), target);
            if (p.DpopJkt is not null && dpopKey is not null && p.DpopJkt != dpopKey)
                return Refuse(new WalletError(WalletErrorCode.InvalidDpopProof, "dpop_jkt is not the thumbprint of the key of the DPoP proof."), target);
            boundKey = dpopKey ?? p.DpopJkt;
        }

        var asked = WhatIsAsked(snapshot, p);
        if (!asked.IsSuccess) return Refuse(asked.Error, target);
        var (configurationId, byDetails, grantedScope) = asked.Value;
        var profile = snapshot.Profiles[configurationId];
        var notOffered = new WalletError(byDetails ? WalletErrorCode.InvalidAuthorizationDetails : WalletErrorCode.InvalidScope,
            "That credential configuration is not offered to this request.");

        // issuer_state ties the flow to an offer; it is untrusted input (§5.1.3).
        var now = clock.UtcNow();
        string? offerId = null;
        byte[]? stateHash = null;
        var (profileUid, profileVersion) = (profile.Uid, profile.Version);
        if (p.IssuerState is not null)
        {
            var unusable = WalletError.InvalidRequest("The issuer_state is unknown, expired, used, or its offer is no longer active.");
            if (p.IssuerState.Length is 0 or > MaxIssuerStateLength) return Refuse(unusable, target);
            stateHash = Secrets.Hash(p.IssuerState);
            var found = await store.FindIssuerStateAsync(tenant.Id, stateHash, ct);
            if (found is null || found.State.ExpiresAt <= now || (found.State.SingleUse && found.State.ConsumedAt is not null)
                || found.Offer.Method != AuthenticationMethod.Authorized || found.Offer.StateAt(now) != OfferState.Active)
                return Refuse(unusable, target);
            if (found.Offer.ProfileId != configurationId) return Refuse(notOffered, target);
            offerId = found.Offer.Id;
            (profileUid, profileVersion) = (found.Offer.ProfileUid, found.Offer.ProfileVersion);
        }
        else
        {
            if (tenant.AuthorizationServer.RequireIssuerState)
                return Refuse(WalletError.InvalidRequest("issuer_state is required: start from a credential offer."), target);
            if (!await store.HasOpenDoorAsync(tenant.Id, configurationId, now, ct)) return Refuse(notOffered, target);
        }

        var authorization = new Authorization
        {
            Id = Ids.New(),
            TenantId = tenant.Id,
            Stage = AuthorizationStage.Requested,
            ClientId = p.ClientId,
            RedirectUri = p.RedirectUri,
            State = p.State,
            CodeChallenge = p.CodeChallenge,
            ConfigurationId = configurationId,
            ProfileUid = profileUid,
            ProfileVersion = profileVersion,
            Scope = grantedScope,
            UsesAuthorizationDetails = byDetails,
            OfferId = offerId,
            IssuerStateHash = stateHash,
            DpopJkt = boundKey,
            CreatedAt = now,
            ExpiresAt = now + AuthorizationLifetimes.Flow,
        };
        return new AcceptedAuthorization(authorization, AuthorizationEvents.Create(authorization, EventTypes.AuthorizationRequested, now));
    }

    /// <summary>
    /// The one configuration asked for: authorization_details of type openid_credential win over a scope for the same
    /// configuration (§5.1.2); unknown scopes are ignored; two configurations in one request are refused.
    /// </summary>
    private static Result<(string ConfigurationId, bool ByDetails, string? Scope), WalletError> WhatIsAsked(TenantSnapshot snapshot, AuthorizationParameters p)
    {
        var details = AuthorizationDetails.Parse(p.AuthorizationDetails);
        if (!details.IsSuccess) return details.Error;
        foreach (var id in details.Value)
        {
            if (!snapshot.Profiles.ContainsKey(id))
                return new WalletError(WalletErrorCode.InvalidAuthorizationDetails, "authorization_details names an unknown credential configuration.");
        }
        var byDetails = details.Value.Distinct(StringComparer.Ordinal).ToList();
        if (byDetails.Count > 1)
            return new WalletError(WalletErrorCode.InvalidAuthorizationDetails, "Ask for one credential configuration per authorization request.");

        if (p.Scope is { Length: > MaxScopeLength }) return new WalletError(WalletErrorCode.InvalidScope, $"scope is longer than {MaxScopeLength} characters.");
        var scopes = (p.Scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var byScope = snapshot.Profiles.Values.Where(pr => scopes.Contains(pr.Scope, StringComparer.Ordinal)).ToList();
        if (byScope.Count > 1) return new WalletError(WalletErrorCode.InvalidScope, "Ask for one credential configuration per authorization request.");

        if (byDetails.Count == 1)
        {
            if (byScope.Count == 1 && byScope[0].ProfileId != byDetails[0])
                return WalletError.InvalidRequest("scope and authorization_details ask for different credential configurations; ask for one.");
            return (byDetails[0], true, null);
        }
        if (byScope.Count == 1) return (byScope[0].ProfileId, false, byScope[0].Scope);
        return scopes.Length > 0
            ? new WalletError(WalletErrorCode.InvalidScope, "No scope of the request names a credential configuration of this issuer.")
            : WalletError.InvalidRequest("Ask for a credential by scope or by authorization_details of type openid_credential.");
    }

    private static AuthorizationRefusal Refuse(WalletError error, WalletRedirect? target = null) => new(error, target);
}

/// <summary>The authorization server's events: they name the client and the redirect host, never the user or a claim.</summary>
public static class AuthorizationEvents
{
    public static IssuerEvent Create(Authorization a, string type, DateTimeOffset now, string? reason = null, WalletError? error = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        return IssuerEvent.Create(a.TenantId, type, now,
            new EventDetails.Authorization(a.Id, a.ClientId, RedirectHost(a.RedirectUri), reason, error?.SpecCode),
            a.OfferId, profileId: a.ConfigurationId);
    }

    /// <summary>The host of a redirect URI, or its scheme for a private-use URI.</summary>
    public static string RedirectHost(string redirectUri) =>
        Uri.TryCreate(redirectUri, UriKind.Absolute, out var uri) ? (uri.Host.Length > 0 ? uri.Host : uri.Scheme) : "";
}

/// <summary>The reasons an AUTHORIZATION_REFUSED event names (documented on AuthorizationDetail in session_events_service.proto).</summary>
public static class AuthorizationRefusalReasons
{
    public const string IdpError = "idp_error";
    public const string IdpUnavailable = "idp_unavailable";
    public const string IdTokenInvalid = "id_token_invalid";
    public const string UserInfoInvalid = "userinfo_invalid";
    public const string ClaimMissing = "claim_missing";
    public const string ConsentRefused = "consent_refused";
}
