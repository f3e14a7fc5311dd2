using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Issuer2.Core.Common;
using Issuer2.Core.IdentityProviders;

namespace Issuer2.Core.Tenants;

/// <summary>The rules a tenant's id and settings obey.</summary>
public static partial class TenantRules
{
    public static readonly TimeSpan DefaultOfferLifetime = TimeSpan.FromHours(24);
    public static readonly TimeSpan DefaultMaxOfferLifetime = TimeSpan.FromDays(30);
    public static readonly TimeSpan MaxMaxOfferLifetime = TimeSpan.FromDays(365);
    public static readonly TimeSpan DefaultCodeLifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MinCodeLifetime = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxCodeLifetime = TimeSpan.FromHours(1);
    public const int DefaultPinAttemptLimit = 5;
    public const int MaxPinAttemptLimit = 100;
    public const int MaxUrlLength = 2048;
    public const int MaxClientSecretLength = 1024;
    public const int MaxIdentityProviderScopes = 16;
    public const int MaxRegisteredClients = 100;
    public const int MaxRedirectUris = 8;

    /// <summary>Always asked of the IdP (OIDC Core §3.1.2.1), so never listed among the extra scopes.</summary>
    public const string OpenIdScope = "openid";

    /// <summary>Words the host's own routes use at the top of the URL space; a tenant id never takes one.</summary>
    public static readonly FrozenSet<string> ReservedIds = new[]
    {
        "health", "healthz", "ready", "readyz", "live", "livez", "metrics", "console", "admin", "api", "grpc",
        "static", "assets", "docs", "tenants", "oauth", "oauth2", "login", "logout", "callback", "status",
        "version", "www", "issuer2", "well-known", "openid", "favicon", "robots", "public", "internal", "system",
    }.ToFrozenSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^[a-z][a-z0-9-]{1,61}[a-z0-9]\z")]
    private static partial Regex IdPattern();

    // Client ids (RFC 6749 Appendix A.1 client-id = *VSCHAR) follow Authorization.ClientPolicy.IsWellFormedClientId.

    // RFC 6749 Appendix A.2 client-secret = *VSCHAR.
    [GeneratedRegex(@"^[\x20-\x7E]{1,1024}\z")]
    private static partial Regex ClientSecretPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_\-.:/]{1,64}\z")]
    private static partial Regex ProviderScopePattern();

    // RFC 3986 §3.1 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.\-]*:")]
    private static partial Regex SchemePattern();

    public static void CheckId(Violations v, string field, string? id)
    {
        if (!v.Require(id is not null && IdPattern().IsMatch(id), field,
                "must be 3 to 63 lowercase letters, digits and hyphens, start with a letter and not end with a hyphen"))
            return;
        v.Require(!ReservedIds.Contains(id!), field, $"\"{id}\" is reserved for the host's own routes");
    }

    /// <summary>Checks settings as they will be after create or update (all values known).</summary>
    public static void Check(Violations v, string prefix, Tenant t)
    {
        DisplayRules.CheckUniqueLocales(v, prefix + "display", t.Display.Select(d => d.Locale));
        v.Require(t.Display.Count <= DisplayRules.MaxEntries, prefix + "display", $"at most {DisplayRules.MaxEntries} entries");
        for (var i = 0; i < t.Display.Count; i++)
        {
            var d = t.Display[i];
            DisplayRules.CheckLocale(v, $"{prefix}display[{i}].locale", d.Locale);
            DisplayRules.CheckName(v, $"{prefix}display[{i}].name", d.Name);
            DisplayRules.CheckLogo(v, $"{prefix}display[{i}].logo", d.Logo);
        }
        v.Require(t.AllowPreAuthorized || t.AllowAuthorized, prefix + "allowed_authentication_methods", "must allow at least one method");
        v.Require(t.MaxOfferLifetime > TimeSpan.Zero && t.MaxOfferLifetime <= MaxMaxOfferLifetime,
            prefix + "max_offer_lifetime", $"must be positive and at most {MaxMaxOfferLifetime.TotalDays:0} days");
        v.Require(t.DefaultOfferLifetime > TimeSpan.Zero && t.DefaultOfferLifetime <= t.MaxOfferLifetime,
            prefix + "default_offer_lifetime", "must be positive and at most max_offer_lifetime");
        v.Require(t.PreAuthorizedCodeLifetime >= MinCodeLifetime && t.PreAuthorizedCodeLifetime <= MaxCodeLifetime,
            prefix + "pre_authorized_code_lifetime", "must be between 30 seconds and 1 hour");
        v.Require(t.PinAttemptLimit is >= 1 and <= MaxPinAttemptLimit, prefix + "pin_attempt_limit", $"must be between 1 and {MaxPinAttemptLimit}");
        CheckAuthorizationServer(v, prefix, t.AuthorizationServer);
    }

    /// <summary>
    /// Applies the given settings; unset ones keep the tenant's current values. The IdP is applied by
    /// <see cref="TenantManagement"/>, which encrypts its secret.
    /// </summary>
    public static void Apply(Tenant t, TenantSettings s)
    {
        if (s.Display is not null) t.Display = [.. s.Display];
        if (s.AllowedMethods is not null)
        {
            t.AllowPreAuthorized = s.AllowedMethods.Contains(AuthenticationMethod.PreAuthorized);
            t.AllowAuthorized = s.AllowedMethods.Contains(AuthenticationMethod.Authorized);
        }
        if (s.RequirePin is { } pin) t.RequirePin = pin;
        if (s.DefaultOfferLifetime is { } dl) t.DefaultOfferLifetime = dl;
        if (s.MaxOfferLifetime is { } ml) t.MaxOfferLifetime = ml;
        if (s.PreAuthorizedCodeLifetime is { } cl) t.PreAuthorizedCodeLifetime = cl;
        if (s.PinAttemptLimit is { } limit) t.PinAttemptLimit = limit;
        if (s.AuthorizationServer is { } authorizationServer) t.AuthorizationServer = authorizationServer;
        if (s.Dpop is { } dpop) t.Dpop = dpop;
    }

    /// <summary>
    /// Checks an IdP as given against the one stored (null: none yet). An empty secret keeps the stored one only while
    /// the issuer and client id stay: a secret belongs to one client of one provider.
    /// </summary>
    public static void CheckIdentityProvider(Violations v, string prefix, IdentityProviderInput idp, IdentityProviderSettings? stored, HttpsPolicy https)
    {
        ArgumentNullException.ThrowIfNull(idp);
        var f = prefix + "identity_provider.";
        CheckIssuer(v, f + "issuer", idp.Issuer, https);
        v.Require(Authorization.ClientPolicy.IsWellFormedClientId(idp.ClientId), f + "client_id", Authorization.ClientPolicy.ClientIdRule);
        if (idp.ClientSecret is null)
        {
            v.Require(KeepsStoredSecret(idp, stored), f + "client_secret", stored is null
                ? "is required when the identity provider is first set"
                : "is required when the issuer or client_id changes (the stored secret belongs to the old client)");
        }
        else
        {
            v.Require(ClientSecretPattern().IsMatch(idp.ClientSecret), f + "client_secret", $"must be 1 to {MaxClientSecretLength} printable ASCII characters");
        }

        if (!v.Require(idp.Scopes.Count <= MaxIdentityProviderScopes, f + "scopes", $"at most {MaxIdentityProviderScopes} scopes")) return;
        for (var i = 0; i < idp.Scopes.Count; i++)
        {
            var scope = idp.Scopes[i];
            var sf = $"{f}scopes[{i}]";
            if (!v.Require(ProviderScopePattern().IsMatch(scope), sf, "must be 1 to 64 letters, digits, '_', '-', '.', ':' or '/'")) continue;
            if (!v.Require(scope != OpenIdScope, sf, "\"openid\" is always asked for; leave it out")) continue;
            for (var j = 0; j < i; j++)
                if (idp.Scopes[j] == scope) v.Add(sf, $"is given twice (also scopes[{j}])");
        }
    }

    /// <summary>Whether an IdP given without a secret keeps the stored secret: same issuer and client id.</summary>
    public static bool KeepsStoredSecret(IdentityProviderInput idp, IdentityProviderSettings? stored)
    {
        ArgumentNullException.ThrowIfNull(idp);
        return idp.ClientSecret is null && stored is not null
            && string.Equals(stored.Issuer, idp.Issuer, StringComparison.Ordinal) && string.Equals(stored.ClientId, idp.ClientId, StringComparison.Ordinal);
    }

    /// <summary>Checks the authorization-server policy: registered clients exactly with REGISTERED, each with its exact redirect URIs.</summary>
    public static void CheckAuthorizationServer(Violations v, string prefix, AuthorizationServerSettings s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var f = prefix + "authorization_server.";
        var clients = s.RegisteredClients;
        if (s.ClientMode != WalletClientMode.Registered)
        {
            v.Require(clients.Count == 0, f + "registered_clients", "only with client_mode REGISTERED (ANY accepts every client_id)");
            return;
        }
        if (!v.Require(clients.Count is >= 1 and <= MaxRegisteredClients, f + "registered_clients",
                $"REGISTERED needs 1 to {MaxRegisteredClients} clients")) return;
        for (var i = 0; i < clients.Count; i++)
        {
            var c = clients[i];
            var cf = $"{f}registered_clients[{i}]";
            if (v.Require(Authorization.ClientPolicy.IsWellFormedClientId(c.ClientId), cf + ".client_id", Authorization.ClientPolicy.ClientIdRule))
            {
                for (var j = 0; j < i; j++)
                    if (clients[j].ClientId == c.ClientId) v.Add(cf + ".client_id", $"is registered twice (also registered_clients[{j}])");
            }
            if (!v.Require(c.RedirectUris.Count is >= 1 and <= MaxRedirectUris, cf + ".redirect_uris", $"must be 1 to {MaxRedirectUris} URIs")) continue;
            for (var k = 0; k < c.RedirectUris.Count; k++)
            {
                var uri = c.RedirectUris[k];
                var uf = $"{cf}.redirect_uris[{k}]";
                if (!CheckRedirectUri(v, uf, uri)) continue;
                for (var j = 0; j < k; j++)
                    if (c.RedirectUris[j] == uri) v.Add(uf, $"is given twice (also redirect_uris[{j}])");
            }
        }
    }

    // OIDC Discovery 1.0 §3 issuer: a URL with no query or fragment; the provider's discovery document must name it exactly.
    private static void CheckIssuer(Violations v, string field, string issuer, HttpsPolicy https)
    {
        if (!v.Require(issuer.Length is > 0 and <= MaxUrlLength, field, $"must be an absolute URL of at most {MaxUrlLength} characters")) return;
        if (!v.Require(TryAbsolute(issuer, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && uri.Host.Length > 0,
                field, "must be an absolute http(s) URL")) return;
        if (!v.Require(!issuer.Contains('?', StringComparison.Ordinal) && !issuer.Contains('#', StringComparison.Ordinal) && uri.UserInfo.Length == 0,
                field, "must have no query, fragment or user info")) return;
        v.Require(https.Accepts(uri), field, https.Requirement);
    }

    // RFC 6749 §3.1.2: an absolute URI without a fragment; compared exactly, so it is kept as given.
    private static bool CheckRedirectUri(Violations v, string field, string uri)
    {
        if (!v.Require(uri.Length is > 0 and <= MaxUrlLength, field, $"must be an absolute URI of at most {MaxUrlLength} characters")) return false;
        if (!v.Require(TryAbsolute(uri, out _), field, "must be an absolute URI")) return false;
        return v.Require(!uri.Contains('#', StringComparison.Ordinal), field, "must have no fragment (RFC 6749 §3.1.2)");
    }

    /// <summary>
    /// An absolute URI as given (RFC 3986 §4.3): its own scheme, and no whitespace or control characters that a parser
    /// would drop or escape. Note: .NET on Unix reads "/cb" as a file URI; the scheme must be in the text.
    /// </summary>
    private static bool TryAbsolute(string text, out Uri uri)
    {
        uri = null!;
        if (!SchemePattern().IsMatch(text) || text.Any(ch => ch <= ' ' || ch == '\x7F')) return false;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed)) return false;
        uri = parsed;
        return true;
    }
}
