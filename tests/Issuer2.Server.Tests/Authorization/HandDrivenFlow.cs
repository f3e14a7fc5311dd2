using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Authorization;

/// <summary>One HTTP answer to a step of the flow: status, Location (absolute, as sent), Set-Cookie headers and body.</summary>
public sealed record StepReply(HttpStatusCode Status, string? Location, IReadOnlyList<string> SetCookies, string Body)
{
    /// <summary>The query parameters of the Location (code, state, iss, error…); empty when there is none.</summary>
    public IReadOnlyDictionary<string, string> LocationParameters => Location is null ? new Dictionary<string, string>() : HandDrivenFlow.Query(new Uri(Location));

    /// <summary>The body as JSON.</summary>
    public JsonElement Json
    {
        get
        {
            using var document = JsonDocument.Parse(Body.Length == 0 ? "{}" : Body);
            return document.RootElement.Clone();
        }
    }

    /// <summary>The "error" member of a JSON body, or null.</summary>
    public string? Error => Json.TryGetProperty("error", out var e) ? e.GetString() : null;

    public override string ToString() => $"{(int)Status} Location={Location ?? "-"} {Body[..Math.Min(Body.Length, 2000)]}";
}

/// <summary>
/// One authorization code flow driven by hand over HttpClient: the wallet's requests (PAR, token) and its user's browser
/// (authorize, the IdP callback, consent) as separate steps, each sent to the host a test names, with the browser's
/// binding cookie kept here and sent only when a step passes it. So a test can split the steps across hosts, or send
/// one flow's answer under another flow's cookie or tenant. Nothing follows redirects.
/// </summary>
/// <remarks>
/// A step takes the host's own address (e.g. http://127.0.0.1:5080) and sends the published URL's path and query there:
/// two hosts that share a public base URL each answer for every tenant.
/// </remarks>
public sealed partial class HandDrivenFlow(string credentialIssuer, string scope)
{
    public const string ClientId = "wallet-app";

    /// <summary>The binding cookie's name is this prefix and the authorization's id.</summary>
    public const string CookiePrefix = "issuer2_authz_";

    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>The tenant's credential issuer identifier, as the tenant publishes it.</summary>
    public string CredentialIssuer { get; } = credentialIssuer;

    /// <summary>The wallet's PKCE verifier (RFC 7636), fresh per flow.</summary>
    public string Verifier { get; } = NewToken();

    /// <summary>The wallet's own state, which the authorization response must echo.</summary>
    public string WalletState { get; } = NewToken();

    /// <summary>The request_uri PAR answered.</summary>
    public string? RequestUri { get; private set; }

    /// <summary>Where /authorize sent the browser: the IdP's authorization endpoint with Issuer2's own state, nonce and PKCE.</summary>
    public Uri? ProviderUrl { get; private set; }

    /// <summary>The binding cookie /authorize set, as a Cookie header value ("issuer2_authz_{id}=…").</summary>
    public string? Cookie { get; private set; }

    /// <summary>The authorization's id, from the cookie's name.</summary>
    public string? AuthorizationId { get; private set; }

    /// <summary>The state Issuer2 sent to the IdP for this flow.</summary>
    public string? ProviderState => ProviderUrl is null ? null : Query(ProviderUrl).GetValueOrDefault("state");

    /// <summary>The code the consent step sent to the wallet.</summary>
    public string? Code { get; private set; }

    public string CallbackUrl => $"{CredentialIssuer}/idp/callback";

    /// <summary>The published URL's path and query, on the host at <paramref name="host"/>.</summary>
    public static Uri On(string host, string publishedUrl) => new(host.TrimEnd('/') + new Uri(publishedUrl).PathAndQuery);

    /// <summary>
    /// POST /par: wallet-initiated by the profile's scope, or for an offer with its issuer_state; <paramref name="more"/>
    /// adds parameters (e.g. dpop_jkt), <paramref name="dpopProof"/> a DPoP header. Expects 201.
    /// </summary>
    public async Task PushAsync(string host, string? issuerState = null, IReadOnlyDictionary<string, string>? more = null, string? dpopProof = null)
    {
        var form = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["client_id"] = ClientId,
            ["response_type"] = "code",
            ["redirect_uri"] = AuthorizationWorld.WalletRedirect,
            ["code_challenge"] = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(Verifier))),
            ["code_challenge_method"] = "S256",
            ["scope"] = scope,
            ["state"] = WalletState,
            ["resource"] = CredentialIssuer,
        };
        if (issuerState is not null) form["issuer_state"] = issuerState;
        foreach (var (name, value) in more ?? new Dictionary<string, string>()) form[name] = value;
        using var request = new HttpRequestMessage(HttpMethod.Post, On(host, $"{CredentialIssuer}/par")) { Content = new FormUrlEncodedContent(form) };
        if (dpopProof is not null) request.Headers.TryAddWithoutValidation("DPoP", dpopProof);
        var reply = await SendAsync(request, cookie: null);
        Assert.True(reply.Status == HttpStatusCode.Created, $"PAR: {reply}");
        RequestUri = reply.Json.GetProperty("request_uri").GetString();
    }

    /// <summary>GET /authorize with the request_uri. Expects a 303 to the IdP with the binding cookie, and keeps both.</summary>
    public async Task AuthorizeAsync(string host, string providerIssuer)
    {
        var reply = await GetAsync(host, $"{CredentialIssuer}/authorize?client_id={ClientId}&request_uri={Uri.EscapeDataString(RequestUri!)}");
        Assert.True(reply.Status == HttpStatusCode.SeeOther && reply.Location!.StartsWith(providerIssuer + "/", StringComparison.Ordinal), $"authorize: {reply}");
        ProviderUrl = new Uri(reply.Location);
        var cookie = Assert.Single(reply.SetCookies, c => c.StartsWith(CookiePrefix, StringComparison.Ordinal));
        Cookie = cookie[..cookie.IndexOf(';', StringComparison.Ordinal)];
        AuthorizationId = Cookie[CookiePrefix.Length..Cookie.IndexOf('=', StringComparison.Ordinal)];
    }

    /// <summary>Signs <paramref name="login"/> in at the IdP; returns its redirect back to the callback (not yet sent).</summary>
    public Task<AuthorizationResponse> SignInAsync(OpenIdProvider provider, string login)
    {
        ArgumentNullException.ThrowIfNull(provider);
        return provider.SignInAsync(ProviderUrl!, CallbackUrl, login);
    }

    /// <summary>GET a tenant's /idp/callback (this flow's unless <paramref name="credentialIssuer"/> names another) with these parameters and a cookie.</summary>
    public Task<StepReply> CallbackAsync(string host, IReadOnlyDictionary<string, string> parameters, string? cookie, string? credentialIssuer = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var query = string.Join('&', parameters.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        return GetAsync(host, $"{credentialIssuer ?? CredentialIssuer}/idp/callback?{query}", cookie);
    }

    /// <summary>
    /// The consent page the callback sent the browser to (<paramref name="consentUrl"/>), then Issue, both on
    /// <paramref name="host"/> with the cookie. Expects the wallet's redirect with code, state and iss; keeps the code.
    /// </summary>
    public async Task ConsentAsync(string host, string consentUrl)
    {
        var page = await GetAsync(host, consentUrl, Cookie);
        Assert.True(page.Status == HttpStatusCode.OK, $"consent page: {page}");
        var action = WebUtility.HtmlDecode(FormAction().Match(page.Body).Groups[1].Value);
        var id = WebUtility.HtmlDecode(HiddenAuthorizationId().Match(page.Body).Groups[1].Value);
        Assert.Equal(AuthorizationId, id);
        var decided = await PostAsync(host, action, new() { ["authorization_id"] = id, ["decision"] = "issue" }, Cookie);
        Assert.True(decided.Status == HttpStatusCode.SeeOther && decided.Location!.StartsWith(AuthorizationWorld.WalletRedirect + "?", StringComparison.Ordinal), $"consent: {decided}");
        var response = decided.LocationParameters;
        Assert.Equal(WalletState, response["state"]);
        Assert.Equal(CredentialIssuer, response["iss"]);
        Code = response["code"];
    }

    /// <summary>POST /token with the code, the verifier, the redirect URI and the client id.</summary>
    public Task<StepReply> RedeemAsync(string host) => PostAsync(host, $"{CredentialIssuer}/token", new()
    {
        ["grant_type"] = "authorization_code",
        ["code"] = Code!,
        ["code_verifier"] = Verifier,
        ["redirect_uri"] = AuthorizationWorld.WalletRedirect,
        ["client_id"] = ClientId,
    });

    /// <summary>
    /// The whole browser part on one host: authorize, sign-in, callback, consent. Returns with the code in hand.
    /// </summary>
    public async Task ToCodeAsync(string host, OpenIdProvider provider, string login)
    {
        ArgumentNullException.ThrowIfNull(provider);
        await AuthorizeAsync(host, provider.Issuer);
        var signedIn = await SignInAsync(provider, login);
        var callback = await CallbackAsync(host, signedIn.Parameters, Cookie);
        Assert.True(callback.Status == HttpStatusCode.SeeOther, $"callback: {callback}");
        await ConsentAsync(host, callback.Location!);
    }

    public static async Task<StepReply> GetAsync(string host, string publishedUrl, string? cookie = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, On(host, publishedUrl));
        return await SendAsync(request, cookie);
    }

    public static async Task<StepReply> PostAsync(string host, string publishedUrl, Dictionary<string, string> form, string? cookie = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, On(host, publishedUrl)) { Content = new FormUrlEncodedContent(form) };
        return await SendAsync(request, cookie);
    }

    /// <summary>The decoded query parameters of a URL.</summary>
    public static Dictionary<string, string> Query(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var (name, value) = eq < 0 ? (pair, "") : (pair[..eq], pair[(eq + 1)..]);
            parameters[Uri.UnescapeDataString(name.Replace('+', ' '))] = Uri.UnescapeDataString(value.Replace('+', ' '));
        }

        return parameters;
    }

    private static async Task<StepReply> SendAsync(HttpRequestMessage request, string? cookie)
    {
        if (cookie is not null) request.Headers.Add("Cookie", cookie);
        using var response = await Http.SendAsync(request);
        var location = response.Headers.Location is { } l ? (l.IsAbsoluteUri ? l.AbsoluteUri : new Uri(request.RequestUri!, l).AbsoluteUri) : null;
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];
        return new StepReply(response.StatusCode, location, cookies, await response.Content.ReadAsStringAsync());
    }

    private static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]+)\"")]
    private static partial Regex FormAction();

    [GeneratedRegex("name=\"authorization_id\" value=\"([^\"]+)\"")]
    private static partial Regex HiddenAuthorizationId();
}
