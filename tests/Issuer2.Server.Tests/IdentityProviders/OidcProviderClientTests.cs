using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Issuer2.Core.IdentityProviders;
using Issuer2.Server.IdentityProviders;
using Issuer2.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Issuer2.Server.Tests.IdentityProviders;

/// <summary>One real OpenID Provider (tests/interop/idp/provider.mjs) for the tests of a class.</summary>
public sealed class OpenIdProviderFixture : IAsyncLifetime
{
    public OpenIdProvider Provider { get; private set; } = null!;

    public async Task InitializeAsync() => Provider = await OpenIdProvider.StartAsync();

    public async Task DisposeAsync() => await Provider.DisposeAsync();
}

/// <summary>
/// <see cref="OidcProviderClient"/> against a real OpenID Provider (oidc-provider): discovery, keys and their rotation,
/// the code exchange with a code from a real sign-in through the provider's pages, userinfo, and the provider down.
/// Each test has its own client (its own cache) and registers its own OAuth client at the provider.
/// </summary>
public sealed class OidcProviderClientTests : IClassFixture<OpenIdProviderFixture>, IDisposable
{
    // Needs form-url-encoding before Basic authentication (RFC 6749 §2.3.1): a space, ':', '+', '%' and '/' (a
    // secret is printable ASCII, VSCHAR of RFC 6749 Appendix A.2, which oidc-provider enforces).
    private const string Secret = "s3cr et:+%/-secret";
    private const string AllScopes = "openid profile email address membership";

    private readonly OpenIdProviderFixture _fixture;
    private readonly LogCapture _logs = new();
    private readonly ServiceProvider _services;

    public OidcProviderClientTests(OpenIdProviderFixture fixture)
    {
        _fixture = fixture;
        // The host's registration: the named HttpClient (no redirects, no cookies) and the singleton.
        _services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug))
            .AddSingleton(TimeProvider.System)
            .AddIdentityProviderClient(allowInsecureHttp: true)
            .BuildServiceProvider();
    }

    private OpenIdProvider Provider => _fixture.Provider;

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task Discover_ReturnsTheProvidersEndpointsAlgorithmsAndIssParameterSupport()
    {
        var client = NewClient();

        var result = await client.DiscoverAsync(Settings(Provider.Issuer), CancellationToken.None);

        Assert.True(result.IsSuccess, result.Error?.Description);
        var metadata = result.Value;
        Assert.Equal(Provider.Issuer, metadata.Issuer);
        Assert.Equal($"{Provider.Issuer}/auth", metadata.AuthorizationEndpoint);
        Assert.Equal($"{Provider.Issuer}/token", metadata.TokenEndpoint);
        Assert.Equal($"{Provider.Issuer}/me", metadata.UserInfoEndpoint);
        Assert.True(metadata.AuthorizationResponseIssParameterSupported);
        Assert.Equal(["ES256"], metadata.IdTokenSigningAlgorithms);
    }

    [Fact]
    public async Task Discover_WithATrailingSlashOnTheIssuer_FindsTheDocumentButIsMisconfigured()
    {
        // The slash is dropped before /.well-known/openid-configuration (OIDC Discovery §4.1), so the document is
        // found; it names the issuer without the slash, which is not the configured one (§4.3).
        var client = NewClient();
        var before = await Provider.RequestCountAsync("/.well-known/openid-configuration");

        var result = await client.DiscoverAsync(Settings(Provider.Issuer + "/"), CancellationToken.None);

        Assert.Equal(ProviderFailure.Misconfigured, result.Error?.Failure);
        Assert.Contains($"names the issuer \"{Provider.Issuer}\"", result.Error!.Description, StringComparison.Ordinal);
        Assert.Equal(before + 1, await Provider.RequestCountAsync("/.well-known/openid-configuration"));
    }

    [Fact]
    public async Task Discover_WhenTheDocumentAtAPathNamesAnotherIssuer_IsMisconfigured()
    {
        var client = NewClient();

        var result = await client.DiscoverAsync(Settings(Provider.Issuer + "/__test/mirror"), CancellationToken.None);

        Assert.Equal(ProviderFailure.Misconfigured, result.Error?.Failure);
    }

    [Fact]
    public async Task Discover_OnAPortNobodyListensOn_IsUnavailable()
    {
        var client = NewClient();

        var result = await client.DiscoverAsync(Settings($"http://127.0.0.1:{TestEnvironment.FreePort()}"), CancellationToken.None);

        Assert.Equal(ProviderFailure.Unavailable, result.Error?.Failure);
    }

    [Fact]
    public async Task Discover_OfAnHttpIssuerWhenHttpsIsRequired_IsMisconfiguredWithoutARequest()
    {
        var client = NewClient(allowInsecureHttp: false);
        var before = await Provider.RequestCountAsync("/.well-known/openid-configuration");

        var result = await client.DiscoverAsync(Settings(Provider.Issuer), CancellationToken.None);

        Assert.Equal(ProviderFailure.Misconfigured, result.Error?.Failure);
        Assert.Equal(before, await Provider.RequestCountAsync("/.well-known/openid-configuration"));
    }

    [Fact]
    public async Task GetKeys_ReturnsTheProvidersSigningKeys()
    {
        var client = NewClient();

        var result = await client.GetKeysAsync(Settings(Provider.Issuer), refresh: false, CancellationToken.None);

        Assert.True(result.IsSuccess, result.Error?.Description);
        Assert.Equal(await Provider.KeyIdsAsync(), result.Value.Select(k => k.KeyId));
        Assert.All(result.Value, k => Assert.Equal("EC", k.Kty));
    }

    [Fact]
    public async Task GetKeys_AfterTheProviderRotates_GivesTheCachedKeysUntilAskedToRefresh()
    {
        var client = NewClient();
        var settings = Settings(Provider.Issuer);
        var old = Kids(await client.GetKeysAsync(settings, refresh: false, CancellationToken.None));

        var rotated = await Provider.RotateKeysAsync();
        var cached = Kids(await client.GetKeysAsync(settings, refresh: false, CancellationToken.None));
        var refreshed = Kids(await client.GetKeysAsync(settings, refresh: true, CancellationToken.None));
        var afterwards = Kids(await client.GetKeysAsync(settings, refresh: false, CancellationToken.None));

        Assert.Equal(old, cached);
        Assert.DoesNotContain(rotated, old);
        Assert.Equal([rotated], refreshed);
        Assert.Equal([rotated], afterwards);
    }

    [Fact]
    public async Task GetKeys_RefreshedTwiceInARow_FetchesTheJwksOnceUntilTheIntervalPassed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var client = NewClient(clock: clock, keyRefreshInterval: TimeSpan.FromSeconds(10));
        var settings = Settings(Provider.Issuer);
        Assert.True((await client.GetKeysAsync(settings, refresh: false, CancellationToken.None)).IsSuccess);
        var warm = await Provider.RequestCountAsync("/jwks");

        var first = await client.GetKeysAsync(settings, refresh: true, CancellationToken.None);
        var second = await client.GetKeysAsync(settings, refresh: true, CancellationToken.None);
        var afterTwo = await Provider.RequestCountAsync("/jwks");
        clock.Advance(TimeSpan.FromSeconds(10));
        var third = await client.GetKeysAsync(settings, refresh: true, CancellationToken.None);
        var afterInterval = await Provider.RequestCountAsync("/jwks");

        Assert.True(first.IsSuccess && second.IsSuccess && third.IsSuccess);
        Assert.Equal(warm + 1, afterTwo);
        Assert.Equal(warm + 2, afterInterval);
    }

    [Fact]
    public async Task ExchangeCode_OfARealSignIn_GivesAnIdTokenThatCoreValidatesWithTheReturnedKeys()
    {
        var client = NewClient();
        var registered = await RegisterAsync();
        var (metadata, request, response) = await SignInAsync(client, registered, OpenIdProvider.Alice);

        var tokens = await client.ExchangeCodeAsync(registered.Settings, Secret, response.Parameters["code"], request.Verifier, registered.RedirectUri, CancellationToken.None);
        Assert.True(tokens.IsSuccess, tokens.Error?.Description);
        var keys = await client.GetKeysAsync(registered.Settings, refresh: false, CancellationToken.None);
        var (token, problem) = await IdTokenValidator.ValidateAsync(tokens.Value.IdToken, new IdTokenExpectations(
            Provider.Issuer, registered.Settings.ClientId, request.Nonce, keys.Value, metadata.IdTokenSigningAlgorithms, DateTimeOffset.UtcNow));

        // RFC 9207: the provider said who answered.
        Assert.Equal(Provider.Issuer, response.Parameters["iss"]);
        Assert.Equal(request.State, response.Parameters["state"]);
        Assert.Null(problem);
        Assert.Equal("alice", token!.Subject);
        Assert.Equal("Alice", token.Claims.GetProperty("given_name").GetString());
        Assert.Equal("Andersson", token.Claims.GetProperty("family_name").GetString());
        Assert.Equal("alice@example.com", token.Claims.GetProperty("email").GetString());
        Assert.Equal("1990-04-12", token.Claims.GetProperty("birthdate").GetString());
        Assert.Equal("Uppsala", token.Claims.GetProperty("address").GetProperty("locality").GetString());
        Assert.False(token.Claims.TryGetProperty("membership_number", out _), "membership_number is a userinfo-only claim");
        Assert.NotNull(tokens.Value.AccessToken);
    }

    [Fact]
    public async Task UserInfo_WithTheExchangedAccessToken_GivesTheUserinfoOnlyClaim()
    {
        var client = NewClient();
        var registered = await RegisterAsync();
        var (_, request, response) = await SignInAsync(client, registered, OpenIdProvider.Bob);
        var tokens = await client.ExchangeCodeAsync(registered.Settings, Secret, response.Parameters["code"], request.Verifier, registered.RedirectUri, CancellationToken.None);

        var userInfo = await client.GetUserInfoAsync(registered.Settings, tokens.Value.AccessToken!, CancellationToken.None);

        Assert.True(userInfo.IsSuccess, userInfo.Error?.Description);
        Assert.Equal("bob", userInfo.Value.GetProperty("sub").GetString());
        Assert.Equal("M-2002", userInfo.Value.GetProperty("membership_number").GetString());
        Assert.Equal("Bob", userInfo.Value.GetProperty("given_name").GetString());
        Assert.Equal("Bristol", userInfo.Value.GetProperty("address").GetProperty("locality").GetString());
        var idTokenClaims = JsonDocument.Parse(Base64UrlDecode(tokens.Value.IdToken.Split('.')[1])).RootElement;
        Assert.False(idTokenClaims.TryGetProperty("membership_number", out _));
    }

    [Fact]
    public async Task UserInfo_WithAnUnknownAccessToken_IsRefused()
    {
        var client = NewClient();

        var result = await client.GetUserInfoAsync(Settings(Provider.Issuer), "not-a-token-of-this-provider", CancellationToken.None);

        Assert.Equal(ProviderFailure.Refused, result.Error?.Failure);
        Assert.Contains("invalid_token", result.Error!.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExchangeCode_TheSameCodeTwice_IsRefusedTheSecondTimeWithoutLoggingTheCode()
    {
        var client = NewClient();
        var registered = await RegisterAsync();
        var (_, request, response) = await SignInAsync(client, registered, OpenIdProvider.Alice);
        var code = response.Parameters["code"];

        var first = await client.ExchangeCodeAsync(registered.Settings, Secret, code, request.Verifier, registered.RedirectUri, CancellationToken.None);
        var second = await client.ExchangeCodeAsync(registered.Settings, Secret, code, request.Verifier, registered.RedirectUri, CancellationToken.None);

        Assert.True(first.IsSuccess, first.Error?.Description);
        Assert.Equal(ProviderFailure.Refused, second.Error?.Failure);
        Assert.Equal("token endpoint: invalid_grant", second.Error!.Description);
        var logs = _logs.AllText();
        Assert.Contains("invalid_grant", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(code, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(first.Value.IdToken, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExchangeCode_WithAWrongClientSecret_IsRefused()
    {
        var client = NewClient();
        var registered = await RegisterAsync();
        var (_, request, response) = await SignInAsync(client, registered, OpenIdProvider.Alice);

        var result = await client.ExchangeCodeAsync(registered.Settings, "wrong" + Secret, response.Parameters["code"], request.Verifier, registered.RedirectUri, CancellationToken.None);

        Assert.Equal(ProviderFailure.Refused, result.Error?.Failure);
        Assert.Equal("token endpoint: invalid_client", result.Error!.Description);
        Assert.DoesNotContain(Secret, _logs.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExchangeCode_WithAnotherCodeVerifier_IsRefused()
    {
        // PKCE (RFC 7636 §4.6): the provider checks the verifier against the challenge of the authorization request.
        var client = NewClient();
        var registered = await RegisterAsync();
        var (_, _, response) = await SignInAsync(client, registered, OpenIdProvider.Alice);

        var result = await client.ExchangeCodeAsync(
            registered.Settings, Secret, response.Parameters["code"], TestEnvironment.Base64Url(RandomNumberGenerator.GetBytes(32)), registered.RedirectUri, CancellationToken.None);

        Assert.Equal(ProviderFailure.Refused, result.Error?.Failure);
        Assert.Equal("token endpoint: invalid_grant", result.Error!.Description);
    }

    [Fact]
    public async Task KeyRotation_AnIdTokenWithTheNewKid_ValidatesAfterOneRefresh()
    {
        var client = NewClient();
        var registered = await RegisterAsync();
        var cached = await client.GetKeysAsync(registered.Settings, refresh: false, CancellationToken.None);
        await Provider.RotateKeysAsync();
        var (metadata, request, response) = await SignInAsync(client, registered, OpenIdProvider.Alice);
        var tokens = await client.ExchangeCodeAsync(registered.Settings, Secret, response.Parameters["code"], request.Verifier, registered.RedirectUri, CancellationToken.None);
        IdTokenExpectations Expect(IReadOnlyList<Microsoft.IdentityModel.Tokens.JsonWebKey> keys) =>
            new(Provider.Issuer, registered.Settings.ClientId, request.Nonce, keys, metadata.IdTokenSigningAlgorithms, DateTimeOffset.UtcNow);

        var (_, withCachedKeys) = await IdTokenValidator.ValidateAsync(tokens.Value.IdToken, Expect(cached.Value));
        var refreshed = await client.GetKeysAsync(registered.Settings, refresh: true, CancellationToken.None);
        var (token, withRefreshedKeys) = await IdTokenValidator.ValidateAsync(tokens.Value.IdToken, Expect(refreshed.Value));

        Assert.Equal(IdTokenProblem.UnknownKey, withCachedKeys);
        Assert.Null(withRefreshedKeys);
        Assert.Equal("alice", token!.Subject);
    }

    [Fact]
    public async Task ProviderDown_DiscoveryRefreshAndExchangeAreUnavailable_AndAFreshClientRecoversWhenItIsBack()
    {
        var warm = NewClient();
        var registered = await RegisterAsync();
        var (_, request, response) = await SignInAsync(warm, registered, OpenIdProvider.Alice);
        Assert.True((await warm.GetKeysAsync(registered.Settings, refresh: false, CancellationToken.None)).IsSuccess);
        var cold = NewClient();

        await Provider.SetDownAsync(true);
        try
        {
            var discovery = await cold.DiscoverAsync(registered.Settings, CancellationToken.None);
            var refresh = await warm.GetKeysAsync(registered.Settings, refresh: true, CancellationToken.None);
            var cachedMetadata = await warm.DiscoverAsync(registered.Settings, CancellationToken.None);
            var exchange = await warm.ExchangeCodeAsync(registered.Settings, Secret, response.Parameters["code"], request.Verifier, registered.RedirectUri, CancellationToken.None);
            var userInfo = await warm.GetUserInfoAsync(registered.Settings, "any", CancellationToken.None);

            Assert.Equal(ProviderFailure.Unavailable, discovery.Error?.Failure);
            Assert.Equal(ProviderFailure.Unavailable, refresh.Error?.Failure);
            Assert.True(cachedMetadata.IsSuccess, "the cached discovery document stays in use");
            Assert.Equal(ProviderFailure.Unavailable, exchange.Error?.Failure);
            Assert.Equal(ProviderFailure.Unavailable, userInfo.Error?.Failure);
        }
        finally
        {
            await Provider.SetDownAsync(false);
        }

        var recovered = await cold.DiscoverAsync(registered.Settings, CancellationToken.None);
        var stillUsable = await warm.GetKeysAsync(registered.Settings, refresh: false, CancellationToken.None);

        Assert.True(recovered.IsSuccess, recovered.Error?.Description);
        Assert.True(stillUsable.IsSuccess, "a failed refresh keeps the keys cached before it");
    }

    [Fact]
    public void AddIdentityProviderClient_RegistersOneOidcProviderClientPerHost()
    {
        var first = _services.GetRequiredService<IIdentityProviderClient>();
        var second = _services.GetRequiredService<IIdentityProviderClient>();

        Assert.IsType<OidcProviderClient>(first);
        Assert.Same(first, second);
    }

    private OidcProviderClient NewClient(bool allowInsecureHttp = true, TimeProvider? clock = null, TimeSpan? keyRefreshInterval = null) => new(
        _services.GetRequiredService<IHttpClientFactory>(),
        _services.GetRequiredService<ILogger<OidcProviderClient>>(),
        clock ?? TimeProvider.System,
        allowInsecureHttp,
        keyRefreshInterval);

    private static IdentityProviderSettings Settings(string issuer, string clientId = "unregistered") =>
        new(issuer, clientId, [], ["openid"]);

    private async Task<RegisteredClient> RegisterAsync()
    {
        var clientId = "issuer2-" + TestEnvironment.RandomText(10);
        // The shape of the redirect URI Issuer2 registers: {credential_issuer}/idp/callback (never requested here).
        var redirectUri = $"http://127.0.0.1:9/{clientId}/idp/callback";
        await Provider.RegisterClientAsync(clientId, Secret, [redirectUri]);
        return new RegisteredClient(Settings(Provider.Issuer, clientId), redirectUri);
    }

    private async Task<(ProviderMetadata Metadata, AuthorizationRequest Request, AuthorizationResponse Response)> SignInAsync(
        OidcProviderClient client, RegisteredClient registered, string login)
    {
        var metadata = await client.DiscoverAsync(registered.Settings, CancellationToken.None);
        Assert.True(metadata.IsSuccess, metadata.Error?.Description);
        var request = AuthorizationRequest.For(metadata.Value, registered.Settings.ClientId, registered.RedirectUri, AllScopes);
        var response = await Provider.SignInAsync(request.Url, registered.RedirectUri, login);
        Assert.True(response.Parameters.ContainsKey("code"), $"no code in {response.Location}");
        return (metadata.Value, request, response);
    }

    private static IReadOnlyList<string> Kids(Core.Common.Result<IReadOnlyList<Microsoft.IdentityModel.Tokens.JsonWebKey>, ProviderError> keys)
    {
        Assert.True(keys.IsSuccess, keys.Error?.Description);
        return [.. keys.Value.Select(k => k.KeyId)];
    }

    private static byte[] Base64UrlDecode(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - (padded.Length % 4)) % 4));
    }

    private sealed record RegisteredClient(IdentityProviderSettings Settings, string RedirectUri);

    /// <summary>An authorization request of the code flow with PKCE (S256), a state and a nonce.</summary>
    private sealed record AuthorizationRequest(Uri Url, string State, string Nonce, string Verifier)
    {
        public static AuthorizationRequest For(ProviderMetadata metadata, string clientId, string redirectUri, string scope)
        {
            var verifier = TestEnvironment.Base64Url(RandomNumberGenerator.GetBytes(32));
            var challenge = TestEnvironment.Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
            var state = TestEnvironment.RandomText(16);
            var nonce = TestEnvironment.RandomText(16);
            var parameters = new Dictionary<string, string>
            {
                ["client_id"] = clientId,
                ["response_type"] = "code",
                ["scope"] = scope,
                ["redirect_uri"] = redirectUri,
                ["state"] = state,
                ["nonce"] = nonce,
                ["code_challenge"] = challenge,
                ["code_challenge_method"] = "S256",
            };
            var query = string.Join('&', parameters.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));
            return new AuthorizationRequest(new Uri($"{metadata.AuthorizationEndpoint}?{query}"), state, nonce, verifier);
        }
    }
}
