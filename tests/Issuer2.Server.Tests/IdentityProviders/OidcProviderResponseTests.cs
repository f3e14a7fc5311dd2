using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Issuer2.Core.IdentityProviders;
using Issuer2.Server.IdentityProviders;
using Issuer2.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Server.Tests.IdentityProviders;

/// <summary>
/// How <see cref="OidcProviderClient"/> reads answers a well-behaved provider never gives (garbage, 5xx, oversized,
/// missing members, a JWT userinfo), and what it sends: answers made by a stub handler, over https, no network.
/// </summary>
public sealed class OidcProviderResponseTests : IDisposable
{
    private const string Issuer = "https://idp.test/realm";
    private const string ClientId = "issuer2-tenant";

    private readonly StubProvider _provider = new();

    public void Dispose() => _provider.Dispose();

    [Fact]
    public async Task Discover_OfADocumentThatIsNotJson_IsUnavailable()
    {
        _provider.Discovery = () => Text(HttpStatusCode.OK, "<html>maintenance</html>", "text/html");

        var result = await Client().DiscoverAsync(Settings(), CancellationToken.None);

        Assert.Equal(ProviderFailure.Unavailable, result.Error?.Failure);
    }

    [Fact]
    public async Task Discover_WhenTheProviderAnswers500_IsUnavailable()
    {
        _provider.Discovery = () => Text(HttpStatusCode.InternalServerError, "oops", "text/plain");

        var result = await Client().DiscoverAsync(Settings(), CancellationToken.None);

        Assert.Equal(ProviderFailure.Unavailable, result.Error?.Failure);
    }

    [Fact]
    public async Task Discover_OfADocumentLargerThanTheCap_IsUnavailable()
    {
        var document = StubProvider.DiscoveryDocument();
        document["padding"] = new string('x', OidcProviderClient.MaxResponseBytes);
        _provider.Discovery = () => Json(HttpStatusCode.OK, document);

        var result = await Client().DiscoverAsync(Settings(), CancellationToken.None);

        Assert.Equal(ProviderFailure.Unavailable, result.Error?.Failure);
    }

    [Theory]
    [InlineData("authorization_endpoint")]
    [InlineData("token_endpoint")]
    [InlineData("jwks_uri")]
    public async Task Discover_OfADocumentWithoutARequiredEndpoint_IsMisconfigured(string member)
    {
        var document = StubProvider.DiscoveryDocument();
        document.Remove(member);
        _provider.Discovery = () => Json(HttpStatusCode.OK, document);

        var result = await Client().DiscoverAsync(Settings(), CancellationToken.None);

        Assert.Equal(ProviderFailure.Misconfigured, result.Error?.Failure);
        Assert.Contains(member, result.Error!.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discover_OfAnHttpTokenEndpointWhenHttpsIsRequired_IsMisconfigured()
    {
        var document = StubProvider.DiscoveryDocument();
        document["token_endpoint"] = "http://idp.test/realm/token";
        _provider.Discovery = () => Json(HttpStatusCode.OK, document);

        var result = await Client().DiscoverAsync(Settings(), CancellationToken.None);

        Assert.Equal(ProviderFailure.Misconfigured, result.Error?.Failure);
    }

    [Fact]
    public async Task Discover_OfADocumentWithoutRfc9207Support_SaysSoAndHasNoAlgorithmList()
    {
        var document = StubProvider.DiscoveryDocument();
        document.Remove("authorization_response_iss_parameter_supported");
        document.Remove("id_token_signing_alg_values_supported");
        _provider.Discovery = () => Json(HttpStatusCode.OK, document);

        var result = await Client().DiscoverAsync(Settings(), CancellationToken.None);

        Assert.True(result.IsSuccess, result.Error?.Description);
        Assert.False(result.Value.AuthorizationResponseIssParameterSupported);
        Assert.Null(result.Value.IdTokenSigningAlgorithms);
        Assert.Equal($"{Issuer}/me", result.Value.UserInfoEndpoint);
    }

    [Fact]
    public async Task GetKeys_LeavesOutEncryptionKeys()
    {
        var result = await Client().GetKeysAsync(Settings(), refresh: false, CancellationToken.None);

        Assert.True(result.IsSuccess, result.Error?.Description);
        Assert.Equal(["sig-1"], result.Value.Select(k => k.KeyId));
    }

    [Fact]
    public async Task ExchangeCode_SendsTheGrantWithPkceAndFormEncodedBasicCredentials()
    {
        _provider.Token = _ => Json(HttpStatusCode.OK, new JsonObject { ["id_token"] = "h.p.s", ["access_token"] = "at", ["token_type"] = "Bearer" });

        var result = await Client().ExchangeCodeAsync(Settings(), "a b:c+d%", "the-code", "the-verifier", "https://issuer.test/t1/idp/callback", CancellationToken.None);

        Assert.True(result.IsSuccess, result.Error?.Description);
        Assert.Equal(new ProviderTokens("h.p.s", "at"), result.Value);
        var request = Assert.Single(_provider.TokenRequests);
        // RFC 6749 §2.3.1: each part form-url-encoded, then joined with ':' and base64-encoded.
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("issuer2-tenant:a+b%3Ac%2Bd%25")), request.Authorization);
        Assert.Equal(
            "grant_type=authorization_code&code=the-code&redirect_uri=https%3A%2F%2Fissuer.test%2Ft1%2Fidp%2Fcallback&code_verifier=the-verifier",
            request.Body);
    }

    [Fact]
    public async Task ExchangeCode_WhenTheProviderSupportsOnlyClientSecretPost_SendsTheSecretInTheBody()
    {
        var document = StubProvider.DiscoveryDocument();
        document["token_endpoint_auth_methods_supported"] = new JsonArray("private_key_jwt", "client_secret_post");
        _provider.Discovery = () => Json(HttpStatusCode.OK, document);
        _provider.Token = _ => Json(HttpStatusCode.OK, new JsonObject { ["id_token"] = "h.p.s" });

        var result = await Client().ExchangeCodeAsync(Settings(), "s e", "the-code", "v", "https://issuer.test/cb", CancellationToken.None);

        Assert.True(result.IsSuccess, result.Error?.Description);
        Assert.Null(result.Value.AccessToken);
        var request = Assert.Single(_provider.TokenRequests);
        Assert.Null(request.Authorization);
        Assert.EndsWith("&client_id=issuer2-tenant&client_secret=s+e", request.Body, StringComparison.Ordinal);
    }

    public static TheoryData<int, string, string, ProviderFailure, string> TokenAnswers => new()
    {
        { 400, "application/json", """{"error":"invalid_grant","error_description":"code the-code was used"}""", ProviderFailure.Refused, "token endpoint: invalid_grant" },
        { 401, "application/json", """{"error":"invalid_client"}""", ProviderFailure.Refused, "token endpoint: invalid_client" },
        { 400, "application/json", """{"error":"bad\ncode"}""", ProviderFailure.Unavailable, "without an OAuth error" },
        { 400, "text/html", "<html>Bad Request</html>", ProviderFailure.Unavailable, "without a JSON object" },
        { 429, "application/json", """{"error":"slow_down"}""", ProviderFailure.Unavailable, "429" },
        { 500, "application/json", """{"error":"server_error"}""", ProviderFailure.Unavailable, "500" },
        { 503, "text/plain", "down", ProviderFailure.Unavailable, "503" },
        { 200, "text/html", "<html>welcome</html>", ProviderFailure.Unavailable, "without a JSON object" },
        { 200, "application/json", """["id_token"]""", ProviderFailure.Unavailable, "without a JSON object" },
        { 200, "application/json", """{"access_token":"at","token_type":"Bearer"}""", ProviderFailure.Refused, "no id_token" },
        { 200, "application/json", """{"id_token":""}""", ProviderFailure.Refused, "no id_token" },
        { 302, "text/plain", "", ProviderFailure.Unavailable, "302" },
    };

    [Theory]
    [MemberData(nameof(TokenAnswers))]
    public async Task ExchangeCode_MapsTheTokenEndpointsAnswer(int status, string contentType, string body, ProviderFailure expected, string description)
    {
        _provider.Token = _ => Text((HttpStatusCode)status, body, contentType);

        var result = await Client().ExchangeCodeAsync(Settings(), "secret", "the-code", "v", "https://issuer.test/cb", CancellationToken.None);

        Assert.Equal(expected, result.Error?.Failure);
        Assert.Contains(description, result.Error!.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("the-code", result.Error.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExchangeCode_WhenTheRequestTimesOut_IsUnavailable()
    {
        _provider.Token = _ => throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout.", new TimeoutException());

        var result = await Client().ExchangeCodeAsync(Settings(), "secret", "the-code", "v", "https://issuer.test/cb", CancellationToken.None);

        Assert.Equal(ProviderFailure.Unavailable, result.Error?.Failure);
    }

    [Fact]
    public async Task ExchangeCode_WhenTheCallerCancels_Throws()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Client().ExchangeCodeAsync(Settings(), "secret", "the-code", "v", "https://issuer.test/cb", cancelled.Token));
    }

    [Fact]
    public async Task UserInfo_SendsTheBearerTokenAndReturnsTheObject()
    {
        _provider.UserInfo = request => request.Headers.Authorization?.ToString() == "Bearer the-token"
            ? Json(HttpStatusCode.OK, new JsonObject { ["sub"] = "u1", ["membership_number"] = "M-1" })
            : Text(HttpStatusCode.Unauthorized, "", "text/plain");

        var result = await Client().GetUserInfoAsync(Settings(), "the-token", CancellationToken.None);

        Assert.True(result.IsSuccess, result.Error?.Description);
        Assert.Equal("M-1", result.Value.GetProperty("membership_number").GetString());
    }

    [Fact]
    public async Task UserInfo_AsAJwt_IsRefusedAsUnsupported()
    {
        _provider.UserInfo = _ => Text(HttpStatusCode.OK, "eyJhbGciOiJFUzI1NiJ9.e30.sig", "application/jwt");

        var result = await Client().GetUserInfoAsync(Settings(), "the-token", CancellationToken.None);

        Assert.Equal(ProviderFailure.Refused, result.Error?.Failure);
        Assert.Contains("application/jwt", result.Error!.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserInfo_WithAnInvalidTokenInWwwAuthenticate_IsRefusedWithThatCode()
    {
        _provider.UserInfo = _ =>
        {
            var response = Text(HttpStatusCode.Unauthorized, "", "text/plain");
            response.Headers.TryAddWithoutValidation("WWW-Authenticate", "Bearer realm=\"idp\", error=\"invalid_token\", error_description=\"the-token expired\"");
            return response;
        };

        var result = await Client().GetUserInfoAsync(Settings(), "the-token", CancellationToken.None);

        Assert.Equal(ProviderFailure.Refused, result.Error?.Failure);
        Assert.Equal("userinfo endpoint: invalid_token", result.Error!.Description);
    }

    [Theory]
    [InlineData(200, "application/json", "not json", ProviderFailure.Unavailable)]
    [InlineData(200, "application/json", "[1]", ProviderFailure.Unavailable)]
    [InlineData(502, "text/html", "<html/>", ProviderFailure.Unavailable)]
    [InlineData(404, "text/html", "<html/>", ProviderFailure.Unavailable)]
    [InlineData(400, "application/json", """{"error":"invalid_request"}""", ProviderFailure.Refused)]
    public async Task UserInfo_MapsTheEndpointsAnswer(int status, string contentType, string body, ProviderFailure expected)
    {
        _provider.UserInfo = _ => Text((HttpStatusCode)status, body, contentType);

        var result = await Client().GetUserInfoAsync(Settings(), "the-token", CancellationToken.None);

        Assert.Equal(expected, result.Error?.Failure);
    }

    [Fact]
    public async Task UserInfo_OfAProviderWithoutAUserinfoEndpoint_IsMisconfigured()
    {
        var document = StubProvider.DiscoveryDocument();
        document.Remove("userinfo_endpoint");
        _provider.Discovery = () => Json(HttpStatusCode.OK, document);

        var result = await Client().GetUserInfoAsync(Settings(), "the-token", CancellationToken.None);

        Assert.Equal(ProviderFailure.Misconfigured, result.Error?.Failure);
    }

    [Fact]
    public async Task Cache_HoldsAtMostTheConfiguredNumberOfProviders()
    {
        var client = Client(maxProviders: 2);

        foreach (var tenant in new[] { "a", "b", "c", "d" })
            await client.DiscoverAsync(Settings($"https://idp.test/{tenant}"), CancellationToken.None);

        Assert.Equal(2, client.CachedProviderCount);
    }

    [Fact]
    public async Task Discover_OfAnIssuerWithAQuery_IsMisconfiguredWithoutARequest()
    {
        var result = await Client().DiscoverAsync(Settings("https://idp.test/realm?tenant=1"), CancellationToken.None);

        Assert.Equal(ProviderFailure.Misconfigured, result.Error?.Failure);
        Assert.Equal(0, _provider.DiscoveryRequests);
    }

    private OidcProviderClient Client(int maxProviders = OidcProviderClient.DefaultMaxProviders) =>
        new(_provider, NullLogger<OidcProviderClient>.Instance, TimeProvider.System, allowInsecureHttp: false, maxProviders: maxProviders);

    private static IdentityProviderSettings Settings(string issuer = Issuer) => new(issuer, ClientId, [], ["openid"]);

    private static HttpResponseMessage Json(HttpStatusCode status, JsonNode body) =>
        Text(status, body.ToJsonString(), "application/json");

    private static HttpResponseMessage Text(HttpStatusCode status, string body, string contentType) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, contentType) };

    private sealed record TokenRequest(string? Authorization, string Body);

    /// <summary>A provider at https://idp.test/realm answering from delegates; also the IHttpClientFactory.</summary>
    private sealed class StubProvider : HttpMessageHandler, IHttpClientFactory
    {
        public Func<HttpResponseMessage> Discovery { get; set; } = () => Json(HttpStatusCode.OK, DiscoveryDocument());

        public Func<HttpRequestMessage, HttpResponseMessage> Token { get; set; } = _ => Text(HttpStatusCode.InternalServerError, "", "text/plain");

        public Func<HttpRequestMessage, HttpResponseMessage> UserInfo { get; set; } = _ => Text(HttpStatusCode.InternalServerError, "", "text/plain");

        public List<TokenRequest> TokenRequests { get; } = [];

        public int DiscoveryRequests { get; private set; }

        public static JsonObject DiscoveryDocument(string issuer = Issuer) => new()
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = $"{issuer}/auth",
            ["token_endpoint"] = $"{issuer}/token",
            ["userinfo_endpoint"] = $"{issuer}/me",
            ["jwks_uri"] = $"{issuer}/jwks",
            ["id_token_signing_alg_values_supported"] = new JsonArray("ES256"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_basic", "client_secret_post"),
            ["authorization_response_iss_parameter_supported"] = true,
        };

        public HttpClient CreateClient(string name) => new(this, disposeHandler: false);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = request.RequestUri!.AbsolutePath;
            if (path.EndsWith("/.well-known/openid-configuration", StringComparison.Ordinal))
            {
                DiscoveryRequests++;
                var issuer = request.RequestUri.GetLeftPart(UriPartial.Authority) + path[..^"/.well-known/openid-configuration".Length];
                return issuer == Issuer ? Discovery() : Json(HttpStatusCode.OK, DiscoveryDocument(issuer));
            }

            if (path.EndsWith("/jwks", StringComparison.Ordinal)) return Json(HttpStatusCode.OK, Jwks());
            if (path.EndsWith("/token", StringComparison.Ordinal))
            {
                TokenRequests.Add(new TokenRequest(request.Headers.Authorization?.ToString(), await request.Content!.ReadAsStringAsync(cancellationToken)));
                return Token(request);
            }

            if (path.EndsWith("/me", StringComparison.Ordinal)) return UserInfo(request);
            return Text(HttpStatusCode.NotFound, "", "text/plain");
        }

        private static JsonObject Jwks()
        {
            using var signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var encryption = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            JsonObject Public(ECDsa key, string kid, string use)
            {
                var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(key));
                return new JsonObject { ["kty"] = "EC", ["crv"] = jwk.Crv, ["x"] = jwk.X, ["y"] = jwk.Y, ["kid"] = kid, ["use"] = use };
            }

            return new JsonObject { ["keys"] = new JsonArray(Public(signing, "sig-1", "sig"), Public(encryption, "enc-1", "enc")) };
        }
    }
}
