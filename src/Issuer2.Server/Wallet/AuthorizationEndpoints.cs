using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Issuer2.Core.Authorization;
using Issuer2.Core.Wallet;
using Issuer2.Server.Hosting;
using Microsoft.Extensions.Primitives;

namespace Issuer2.Server.Wallet;

/// <summary>
/// The authorization server's endpoints under each tenant's URL space: PAR (RFC 9126) for wallets, and the browser's
/// steps — /authorize, the IdP callback, the consent page. Each translates HTTP to one Core step and its outcome back.
/// </summary>
public static class AuthorizationEndpoints
{
    /// <summary>The parameters an authorization request may carry, each at most once.</summary>
    private static readonly string[] Parameters =
        ["client_id", "response_type", "redirect_uri", "code_challenge", "code_challenge_method", "scope", "authorization_details", "issuer_state", "state", "resource", "request_uri", "dpop_jkt"];

    /// <summary>Maps each path with its per-address limit and its handler per method (the caller answers other methods with 405).</summary>
    public static void Map(Action<string, AddressLimit, (string Method, Delegate Handler)[]> only)
    {
        ArgumentNullException.ThrowIfNull(only);
        only("/{tenant}/par", AddressLimit.Par, [(HttpMethods.Post, PushAsync)]);
        only("/{tenant}/authorize", AddressLimit.Authorize, [(HttpMethods.Get, AuthorizeAsync)]);
        only("/{tenant}/idp/callback", AddressLimit.Callback, [(HttpMethods.Get, CallbackAsync)]);
        // The consent form posts back to the page's own URL.
        only("/{tenant}/consent", AddressLimit.Consent, [(HttpMethods.Get, ShowConsentAsync), (HttpMethods.Post, DecideAsync)]);
    }

    private static async Task<IResult> PushAsync(HttpRequest request, string tenant, PushAuthorizationRequest push, CancellationToken ct)
    {
        if (WalletHttp.PathProblem(tenant) is { } mangled) return WalletHttp.Error(WalletEndpointKind.Token, mangled);
        var (form, error) = await WalletHttp.ReadFormAsync(request, ct);
        if (form is null) return WalletHttp.Error(WalletEndpointKind.Token, error!);
        // Public clients only, as at the token endpoint: an attempt to authenticate fails rather than being ignored.
        if (request.Headers.Authorization.Count > 0 || form.ContainsKey("client_secret") || form.ContainsKey("client_assertion"))
            return WalletHttp.Error(WalletEndpointKind.Token, new WalletError(WalletErrorCode.InvalidClient,
                "This issuer authenticates no clients (token_endpoint_auth_method none): send client_id alone, without credentials."));
        var dpop = new Core.Dpop.DpopHeader(WalletHttp.DpopProof(request, out var repeated), repeated);
        var result = await push.ExecuteAsync(tenant, Read(k => form.GetValueOrDefault(k)), dpop, ct);
        if (!result.IsSuccess) return WalletHttp.Error(WalletEndpointKind.Token, result.Error);
        var body = new JsonObject { ["request_uri"] = result.Value.RequestUri, ["expires_in"] = result.Value.ExpiresIn };
        return WalletHttp.Json(body.ToJsonString(), StatusCodes.Status201Created);
    }

    private static async Task<IResult> AuthorizeAsync(HttpRequest request, string tenant, BrowserSteps steps, CancellationToken ct)
    {
        if (WalletHttp.PathProblem(tenant) is { } mangled) return Page(mangled);
        if (Repeated(request.Query, Parameters) is { } repeated) return Page(WalletError.InvalidRequest($"The parameter {repeated} appears more than once."));
        var outcome = await steps.AuthorizeAsync(tenant, Read(k => Single(request.Query, k)), ct);
        return Render(outcome, request);
    }

    private static async Task<IResult> CallbackAsync(HttpRequest request, string tenant, BrowserSteps steps, CancellationToken ct)
    {
        if (WalletHttp.PathProblem(tenant) is { } mangled) return Page(mangled);
        if (Repeated(request.Query, ["code", "state", "iss", "error"]) is { } repeated)
            return Page(WalletError.InvalidRequest($"The parameter {repeated} appears more than once."));
        var q = request.Query;
        var outcome = await steps.CallbackAsync(tenant,
            new ProviderCallback(Single(q, "code"), Single(q, "state"), Single(q, "iss"), Single(q, "error")), name => Cookie(request, name), ct);
        return Render(outcome, request);
    }

    private static async Task<IResult> ShowConsentAsync(HttpRequest request, string tenant, BrowserSteps steps, CancellationToken ct)
    {
        if (WalletHttp.PathProblem(tenant) is { } mangled) return Page(mangled);
        var outcome = await steps.ShowConsentAsync(tenant, Single(request.Query, "authorization_id"), name => Cookie(request, name), ct);
        return Render(outcome, request);
    }

    private static async Task<IResult> DecideAsync(HttpRequest request, string tenant, BrowserSteps steps, CancellationToken ct)
    {
        if (WalletHttp.PathProblem(tenant) is { } mangled) return Page(mangled);
        var (form, error) = await WalletHttp.ReadFormAsync(request, ct);
        if (form is null) return Page(error!);
        ConsentDecision? decision = form.GetValueOrDefault("decision") switch
        {
            "issue" => ConsentDecision.Issue,
            "cancel" => ConsentDecision.Cancel,
            _ => null,
        };
        var outcome = await steps.DecideAsync(tenant, form.GetValueOrDefault("authorization_id"), decision, name => Cookie(request, name), ct);
        return Render(outcome, request);
    }

    private static AuthorizationParameters Read(Func<string, string?> get) => new(
        get("client_id"), get("response_type"), get("redirect_uri"), get("code_challenge"), get("code_challenge_method"), get("scope"),
        get("authorization_details"), get("issuer_state"), get("state"), get("resource"), get("request_uri"), get("dpop_jkt"));

    private static string? Single(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;

    private static string? Repeated(IQueryCollection query, IEnumerable<string> names) =>
        names.FirstOrDefault(n => query.TryGetValue(n, out var values) && values.Count > 1);

    private static string? Cookie(HttpRequest request, string name) => request.Cookies.TryGetValue(name, out var value) ? value : null;

    private static IResult Render(BrowserOutcome outcome, HttpRequest request) => outcome switch
    {
        BrowserOutcome.Redirect r => new RedirectResult(r, request.IsHttps || request.Scheme == Uri.UriSchemeHttps),
        BrowserOutcome.ErrorPage e => Page(e.Error),
        BrowserOutcome.Consent c => new HtmlResult(StatusCodes.Status200OK, ConsentPage(c.View)),
        _ => throw new InvalidOperationException("Unknown outcome."),
    };

    private static HtmlResult Page(WalletError error) => new(error.Code switch
    {
        WalletErrorCode.NotFound => StatusCodes.Status404NotFound,
        WalletErrorCode.TooManyRequests => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status400BadRequest,
    }, ErrorPage(error), error.RetryAfter);

    /// <summary>The page a browser step answers a refusal with (its status, its strict headers), e.g. a rate limit's 429.</summary>
    internal static IResult RefusalPage(WalletError error) => Page(error);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string ErrorPage(WalletError error) => Html("Request refused",
        $"<h1>This request cannot continue</h1><p><strong>{E(error.SpecCode)}</strong>: {E(error.Description)}</p><p>Return to your wallet and start again.</p>");

    private static string ConsentPage(ConsentView v)
    {
        var claims = new StringBuilder();
        foreach (var c in v.Claims) claims.Append($"<tr><th scope=\"row\">{E(c.Label)}</th><td>{E(c.Value)}</td></tr>");
        return Html($"Add {v.CredentialName} to your wallet",
            $"""
            <h1>Add “{E(v.CredentialName)}” to your wallet?</h1>
            <p>{E(v.IssuerName)} will issue this credential to the wallet <strong>{E(v.ClientId)}</strong>, which will receive it at <strong>{E(v.RedirectHost)}</strong>.</p>
            <table><caption>What the credential will say</caption><tbody>{claims}</tbody></table>
            <form method="post" action="{E(v.ConsentUrl)}">
            <input type="hidden" name="authorization_id" value="{E(v.AuthorizationId)}">
            <button type="submit" name="decision" value="issue">Issue</button>
            <button type="submit" name="decision" value="cancel">Cancel</button>
            </form>
            """);
    }

    private static string Html(string title, string body) =>
        $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{E(title)}}</title>
        <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}table{border-collapse:collapse;margin:1rem 0}th,td{text-align:left;padding:.25rem .75rem .25rem 0}button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}</style>
        </head><body>{{body}}</body></html>
        """;

    /// <summary>Pages that must not be framed (clickjacking of the consent), cached, or leak their URL onward.</summary>
    private static void Secure(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";
        response.Headers["X-Frame-Options"] = "DENY";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    private sealed class HtmlResult(int status, string html, TimeSpan? retryAfter = null) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            Secure(response);
            if (retryAfter is { } wait) response.Headers.RetryAfter = Hosting.DatabaseUnavailableMiddleware.RetryAfterSeconds(wait);
            response.ContentType = "text/html; charset=utf-8";
            return response.WriteAsync(html);
        }
    }

    private sealed class RedirectResult(BrowserOutcome.Redirect redirect, bool https) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status303SeeOther;
            Secure(response);
            response.Headers.Location = new StringValues(redirect.Location);
            foreach (var cookie in new[] { redirect.SetCookie, redirect.ClearCookie })
            {
                if (cookie is null) continue;
                // SameSite=Lax: sent on the IdP's top-level redirect back to the callback, not on cross-site posts.
                response.Cookies.Append(cookie.Name, cookie.Value, new CookieOptions
                {
                    Path = cookie.Path, Expires = cookie.ExpiresAt, HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = https,
                });
            }
            return Task.CompletedTask;
        }
    }
}
