using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Issuer2.Core.Common;
using Issuer2.Core.IdentityProviders;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Server.IdentityProviders;

/// <summary>
/// A tenant's OpenID Provider over HTTP, as Core's port <see cref="IIdentityProviderClient"/>: discovery and keys through
/// one <see cref="ConfigurationManager{T}"/> per issuer (kept an hour; at most a bounded number of issuers per host),
/// the code exchange at the token endpoint as the tenant's confidential client, and userinfo. One per host.
/// </summary>
/// <remarks>
/// Every failure is a <see cref="ProviderError"/>, logged here with the issuer and a description that names no secret:
/// never a code, a token, a client secret or a claim value, and of the provider's answers only its OAuth error code.
/// </remarks>
public sealed partial class OidcProviderClient : IIdentityProviderClient
{
    /// <summary>The <see cref="IHttpClientFactory"/> name of the client this class uses.</summary>
    public const string HttpClientName = "idp";

    /// <summary>How many providers one host keeps discovery and keys of; past it an arbitrary one is dropped.</summary>
    public const int DefaultMaxProviders = 1000;

    /// <summary>The largest response read from a provider: a hostile one cannot exhaust memory.</summary>
    public const int MaxResponseBytes = 1024 * 1024;

    /// <summary>How long one request to a provider may take.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long discovery and keys are used before they are fetched again (in the background).</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromHours(1);

    /// <summary>The shortest time between two forced key refreshes of one provider.</summary>
    public static readonly TimeSpan DefaultKeyRefreshInterval = TimeSpan.FromSeconds(10);

    private const string DiscoveryPath = "/.well-known/openid-configuration";

    private readonly IHttpClientFactory _httpClients;
    private readonly ILogger<OidcProviderClient> _log;
    private readonly TimeProvider _clock;
    private readonly bool _allowInsecureHttp;
    private readonly TimeSpan _keyRefreshInterval;
    private readonly int _maxProviders;
    private readonly ConcurrentDictionary<string, ProviderEntry> _providers = new(StringComparer.Ordinal);
    private readonly OpenIdConnectConfigurationRetriever _retriever = new();

    /// <param name="httpClients">Gives the <see cref="HttpClientName"/> client (no automatic redirects, see <see cref="IdentityProviderServices"/>).</param>
    /// <param name="log">Failures, without secrets.</param>
    /// <param name="clock">Times the key-refresh throttle.</param>
    /// <param name="allowInsecureHttp">Lets issuers and endpoints use http (loopback tests); otherwise https only.</param>
    /// <param name="keyRefreshInterval">The shortest time between two forced key refreshes of one provider (default 10 s).</param>
    /// <param name="maxProviders">How many providers are cached (default <see cref="DefaultMaxProviders"/>).</param>
    public OidcProviderClient(
        IHttpClientFactory httpClients,
        ILogger<OidcProviderClient> log,
        TimeProvider clock,
        bool allowInsecureHttp,
        TimeSpan? keyRefreshInterval = null,
        int maxProviders = DefaultMaxProviders)
    {
        ArgumentNullException.ThrowIfNull(httpClients);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxProviders, 1);
        _httpClients = httpClients;
        _log = log;
        _clock = clock;
        _allowInsecureHttp = allowInsecureHttp;
        _keyRefreshInterval = keyRefreshInterval ?? DefaultKeyRefreshInterval;
        _maxProviders = maxProviders;
    }

    /// <summary>How many providers are cached now (bounded by the constructor's maxProviders).</summary>
    internal int CachedProviderCount => _providers.Count;

    public async Task<Result<ProviderMetadata, ProviderError>> DiscoverAsync(IdentityProviderSettings idp, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(idp);
        var (configuration, error) = await ConfigurationAsync(idp.Issuer, refresh: false, ct);
        if (error is not null) return error;
        return new ProviderMetadata(
            configuration!.Issuer,
            configuration.AuthorizationEndpoint,
            configuration.TokenEndpoint,
            string.IsNullOrEmpty(configuration.UserInfoEndpoint) ? null : configuration.UserInfoEndpoint,
            AuthorizationResponseIssParameterSupported(configuration),
            configuration.IdTokenSigningAlgValuesSupported is { Count: > 0 } algorithms ? [.. algorithms] : null);
    }

    public async Task<Result<IReadOnlyList<JsonWebKey>, ProviderError>> GetKeysAsync(IdentityProviderSettings idp, bool refresh, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(idp);
        var (configuration, error) = await ConfigurationAsync(idp.Issuer, refresh, ct);
        if (error is not null) return error;
        // Signing keys only: a key marked for encryption never verifies an ID token (RFC 7517 §4.2).
        List<JsonWebKey> keys = configuration!.JsonWebKeySet?.Keys
            .Where(k => string.IsNullOrEmpty(k.Use) || k.Use == JsonWebKeyUseNames.Sig)
            .ToList() ?? [];
        return keys;
    }

    public async Task<Result<ProviderTokens, ProviderError>> ExchangeCodeAsync(
        IdentityProviderSettings idp, string clientSecret, string code, string codeVerifier, string redirectUri, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(idp);
        var (configuration, error) = await ConfigurationAsync(idp.Issuer, refresh: false, ct);
        if (error is not null) return error;

        // RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5).
        var form = new List<KeyValuePair<string, string>>
        {
            new(Parameters.GrantType, Parameters.AuthorizationCode),
            new(Parameters.Code, code),
            new(Parameters.RedirectUri, redirectUri),
            new(Parameters.CodeVerifier, codeVerifier),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, configuration!.TokenEndpoint);
        // Note: RFC 6749 §2.3.1: client_secret_basic unless the provider supports only client_secret_post of the two.
        var methods = configuration.TokenEndpointAuthMethodsSupported;
        if (methods.Count > 0 && !methods.Contains(Parameters.ClientSecretBasic) && methods.Contains(Parameters.ClientSecretPost))
        {
            form.Add(new(Parameters.ClientId, idp.ClientId));
            form.Add(new(Parameters.ClientSecret, clientSecret));
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", BasicCredentials(idp.ClientId, clientSecret));
        }

        request.Content = new FormUrlEncodedContent(form);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var (reply, sendError) = await SendAsync(idp.Issuer, Endpoint.Token, request, ct);
        if (sendError is not null) return sendError;

        var status = (int)reply!.Status;
        if (status >= 500) return Fail(idp.Issuer, Endpoint.Token, ProviderFailure.Unavailable, $"it answered {status}");
        if (!TryParseObject(reply.Body, out var body))
            return Fail(idp.Issuer, Endpoint.Token, ProviderFailure.Unavailable, $"it answered {status} without a JSON object");
        if (status is >= 400 and < 500)
        {
            // An OAuth error (RFC 6749 §5.2) is a refusal; a 429 or a 4xx without one is the provider not serving us now.
            if (status != (int)HttpStatusCode.TooManyRequests && ErrorCode(body) is { } refused)
                return Fail(idp.Issuer, Endpoint.Token, ProviderFailure.Refused, refused);
            return Fail(idp.Issuer, Endpoint.Token, ProviderFailure.Unavailable, $"it answered {status} without an OAuth error");
        }

        if (reply.Status != HttpStatusCode.OK) return Fail(idp.Issuer, Endpoint.Token, ProviderFailure.Unavailable, $"it answered {status}");
        // OIDC Core §3.1.3.3: the response of an openid request holds an ID token.
        if (StringMember(body, Parameters.IdToken) is not { Length: > 0 } idToken)
            return Fail(idp.Issuer, Endpoint.Token, ProviderFailure.Refused, "its response has no id_token");
        return new ProviderTokens(idToken, StringMember(body, Parameters.AccessToken) is { Length: > 0 } accessToken ? accessToken : null);
    }

    public async Task<Result<JsonElement, ProviderError>> GetUserInfoAsync(IdentityProviderSettings idp, string accessToken, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(idp);
        var (configuration, error) = await ConfigurationAsync(idp.Issuer, refresh: false, ct);
        if (error is not null) return error;
        if (string.IsNullOrEmpty(configuration!.UserInfoEndpoint))
            return Fail(idp.Issuer, Endpoint.UserInfo, ProviderFailure.Misconfigured, "the discovery document has no userinfo_endpoint");

        // OIDC Core §5.3.1: the access token as a Bearer token (RFC 6750 §2.1).
        using var request = new HttpRequestMessage(HttpMethod.Get, configuration.UserInfoEndpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var (reply, sendError) = await SendAsync(idp.Issuer, Endpoint.UserInfo, request, ct);
        if (sendError is not null) return sendError;

        var status = (int)reply!.Status;
        if (status >= 500) return Fail(idp.Issuer, Endpoint.UserInfo, ProviderFailure.Unavailable, $"it answered {status}");
        if (reply.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            // RFC 6750 §3: the error is in WWW-Authenticate (or, from some providers, in a JSON body).
            var code = BearerErrorCode(reply.WwwAuthenticate) ?? (TryParseObject(reply.Body, out var errorBody) ? ErrorCode(errorBody) : null);
            return Fail(idp.Issuer, Endpoint.UserInfo, ProviderFailure.Refused, code ?? $"it answered {status}");
        }

        if (status is >= 400 and < 500)
        {
            if (status != (int)HttpStatusCode.TooManyRequests && TryParseObject(reply.Body, out var errorBody) && ErrorCode(errorBody) is { } refused)
                return Fail(idp.Issuer, Endpoint.UserInfo, ProviderFailure.Refused, refused);
            return Fail(idp.Issuer, Endpoint.UserInfo, ProviderFailure.Unavailable, $"it answered {status} without an OAuth error");
        }

        if (reply.Status != HttpStatusCode.OK) return Fail(idp.Issuer, Endpoint.UserInfo, ProviderFailure.Unavailable, $"it answered {status}");
        // OIDC Core §5.3.2: a signed or encrypted response is application/jwt, which Issuer2 does not read.
        if (string.Equals(reply.MediaType, "application/jwt", StringComparison.OrdinalIgnoreCase))
            return Fail(idp.Issuer, Endpoint.UserInfo, ProviderFailure.Refused, "its response is a JWT (application/jwt), which is not supported: the client must be registered for plain JSON userinfo");
        if (!TryParseObject(reply.Body, out var claims))
            return Fail(idp.Issuer, Endpoint.UserInfo, ProviderFailure.Unavailable, "its response is not a JSON object");
        return claims;
    }

    private static bool AuthorizationResponseIssParameterSupported(OpenIdConnectConfiguration configuration)
    {
        // RFC 9207 §3: authorization_response_iss_parameter_supported; read from the raw document when the library's
        // property did not take it (a string "true" from a sloppy provider counts as absent).
        if (configuration.AuthorizationResponseIssParameterSupported) return true;
        return configuration.AdditionalData.TryGetValue(Parameters.AuthorizationResponseIssParameterSupported, out var value)
            && value is true or JsonElement { ValueKind: JsonValueKind.True };
    }

    /// <summary>
    /// The provider's configuration, checked against the configured issuer; with <paramref name="refresh"/> fetched anew
    /// unless that was done less than the key-refresh interval ago.
    /// </summary>
    private async Task<(OpenIdConnectConfiguration? Configuration, ProviderError? Error)> ConfigurationAsync(string issuer, bool refresh, CancellationToken ct)
    {
        // OIDC Discovery §4.1: the document is at the issuer (less a trailing slash) + /.well-known/openid-configuration.
        if (!IsAllowedUrl(issuer, out var issuerUri) || issuerUri.Query.Length > 0 || issuerUri.Fragment.Length > 0 || issuerUri.UserInfo.Length > 0)
        {
            return (null, Fail(issuer, Endpoint.Discovery, ProviderFailure.Misconfigured,
                _allowInsecureHttp ? "the issuer is not an http(s) URL without query and fragment" : "the issuer is not an https URL without query and fragment"));
        }

        var entry = Entry(issuer);
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = refresh ? await entry.RefreshAsync(_clock, _keyRefreshInterval, ct) : await entry.GetAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Unreachable, timed out, 5xx, too large or not a discovery document / JWKS: the retriever says which.
            return (null, Fail(issuer, Endpoint.Discovery, ProviderFailure.Unavailable,
                $"the discovery document or the JWKS could not be fetched or read ({Innermost(e).GetType().Name})"));
        }

        // OIDC Discovery §4.3: the document's issuer is exactly the one configured.
        if (!string.Equals(configuration.Issuer, issuer, StringComparison.Ordinal))
        {
            return (null, Fail(issuer, Endpoint.Discovery, ProviderFailure.Misconfigured,
                $"the discovery document names the issuer \"{Printable(configuration.Issuer)}\""));
        }

        foreach (var (name, url, required) in new[]
        {
            ("authorization_endpoint", configuration.AuthorizationEndpoint, true),
            ("token_endpoint", configuration.TokenEndpoint, true),
            ("jwks_uri", configuration.JwksUri, true),
            ("userinfo_endpoint", configuration.UserInfoEndpoint, false),
        })
        {
            if (string.IsNullOrEmpty(url))
            {
                if (required) return (null, Fail(issuer, Endpoint.Discovery, ProviderFailure.Misconfigured, $"the discovery document has no {name}"));
                continue;
            }

            if (!IsAllowedUrl(url, out _))
                return (null, Fail(issuer, Endpoint.Discovery, ProviderFailure.Misconfigured, $"the discovery document's {name} is not an {(_allowInsecureHttp ? "http(s)" : "https")} URL"));
        }

        return (configuration, null);
    }

    private ProviderEntry Entry(string issuer)
    {
        if (_providers.TryGetValue(issuer, out var entry)) return entry;
        // Bounded: past the cap an arbitrary provider is dropped (it is fetched again when next used).
        BoundedMaps.MakeRoom(_providers, _maxProviders);

        var address = (issuer.EndsWith('/') ? issuer[..^1] : issuer) + DiscoveryPath;
        return _providers.GetOrAdd(issuer, _ => new ProviderEntry(() => NewManager(address)));
    }

    private ConfigurationManager<OpenIdConnectConfiguration> NewManager(string address)
    {
#pragma warning disable CA2000 // The HttpClient lives as long as its manager; the factory owns the handler.
        var retriever = new HttpDocumentRetriever(NewHttpClient()) { RequireHttps = !_allowInsecureHttp };
#pragma warning restore CA2000
        return new ConfigurationManager<OpenIdConnectConfiguration>(address, _retriever, retriever)
        {
            AutomaticRefreshInterval = CacheLifetime,
        };
    }

    private HttpClient NewHttpClient()
    {
        var http = _httpClients.CreateClient(HttpClientName);
        http.Timeout = RequestTimeout;
        // Note: the client buffers whole responses and refuses one past this size.
        http.MaxResponseContentBufferSize = MaxResponseBytes;
        return http;
    }

    private async Task<(Reply? Reply, ProviderError? Error)> SendAsync(string issuer, Endpoint endpoint, HttpRequestMessage request, CancellationToken ct)
    {
        using var http = NewHttpClient();
        try
        {
            using var response = await http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            return (new Reply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, response.Headers.WwwAuthenticate.ToString()), null);
        }
        catch (HttpRequestException e)
        {
            return (null, Fail(issuer, endpoint, ProviderFailure.Unavailable, $"it could not be reached or its answer could not be read ({e.HttpRequestError})"));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, Fail(issuer, endpoint, ProviderFailure.Unavailable, $"it did not answer within {RequestTimeout.TotalSeconds:0} s"));
        }
        catch (DecoderFallbackException)
        {
            return (null, Fail(issuer, endpoint, ProviderFailure.Unavailable, "its answer is not text in its charset"));
        }
        catch (InvalidOperationException)
        {
            // An unknown charset in Content-Type.
            return (null, Fail(issuer, endpoint, ProviderFailure.Unavailable, "its answer could not be decoded"));
        }
    }

    private ProviderError Fail(string issuer, Endpoint endpoint, ProviderFailure failure, string description)
    {
        var where = endpoint switch
        {
            Endpoint.Discovery => "discovery",
            Endpoint.Token => "token endpoint",
            Endpoint.UserInfo => "userinfo endpoint",
        };
        var error = new ProviderError(failure, $"{where}: {description}");
        var printable = Printable(issuer);
        switch (failure)
        {
            case ProviderFailure.Refused:
                LogRefused(_log, printable, error.Description);
                break;
            case ProviderFailure.Unavailable:
                LogUnavailable(_log, printable, error.Description);
                break;
            case ProviderFailure.Misconfigured:
                LogMisconfigured(_log, printable, error.Description);
                break;
        }

        return error;
    }

    private bool IsAllowedUrl(string? url, out Uri uri)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out uri!)) return false;
        return uri.Scheme == Uri.UriSchemeHttps || (_allowInsecureHttp && uri.Scheme == Uri.UriSchemeHttp);
    }

    // RFC 6749 §2.3.1: the client id and secret are form-url-encoded before they are joined and base64-encoded.
    private static string BasicCredentials(string clientId, string clientSecret) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(FormEncode(clientId) + ":" + FormEncode(clientSecret)));

    private static string FormEncode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);

    private static bool TryParseObject(string text, out JsonElement root)
    {
        root = default;
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object) return false;
            root = document.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string? StringMember(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // RFC 6749 §5.2: an error code is printable ASCII without '"' and '\'; anything else is not an OAuth error.
    private static string? ErrorCode(JsonElement body) =>
        StringMember(body, Parameters.Error) is { } code && ErrorCodePattern().IsMatch(code) ? code : null;

    private static string? BearerErrorCode(string wwwAuthenticate)
    {
        var match = BearerErrorPattern().Match(wwwAuthenticate);
        return match.Success && ErrorCodePattern().IsMatch(match.Groups[1].Value) ? match.Groups[1].Value : null;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    // For logs: what a provider sent, cut short and without control characters.
    private static string Printable(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var cut = text.Length > 200 ? text[..200] + "…" : text;
        return new string([.. cut.Select(c => char.IsControl(c) ? '?' : c)]);
    }

    [GeneratedRegex("^[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]{1,64}$")]
    private static partial Regex ErrorCodePattern();

    [GeneratedRegex("(?:^|[\\s,])error=\"([^\"]*)\"")]
    private static partial Regex BearerErrorPattern();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The identity provider {Issuer} is unavailable: {Description}.")]
    private static partial void LogUnavailable(ILogger logger, string issuer, string description);

    [LoggerMessage(Level = LogLevel.Information, Message = "The identity provider {Issuer} refused: {Description}.")]
    private static partial void LogRefused(ILogger logger, string issuer, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The identity provider {Issuer} is misconfigured: {Description}.")]
    private static partial void LogMisconfigured(ILogger logger, string issuer, string description);

    private enum Endpoint
    {
        Discovery,
        Token,
        UserInfo,
    }

    private sealed record Reply(HttpStatusCode Status, string? MediaType, string Body, string WwwAuthenticate);

    /// <summary>The request and response parameter names of RFC 6749, OIDC Core and RFC 9207 this client uses.</summary>
    private static class Parameters
    {
        public const string GrantType = "grant_type";
        public const string AuthorizationCode = "authorization_code";
        public const string Code = "code";
        public const string RedirectUri = "redirect_uri";
        public const string CodeVerifier = "code_verifier";
        public const string ClientId = "client_id";
        public const string ClientSecret = "client_secret";
        public const string ClientSecretBasic = "client_secret_basic";
        public const string ClientSecretPost = "client_secret_post";
        public const string IdToken = "id_token";
        public const string AccessToken = "access_token";
        public const string Error = "error";
        public const string AuthorizationResponseIssParameterSupported = "authorization_response_iss_parameter_supported";
    }

    /// <summary>
    /// One provider's discovery and keys. A forced refresh builds a new <see cref="ConfigurationManager{T}"/> and
    /// fetches with it: in Microsoft.IdentityModel 8.x <see cref="ConfigurationManager{T}.RequestRefresh"/> only starts
    /// a background update (the next read still returns the old keys) and is itself throttled by RefreshInterval (at
    /// least 1 s), so it cannot give a rotated key to the request that asked for it. The old manager stays in use
    /// when the fresh fetch fails.
    /// </summary>
#pragma warning disable CA1001 // A SemaphoreSlim holds no OS handle unless its AvailableWaitHandle is asked for; a dropped entry is collected.
    private sealed class ProviderEntry(Func<ConfigurationManager<OpenIdConnectConfiguration>> create)
    {
        private readonly SemaphoreSlim _refreshGate = new(1, 1);
        private ConfigurationManager<OpenIdConnectConfiguration>? _manager;
        private DateTimeOffset? _lastRefresh;

        public async Task<OpenIdConnectConfiguration> GetAsync(CancellationToken ct)
        {
            var manager = Volatile.Read(ref _manager);
            if (manager is null)
            {
                var created = create();
                manager = Interlocked.CompareExchange(ref _manager, created, null) ?? created;
            }

            try
            {
                return await manager.GetConfigurationAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Never fetched (a manager with a configuration returns it, however stale): start over next time, so
                // a provider that is back is used at once rather than after the manager's own backoff.
                Interlocked.CompareExchange(ref _manager, null, manager);
                throw;
            }
        }

        public async Task<OpenIdConnectConfiguration> RefreshAsync(TimeProvider clock, TimeSpan interval, CancellationToken ct)
        {
            await _refreshGate.WaitAsync(ct);
            try
            {
                // At most one fetch per interval, however many tokens with unknown kids arrive; waiters get its result.
                var now = clock.GetUtcNow();
                if (_lastRefresh is { } last && now - last < interval) return await GetAsync(ct);
                _lastRefresh = now;
                var fresh = create();
                var configuration = await fresh.GetConfigurationAsync(ct);
                Volatile.Write(ref _manager, fresh);
                return configuration;
            }
            finally
            {
                _refreshGate.Release();
            }
        }
    }
#pragma warning restore CA1001
}
