using System.Net;
using System.Text;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Authorization;

/// <summary>
/// Hostile or broken input at the authorization server's endpoints: never a 5xx, never a redirect before the client
/// checked out, and a clear error — JSON for PAR, a page for the browser's steps.
/// </summary>
public abstract class AuthorizationBadInputTests(ServerFixture fixture, OpenIdProviderFixture idp)
{
    private static readonly HttpClient Http = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });

    public static TheoryData<string, string> BrowserRequests => new()
    {
        { "authorize without anything", "authorize" },
        { "authorize with a repeated parameter", "authorize?client_id=a&client_id=b&request_uri=x" },
        { "authorize with a foreign request_uri", "authorize?client_id=a&request_uri=https%3A%2F%2Fevil.example" },
        { "authorize with a huge request_uri", "authorize?client_id=a&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A" + new string('x', 4000) },
        { "authorize with NUL", "authorize?client_id=%00&request_uri=%00" },
        { "callback without state", "idp/callback?code=x" },
        { "callback with an unknown state", "idp/callback?code=x&state=nope" },
        { "callback with a huge state", "idp/callback?code=x&state=" + new string('s', 5000) },
        { "callback with an error only", "idp/callback?error=access_denied" },
        { "callback with a repeated state", "idp/callback?state=a&state=b" },
        { "consent without id", "consent" },
        { "consent with an unknown id", "consent?authorization_id=abc" },
        { "consent with a huge id", "consent?authorization_id=" + new string('a', 3000) },
    };

    [Theory]
    [MemberData(nameof(BrowserRequests))]
    public async Task BrowserStep_BadInput_Is400PageWithoutRedirect(string why, string pathAndQuery)
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, idp.Provider);

        using var response = await Http.GetAsync($"{t.Tenant.Tenant.CredentialIssuer}/{pathAndQuery}");

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {(int)response.StatusCode}");
        Assert.Null(response.Headers.Location);
        Assert.StartsWith("text/html", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> Posts => new()
    {
        { "PAR as JSON", "par", "application/json" },
        { "PAR with a repeated parameter", "par", "application/x-www-form-urlencoded" },
        { "consent with a repeated parameter", "consent", "application/x-www-form-urlencoded" },
        { "consent as JSON", "consent", "application/json" },
    };

    [Theory]
    [MemberData(nameof(Posts))]
    public async Task Post_BadBody_Is400(string why, string path, string contentType)
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, idp.Provider);
        var body = contentType.EndsWith("json", StringComparison.Ordinal) ? "{\"client_id\":\"a\"}" : "client_id=a&client_id=b&decision=issue&decision=cancel";

        using var response = await Http.PostAsync($"{t.Tenant.Tenant.CredentialIssuer}/{path}", new StringContent(body, Encoding.UTF8, contentType));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {(int)response.StatusCode}");
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task WrongMethods_Are405WithAllow()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, idp.Provider);
        var issuer = t.Tenant.Tenant.CredentialIssuer;

        using var par = await Http.GetAsync($"{issuer}/par");
        using var authorize = await Http.PostAsync($"{issuer}/authorize", new StringContent(""));
        using var consent = await Http.DeleteAsync($"{issuer}/consent");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, par.StatusCode);
        Assert.Equal("POST", string.Join(", ", par.Content.Headers.Allow));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, authorize.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, consent.StatusCode);
        Assert.Equal("GET, POST", string.Join(", ", consent.Content.Headers.Allow));
    }

    [Fact]
    public async Task UnknownTenant_Is404Everywhere()
    {
        var unknown = $"{fixture.Host.HttpUrl}/no-such-tenant";

        using var par = await Http.PostAsync($"{unknown}/par", new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = "a" }));
        using var authorize = await Http.GetAsync($"{unknown}/authorize?client_id=a&request_uri=x");
        using var callback = await Http.GetAsync($"{unknown}/idp/callback?state=x&code=y");

        Assert.Equal(HttpStatusCode.NotFound, par.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, authorize.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, callback.StatusCode);
    }
}

[Collection(nameof(WithOpenIdProvider))]
public sealed class AuthorizationBadInputTests_Sqlite(SqliteServerFixture fixture, OpenIdProviderFixture idp)
    : AuthorizationBadInputTests(fixture, idp), IClassFixture<SqliteServerFixture>;
