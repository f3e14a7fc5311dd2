using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests;

/// <summary>TenantService: tenants and their API keys, through the admin key.</summary>
public abstract class TenantServiceTests(ServerFixture fixture)
{
    [Fact]
    public async Task CreateTenant_ReturnsIssuerIdentifierDefaultsAndOnePublicSigningKey()
    {
        var tenantId = ServerFixture.NewTenantId();
        var request = new Tenant { TenantId = tenantId };
        request.Display.Add(new IssuerDisplay { Locale = "en-US", Name = "Example issuer", Logo = new Logo { Uri = "https://example.com/logo.png", AltText = "logo" } });

        var tenant = (await fixture.Admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = request })).Tenant;

        Assert.Equal("tenants/" + tenantId, tenant.Name);
        Assert.Equal(tenantId, tenant.TenantId);
        Assert.Equal(fixture.Host.PublicBaseUrl + "/" + tenantId, tenant.CredentialIssuer);
        Assert.Equal("Example issuer", Assert.Single(tenant.Display).Name);
        Assert.Equal(new[] { AuthenticationMethod.PreAuthorized }, tenant.AllowedAuthenticationMethods);
        Assert.False(tenant.RequirePin);
        Assert.Equal(TimeSpan.FromHours(24), tenant.DefaultOfferLifetime.ToTimeSpan());
        Assert.Equal(TimeSpan.FromDays(30), tenant.MaxOfferLifetime.ToTimeSpan());
        Assert.Equal(TimeSpan.FromMinutes(5), tenant.PreAuthorizedCodeLifetime.ToTimeSpan());
        Assert.Equal(5, tenant.PinAttemptLimit);
        Assert.Equal(fixture.Now, tenant.CreateTime.ToDateTimeOffset());

        var key = Assert.Single(tenant.SigningKeys);
        Assert.Equal("ES256", key.Algorithm);
        Assert.Equal(SigningKeyStatus.Active, key.Status);
        using var jwk = JsonDocument.Parse(key.PublicJwk);
        var root = jwk.RootElement;
        Assert.Equal("EC", root.GetProperty("kty").GetString());
        Assert.Equal("P-256", root.GetProperty("crv").GetString());
        Assert.False(root.TryGetProperty("d", out _), "the public JWK carries the private member d");
        Assert.Equal(Rfc7638Thumbprint(root), key.Kid);
    }

    [Fact]
    public async Task CreateTenant_TakesTheHostClockForItsTimes()
    {
        fixture.Time.Advance(TimeSpan.FromDays(3));

        var tenant = await fixture.CreateTenantAsync();

        Assert.Equal(fixture.Now, tenant.Tenant.CreateTime.ToDateTimeOffset());
        Assert.Equal(fixture.Now, tenant.Tenant.SigningKeys[0].CreateTime.ToDateTimeOffset());
    }

    [Fact]
    public async Task CreateResponses_MatchWhatGetReturns_WhenTheClockHasSubMicrosecondTicks()
    {
        // A real clock has 100 ns ticks; PostgreSQL keeps microseconds. A create response must show what was stored.
        fixture.Time.Advance(TimeSpan.FromTicks(1_234_567));
        try
        {
            var tenant = await fixture.CreateTenantAsync();
            var profile = await ServerFixture.CreateProfileAsync(tenant);
            var offer = await ServerFixture.CreateOfferAsync(tenant, profile);

            Assert.Equal(tenant.Tenant, (await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant);
            Assert.Equal(profile, (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile);
            Assert.Equal(offer.Offer, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer);
        }
        finally
        {
            // Back to whole seconds for the other tests of this class.
            fixture.Time.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerSecond - (fixture.Now.Ticks % TimeSpan.TicksPerSecond)));
        }
    }

    [Fact]
    public async Task CreateTenant_WithTakenId_IsAlreadyExists()
    {
        var tenant = await fixture.CreateTenantAsync();

        await RpcAssert.FailsAsync(StatusCode.AlreadyExists, "ALREADY_EXISTS", async () =>
            await fixture.Admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = tenant.TenantId } }));
    }

    [Fact]
    public async Task CreateTenant_WithSettings_KeepsThem()
    {
        var tenant = await fixture.CreateTenantAsync(t =>
        {
            t.AllowedAuthenticationMethods.Add(AuthenticationMethod.PreAuthorized);
            t.AllowedAuthenticationMethods.Add(AuthenticationMethod.Authorized);
            t.RequirePin = true;
            t.DefaultOfferLifetime = Samples.Hours(2);
            t.MaxOfferLifetime = Samples.Days(7);
            t.PreAuthorizedCodeLifetime = Samples.Minutes(10);
            t.PinAttemptLimit = 3;
        });

        var read = (await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant;
        Assert.Equal(
            new[] { AuthenticationMethod.PreAuthorized, AuthenticationMethod.Authorized },
            read.AllowedAuthenticationMethods.Order());
        Assert.True(read.RequirePin);
        Assert.Equal(TimeSpan.FromHours(2), read.DefaultOfferLifetime.ToTimeSpan());
        Assert.Equal(TimeSpan.FromDays(7), read.MaxOfferLifetime.ToTimeSpan());
        Assert.Equal(TimeSpan.FromMinutes(10), read.PreAuthorizedCodeLifetime.ToTimeSpan());
        Assert.Equal(3, read.PinAttemptLimit);
    }

    [Fact]
    public async Task GetTenant_ThroughAdminAndThroughItsOwnKey_ReturnsTheCreatedTenant()
    {
        var tenant = await fixture.CreateTenantAsync();

        var byAdmin = (await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant;
        var byOwnKey = (await tenant.Clients.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant;

        Assert.Equal(tenant.Tenant, byAdmin);
        Assert.Equal(tenant.Tenant, byOwnKey);
    }

    [Fact]
    public async Task GetTenant_Unknown_IsNotFound()
    {
        await RpcAssert.NotFoundAsync(async () =>
            await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = "tenants/" + ServerFixture.NewTenantId() }));
    }

    [Fact]
    public async Task ListTenants_PagesThroughEveryTenantInIdOrder()
    {
        var created = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            created.Add((await fixture.CreateTenantAsync()).TenantId);
        }

        var seen = new List<string>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await fixture.Admin.Tenants.ListTenantsAsync(new ListTenantsRequest { PageSize = 2, PageToken = token });
            Assert.True(page.Tenants.Count <= 2, $"page of {page.Tenants.Count} tenants with page_size 2");
            seen.AddRange(page.Tenants.Select(t => t.TenantId));
            token = page.NextPageToken;
            pages++;
            Assert.True(pages < 1000, "the page tokens never end");
        }
        while (token.Length > 0);

        Assert.Superset(created.ToHashSet(), seen.ToHashSet());
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
        Assert.True(pages >= 2);
    }

    [Fact]
    public async Task UpdateTenant_WithMask_ChangesOnlyTheMaskedFields()
    {
        var tenant = await fixture.CreateTenantAsync();
        fixture.Time.Advance(TimeSpan.FromMinutes(1));

        var change = new Tenant { Name = tenant.Name, RequirePin = true, PinAttemptLimit = 9 };
        change.Display.Add(new IssuerDisplay { Locale = "de-DE", Name = "not in the mask" });
        var mask = new FieldMask();
        mask.Paths.Add("require_pin");
        mask.Paths.Add("pin_attempt_limit");
        var updated = (await fixture.Admin.Tenants.UpdateTenantAsync(new UpdateTenantRequest { Tenant = change, UpdateMask = mask })).Tenant;

        Assert.True(updated.RequirePin);
        Assert.Equal(9, updated.PinAttemptLimit);
        Assert.Equal(tenant.Tenant.Display, updated.Display);
        Assert.Equal(tenant.Tenant.CredentialIssuer, updated.CredentialIssuer);
        Assert.Equal(tenant.Tenant.CreateTime, updated.CreateTime);
        Assert.Equal(fixture.Now, updated.UpdateTime.ToDateTimeOffset());
        var read = (await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant;
        Assert.Equal(updated, read);
    }

    [Fact]
    public async Task UpdateTenant_Display_ReplacesTheDisplayList()
    {
        var tenant = await fixture.CreateTenantAsync();
        var change = new Tenant { Name = tenant.Name };
        change.Display.Add(new IssuerDisplay { Locale = "de-DE", Name = "Beispiel" });
        change.Display.Add(new IssuerDisplay { Locale = "en-US", Name = "Example" });
        var mask = new FieldMask();
        mask.Paths.Add("display");

        var updated = (await fixture.Admin.Tenants.UpdateTenantAsync(new UpdateTenantRequest { Tenant = change, UpdateMask = mask })).Tenant;

        Assert.Equal(new[] { "Beispiel", "Example" }, updated.Display.Select(d => d.Name).Order(StringComparer.Ordinal));
        Assert.Equal(tenant.Tenant.RequirePin, updated.RequirePin);
    }

    [Fact]
    public async Task DeleteTenant_HidesIt_StopsItsKeys_AndNeverReusesTheId()
    {
        var tenant = await fixture.CreateTenantAsync();
        Assert.NotNull(await tenant.Clients.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name }));

        await fixture.Admin.Tenants.DeleteTenantAsync(new DeleteTenantRequest { Name = tenant.Name });

        await RpcAssert.NotFoundAsync(async () =>
            await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name }));
        await RpcAssert.UnauthenticatedAsync(async () =>
            await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name }));
        await RpcAssert.FailsAsync(StatusCode.AlreadyExists, "ALREADY_EXISTS", async () =>
            await fixture.Admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = tenant.TenantId } }));
        await RpcAssert.NotFoundAsync(async () =>
            await fixture.Admin.Tenants.DeleteTenantAsync(new DeleteTenantRequest { Name = tenant.Name }));

        var listed = await ListAllTenantIdsAsync();
        Assert.DoesNotContain(tenant.TenantId, listed);
    }

    [Fact]
    public async Task CreateApiKey_ReturnsTheKeyOnce_AndListApiKeysShowsOnlyItsRecord()
    {
        var tenant = await fixture.CreateTenantAsync();
        var expire = fixture.TimestampIn(TimeSpan.FromDays(10));

        var created = await fixture.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest
        {
            Parent = tenant.Name,
            DisplayName = "ci pipeline",
            ExpireTime = expire,
        });

        Assert.Matches("^i2_[A-Za-z0-9_-]{43}$", created.Key);
        Assert.StartsWith(tenant.Name + "/apiKeys/", created.ApiKey.Name, StringComparison.Ordinal);
        Assert.Equal("ci pipeline", created.ApiKey.DisplayName);
        Assert.Equal(expire, created.ApiKey.ExpireTime);
        Assert.Null(created.ApiKey.RevokeTime);
        Assert.Equal(fixture.Now, created.ApiKey.CreateTime.ToDateTimeOffset());
        Assert.False(string.IsNullOrEmpty(created.ApiKey.KeyPrefix));
        Assert.StartsWith(created.ApiKey.KeyPrefix, created.Key, StringComparison.Ordinal);
        Assert.True(created.ApiKey.KeyPrefix.Length < created.Key.Length - 16, "the key prefix gives away most of the key");

        // The new key works.
        var clients = fixture.Host.ClientsForKey(created.Key);
        await clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name });

        var list = await fixture.Admin.Tenants.ListApiKeysAsync(new ListApiKeysRequest { Parent = tenant.Name });
        Assert.Equal(2, list.ApiKeys.Count);
        var listed = Assert.Single(list.ApiKeys, k => k.Name == created.ApiKey.Name);
        Assert.Equal(created.ApiKey, listed);
        Assert.DoesNotContain(created.Key, list.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(tenant.ApiKey, list.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListApiKeys_PagesNewestFirst()
    {
        var tenant = await fixture.CreateTenantAsync();
        var names = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            fixture.Time.Advance(TimeSpan.FromSeconds(1));
            names.Add((await fixture.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = $"key {i}" })).ApiKey.Name);
        }

        var seen = new List<string>();
        var token = "";
        do
        {
            var page = await fixture.Admin.Tenants.ListApiKeysAsync(new ListApiKeysRequest { Parent = tenant.Name, PageSize = 1, PageToken = token });
            Assert.True(page.ApiKeys.Count <= 1);
            seen.AddRange(page.ApiKeys.Select(k => k.Name));
            token = page.NextPageToken;
            Assert.True(seen.Count < 100, "the page tokens never end");
        }
        while (token.Length > 0);

        // The fixture's key first made, then three; newest first.
        Assert.Equal(4, seen.Count);
        Assert.Equal(Enumerable.Reverse(names), seen.Take(3));
    }

    [Fact]
    public async Task RevokeApiKey_StopsTheKeyAtOnce_AndRecordsTheTime()
    {
        var tenant = await fixture.CreateTenantAsync();
        var keys = await fixture.Admin.Tenants.ListApiKeysAsync(new ListApiKeysRequest { Parent = tenant.Name });
        var record = Assert.Single(keys.ApiKeys);

        var revoked = (await fixture.Admin.Tenants.RevokeApiKeyAsync(new RevokeApiKeyRequest { Name = record.Name })).ApiKey;

        Assert.Equal(fixture.Now, revoked.RevokeTime.ToDateTimeOffset());
        await RpcAssert.UnauthenticatedAsync(async () =>
            await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name }));
        var listed = Assert.Single((await fixture.Admin.Tenants.ListApiKeysAsync(new ListApiKeysRequest { Parent = tenant.Name })).ApiKeys);
        Assert.NotNull(listed.RevokeTime);
    }

    [Fact]
    public async Task RevokeApiKey_OfAnotherTenantsPath_IsNotFound()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var aKey = Assert.Single((await fixture.Admin.Tenants.ListApiKeysAsync(new ListApiKeysRequest { Parent = a.Name })).ApiKeys);
        var keyId = aKey.Name[(aKey.Name.LastIndexOf('/') + 1)..];

        await RpcAssert.NotFoundAsync(async () =>
            await fixture.Admin.Tenants.RevokeApiKeyAsync(new RevokeApiKeyRequest { Name = b.Name + "/apiKeys/" + keyId }));

        // A's key still works.
        await a.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = a.Name });
    }

    // The IdP and the authorization-server policy

    [Fact]
    public async Task CreateTenant_WithoutIdentityProvider_HasNoneAndTheDefaultAuthorizationServerPolicy()
    {
        var tenant = await fixture.CreateTenantAsync();

        Assert.Null(tenant.Tenant.IdentityProvider);
        var policy = tenant.Tenant.AuthorizationServer;
        Assert.Equal(WalletClientMode.Any, policy.ClientMode);
        Assert.Empty(policy.RegisteredClients);
        Assert.True(policy.HasRequirePushedAuthorizationRequests);
        Assert.True(policy.RequirePushedAuthorizationRequests);
        Assert.False(policy.RequireIssuerState);
    }

    [Fact]
    public async Task CreateTenant_WithIdentityProvider_ReturnsItWithoutTheSecret_AndGetAndListAgree()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.IdentityProvider = AuthorizedSamples.IdentityProvider(scopes: ["profile", "email"]));

        var idp = tenant.Tenant.IdentityProvider;
        Assert.Equal("https://idp.example/realms/acme", idp.Issuer);
        Assert.Equal("issuer2", idp.ClientId);
        Assert.Empty(idp.ClientSecret);
        Assert.True(idp.ClientSecretSet);
        Assert.Equal(["profile", "email"], idp.Scopes);
        Assert.Equal(tenant.Tenant.CredentialIssuer + "/idp/callback", idp.RedirectUri);
        Assert.DoesNotContain(AuthorizedSamples.ClientSecret, tenant.Tenant.ToString(), StringComparison.Ordinal);
        Assert.Equal(tenant.Tenant, (await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant);
        Assert.Equal(tenant.Tenant, (await tenant.Clients.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant);
        Assert.Contains(tenant.Tenant, await ListAllTenantsAsync());
    }

    [Fact]
    public async Task CreateTenant_WithRegisteredClients_KeepsThemExactly()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.AuthorizationServer = new AuthorizationServerSettings
        {
            ClientMode = WalletClientMode.Registered,
            RegisteredClients =
            {
                new WalletClient { ClientId = "wallet-a", RedirectUris = { "https://wallet.example/cb", "com.example.wallet:/cb" } },
                new WalletClient { ClientId = "wallet-b", RedirectUris = { "http://127.0.0.1:7000/cb" } },
            },
            RequirePushedAuthorizationRequests = false,
            RequireIssuerState = true,
        });

        var read = (await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant.AuthorizationServer;
        Assert.Equal(WalletClientMode.Registered, read.ClientMode);
        Assert.Equal(["wallet-a", "wallet-b"], read.RegisteredClients.Select(c => c.ClientId));
        Assert.Equal(["https://wallet.example/cb", "com.example.wallet:/cb"], read.RegisteredClients[0].RedirectUris);
        Assert.False(read.RequirePushedAuthorizationRequests);
        Assert.True(read.RequireIssuerState);
    }

    [Fact]
    public async Task UpdateTenant_IdentityProviderWithoutSecret_KeepsTheStoredSecretWhileIssuerAndClientStay()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.IdentityProvider = AuthorizedSamples.IdentityProvider());
        var before = await StoredTenantAsync(tenant.TenantId);

        var updated = await UpdateAsync(tenant, "identity_provider", t => t.IdentityProvider = AuthorizedSamples.IdentityProvider(secret: null, scopes: ["email"]));

        Assert.Equal(["email"], updated.IdentityProvider.Scopes);
        Assert.True(updated.IdentityProvider.ClientSecretSet);
        var after = await StoredTenantAsync(tenant.TenantId);
        Assert.Equal(before.IdentityProvider!.EncryptedClientSecret, after.IdentityProvider!.EncryptedClientSecret);
        Assert.Equal(before.MetadataVersion + 1, after.MetadataVersion);
    }

    [Fact]
    public async Task UpdateTenant_IdentityProviderOfAnotherIssuerWithoutSecret_IsInvalidOnClientSecretAndKeepsTheOld()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.IdentityProvider = AuthorizedSamples.IdentityProvider());

        await RpcAssert.InvalidAsync(
            async () => await UpdateAsync(tenant, "identity_provider", t => t.IdentityProvider = AuthorizedSamples.IdentityProvider("https://other.example", secret: null)),
            "tenant.identity_provider.client_secret");

        var read = (await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant;
        Assert.Equal(tenant.Tenant, read);
    }

    [Fact]
    public async Task UpdateTenant_IdentityProviderOfAnotherIssuerWithSecret_ReplacesItAndTheSecret()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.IdentityProvider = AuthorizedSamples.IdentityProvider());

        var updated = await UpdateAsync(tenant, "identity_provider", t => t.IdentityProvider = AuthorizedSamples.IdentityProvider("https://other.example", "rotated-secret"));

        Assert.Equal("https://other.example", updated.IdentityProvider.Issuer);
        Assert.Equal("rotated-secret", await StoredSecretAsync(tenant.TenantId));
    }

    [Fact]
    public async Task UpdateTenant_IdentityProviderMaskedButUnset_RemovesIt()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.IdentityProvider = AuthorizedSamples.IdentityProvider());

        var updated = await UpdateAsync(tenant, "identity_provider", _ => { });

        Assert.Null(updated.IdentityProvider);
        Assert.Null((await StoredTenantAsync(tenant.TenantId)).IdentityProvider);
    }

    [Fact]
    public async Task UpdateTenant_OtherFields_LeaveTheIdentityProviderAndPolicyAlone()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.IdentityProvider = AuthorizedSamples.IdentityProvider());

        var updated = await UpdateAsync(tenant, "require_pin", t => t.RequirePin = true);

        Assert.Equal(tenant.Tenant.IdentityProvider, updated.IdentityProvider);
        Assert.Equal(tenant.Tenant.AuthorizationServer, updated.AuthorizationServer);
    }

    [Fact]
    public async Task UpdateTenant_AuthorizationServer_IsReplacedAsAWholeAndBumpsTheMetadataVersion()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.AuthorizationServer = new AuthorizationServerSettings
        {
            RequirePushedAuthorizationRequests = false,
            RequireIssuerState = true,
        });
        var before = await StoredTenantAsync(tenant.TenantId);

        var updated = await UpdateAsync(tenant, "authorization_server", t => t.AuthorizationServer = new AuthorizationServerSettings
        {
            ClientMode = WalletClientMode.Registered,
            RegisteredClients = { new WalletClient { ClientId = "wallet", RedirectUris = { "https://wallet.example/cb" } } },
        });

        Assert.Equal(WalletClientMode.Registered, updated.AuthorizationServer.ClientMode);
        Assert.True(updated.AuthorizationServer.RequirePushedAuthorizationRequests);
        Assert.False(updated.AuthorizationServer.RequireIssuerState);
        Assert.Equal(before.MetadataVersion + 1, (await StoredTenantAsync(tenant.TenantId)).MetadataVersion);

        var reset = await UpdateAsync(tenant, "authorization_server", _ => { });
        Assert.Equal(new AuthorizationServerSettings { ClientMode = WalletClientMode.Any, RequirePushedAuthorizationRequests = true }, reset.AuthorizationServer);
    }

    [Fact]
    public async Task IdentityProviderSecret_IsStoredEncryptedBoundToTheTenant_NeverInTheClear()
    {
        var secret = "at-rest-" + TestEnvironment.RandomText(32);
        var tenant = await fixture.CreateTenantAsync(t => t.IdentityProvider = AuthorizedSamples.IdentityProvider(secret: secret));

        var column = await StoredColumnAsync(tenant.TenantId);
        Assert.Contains("issuer2", column, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, column, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), column, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(Encoding.UTF8.GetBytes(secret)), column, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(secret, await StoredSecretAsync(tenant.TenantId));
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var protector = scope.ServiceProvider.GetRequiredService<Core.Security.KeyRing>().Protector(Core.Security.KeyPurpose.SecretsAtRest);
        var stored = (await StoredTenantAsync(tenant.TenantId)).IdentityProvider!;
        Assert.ThrowsAny<CryptographicException>(() => Core.IdentityProviders.IdentityProviderSecrets.Decrypt(protector, "another-tenant", stored));
    }

    private async Task<Tenant> UpdateAsync(TestTenant tenant, string path, Action<Tenant> change)
    {
        var message = new Tenant { Name = tenant.Name };
        change(message);
        return (await fixture.Admin.Tenants.UpdateTenantAsync(new UpdateTenantRequest { Tenant = message, UpdateMask = new FieldMask { Paths = { path } } })).Tenant;
    }

    private async Task<Core.Tenants.Tenant> StoredTenantAsync(string tenantId)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        return await db.Tenants.AsNoTracking().SingleAsync(t => t.Id == tenantId);
    }

    /// <summary>The tenant row's identity_provider column as the database holds it.</summary>
    private async Task<string> StoredColumnAsync(string tenantId)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        return await db.Database.SqlQuery<string>($"SELECT identity_provider AS \"Value\" FROM tenants WHERE id = {tenantId}").SingleAsync();
    }

    private async Task<string> StoredSecretAsync(string tenantId)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var protector = scope.ServiceProvider.GetRequiredService<Core.Security.KeyRing>().Protector(Core.Security.KeyPurpose.SecretsAtRest);
        return Core.IdentityProviders.IdentityProviderSecrets.Decrypt(protector, tenantId, (await StoredTenantAsync(tenantId)).IdentityProvider!);
    }

    private async Task<List<Tenant>> ListAllTenantsAsync()
    {
        var tenants = new List<Tenant>();
        var token = "";
        do
        {
            var page = await fixture.Admin.Tenants.ListTenantsAsync(new ListTenantsRequest { PageSize = 200, PageToken = token });
            tenants.AddRange(page.Tenants);
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return tenants;
    }

    private async Task<List<string>> ListAllTenantIdsAsync()
    {
        var ids = new List<string>();
        var token = "";
        do
        {
            var page = await fixture.Admin.Tenants.ListTenantsAsync(new ListTenantsRequest { PageSize = 200, PageToken = token });
            ids.AddRange(page.Tenants.Select(t => t.TenantId));
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return ids;
    }

    internal static string Rfc7638Thumbprint(JsonElement jwk)
    {
        var canonical = $"{{\"crv\":\"{jwk.GetProperty("crv").GetString()}\",\"kty\":\"{jwk.GetProperty("kty").GetString()}\",\"x\":\"{jwk.GetProperty("x").GetString()}\",\"y\":\"{jwk.GetProperty("y").GetString()}\"}}";
        return TestEnvironment.Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}

public sealed class TenantServiceTests_Sqlite(SqliteServerFixture fixture)
    : TenantServiceTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class TenantServiceTests_Postgres(PostgresServerFixture fixture)
    : TenantServiceTests(fixture), IClassFixture<PostgresServerFixture>;
