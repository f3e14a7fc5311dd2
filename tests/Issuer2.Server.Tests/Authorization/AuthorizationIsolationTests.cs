using System.Net;
using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Authorization;

/// <summary>
/// A second OpenID Provider process for one test class, its users' given_name tagged "(B)": a credential shows which
/// provider signed its user in.
/// </summary>
public sealed class TaggedOpenIdProviderFixture : IAsyncLifetime
{
    public const string Tag = "B";

    private OpenIdProvider? _provider;

    public OpenIdProvider Provider => _provider ?? throw new InvalidOperationException("The provider has not started.");

    public async Task InitializeAsync() => _provider = await OpenIdProvider.StartAsync(Tag);

    public async Task DisposeAsync()
    {
        if (_provider is not null) await _provider.DisposeAsync();
    }
}

/// <summary>
/// One sign-in finishes only the login it belongs to: two tenants on two providers each get their own provider's
/// claims, a tenant's callback cannot finish another tenant's login, and an IdP code replayed under another login's
/// state gets nothing. On PostgreSQL.
/// </summary>
[Collection(nameof(WithOpenIdProvider))]
public sealed class AuthorizationIsolationTests(PostgresServerFixture fixture, OpenIdProviderFixture idp, TaggedOpenIdProviderFixture idpB)
    : IClassFixture<PostgresServerFixture>, IClassFixture<TaggedOpenIdProviderFixture>
{
    private const string ErrorPageHeading = "This request cannot continue";

    private string Host => fixture.Host.HttpUrl;

    [Fact]
    public async Task TwoTenantsOnTwoProviders_AliceClaimsAtBoth_EachCredentialCarriesItsOwnProvidersClaims()
    {
        var a = await AuthorizationWorld.CreateAsync(fixture, idp.Provider);
        var b = await AuthorizationWorld.CreateAsync(fixture, idpB.Provider);
        var offerA = await AuthorizationWorld.OfferAsync(a, IssuerStateMode.Include);
        var offerB = await AuthorizationWorld.OfferAsync(b, IssuerStateMode.Include);
        var exchangesAtA = await idp.Provider.RequestCountAsync("/token");
        var exchangesAtB = await idpB.Provider.RequestCountAsync("/token");

        var atA = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject { ["offerUrl"] = offerA.OfferUrl, ["login"] = OpenIdProvider.Alice });
        var atB = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject { ["offerUrl"] = offerB.OfferUrl, ["login"] = OpenIdProvider.Alice });

        AuthorizationWorld.AssertClaimsOf(OpenIdProvider.Alice, atA);
        Assert.Equal(a.Tenant.Tenant.CredentialIssuer, atA.GetProperty("iss").GetString());
        Assert.True(atB.GetProperty("ok").GetBoolean(), atB.GetRawText());
        Assert.Equal(b.Tenant.Tenant.CredentialIssuer, atB.GetProperty("iss").GetString());
        var claimsB = atB.GetProperty("claims");
        var alice = AuthorizationWorld.Claims(OpenIdProvider.Alice);
        Assert.Equal($"{alice.Given} ({TaggedOpenIdProviderFixture.Tag})", claimsB.GetProperty("given_name").GetString());
        Assert.Equal(alice.Family, claimsB.GetProperty("family_name").GetString());
        Assert.Equal(alice.Membership, claimsB.GetProperty("membership_number").GetString());
        // Each tenant exchanged exactly its own code at its own provider.
        Assert.Equal(exchangesAtA + 1, await idp.Provider.RequestCountAsync("/token"));
        Assert.Equal(exchangesAtB + 1, await idpB.Provider.RequestCountAsync("/token"));
    }

    [Fact]
    public async Task SignInAnswer_SentToAnotherTenantsCallback_IsA400Page_TheLoginStaysPendingAndFinishesAtItsOwnTenant()
    {
        var a = await AuthorizationWorld.CreateAsync(fixture, idp.Provider);
        var b = await AuthorizationWorld.CreateAsync(fixture, idpB.Provider);
        await AuthorizationWorld.OfferAsync(a, IssuerStateMode.Omit);
        await AuthorizationWorld.OfferAsync(b, IssuerStateMode.Omit);
        WalletSetup.CatchUpWithRealTime(fixture);
        var flow = new HandDrivenFlow(a.Tenant.Tenant.CredentialIssuer, a.Profile.Scope);
        await flow.PushAsync(Host);
        await flow.AuthorizeAsync(Host, idp.Provider.Issuer);
        var signedIn = await flow.SignInAsync(idp.Provider, OpenIdProvider.Alice);
        Assert.StartsWith(flow.CallbackUrl + "?", signedIn.Location.AbsoluteUri, StringComparison.Ordinal);
        var exchangesAtA = await idp.Provider.RequestCountAsync("/token");
        var exchangesAtB = await idpB.Provider.RequestCountAsync("/token");

        var atB = await flow.CallbackAsync(Host, signedIn.Parameters, flow.Cookie, credentialIssuer: b.Tenant.Tenant.CredentialIssuer);

        Assert.True(atB.Status == HttpStatusCode.BadRequest, atB.ToString());
        Assert.Null(atB.Location);
        Assert.Contains(ErrorPageHeading, atB.Body, StringComparison.Ordinal);
        Assert.Equal(exchangesAtA, await idp.Provider.RequestCountAsync("/token"));
        Assert.Equal(exchangesAtB, await idpB.Provider.RequestCountAsync("/token"));
        Assert.DoesNotContain(await fixture.ReadEventsAsync(b.Tenant.TenantId), e => e.Type.StartsWith("authorization.", StringComparison.Ordinal));

        // Tenant A's login was untouched: the same answer at its own callback goes on to its consent page and a code.
        var atA = await flow.CallbackAsync(Host, signedIn.Parameters, flow.Cookie);
        Assert.True(atA.Status == HttpStatusCode.SeeOther, atA.ToString());
        Assert.Equal($"{a.Tenant.Tenant.CredentialIssuer}/consent?authorization_id={flow.AuthorizationId}", atA.Location);
        Assert.Equal(exchangesAtA + 1, await idp.Provider.RequestCountAsync("/token"));
        await flow.ConsentAsync(Host, atA.Location!);
        var token = await flow.RedeemAsync(Host);
        Assert.True(token.Status == HttpStatusCode.OK, token.ToString());
    }

    [Fact]
    public async Task IdpCode_ReplayedUnderAnotherLoginsStateAndCookie_ThatWalletGetsAccessDenied_NoCodeIssued()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, idp.Provider);
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);
        WalletSetup.CatchUpWithRealTime(fixture);
        var issuer = t.Tenant.Tenant.CredentialIssuer;
        // Two logins in two browsers (two cookies): the first signs in, the second waits at the IdP.
        var first = new HandDrivenFlow(issuer, t.Profile.Scope);
        await first.PushAsync(Host);
        await first.AuthorizeAsync(Host, idp.Provider.Issuer);
        var signedIn = await first.SignInAsync(idp.Provider, OpenIdProvider.Alice);
        var second = new HandDrivenFlow(issuer, t.Profile.Scope);
        await second.PushAsync(Host);
        await second.AuthorizeAsync(Host, idp.Provider.Issuer);
        Assert.NotEqual(first.ProviderState, second.ProviderState);
        var replayed = new Dictionary<string, string>(signedIn.Parameters, StringComparer.Ordinal) { ["state"] = second.ProviderState! };
        var exchanges = await idp.Provider.RequestCountAsync("/token");

        var reply = await second.CallbackAsync(Host, replayed, second.Cookie);

        // The IdP refused the code (another PKCE verifier): the second wallet is told, with its state and iss.
        Assert.True(reply.Status == HttpStatusCode.SeeOther && reply.Location!.StartsWith(AuthorizationWorld.WalletRedirect + "?", StringComparison.Ordinal), reply.ToString());
        var response = reply.LocationParameters;
        Assert.Equal("access_denied", response["error"]);
        Assert.Equal(issuer, response["iss"]);
        Assert.Equal(second.WalletState, response["state"]);
        Assert.False(response.ContainsKey("code"));
        Assert.Equal(exchanges + 1, await idp.Provider.RequestCountAsync("/token"));
        var events = await fixture.ReadEventsUntilAsync(t.Tenant.TenantId, e => e.Type == "authorization.refused");
        var refused = Assert.Single(events, e => e.Type == "authorization.refused");
        Assert.Contains($"\"authorizationId\":\"{second.AuthorizationId}\"", refused.Detail, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"idp_error\"", refused.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(events, e => e.Type is "authorization.user_authenticated" or "authorization.code_issued" or "token.issued");
    }
}
