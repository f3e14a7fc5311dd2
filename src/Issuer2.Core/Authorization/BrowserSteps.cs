using System.Text.Json;
using Issuer2.Core.Common;
using Issuer2.Core.Claims;
using Issuer2.Core.Events;
using Issuer2.Core.IdentityProviders;
using Issuer2.Core.Metadata;
using Issuer2.Core.Profiles;
using Issuer2.Core.Security;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Authorization;

/// <summary>The cookie that binds a flow to the browser that started it (RFC 9700 §4.7): its value is stored only hashed.</summary>
public sealed record BrowserCookie(string Name, string Value, string Path, DateTimeOffset ExpiresAt);

/// <summary>What the user agent gets from a step: a 303, a 400 page, or the consent page.</summary>
public abstract record BrowserOutcome
{
    private BrowserOutcome()
    {
    }

    /// <summary>A 303 to <paramref name="Location"/>; sets or clears the binding cookie.</summary>
    public sealed record Redirect(string Location, BrowserCookie? SetCookie = null, BrowserCookie? ClearCookie = null) : BrowserOutcome;

    /// <summary>A 400 page: nothing may go to a redirect URI (RFC 6749 §4.1.2.1).</summary>
    public sealed record ErrorPage(WalletError Error) : BrowserOutcome;

    /// <summary>The consent page.</summary>
    public sealed record Consent(ConsentView View) : BrowserOutcome;
}

/// <summary>One claim as the consent page shows it: its label and the value the credential will carry.</summary>
public sealed record ConsentClaim(string Label, string Value);

/// <summary>What the user is asked to consent to: which credential, with which claims, for which client and redirect host.</summary>
public sealed record ConsentView(
    string AuthorizationId, string IssuerName, string CredentialName, IReadOnlyList<ConsentClaim> Claims, string ClientId, string RedirectHost, string ConsentUrl);

/// <summary>The user's answer on the consent page.</summary>
public enum ConsentDecision
{
    Issue,
    Cancel,
}

/// <summary>What the IdP sent back to the callback (OIDC Core §3.1.2.5/6, RFC 9207).</summary>
public sealed record ProviderCallback(string? Code, string? State, string? Issuer, string? Error);

/// <summary>
/// The browser's part of the flow: /authorize sends the user to the tenant's IdP; the callback checks what came back
/// and maps the claims; the consent page issues the one-time code to the wallet's redirect URI. Every step reads and
/// moves one row, so any host may take any step.
/// </summary>
public sealed class BrowserSteps(
    TenantDirectory tenants, AcceptAuthorizationRequest accept, IAuthorizationStore store, IIdentityProviderClient provider,
    KeyRing keys, TimeProvider clock)
{
    private readonly SecretProtector _secrets = keys.Protector(KeyPurpose.SecretsAtRest);

    public const string CookiePrefix = "issuer2_authz_";

    public static string CallbackUrl(string credentialIssuer) => IdentityProviderCallback.RedirectUri(credentialIssuer);

    public static string ConsentUrl(string credentialIssuer) => $"{credentialIssuer}/consent";

    public static string CookieName(string authorizationId) => CookiePrefix + authorizationId;

    private static string VerifierContext(Authorization a) => VerifierContext(a.TenantId, a.Id);

    internal static string VerifierContext(string tenantId, string authorizationId) => $"idp-pkce-verifier/{tenantId}/{authorizationId}";

    private static readonly WalletError Unavailable = new(WalletErrorCode.TemporarilyUnavailable, "The identity provider cannot be reached; try again later.");

    /// <summary>GET /authorize: a pushed request by its request_uri, or the parameters themselves when PAR is off.</summary>
    public async Task<BrowserOutcome> AuthorizeAsync(string tenantId, AuthorizationParameters p, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(p);
        var snapshot = await tenants.FindAsync(tenantId, ct);
        if (snapshot is null) return new BrowserOutcome.ErrorPage(TenantDirectory.NoIssuerHere());
        var tenant = snapshot.Tenant;
        var issuer = tenant.CredentialIssuer;
        if (!AcceptAuthorizationRequest.IsOn(tenant))
            return new BrowserOutcome.ErrorPage(new WalletError(WalletErrorCode.UnsupportedResponseType, "This issuer does not run the authorization code flow."));
        var now = clock.UtcNow();

        Authorization a;
        if (p.RequestUri is not null)
        {
            if (!ClientPolicy.IsWellFormedClientId(p.ClientId)) return Page("client_id is required with request_uri.");
            var token = RequestUris.TokenOf(p.RequestUri);
            var found = token is null ? null : await store.FindByRequestUriAsync(tenant.Id, Secrets.Hash(token), ct);
            if (found is null || found.Stage != AuthorizationStage.Requested || found.RequestUriExpiresAt <= now)
                return Page("The request_uri is unknown, expired or already used: push the authorization request again.");
            if (found.ClientId != p.ClientId) return Page("The client_id is not the one that pushed this request.");
            a = found;
        }
        else
        {
            if (tenant.AuthorizationServer.RequirePushedAuthorizationRequests)
                return Page("This issuer requires pushed authorization requests: push the request to the pushed_authorization_request_endpoint first.");
            var accepted = await accept.ExecuteAsync(snapshot, p, pushed: false, ct);
            if (!accepted.IsSuccess)
            {
                return accepted.Error.Target is { } target
                    ? new BrowserOutcome.Redirect(target.WithError(accepted.Error.Error))
                    : new BrowserOutcome.ErrorPage(accepted.Error.Error);
            }
            a = accepted.Value.Authorization;
            await store.AddAsync(a, accepted.Value.Requested, ct);
        }

        // Our own request to the IdP: its state, nonce and PKCE, bound to this browser by a cookie.
        var metadata = await provider.DiscoverAsync(tenant.IdentityProvider!, ct);
        if (!metadata.IsSuccess)
            return await RefuseAsync(a, issuer, AuthorizationStage.Requested, AuthorizationRefusalReasons.IdpUnavailable, Unavailable, ct);
        var browser = Secrets.NewToken();
        var providerState = Secrets.NewToken();
        var verifier = Secrets.NewToken(48);
        a.BrowserHash = Secrets.Hash(browser);
        a.ProviderStateHash = Secrets.Hash(providerState);
        a.ProviderNonce = Secrets.NewToken(24);
        a.EncryptedProviderVerifier = _secrets.Encrypt(System.Text.Encoding.ASCII.GetBytes(verifier), VerifierContext(a));
        if (!await store.SendToProviderAsync(a, now, ct))
            return Page("The request_uri is unknown, expired or already used: push the authorization request again.");

        var idp = tenant.IdentityProvider!;
        var scope = string.Join(' ', idp.Scopes.Prepend("openid").Distinct(StringComparer.Ordinal));
        var query = string.Join('&', new (string, string)[]
        {
            ("response_type", "code"), ("client_id", idp.ClientId), ("redirect_uri", CallbackUrl(tenant.CredentialIssuer)), ("scope", scope),
            ("state", providerState), ("nonce", a.ProviderNonce), ("code_challenge", Pkce.Challenge(verifier)), ("code_challenge_method", Pkce.S256),
        }.Select(x => $"{x.Item1}={Uri.EscapeDataString(x.Item2)}"));
        var endpoint = metadata.Value.AuthorizationEndpoint;
        var location = endpoint + (endpoint.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query;
        return new BrowserOutcome.Redirect(location, SetCookie: new BrowserCookie(CookieName(a.Id), browser, CookiePath(tenant.CredentialIssuer), a.ExpiresAt));
    }

    /// <summary>GET /idp/callback: the IdP's answer, checked and exchanged; the mapped claims stored; then the consent page.</summary>
    public async Task<BrowserOutcome> CallbackAsync(string tenantId, ProviderCallback callback, Func<string, string?> cookie, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentNullException.ThrowIfNull(cookie);
        var snapshot = await tenants.FindAsync(tenantId, ct);
        if (snapshot is null) return new BrowserOutcome.ErrorPage(TenantDirectory.NoIssuerHere());
        var tenant = snapshot.Tenant;
        var issuer = tenant.CredentialIssuer;
        if (callback.State is not { Length: > 0 and <= 128 }) return Page("The sign-in answer carries no state.");
        // By this tenant's rows only: another tenant's callback cannot finish this tenant's login.
        var a = await store.FindByProviderStateAsync(tenant.Id, Secrets.Hash(callback.State), ct);
        if (a is null) return Page("This sign-in is unknown or already finished.");
        if (!BoundToBrowser(a, cookie)) return Page("This sign-in was started in another browser.");
        var now = clock.UtcNow();
        if (a.Stage != AuthorizationStage.AtProvider || a.ExpiresAt <= now) return Page("This sign-in is unknown or already finished.");
        var idp = tenant.IdentityProvider;
        if (idp is null || !AcceptAuthorizationRequest.IsOn(tenant))
            return await RefuseAsync(a, issuer, AuthorizationStage.AtProvider, AuthorizationRefusalReasons.IdpUnavailable, Unavailable, ct);

        var metadata = await provider.DiscoverAsync(idp, ct);
        if (!metadata.IsSuccess)
            return await RefuseAsync(a, issuer, AuthorizationStage.AtProvider, AuthorizationRefusalReasons.IdpUnavailable, Unavailable, ct);
        // RFC 9207: when the IdP says it sends iss, it must, and it must be the IdP's (the mix-up defence beside the per-tenant callback).
        if ((callback.Issuer is not null || metadata.Value.AuthorizationResponseIssParameterSupported) && callback.Issuer != metadata.Value.Issuer)
            return await DeniedAsync(a, issuer, AuthorizationRefusalReasons.IdpError, "The sign-in answer did not come from the tenant's identity provider.", ct);
        if (callback.Error is not null || string.IsNullOrEmpty(callback.Code))
            return await DeniedAsync(a, issuer, AuthorizationRefusalReasons.IdpError, "The sign-in at the identity provider was cancelled or failed.", ct);

        var verifier = System.Text.Encoding.ASCII.GetString(_secrets.Decrypt(a.EncryptedProviderVerifier!, VerifierContext(a)));
        var tokens = await provider.ExchangeCodeAsync(idp, IdentityProviderSecrets.Decrypt(_secrets, tenant.Id, idp), callback.Code,
            verifier, CallbackUrl(tenant.CredentialIssuer), ct);
        if (!tokens.IsSuccess)
        {
            return tokens.Error.Failure == ProviderFailure.Unavailable
                ? await RefuseAsync(a, issuer, AuthorizationStage.AtProvider, AuthorizationRefusalReasons.IdpUnavailable, Unavailable, ct)
                : await DeniedAsync(a, issuer, AuthorizationRefusalReasons.IdpError, "The identity provider did not accept the sign-in.", ct);
        }

        var idToken = await ValidateIdTokenAsync(idp, metadata.Value, tokens.Value.IdToken, a.ProviderNonce!, ct);
        if (idToken is null) return await DeniedAsync(a, issuer, AuthorizationRefusalReasons.IdTokenInvalid, "The identity provider's ID token did not check out.", ct);

        var definition = await DefinitionAsync(snapshot, a, ct);
        JsonElement? userInfo = null;
        if (SignInClaims.NeedsUserInfo(definition))
        {
            if (tokens.Value.AccessToken is null || metadata.Value.UserInfoEndpoint is null)
                return await DeniedAsync(a, issuer, AuthorizationRefusalReasons.UserInfoInvalid, "The identity provider gave no userinfo.", ct);
            var info = await provider.GetUserInfoAsync(idp, tokens.Value.AccessToken, ct);
            if (!info.IsSuccess)
            {
                return info.Error.Failure == ProviderFailure.Unavailable
                    ? await RefuseAsync(a, issuer, AuthorizationStage.AtProvider, AuthorizationRefusalReasons.IdpUnavailable, Unavailable, ct)
                    : await DeniedAsync(a, issuer, AuthorizationRefusalReasons.UserInfoInvalid, "The identity provider's userinfo was refused.", ct);
            }
            // OIDC Core §5.3.2: the userinfo sub must be the ID token's, or the response is not this user's.
            if (info.Value.ValueKind != JsonValueKind.Object || !info.Value.TryGetProperty("sub", out var sub)
                || sub.ValueKind != JsonValueKind.String || sub.GetString() != idToken.Subject)
                return await DeniedAsync(a, issuer, AuthorizationRefusalReasons.UserInfoInvalid, "The identity provider's userinfo is not the signed-in user's.", ct);
            userInfo = info.Value;
        }

        var mapped = SignInClaims.Map(definition, idToken.Claims, userInfo);
        var overrides = a.OfferId is null ? [] : (await store.FindOfferAsync(tenant.Id, a.OfferId, ct))?.Overrides ?? [];
        if (SignInClaims.Missing(definition, overrides, mapped).Any())
            return await DeniedAsync(a, issuer, AuthorizationRefusalReasons.ClaimMissing, "The sign-in did not provide every claim this credential needs.", ct);

        a.EncryptedClaims = ClaimsAtRest.Seal(_secrets, mapped, ClaimsAtRest.ForAuthorization(a.TenantId, a.Id));
        a.AuthenticatedAt = now;
        if (!await store.AuthenticateAsync(a, AuthorizationEvents.Create(a, EventTypes.UserAuthenticated, now), ct))
            return Page("This sign-in is unknown or already finished.");
        return new BrowserOutcome.Redirect($"{ConsentUrl(tenant.CredentialIssuer)}?authorization_id={Uri.EscapeDataString(a.Id)}");
    }

    /// <summary>GET /consent: the page, for the browser that signed in.</summary>
    public async Task<BrowserOutcome> ShowConsentAsync(string tenantId, string? authorizationId, Func<string, string?> cookie, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(cookie);
        var (snapshot, a, problem) = await PendingConsentAsync(tenantId, authorizationId, cookie, ct);
        if (problem is not null) return problem;
        var definition = await DefinitionAsync(snapshot!, a!, ct);
        var overrides = a!.OfferId is null ? [] : (await store.FindOfferAsync(a.TenantId, a.OfferId, ct))?.Overrides ?? [];
        var mapped = ClaimsAtRest.Open(_secrets, a.EncryptedClaims, ClaimsAtRest.ForAuthorization(a.TenantId, a.Id));
        var claims = Credentials.CredentialFormats.Merge(definition.Claims, definition.DefaultValues, overrides, mapped)
            .Select(c => new ConsentClaim(Label(definition, c.Path), Shown(c.Value)))
            .ToList();
        var tenant = snapshot!.Tenant;
        return new BrowserOutcome.Consent(new ConsentView(
            a.Id,
            tenant.Display.Count > 0 ? tenant.Display[0].Name : tenant.Id,
            definition.Display.Count > 0 ? definition.Display[0].Name : a.ConfigurationId,
            claims,
            a.ClientId,
            AuthorizationEvents.RedirectHost(a.RedirectUri),
            ConsentUrl(tenant.CredentialIssuer)));
    }

    /// <summary>POST /consent: Issue sends the one-time code to the wallet; Cancel sends access_denied.</summary>
    public async Task<BrowserOutcome> DecideAsync(
        string tenantId, string? authorizationId, ConsentDecision? decision, Func<string, string?> cookie, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(cookie);
        var (snapshot, a, problem) = await PendingConsentAsync(tenantId, authorizationId, cookie, ct);
        if (problem is not null) return problem;
        var issuer = snapshot!.Tenant.CredentialIssuer;
        if (decision is null) return Page("Choose Issue or Cancel.");
        if (decision == ConsentDecision.Cancel)
            return await RefuseAsync(a!, issuer, AuthorizationStage.Authenticated, AuthorizationRefusalReasons.ConsentRefused,
                new WalletError(WalletErrorCode.AccessDenied, "The user declined to receive the credential."), ct);

        var now = clock.UtcNow();
        var code = Secrets.NewToken();
        a!.CodeHash = Secrets.Hash(code);
        a.CodeExpiresAt = now + AuthorizationLifetimes.Code;
        if (!await store.IssueCodeAsync(a, AuthorizationEvents.Create(a, EventTypes.AuthorizationCodeIssued, now), ct))
            return Page("This authorization is unknown or already finished.");
        var target = new WalletRedirect(a.RedirectUri, a.State, snapshot!.Tenant.CredentialIssuer);
        return new BrowserOutcome.Redirect(target.With(("code", code)), ClearCookie: Clear(a, snapshot.Tenant.CredentialIssuer));
    }

    private async Task<(TenantSnapshot? Snapshot, Authorization? Authorization, BrowserOutcome? Problem)> PendingConsentAsync(
        string tenantId, string? authorizationId, Func<string, string?> cookie, CancellationToken ct)
    {
        var snapshot = await tenants.FindAsync(tenantId, ct);
        if (snapshot is null) return (null, null, new BrowserOutcome.ErrorPage(TenantDirectory.NoIssuerHere()));
        if (authorizationId is not { Length: > 0 and <= 32 }) return (null, null, Page("authorization_id is required."));
        var a = await store.FindAsync(snapshot.Tenant.Id, authorizationId, ct);
        if (a is null || !BoundToBrowser(a, cookie)) return (null, null, Page("This authorization is unknown, or was started in another browser."));
        if (a.Stage != AuthorizationStage.Authenticated || a.ExpiresAt <= clock.UtcNow()) return (null, null, Page("This authorization is unknown or already finished."));
        return (snapshot, a, null);
    }

    /// <summary>Validates the ID token against the IdP's keys; an unknown kid fetches the keys again, once (a rotation needs no restart).</summary>
    private async Task<ValidatedIdToken?> ValidateIdTokenAsync(
        IdentityProviderSettings idp, ProviderMetadata metadata, string idToken, string nonce, CancellationToken ct)
    {
        for (var refresh = 0; refresh < 2; refresh++)
        {
            var keys = await provider.GetKeysAsync(idp, refresh == 1, ct);
            if (!keys.IsSuccess) return null;
            var (token, problem) = await IdTokenValidator.ValidateAsync(idToken,
                new IdTokenExpectations(metadata.Issuer, idp.ClientId, nonce, keys.Value, metadata.IdTokenSigningAlgorithms, clock.UtcNow()));
            if (token is not null) return token;
            if (problem != IdTokenProblem.UnknownKey) return null;
        }
        return null;
    }

    private async Task<ProfileDefinition> DefinitionAsync(TenantSnapshot snapshot, Authorization a, CancellationToken ct) =>
        snapshot.CurrentDefinition(a.ConfigurationId, a.ProfileUid, a.ProfileVersion)
        ?? (await store.FindProfileVersionAsync(a.ProfileUid, a.ProfileVersion, ct))?.Definition
        ?? throw new InvalidOperationException("An authorization names a profile version that does not exist.");

    private static bool BoundToBrowser(Authorization a, Func<string, string?> cookie) =>
        a.BrowserHash is not null && cookie(CookieName(a.Id)) is { Length: > 0 and <= 128 } value
        && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Secrets.Hash(value), a.BrowserHash);

    private Task<BrowserOutcome> DeniedAsync(Authorization a, string issuer, string reason, string description, CancellationToken ct) =>
        RefuseAsync(a, issuer, AuthorizationStage.AtProvider, reason, new WalletError(WalletErrorCode.AccessDenied, description), ct);

    /// <summary>Ends the flow: the row refused with its event, the error sent to the wallet's redirect URI.</summary>
    private async Task<BrowserOutcome> RefuseAsync(Authorization a, string issuer, AuthorizationStage from, string reason, WalletError error, CancellationToken ct)
    {
        if (!await store.RefuseAsync(a, from, AuthorizationEvents.Create(a, EventTypes.AuthorizationRefused, clock.UtcNow(), reason, error), ct))
            return Page("This authorization is unknown or already finished.");
        var target = new WalletRedirect(a.RedirectUri, a.State, issuer);
        return new BrowserOutcome.Redirect(target.WithError(error), ClearCookie: Clear(a, issuer));
    }

    private static BrowserCookie Clear(Authorization a, string issuer) => new(CookieName(a.Id), "", CookiePath(issuer), DateTimeOffset.UnixEpoch);

    /// <summary>The cookie is sent only below the tenant's URL space.</summary>
    private static string CookiePath(string credentialIssuer) => new Uri(credentialIssuer).AbsolutePath;

    private static BrowserOutcome.ErrorPage Page(string description) => new(WalletError.InvalidRequest(description));

    private static string Label(ProfileDefinition d, IReadOnlyList<string> path) =>
        d.Claims.FirstOrDefault(c => ClaimPaths.SamePath(c.Path, path)) is { Display.Count: > 0 } claim ? claim.Display[0].Name : ClaimPaths.Format(path);

    private static string Shown(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
}
