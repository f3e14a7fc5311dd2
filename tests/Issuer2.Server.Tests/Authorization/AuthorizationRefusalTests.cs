using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Authorization;

/// <summary>
/// Refusals of the authorization code flow: the status, the error and where it goes (a 400 page, a JSON body, or the
/// wallet's redirect URI with iss), and that nothing was granted: no use counted, no session opened.
/// </summary>
public abstract class AuthorizationRefusalTests(ServerFixture fixture, OpenIdProviderFixture idp)
{
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; // RFC 7636 Appendix B
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    private OpenIdProvider Provider => idp.Provider;

    internal static readonly HttpClient Http = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });

    public static TheoryData<string, string, HttpStatusCode, string> PushedRequestRefusals => new()
    {
        { "plain http redirect_uri", "redirect_uri=http://wallet.example/cb", HttpStatusCode.BadRequest, "invalid_request" },
        { "redirect_uri with a fragment", "redirect_uri=https://wallet.example/cb%23x", HttpStatusCode.BadRequest, "invalid_request" },
        { "response_type token", "response_type=token", HttpStatusCode.BadRequest, "unsupported_response_type" },
        { "plain PKCE", "code_challenge_method=plain", HttpStatusCode.BadRequest, "invalid_request" },
        { "no PKCE", "code_challenge=", HttpStatusCode.BadRequest, "invalid_request" },
        { "another resource", "resource=https://elsewhere.example", HttpStatusCode.BadRequest, "invalid_target" },
        { "unknown scope only", "scope=nothing-here", HttpStatusCode.BadRequest, "invalid_scope" },
        { "unknown issuer_state", "issuer_state=not-a-state", HttpStatusCode.BadRequest, "invalid_request" },
        { "request_uri inside a pushed request", "request_uri=urn:ietf:params:oauth:request_uri:x", HttpStatusCode.BadRequest, "invalid_request" },
        { "unknown authorization_details configuration", "authorization_details=[{\"type\":\"openid_credential\",\"credential_configuration_id\":\"nope\"}]", HttpStatusCode.BadRequest, "invalid_authorization_details" },
        { "client secret", "client_secret=s3cret", HttpStatusCode.Unauthorized, "invalid_client" },
    };

    [Theory]
    [MemberData(nameof(PushedRequestRefusals))]
    public async Task PushedRequest_Refused_AnswersJsonErrorAndStoresNothing(string why, string change, HttpStatusCode status, string error)
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var (answered, body) = await PushAsync(t, change);

        Assert.True(status == answered, $"{why}: {answered} {body}");
        Assert.Equal(error, body.GetProperty("error").GetString());
        Assert.True(body.GetProperty("error_description").GetString()!.Length > 0);
        // Nothing written: no request row, no event, nothing else.
        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.All(DatabaseSnapshot.Tables, table => Assert.True(before.Checksum(table) == after.Checksum(table), $"{why}: {table} changed"));
    }

    [Fact]
    public async Task RegisteredClients_UnknownClientIsInvalidClient_UnregisteredRedirectIsInvalidRequest()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider, tenant =>
        {
            tenant.AuthorizationServer = new AuthorizationServerSettings { ClientMode = WalletClientMode.Registered };
            var client = new WalletClient { ClientId = "known-wallet" };
            client.RedirectUris.Add("https://wallet.example/callback");
            tenant.AuthorizationServer.RegisteredClients.Add(client);
        });
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);

        var (unknown, unknownBody) = await PushAsync(t, "client_id=other-wallet");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown);
        Assert.Equal("invalid_client", unknownBody.GetProperty("error").GetString());
        var (unregistered, unregisteredBody) = await PushAsync(t, "client_id=known-wallet&redirect_uri=https://wallet.example/other");
        Assert.Equal(HttpStatusCode.BadRequest, unregistered);
        Assert.Equal("invalid_request", unregisteredBody.GetProperty("error").GetString());
        var (accepted, _) = await PushAsync(t, "client_id=known-wallet");
        Assert.Equal(HttpStatusCode.Created, accepted);
    }

    [Fact]
    public async Task TenantWithoutAuthorizedMethod_ParIsUnsupportedResponseType_TokenIsUnsupportedGrantType()
    {
        var plain = await fixture.CreateTenantAsync();
        using var par = await Http.PostAsync($"{plain.Tenant.CredentialIssuer}/par", Form(DefaultPar(plain.Tenant.CredentialIssuer, "x")));
        Assert.Equal(HttpStatusCode.BadRequest, par.StatusCode);
        Assert.Equal("unsupported_response_type", (await Json(par)).GetProperty("error").GetString());
        using var token = await Http.PostAsync($"{plain.Tenant.CredentialIssuer}/token", Form(new()
        {
            ["grant_type"] = "authorization_code", ["code"] = "x", ["code_verifier"] = Verifier, ["redirect_uri"] = AuthorizationWorld.WalletRedirect, ["client_id"] = "w",
        }));
        Assert.Equal(HttpStatusCode.BadRequest, token.StatusCode);
        Assert.Equal("unsupported_grant_type", (await Json(token)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task RequestUri_UnknownOrReused_IsA400PageWithoutRedirect_StateEchoedOnSuccess()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);
        var issuer = t.Tenant.Tenant.CredentialIssuer;

        using var unknown = await Http.GetAsync($"{issuer}/authorize?client_id=wallet-app&request_uri={Uri.EscapeDataString("urn:ietf:params:oauth:request_uri:nope")}");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Null(unknown.Headers.Location);
        Assert.StartsWith("text/html", unknown.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.Equal("DENY", unknown.Headers.GetValues("X-Frame-Options").Single());

        var (status, body) = await PushAsync(t, "state=wallet-state-1");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(90, body.GetProperty("expires_in").GetInt32());
        var authorize = $"{issuer}/authorize?client_id=wallet-app&request_uri={Uri.EscapeDataString(body.GetProperty("request_uri").GetString()!)}";
        using var first = await Http.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        Assert.StartsWith(Provider.Issuer, first.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Contains(first.Headers.GetValues("Set-Cookie"), c => c.StartsWith("issuer2_authz_", StringComparison.Ordinal) && c.Contains("httponly", StringComparison.OrdinalIgnoreCase));
        using var again = await Http.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Null(again.Headers.Location);
    }

    [Fact]
    public async Task Code_WrongVerifierOrRedirect_InvalidGrant_ThenReuseRevokesTheToken()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        var offer = await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Include, maxUses: 3);
        var code = await CodeAsync(fixture, offer.OfferUrl);

        var wrongVerifier = await RedeemAsync(code, verifier: new string('a', 43));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (wrongVerifier.Status, wrongVerifier.Error));
        var wrongRedirect = await RedeemAsync(code, redirectUri: "https://wallet.example/elsewhere");
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (wrongRedirect.Status, wrongRedirect.Error));
        var wrongClient = await RedeemAsync(code, clientId: "another-wallet");
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (wrongClient.Status, wrongClient.Error));
        Assert.Equal(0, (await t.Tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.UseCount);

        var redeemed = await RedeemAsync(code);
        Assert.Equal(HttpStatusCode.OK, redeemed.Status);
        var token = redeemed.Body.GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.BadRequest, (await NonceThenCredentialStatusAsync(t, token)).Status);

        var reused = await RedeemAsync(code);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (reused.Status, reused.Error));
        var afterReuse = await NonceThenCredentialStatusAsync(t, token);
        Assert.Equal(HttpStatusCode.Unauthorized, afterReuse.Status);
        Assert.Equal("invalid_token", afterReuse.Error);
        Assert.Equal(1, (await t.Tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.UseCount);
    }

    [Fact]
    public async Task UsedUpOffer_ItsIssuerStateIsRefusedAtPar()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        var offer = await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Include, DeliveryMode.ByValue, maxUses: 1);
        var claimed = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject { ["offerUrl"] = offer.OfferUrl, ["login"] = OpenIdProvider.Alice });
        Assert.True(claimed.GetProperty("ok").GetBoolean(), claimed.GetRawText());

        var document = JsonNode.Parse(Uri.UnescapeDataString(offer.OfferUrl[(offer.OfferUrl.IndexOf("credential_offer=", StringComparison.Ordinal) + "credential_offer=".Length)..]))!;
        var issuerState = (string)document["grants"]!["authorization_code"]!["issuer_state"]!;
        var (status, body) = await PushAsync(t, $"issuer_state={Uri.EscapeDataString(issuerState)}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task SpentIssuerState_ByReference_IsRefusedAtPar_AnotherResolutionStillWorks()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        var offer = await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Include, maxUses: 3);
        var uri = OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri!;
        var document = JsonNode.Parse(await Http.GetStringAsync(uri))!;
        var issuerState = (string)document["grants"]!["authorization_code"]!["issuer_state"]!;

        // The wallet claims with this resolution's issuer_state, which the token request consumes.
        var claimed = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject { ["offerJson"] = document.ToJsonString(), ["login"] = OpenIdProvider.Alice });
        Assert.True(claimed.GetProperty("ok").GetBoolean(), claimed.GetRawText());

        var (spent, body) = await PushAsync(t, $"issuer_state={Uri.EscapeDataString(issuerState)}");
        Assert.Equal(HttpStatusCode.BadRequest, spent);
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());
        var again = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject { ["offerUrl"] = offer.OfferUrl, ["login"] = OpenIdProvider.Bob });
        AuthorizationWorld.AssertClaimsOf(OpenIdProvider.Bob, again);
        Assert.Equal(2, (await t.Tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.UseCount);
    }

    [Theory]
    [InlineData("consent cancelled", "cancel", true)]
    [InlineData("IdP login cancelled", "issue", false)]
    public async Task Refused_InTheBrowser_WalletGetsAccessDeniedWithIss_NothingGranted(string why, string decision, bool signIn)
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        var offer = await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Include, maxUses: 3);

        var result = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject
        {
            ["offerUrl"] = offer.OfferUrl, ["login"] = signIn ? OpenIdProvider.Alice : null, ["decision"] = decision,
        });

        var error = signIn ? result.GetProperty("error").GetString() : result.GetProperty("response").GetProperty("error").GetString();
        Assert.True(error == "access_denied", $"{why}: {result.GetRawText()}");
        var iss = signIn ? result.GetProperty("iss").GetString() : result.GetProperty("response").GetProperty("iss").GetString();
        Assert.Equal(t.Tenant.Tenant.CredentialIssuer, iss);
        Assert.Equal(0, (await t.Tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.UseCount);
        var events = await fixture.ReadEventsUntilAsync(t.Tenant.TenantId, e => e.Type == "authorization.refused");
        var refused = events.Single(e => e.Type == "authorization.refused");
        Assert.Contains(signIn ? "consent_refused" : "idp_error", refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MandatoryClaimMissingFromTheSignIn_AccessDenied_NoCode()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider, profile: p =>
        {
            p.Claims.Add(Samples.Claim(ClaimValueType.String, "employee_id"));
            p.Claims.Single(c => c.Path.SequenceEqual(["employee_id"])).Mandatory = true;
            AuthorizationWorld.Map(p, ClaimSource.IdToken, "employee_id");
        });
        var offer = await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Include, maxUses: 3);

        var result = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject { ["offerUrl"] = offer.OfferUrl, ["login"] = OpenIdProvider.Bob });

        Assert.Equal("access_denied", result.GetProperty("error").GetString());
        var events = await fixture.ReadEventsUntilAsync(t.Tenant.TenantId, e => e.Type == "authorization.refused");
        Assert.Contains("claim_missing", events.Single(e => e.Type == "authorization.refused").Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(events, e => e.Type == "authorization.code_issued");
    }

    [Fact]
    public async Task TwentyConcurrentRedemptionsOfOneCode_OneToken_ThenRevoked()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        var offer = await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Include, maxUses: 5);
        var code = await CodeAsync(fixture, offer.OfferUrl);

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => RedeemAsync(code)));

        var winner = Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.OK), a => Assert.Equal("invalid_grant", a.Error));
        var after = await NonceThenCredentialStatusAsync(t, winner.Body.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.Unauthorized, after.Status);
        Assert.Equal(1, (await t.Tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.UseCount);
    }

    internal static async Task<JsonElement> CodeAsync(ServerFixture fixture, string offerUrl)
    {
        var result = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject { ["offerUrl"] = offerUrl, ["login"] = OpenIdProvider.Alice, ["redeem"] = false });
        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        return result;
    }

    internal static async Task<(HttpStatusCode Status, string? Error, JsonElement Body)> RedeemAsync(
        JsonElement code, string? verifier = null, string? redirectUri = null, string? clientId = null)
    {
        using var response = await Http.PostAsync(code.GetProperty("tokenEndpoint").GetString(), Form(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code.GetProperty("code").GetString()!,
            ["code_verifier"] = verifier ?? code.GetProperty("codeVerifier").GetString()!,
            ["redirect_uri"] = redirectUri ?? code.GetProperty("redirectUri").GetString()!,
            ["client_id"] = clientId ?? code.GetProperty("clientId").GetString()!,
        }));
        var body = await Json(response);
        return (response.StatusCode, body.TryGetProperty("error", out var e) ? e.GetString() : null, body);
    }

    /// <summary>A credential request with the token and no proof: 400 while the token is good, 401 invalid_token once revoked.</summary>
    private static async Task<(HttpStatusCode Status, string? Error)> NonceThenCredentialStatusAsync(AuthorizedTenant t, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{t.Tenant.Tenant.CredentialIssuer}/credential")
        {
            Content = new StringContent($"{{\"credential_configuration_id\":\"{t.Profile.ProfileId}\"}}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request);
        var body = await Json(response);
        return (response.StatusCode, body.TryGetProperty("error", out var e) ? e.GetString() : null);
    }

    private static Dictionary<string, string> DefaultPar(string issuer, string scope) => new()
    {
        ["client_id"] = "wallet-app",
        ["response_type"] = "code",
        ["redirect_uri"] = AuthorizationWorld.WalletRedirect,
        ["code_challenge"] = Challenge,
        ["code_challenge_method"] = "S256",
        ["scope"] = scope,
        ["resource"] = issuer,
    };

    /// <summary>Pushes the default request (wallet-initiated, by the profile's scope) with one parameter changed, added or (empty value) removed.</summary>
    internal static async Task<(HttpStatusCode Status, JsonElement Body)> PushAsync(AuthorizedTenant t, string change)
    {
        var form = DefaultPar(t.Tenant.Tenant.CredentialIssuer, t.Profile.Scope);
        foreach (var pair in change.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var (name, value) = (pair[..eq], Uri.UnescapeDataString(pair[(eq + 1)..]));
            if (value.Length == 0) form.Remove(name);
            else form[name] = value;
        }
        using var response = await Http.PostAsync($"{t.Tenant.Tenant.CredentialIssuer}/par", Form(form));
        return (response.StatusCode, await Json(response));
    }

    private static FormUrlEncodedContent Form(Dictionary<string, string> values) => new(values);

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
        return document.RootElement.Clone();
    }
}

[Collection(nameof(WithOpenIdProvider))]
public sealed class AuthorizationRefusalTests_Sqlite(SqliteServerFixture fixture, OpenIdProviderFixture idp)
    : AuthorizationRefusalTests(fixture, idp), IClassFixture<SqliteServerFixture>;

[Collection(nameof(WithOpenIdProvider))]
public sealed class AuthorizationRefusalTests_Postgres(PostgresServerFixture fixture, OpenIdProviderFixture idp)
    : AuthorizationRefusalTests(fixture, idp), IClassFixture<PostgresServerFixture>;

/// <summary>
/// The flow's lifetimes on the host's clock: these tests move it forward, so they have a host of their own (a clock
/// ahead of the real one would date credentials in the future for the verifier library).
/// </summary>
public abstract class AuthorizationExpiryTests(ServerFixture fixture, OpenIdProviderFixture idp)
{
    [Fact]
    public async Task Code_Expired_InvalidGrant_NoUseCounted()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, idp.Provider);
        var offer = await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Include, maxUses: 3);
        var code = await AuthorizationRefusalTests.CodeAsync(fixture, offer.OfferUrl);
        fixture.Time.Advance(TimeSpan.FromSeconds(61));

        var late = await AuthorizationRefusalTests.RedeemAsync(code);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (late.Status, late.Error));
        Assert.Equal(0, (await t.Tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.UseCount);
    }

    [Fact]
    public async Task RequestUri_Expired_IsA400Page()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, idp.Provider);
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);
        var (status, pushed) = await AuthorizationRefusalTests.PushAsync(t, "");
        Assert.Equal(HttpStatusCode.Created, status);
        fixture.Time.Advance(TimeSpan.FromSeconds(91));

        using var expired = await AuthorizationRefusalTests.Http.GetAsync(
            $"{t.Tenant.Tenant.CredentialIssuer}/authorize?client_id=wallet-app&request_uri={Uri.EscapeDataString(pushed.GetProperty("request_uri").GetString()!)}");

        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Null(expired.Headers.Location);
    }
}

[Collection(nameof(WithOpenIdProvider))]
public sealed class AuthorizationExpiryTests_Sqlite(SqliteServerFixture fixture, OpenIdProviderFixture idp)
    : AuthorizationExpiryTests(fixture, idp), IClassFixture<SqliteServerFixture>;
