using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>Who may call what: missing, wrong, revoked and expired keys; admin versus tenant keys; another tenant's key.</summary>
public abstract class ApiKeyAuthenticationTests(ServerFixture fixture)
{
    [Fact]
    public async Task Call_WithoutAuthorization_IsUnauthenticated()
    {
        var tenant = await fixture.CreateTenantAsync();
        var anonymous = fixture.Host.ClientsFor(null);

        await RpcAssert.UnauthenticatedAsync(async () => await anonymous.Tenants.ListTenantsAsync(new ListTenantsRequest()));
        await RpcAssert.UnauthenticatedAsync(async () => await anonymous.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name }));
        await RpcAssert.UnauthenticatedAsync(async () => await anonymous.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name }));
        await RpcAssert.UnauthenticatedAsync(async () => await anonymous.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name }));
    }

    [Theory]
    [InlineData("Bearer i2_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("Bearer not-a-key")]
    [InlineData("Bearer ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("i2_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Call_WithUnknownOrMalformedKey_IsUnauthenticated(string authorization)
    {
        var tenant = await fixture.CreateTenantAsync();
        var clients = fixture.Host.ClientsFor(authorization);

        await RpcAssert.UnauthenticatedAsync(async () => await clients.Tenants.ListTenantsAsync(new ListTenantsRequest()));
        await RpcAssert.UnauthenticatedAsync(async () => await clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name }));
    }

    [Fact]
    public async Task Call_WithTheAdminKeyWithoutBearerScheme_IsUnauthenticated()
    {
        var clients = fixture.Host.ClientsFor(fixture.Host.Settings.AdminKey);

        await RpcAssert.UnauthenticatedAsync(async () => await clients.Tenants.ListTenantsAsync(new ListTenantsRequest()));
    }

    [Fact]
    public async Task Call_WithRevokedTenantKey_IsUnauthenticated()
    {
        var tenant = await fixture.CreateTenantAsync();
        await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name });
        var key = Assert.Single((await fixture.Admin.Tenants.ListApiKeysAsync(new ListApiKeysRequest { Parent = tenant.Name })).ApiKeys);

        await fixture.Admin.Tenants.RevokeApiKeyAsync(new RevokeApiKeyRequest { Name = key.Name });

        await RpcAssert.UnauthenticatedAsync(async () =>
            await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name }));
        await RpcAssert.UnauthenticatedAsync(async () =>
            await tenant.Clients.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name }));
    }

    [Fact]
    public async Task Call_WithExpiredTenantKey_IsUnauthenticated()
    {
        var tenant = await fixture.CreateTenantAsync();
        var created = await fixture.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest
        {
            Parent = tenant.Name,
            DisplayName = "short-lived",
            ExpireTime = fixture.TimestampIn(TimeSpan.FromHours(1)),
        });
        var clients = fixture.Host.ClientsForKey(created.Key);

        fixture.Time.Advance(TimeSpan.FromMinutes(59));
        await clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name });

        fixture.Time.Advance(TimeSpan.FromMinutes(2));
        await RpcAssert.UnauthenticatedAsync(async () =>
            await clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name }));

        // The key without expiry still works.
        await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name });
    }

    [Fact]
    public async Task Call_WithKeyOfADeletedTenant_IsUnauthenticated()
    {
        var tenant = await fixture.CreateTenantAsync();

        await fixture.Admin.Tenants.DeleteTenantAsync(new DeleteTenantRequest { Name = tenant.Name });

        await RpcAssert.UnauthenticatedAsync(async () =>
            await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name }));
    }

    [Fact]
    public async Task AdminKey_OnProfilesAndOffers_IsPermissionDenied()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);
        var admin = fixture.Admin;

        await RpcAssert.PermissionDeniedAsync(async () =>
            await admin.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = Samples.Profile(ServerFixture.NewProfileId()) }));
        await RpcAssert.PermissionDeniedAsync(async () =>
            await admin.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name }));
        await RpcAssert.PermissionDeniedAsync(async () =>
            await admin.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name }));
        await RpcAssert.PermissionDeniedAsync(async () =>
            await admin.Profiles.UpdateProfileAsync(new UpdateProfileRequest { Profile = new Profile { Name = profile.Name, Vct = "x" }, UpdateMask = Mask("vct") }));
        await RpcAssert.PermissionDeniedAsync(async () =>
            await admin.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name }));
        await RpcAssert.PermissionDeniedAsync(async () =>
            await admin.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name }));
        await RpcAssert.PermissionDeniedAsync(async () =>
            await admin.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name }));
        await RpcAssert.PermissionDeniedAsync(async () =>
            await admin.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name }));
        await RpcAssert.PermissionDeniedAsync(async () =>
            await admin.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name }));

        // Nothing changed: the profile and the offer are as they were.
        Assert.Equal(OfferState.Active, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.State);
        Assert.Equal(1, (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile.Version);
        Assert.Single((await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name })).Profiles);
    }

    [Fact]
    public async Task TenantKey_OnAdminMethods_IsPermissionDenied()
    {
        var tenant = await fixture.CreateTenantAsync();
        var own = tenant.Clients.Tenants;
        var key = Assert.Single((await fixture.Admin.Tenants.ListApiKeysAsync(new ListApiKeysRequest { Parent = tenant.Name })).ApiKeys);

        await RpcAssert.PermissionDeniedAsync(async () =>
            await own.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = ServerFixture.NewTenantId() } }));
        await RpcAssert.PermissionDeniedAsync(async () => await own.ListTenantsAsync(new ListTenantsRequest()));
        await RpcAssert.PermissionDeniedAsync(async () =>
            await own.UpdateTenantAsync(new UpdateTenantRequest { Tenant = new Tenant { Name = tenant.Name, RequirePin = true }, UpdateMask = Mask("require_pin") }));
        await RpcAssert.PermissionDeniedAsync(async () => await own.DeleteTenantAsync(new DeleteTenantRequest { Name = tenant.Name }));
        await RpcAssert.PermissionDeniedAsync(async () =>
            await own.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "escalation" }));
        await RpcAssert.PermissionDeniedAsync(async () => await own.ListApiKeysAsync(new ListApiKeysRequest { Parent = tenant.Name }));
        await RpcAssert.PermissionDeniedAsync(async () => await own.RevokeApiKeyAsync(new RevokeApiKeyRequest { Name = key.Name }));

        // Nothing changed.
        var read = (await own.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant;
        Assert.False(read.RequirePin);
        var keys = await fixture.Admin.Tenants.ListApiKeysAsync(new ListApiKeysRequest { Parent = tenant.Name });
        Assert.Null(Assert.Single(keys.ApiKeys).RevokeTime);
    }

    [Fact]
    public async Task TenantKey_OnAnotherTenant_IsNotFound()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var profileOfA = await ServerFixture.CreateProfileAsync(a);

        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Tenants.GetTenantAsync(new GetTenantRequest { Name = a.Name }));
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profileOfA.Name }));
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = a.Name, Profile = Samples.Profile(ServerFixture.NewProfileId()) }));
        Assert.Single((await a.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = a.Name })).Profiles);
    }

    [Fact]
    public async Task CreateApiKey_ForUnknownTenant_IsNotFound()
    {
        await RpcAssert.NotFoundAsync(async () =>
            await fixture.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = "tenants/" + ServerFixture.NewTenantId(), DisplayName = "x" }));
    }

    private static FieldMask Mask(params string[] paths)
    {
        var mask = new FieldMask();
        mask.Paths.AddRange(paths);
        return mask;
    }
}

public sealed class ApiKeyAuthenticationTests_Sqlite(SqliteServerFixture fixture)
    : ApiKeyAuthenticationTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class ApiKeyAuthenticationTests_Postgres(PostgresServerFixture fixture)
    : ApiKeyAuthenticationTests(fixture), IClassFixture<PostgresServerFixture>;
