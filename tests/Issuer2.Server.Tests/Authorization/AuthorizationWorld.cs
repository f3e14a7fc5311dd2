using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Authorization;

/// <summary>A real OpenID Provider (oidc-provider, tests/interop/idp/provider.mjs) shared by a test class.</summary>
public sealed class OpenIdProviderFixture : IAsyncLifetime
{
    private OpenIdProvider? _provider;

    public OpenIdProvider Provider => _provider ?? throw new InvalidOperationException("The provider has not started.");

    public async Task InitializeAsync() => _provider = await OpenIdProvider.StartAsync();

    public async Task DisposeAsync()
    {
        if (_provider is not null) await _provider.DisposeAsync();
    }
}

/// <summary>A tenant that runs the authorization code flow against the test provider, and its identity profile.</summary>
public sealed record AuthorizedTenant(TestTenant Tenant, Profile Profile, string ClientSecret);

/// <summary>Sets up tenants with an IdP at the test provider, and runs the npm wallet through the flow.</summary>
public static class AuthorizationWorld
{
    public const string WalletRedirect = "https://wallet.example/callback";

    /// <summary>
    /// A tenant allowing both methods with the provider as its IdP (scopes profile, address, membership), registered
    /// there as a confidential client with the tenant's callback, and a profile whose claims come from the sign-in:
    /// given_name, family_name, birthdate and address.locality from the ID token, membership_number from userinfo only.
    /// </summary>
    public static async Task<AuthorizedTenant> CreateAsync(
        ServerFixture fixture, OpenIdProvider provider, Action<Tenant>? configure = null, Action<Profile>? profile = null)
    {
        var secret = "secret-" + Guid.NewGuid().ToString("N");
        var clientId = "issuer2-" + Guid.NewGuid().ToString("N")[..8];
        var tenant = await fixture.CreateTenantAsync(t =>
        {
            t.AllowedAuthenticationMethods.Add(AuthenticationMethod.PreAuthorized);
            t.AllowedAuthenticationMethods.Add(AuthenticationMethod.Authorized);
            t.IdentityProvider = new IdentityProvider { Issuer = provider.Issuer, ClientId = clientId, ClientSecret = secret };
            t.IdentityProvider.Scopes.Add("profile");
            t.IdentityProvider.Scopes.Add("address");
            t.IdentityProvider.Scopes.Add("membership");
            configure?.Invoke(t);
        });
        await provider.RegisterClientAsync(clientId, secret, [tenant.Tenant.IdentityProvider.RedirectUri]);
        var created = await ServerFixture.CreateProfileAsync(tenant, p =>
        {
            p.Claims.Add(Samples.Claim(ClaimValueType.String, "membership_number"));
            Map(p, ClaimSource.IdToken, "given_name");
            Map(p, ClaimSource.IdToken, "family_name");
            Map(p, ClaimSource.IdToken, "birthdate");
            Map(p, ClaimSource.IdToken, "address", "locality");
            Map(p, ClaimSource.Userinfo, "membership_number");
            p.Claims.Single(c => c.Path.SequenceEqual(["membership_number"])).Mandatory = true;
            profile?.Invoke(p);
        });
        return new AuthorizedTenant(tenant, created, secret);
    }

    public static void Map(Profile profile, ClaimSource source, params string[] path)
    {
        var mapping = new ClaimMapping { Source = source };
        mapping.Path.AddRange(path);
        mapping.SourcePath.AddRange(path);
        profile.ClaimMappings.Add(mapping);
    }

    /// <summary>An AUTHORIZED offer of the tenant's profile.</summary>
    public static Task<CreateOfferResponse> OfferAsync(AuthorizedTenant t, IssuerStateMode mode, DeliveryMode delivery = DeliveryMode.ByReference, int maxUses = 0) =>
        ServerFixture.CreateOfferAsync(t.Tenant, t.Profile, r =>
        {
            r.AuthenticationMethod = AuthenticationMethod.Authorized;
            r.IssuerStateMode = mode;
            r.DeliveryMode = delivery;
            r.MaxUses = maxUses;
        });

    /// <summary>Runs tests/interop/authorized.mjs's claimAuthorized with these inputs.</summary>
    public static Task<JsonElement> ClaimAsync(ServerFixture fixture, JsonObject input)
    {
        WalletSetup.CatchUpWithRealTime(fixture);
        input["scenario"] = "claimAuthorized";
        return NodeWallet.RunAsync(input);
    }

    /// <summary>The claims the alice and bob accounts of provider.mjs carry.</summary>
    public static (string Given, string Family, string Birthdate, string Locality, string Membership) Claims(string login) => login switch
    {
        OpenIdProvider.Alice => ("Alice", "Andersson", "1990-04-12", "Uppsala", "M-1001"),
        OpenIdProvider.Bob => ("Bob", "Brown", "1985-11-30", "Bristol", "M-2002"),
        _ => throw new ArgumentOutOfRangeException(nameof(login)),
    };

    /// <summary>Asserts that the verified credential carries the user's claims from their sign-in.</summary>
    public static void AssertClaimsOf(string login, JsonElement result)
    {
        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        var claims = result.GetProperty("claims");
        var expected = Claims(login);
        Assert.Equal(expected.Given, claims.GetProperty("given_name").GetString());
        Assert.Equal(expected.Family, claims.GetProperty("family_name").GetString());
        Assert.Equal(expected.Birthdate, claims.GetProperty("birthdate").GetString());
        Assert.Equal(expected.Locality, claims.GetProperty("address").GetProperty("locality").GetString());
        Assert.Equal(expected.Membership, claims.GetProperty("membership_number").GetString());
    }
}
