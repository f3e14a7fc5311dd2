using System.Buffers.Text;
using System.Net;
using System.Text.Json;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Authorization;

/// <summary>
/// The authorization code flow on two server processes sharing one PostgreSQL database and one public base URL
/// (<see cref="TwoHostsFixture"/>): any step may hit either host, and a code is redeemed once however the requests
/// for it are split.
/// </summary>
[Collection(nameof(WithOpenIdProvider))]
public sealed class AuthorizationTwoHostTests(TwoHostsFixture hosts, OpenIdProviderFixture idp) : IClassFixture<TwoHostsFixture>
{
    private const int Concurrency = 20;

    private OpenIdProvider Provider => idp.Provider;

    private string A => hosts.A.HttpUrl;

    private string B => hosts.B.HttpUrl;

    [Fact]
    public async Task OneFlow_StepsSplitAcrossTwoHosts_CredentialIssuedWithTheSignInsClaims_OneUseCounted()
    {
        var t = await SetUpAsync();
        var flow = new HandDrivenFlow(t.Tenant.CredentialIssuer, t.Profile.Scope);

        await flow.PushAsync(A, t.IssuerState);
        await flow.AuthorizeAsync(B, Provider.Issuer);
        var signedIn = await flow.SignInAsync(Provider, OpenIdProvider.Alice);
        var callback = await flow.CallbackAsync(B, signedIn.Parameters, flow.Cookie);
        Assert.True(callback.Status == HttpStatusCode.SeeOther, callback.ToString());
        await flow.ConsentAsync(A, callback.Location!);
        var token = await flow.RedeemAsync(A);
        Assert.True(token.Status == HttpStatusCode.OK, token.ToString());
        var credential = await CredentialAsync(hosts.WalletB, t, token.Json.GetProperty("access_token").GetString()!);

        Assert.True(credential.Status == HttpStatusCode.OK, credential.ToString());
        var claims = ClaimsOf(credential.Json.GetProperty("credentials")[0].GetProperty("credential").GetString()!);
        var alice = AuthorizationWorld.Claims(OpenIdProvider.Alice);
        Assert.Equal(alice.Given, claims["given_name"].GetString());
        Assert.Equal(alice.Family, claims["family_name"].GetString());
        Assert.Equal(alice.Membership, claims["membership_number"].GetString());
        var stored = (await t.Tenant.OnB.Offers.GetOfferAsync(new GetOfferRequest { Name = t.Offer.Offer.Name })).Offer;
        Assert.Equal(1, stored.UseCount);
        Assert.Equal(1, stored.IssuedCredentialCount);
    }

    [Fact]
    public async Task OneCode_TwentyConcurrentRedemptionsOnTwoHosts_OneToken_WhichIsThenRevoked()
    {
        var t = await SetUpAsync();
        var flow = new HandDrivenFlow(t.Tenant.CredentialIssuer, t.Profile.Scope);
        await flow.PushAsync(B, t.IssuerState);
        await flow.ToCodeAsync(A, Provider, OpenIdProvider.Alice);

        var replies = await AllAtOnceAsync(Concurrency, i => flow.RedeemAsync(i % 2 == 0 ? A : B));

        var winner = Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        Assert.Equal(Concurrency - 1, replies.Count(r => r.Status == HttpStatusCode.BadRequest && r.Error == "invalid_grant"));
        var accessToken = winner.Json.GetProperty("access_token").GetString()!;
        foreach (var wallet in new[] { hosts.WalletA, hosts.WalletB })
        {
            var refused = await CredentialAsync(wallet, t, accessToken);
            Assert.True(refused.Status == HttpStatusCode.Unauthorized && refused.Error == "invalid_token", $"{wallet.HostUrl}: {refused}");
        }

        var stored = (await t.Tenant.OnA.Offers.GetOfferAsync(new GetOfferRequest { Name = t.Offer.Offer.Name })).Offer;
        Assert.Equal(1, stored.UseCount);
        Assert.Equal(0, stored.IssuedCredentialCount);
    }

    private sealed record AuthorizedTwoHostTenant(TwoHostTenant Tenant, Profile Profile, CreateOfferResponse Offer, string IssuerState);

    /// <summary>
    /// A tenant (made through host A) with the provider as its IdP, registered there with the callback under the
    /// shared public base URL; a profile whose given_name and family_name come from the ID token and membership_number
    /// (mandatory) from userinfo; a BY_VALUE AUTHORIZED offer for three uses, and its issuer_state.
    /// </summary>
    private async Task<AuthorizedTwoHostTenant> SetUpAsync()
    {
        var secret = "secret-" + Guid.NewGuid().ToString("N");
        var clientId = "issuer2-" + Guid.NewGuid().ToString("N")[..8];
        var tenant = await hosts.CreateTenantAsync(t =>
        {
            t.AllowedAuthenticationMethods.Add(AuthenticationMethod.PreAuthorized);
            t.AllowedAuthenticationMethods.Add(AuthenticationMethod.Authorized);
            t.IdentityProvider = new IdentityProvider { Issuer = Provider.Issuer, ClientId = clientId, ClientSecret = secret };
            t.IdentityProvider.Scopes.Add("profile");
            t.IdentityProvider.Scopes.Add("membership");
        });
        Assert.StartsWith(TwoHostsFixture.PublicBaseUrl + "/", tenant.Tenant.IdentityProvider.RedirectUri, StringComparison.Ordinal);
        await Provider.RegisterClientAsync(clientId, secret, [tenant.Tenant.IdentityProvider.RedirectUri]);
        var profile = await TwoHostsFixture.CreateProfileAsync(tenant, p =>
        {
            p.Claims.Add(Samples.Claim(ClaimValueType.String, "membership_number"));
            p.Claims.Single(c => c.Path.SequenceEqual(["membership_number"])).Mandatory = true;
            AuthorizationWorld.Map(p, ClaimSource.IdToken, "given_name");
            AuthorizationWorld.Map(p, ClaimSource.IdToken, "family_name");
            AuthorizationWorld.Map(p, ClaimSource.Userinfo, "membership_number");
        });
        var offer = await TwoHostsFixture.CreateOfferAsync(tenant, profile, r =>
        {
            r.Authorized(IssuerStateMode.Include, DeliveryMode.ByValue);
            r.MaxUses = 3;
        });
        using var document = JsonDocument.Parse(OfferUrl.Parse(offer.OfferUrl).CredentialOfferJson!);
        var issuerState = document.RootElement.GetProperty("grants").GetProperty("authorization_code").GetProperty("issuer_state").GetString()!;
        return new AuthorizedTwoHostTenant(tenant, profile, offer, issuerState);
    }

    /// <summary>A fresh nonce and a credential request with a key proof for it, both on the wallet's host.</summary>
    private static async Task<WalletReply> CredentialAsync(TestWallet wallet, AuthorizedTwoHostTenant t, string accessToken)
    {
        var nonce = await wallet.FreshNonceAsync(t.Tenant.TenantId);
        using var key = new HolderKey();
        var body = TestWallet.CredentialRequest(t.Profile.ProfileId, key.Proof(t.Tenant.CredentialIssuer, nonce, DateTimeOffset.UtcNow));
        return await wallet.CredentialAsync(t.Tenant.TenantId, accessToken, body);
    }

    /// <summary>The top-level claims of an SD-JWT VC: the payload's own and those its object-property disclosures reveal.</summary>
    private static Dictionary<string, JsonElement> ClaimsOf(string sdJwt)
    {
        var parts = sdJwt.Split('~');
        var claims = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        using (var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0].Split('.')[1])))
        {
            foreach (var member in payload.RootElement.EnumerateObject()) claims[member.Name] = member.Value.Clone();
        }

        foreach (var disclosure in parts.Skip(1).Where(p => p.Length > 0))
        {
            using var array = JsonDocument.Parse(Base64Url.DecodeFromChars(disclosure));
            if (array.RootElement.GetArrayLength() == 3) claims[array.RootElement[1].GetString()!] = array.RootElement[2].Clone();
        }

        return claims;
    }

    /// <summary>Starts every call behind one gate and opens it, so they reach the hosts together.</summary>
    private static async Task<T[]> AllAtOnceAsync<T>(int count, Func<int, Task<T>> call)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.Task;
            return await call(i);
        }).ToList();
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }
}
