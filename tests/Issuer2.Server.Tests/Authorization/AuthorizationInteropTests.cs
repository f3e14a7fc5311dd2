using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Authorization;

/// <summary>
/// The npm wallet (@openid4vc/openid4vci) runs the authorization code flow against the real server and a real
/// OpenID Provider: it resolves the offer, pushes its request, follows the redirects through the provider's login and
/// consent pages and Issuer2's consent page, checks iss, redeems the code; the verifier library checks the credential.
/// </summary>
public abstract class AuthorizationInteropTests(ServerFixture fixture, OpenIdProviderFixture idp)
{
    private OpenIdProvider Provider => idp.Provider;

    [Theory]
    [InlineData(DeliveryMode.ByReference, OpenIdProvider.Alice)]
    [InlineData(DeliveryMode.ByValue, OpenIdProvider.Bob)]
    public async Task OfferWithIssuerState_WalletSignsInAtTheIdp_CredentialCarriesTheUsersClaims_OneUseCounted(DeliveryMode delivery, string login)
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        var offer = await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Include, delivery, maxUses: 2);

        var result = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject { ["offerUrl"] = offer.OfferUrl, ["login"] = login });

        AuthorizationWorld.AssertClaimsOf(login, result);
        Assert.True(result.GetProperty("pushed").GetBoolean());
        Assert.Equal(t.Tenant.Tenant.CredentialIssuer, result.GetProperty("iss").GetString());
        var stored = (await t.Tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
        Assert.Equal(1, stored.UseCount);
        Assert.Equal(1, stored.IssuedCredentialCount);
        var session = Assert.Single((await t.Tenant.Clients.Offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offer.Offer.Name })).Sessions);
        Assert.Equal("credential_accepted", Assert.Single(session.Credentials).NotificationEvent);

        // The events of the flow, in order, naming the client and never the user.
        var events = await fixture.ReadEventsUntilAsync(t.Tenant.TenantId, e => e.Type == "session.completed");
        var types = events.Where(e => e.OfferId == offer.Offer.OfferId).Select(e => e.Type).ToList();
        Assert.Equal(
            ["offer.created", .. (delivery == DeliveryMode.ByReference ? new[] { "offer.resolved" } : []),
             "authorization.requested", "authorization.user_authenticated", "authorization.code_issued", "token.issued", "credential.issued", "session.completed"],
            types.Where(x => x != "notification.received").ToList());
        Assert.DoesNotContain(events, e => e.Detail.Contains(login, StringComparison.Ordinal) || e.Detail.Contains(AuthorizationWorld.Claims(login).Membership, StringComparison.Ordinal));
        var issued = events.Single(e => e.Type == "token.issued" && e.OfferId == offer.Offer.OfferId);
        Assert.Contains("\"grantType\":\"authorization_code\"", issued.Detail, StringComparison.Ordinal);

        // The sign-in's claims are nowhere in the clear: not in any row, and no longer even encrypted once issued.
        var snapshot = await Wallet.DatabaseSnapshot.TakeAsync(fixture);
        var expected = AuthorizationWorld.Claims(login);
        Assert.All(Wallet.DatabaseSnapshot.Tables, table => Assert.DoesNotContain(snapshot[table],
            row => row.Canonical.Contains(expected.Membership, StringComparison.Ordinal) || row.Canonical.Contains(expected.Family, StringComparison.Ordinal)));
        Assert.All(snapshot["issuance_sessions"], row => Assert.Null(row["encrypted_claims"]));
    }

    [Fact]
    public async Task WalletInitiated_BothUsers_EachGetsTheirOwnClaims_SessionsBelongToTheProfile()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Omit);

        foreach (var login in new[] { OpenIdProvider.Alice, OpenIdProvider.Bob })
        {
            var result = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject
            {
                ["credentialIssuer"] = t.Tenant.Tenant.CredentialIssuer,
                ["configurationId"] = t.Profile.ProfileId,
                ["login"] = login,
            });
            AuthorizationWorld.AssertClaimsOf(login, result);
            Assert.Equal(t.Profile.Scope, result.GetProperty("tokenResponse").GetProperty("scope").GetString());
        }

        var sessions = (await t.Tenant.Clients.Profiles.ListProfileSessionsAsync(new ListProfileSessionsRequest { Parent = t.Profile.Name })).Sessions;
        Assert.Equal(2, sessions.Count);
        Assert.All(sessions, s => Assert.StartsWith($"{t.Profile.Name}/sessions/", s.Name, StringComparison.Ordinal));
        Assert.All(sessions, s => Assert.Single(s.Credentials));
    }

    [Fact]
    public async Task AuthorizationDetails_TokenReturnsCredentialIdentifiers_CredentialRequestNamesOne()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        var offer = await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Include);

        var result = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject
        {
            ["offerUrl"] = offer.OfferUrl, ["login"] = OpenIdProvider.Alice, ["byAuthorizationDetails"] = true,
        });

        AuthorizationWorld.AssertClaimsOf(OpenIdProvider.Alice, result);
        var details = result.GetProperty("tokenResponse").GetProperty("authorization_details")[0];
        Assert.Equal("openid_credential", details.GetProperty("type").GetString());
        Assert.Equal(t.Profile.ProfileId, details.GetProperty("credential_configuration_id").GetString());
        Assert.Equal(t.Profile.ProfileId, details.GetProperty("credential_identifiers")[0].GetString());
    }

    [Fact]
    public async Task Metadata_AdvertisesTheAuthorizationServerOnlyForTenantsThatRunIt()
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, Provider);
        var plain = await fixture.CreateTenantAsync();
        using var http = new HttpClient();
        var on = JsonNode.Parse(await http.GetStringAsync($"{fixture.Host.HttpUrl}/.well-known/oauth-authorization-server/{t.Tenant.TenantId}"))!;
        var off = JsonNode.Parse(await http.GetStringAsync($"{fixture.Host.HttpUrl}/.well-known/oauth-authorization-server/{plain.TenantId}"))!;

        var issuer = t.Tenant.Tenant.CredentialIssuer;
        Assert.Equal($"{issuer}/authorize", (string?)on["authorization_endpoint"]);
        Assert.Equal($"{issuer}/par", (string?)on["pushed_authorization_request_endpoint"]);
        Assert.True((bool)on["require_pushed_authorization_requests"]!);
        Assert.Equal(["code"], on["response_types_supported"]!.AsArray().Select(x => (string?)x));
        Assert.Equal(["S256"], on["code_challenge_methods_supported"]!.AsArray().Select(x => (string?)x));
        Assert.True((bool)on["authorization_response_iss_parameter_supported"]!);
        Assert.Contains("authorization_code", on["grant_types_supported"]!.AsArray().Select(x => (string?)x));
        Assert.Equal(["none"], on["token_endpoint_auth_methods_supported"]!.AsArray().Select(x => (string?)x));

        foreach (var member in new[] { "authorization_endpoint", "pushed_authorization_request_endpoint", "response_types_supported", "code_challenge_methods_supported", "authorization_response_iss_parameter_supported" })
            Assert.Null(off[member]);
        Assert.DoesNotContain("authorization_code", off["grant_types_supported"]!.AsArray().Select(x => (string?)x));
        var issuerMetadata = JsonNode.Parse(await http.GetStringAsync($"{fixture.Host.HttpUrl}/.well-known/openid-credential-issuer/{t.Tenant.TenantId}"))!;
        Assert.Null(issuerMetadata["authorization_servers"]);
    }
}

[Collection(nameof(WithOpenIdProvider))]
public sealed class AuthorizationInteropTests_Sqlite(SqliteServerFixture fixture, OpenIdProviderFixture idp)
    : AuthorizationInteropTests(fixture, idp), IClassFixture<SqliteServerFixture>;

[Collection(nameof(WithOpenIdProvider))]
public sealed class AuthorizationInteropTests_Postgres(PostgresServerFixture fixture, OpenIdProviderFixture idp)
    : AuthorizationInteropTests(fixture, idp), IClassFixture<PostgresServerFixture>;

/// <summary>One provider process for every test class that signs users in.</summary>
[CollectionDefinition(nameof(WithOpenIdProvider))]
public sealed class WithOpenIdProvider : ICollectionFixture<OpenIdProviderFixture>;
