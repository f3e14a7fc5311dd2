using System.Text.Json.Nodes;
using Issuer2.Core.Credentials;
using Issuer2.Core.Dpop;
using Issuer2.Core.Metadata;
using Issuer2.Core.Nonces;
using Issuer2.Core.Notifications;
using Issuer2.Core.Offers;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;
using Issuer2.Server.Hosting;

namespace Issuer2.Server.Wallet;

/// <summary>
/// The wallet-facing HTTP adapter: every URL of a tenant lives under its credential issuer identifier
/// (<c>{PublicBaseUrl}/{tenant}</c>), its metadata at the well-known path-insertion locations. Each endpoint
/// checks the HTTP shape, calls one Core use case, and writes the result.
/// </summary>
public static class WalletEndpoints
{
    private const string OpenIdCredentialIssuer = "openid-credential-issuer";
    private const string OAuthAuthorizationServer = "oauth-authorization-server";
    private const string JwtVcIssuer = "jwt-vc-issuer";

    public static IEndpointRouteBuilder MapWalletEndpoints(this IEndpointRouteBuilder app)
    {
        // Metadata: path insertion (RFC 8414 §3, OID4VCI §12.2.2), plus the appended form older wallets use.
        Get(app, $"/.well-known/{OpenIdCredentialIssuer}/{{tenant}}", (s) => s.CredentialIssuerMetadata);
        Get(app, $"/{{tenant}}/.well-known/{OpenIdCredentialIssuer}", (s) => s.CredentialIssuerMetadata);
        Get(app, $"/.well-known/{OAuthAuthorizationServer}/{{tenant}}", (s) => s.AuthorizationServerMetadata);
        Get(app, $"/{{tenant}}/.well-known/{OAuthAuthorizationServer}", (s) => s.AuthorizationServerMetadata);
        Get(app, $"/.well-known/{JwtVcIssuer}/{{tenant}}", (s) => s.JwtVcIssuerMetadata);

        Only(app, "/{tenant}/offers/{token}", AddressLimit.OfferResolution, HttpMethods.Get, ResolveOfferAsync);
        Only(app, "/{tenant}/token", AddressLimit.Token, HttpMethods.Post, TokenAsync);
        Only(app, "/{tenant}/nonce", AddressLimit.Nonce, HttpMethods.Post, NonceAsync);
        Only(app, "/{tenant}/credential", AddressLimit.Credential, HttpMethods.Post, CredentialAsync);
        Only(app, "/{tenant}/notification", AddressLimit.Notification, HttpMethods.Post, NotificationAsync);
        AuthorizationEndpoints.Map((pattern, limit, handlers) => Only(app, pattern, limit, handlers));
        return app;
    }

    private static void Get(IEndpointRouteBuilder app, string pattern, Func<TenantSnapshot, string> document) =>
        Only(app, pattern, AddressLimit.Metadata, HttpMethods.Get, async (HttpContext http, string tenant, TenantDirectory tenants, CancellationToken ct) =>
        {
            var snapshot = await tenants.FindAsync(tenant, ct);
            return snapshot is null
                ? WalletHttp.Error(WalletEndpointKind.Other, TenantDirectory.NoIssuerHere())
                : WalletHttp.Json(document(snapshot));
        });

    /// <summary>Maps the handler for one method and answers every other method with 405 and a JSON error.</summary>
    private static void Only(IEndpointRouteBuilder app, string pattern, AddressLimit limit, string method, Delegate handler) =>
        Only(app, pattern, limit, (method, handler));

    /// <summary>
    /// Maps a handler per method and answers every other method with 405 and a JSON error; every method of the path is
    /// under the path's per-address rate limit.
    /// </summary>
    private static void Only(IEndpointRouteBuilder app, string pattern, AddressLimit limit, params (string Method, Delegate Handler)[] handlers)
    {
        var policy = IssuerRateLimits.Policy(limit);
        foreach (var (method, handler) in handlers) app.MapMethods(pattern, [method], handler).DisableAntiforgery().RequireRateLimiting(policy);
        var allowed = string.Join(", ", handlers.Select(h => h.Method));
        string[] others = [.. new[] { HttpMethods.Get, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch, HttpMethods.Head, HttpMethods.Options }
            .Where(m => handlers.All(h => h.Method != m))];
        app.MapMethods(pattern, others, (HttpContext http) =>
        {
            http.Response.Headers.Allow = allowed;
            return WalletHttp.Error(WalletEndpointKind.Other, WalletError.InvalidRequest($"Use {allowed}."), StatusCodes.Status405MethodNotAllowed);
        }).RequireRateLimiting(policy);
    }

    /// <summary>How a resource request presents its token: scheme, token, DPoP proof, and the method and path the proof must name.</summary>
    private static ResourceRequest Resource(HttpRequest request, string path)
    {
        var (scheme, token) = WalletHttp.AccessToken(request);
        return new ResourceRequest(scheme, token, new DpopHeader(WalletHttp.DpopProof(request, out var repeated), repeated), request.Method, path);
    }

    private static async Task<IResult> ResolveOfferAsync(string tenant, string token, ResolveOffer resolve, CancellationToken ct)
    {
        if (WalletHttp.PathProblem(tenant, token) is { } mangled) return WalletHttp.Error(WalletEndpointKind.Other, mangled);
        var result = await resolve.ExecuteAsync(tenant, token, ct);
        return result.IsSuccess ? WalletHttp.Json(result.Value) : WalletHttp.Error(WalletEndpointKind.Other, result.Error);
    }

    private static async Task<IResult> TokenAsync(HttpRequest request, string tenant, IssueToken issue, CancellationToken ct)
    {
        var (form, error) = await WalletHttp.ReadFormAsync(request, ct);
        if (form is null) return WalletHttp.Error(WalletEndpointKind.Token, error!);
        var dpop = new DpopHeader(WalletHttp.DpopProof(request, out var repeated), repeated);
        var result = await issue.ExecuteAsync(tenant, WalletRequests.Token(form, request.Headers.Authorization.Count > 0, dpop), ct);
        if (!result.IsSuccess) return WalletHttp.Error(WalletEndpointKind.Token, result.Error);
        var response = new JsonObject
        {
            ["access_token"] = result.Value.AccessToken,
            ["token_type"] = result.Value.TokenType,
            ["expires_in"] = result.Value.ExpiresIn,
        };
        if (result.Value.AuthorizationDetails is { } details) response["authorization_details"] = details;
        if (result.Value.Scope is { } scope) response["scope"] = scope;
        if (result.Value.CNonce is { } cNonce)
        {
            // OID4VCI draft 13 §6.2: draft-13 wallets prove with this nonce; 1.0 wallets ignore it.
            response["c_nonce"] = cNonce.Value;
            response["c_nonce_expires_in"] = cNonce.ExpiresIn;
        }
        return WalletHttp.Json(response.ToJsonString(), dpopNonce: result.Value.DpopNonce);
    }

    private static async Task<IResult> NonceAsync(string tenant, IssueNonce issue, CancellationToken ct)
    {
        var result = await issue.ExecuteAsync(tenant, ct);
        return result.IsSuccess
            ? WalletHttp.Json(new JsonObject { ["c_nonce"] = result.Value.CNonce }.ToJsonString(), dpopNonce: result.Value.DpopNonce)
            : WalletHttp.Error(WalletEndpointKind.Other, result.Error);
    }

    private static async Task<IResult> CredentialAsync(HttpRequest request, string tenant, AuthorizeAccessToken authorize, IssueCredential issue, CancellationToken ct)
    {
        // An unauthorized request learns nothing about its body: the token is checked first.
        var authorized = await authorize.ExecuteAsync(tenant, Resource(request, "/credential"), ct);
        if (!authorized.IsSuccess) return WalletHttp.Error(WalletEndpointKind.Resource, authorized.Error);
        var nonce = authorized.Value.DpopNonce;
        var (document, problem) = await WalletHttp.ReadJsonAsync(request, ct);
        if (document is null) return WalletHttp.Error(WalletEndpointKind.Resource, WalletError.InvalidCredentialRequest(problem!) with { DpopNonce = nonce });
        using (document)
        {
            // The request's shape decides its version; the answer, or the refusal, is in that version's shape.
            var read = WalletRequests.Credential(document.RootElement, out var version);
            if (!read.IsSuccess)
            {
                var refused = await issue.RefuseAsync(authorized.Value, read.Error, version, ct);
                return WalletHttp.Error(WalletEndpointKind.Resource, refused with { DpopNonce = nonce });
            }
            var result = await issue.ExecuteAsync(authorized.Value, read.Value, ct);
            if (!result.IsSuccess) return WalletHttp.Error(WalletEndpointKind.Resource, result.Error with { DpopNonce = nonce });
            return WalletHttp.Json(CredentialShapes.Response(read.Value.Version, result.Value), dpopNonce: nonce);
        }
    }

    private static async Task<IResult> NotificationAsync(HttpRequest request, string tenant, AuthorizeAccessToken authorize, RecordNotification record, CancellationToken ct)
    {
        var authorized = await authorize.ExecuteAsync(tenant, Resource(request, "/notification"), ct);
        if (!authorized.IsSuccess) return WalletHttp.Error(WalletEndpointKind.Resource, authorized.Error);
        var nonce = authorized.Value.DpopNonce;
        var (document, problem) = await WalletHttp.ReadJsonAsync(request, ct);
        if (document is null) return WalletHttp.Error(WalletEndpointKind.Resource, new WalletError(WalletErrorCode.InvalidNotificationRequest, problem!) { DpopNonce = nonce });
        using (document)
        {
            var read = WalletRequests.Notification(document.RootElement);
            if (!read.IsSuccess) return WalletHttp.Error(WalletEndpointKind.Resource, read.Error with { DpopNonce = nonce });
            var result = await record.ExecuteAsync(authorized.Value, read.Value, ct);
            return result.IsSuccess ? WalletHttp.NoContent(nonce) : WalletHttp.Error(WalletEndpointKind.Resource, result.Error with { DpopNonce = nonce });
        }
    }
}
