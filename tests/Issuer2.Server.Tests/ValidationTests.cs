using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>
/// Every validation rule of docs/management-api.md: INVALID_ARGUMENT with a BadRequest naming the field, and
/// nothing created.
/// </summary>
public abstract class ValidationTests(ServerFixture fixture)
{
    [Theory]
    [MemberData(nameof(ValidationCases.TenantCaseNames), MemberType = typeof(ValidationCases))]
    public async Task CreateTenant_Invalid_IsInvalidArgumentNamingField(string caseName)
    {
        var invalid = ValidationCases.TenantCases[caseName];
        var tenant = new Tenant { TenantId = ServerFixture.NewTenantId() };
        invalid.Spoil(tenant, fixture.Now);

        await RpcAssert.InvalidAsync(
            async () => await fixture.Admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = tenant }),
            invalid.Fields);

        if (tenant.TenantId.Length > 0)
        {
            await RpcAssert.NotFoundAsync(async () =>
                await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = "tenants/" + tenant.TenantId }));
        }
    }

    [Theory]
    [MemberData(nameof(ValidationCases.TenantUpdateCaseNames), MemberType = typeof(ValidationCases))]
    public async Task UpdateTenant_Invalid_IsInvalidArgumentNamingField(string caseName)
    {
        var invalid = ValidationCases.TenantUpdateCases[caseName];
        var tenant = await fixture.CreateTenantAsync();
        var request = new UpdateTenantRequest { Tenant = new Tenant { Name = tenant.Name } };
        invalid.Spoil(request, fixture.Now);

        await RpcAssert.InvalidAsync(
            async () => await fixture.Admin.Tenants.UpdateTenantAsync(request),
            invalid.Fields);

        var read = (await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant;
        Assert.Equal(tenant.Tenant, read);
    }

    [Theory]
    [MemberData(nameof(ValidationCases.ApiKeyCaseNames), MemberType = typeof(ValidationCases))]
    public async Task CreateApiKey_Invalid_IsInvalidArgumentNamingField(string caseName)
    {
        var invalid = ValidationCases.ApiKeyCases[caseName];
        var tenant = await fixture.CreateTenantAsync();
        var request = new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "valid" };
        invalid.Spoil(request, fixture.Now);

        await RpcAssert.InvalidAsync(async () => await fixture.Admin.Tenants.CreateApiKeyAsync(request), invalid.Fields);

        Assert.Single((await fixture.Admin.Tenants.ListApiKeysAsync(new ListApiKeysRequest { Parent = tenant.Name })).ApiKeys);
    }

    [Theory]
    [MemberData(nameof(ValidationCases.ProfileCaseNames), MemberType = typeof(ValidationCases))]
    public async Task CreateProfile_Invalid_IsInvalidArgumentNamingField(string caseName)
    {
        var invalid = ValidationCases.ProfileCases[caseName];
        var tenant = await fixture.CreateTenantAsync();
        var profile = Samples.Profile(ServerFixture.NewProfileId());
        invalid.Spoil(profile, fixture.Now);

        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = profile }),
            invalid.Fields);

        Assert.Empty((await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name })).Profiles);
    }

    [Theory]
    [MemberData(nameof(ValidationCases.ProfileUpdateCaseNames), MemberType = typeof(ValidationCases))]
    public async Task UpdateProfile_ToInvalid_IsInvalidArgumentNamingField_AndKeepsTheVersion(string caseName)
    {
        var invalid = ValidationCases.ProfileCases[caseName];
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var change = Samples.Profile(profile.ProfileId);
        change.Scope = profile.Scope;
        invalid.Spoil(change, fixture.Now);
        change.Name = profile.Name;
        var mask = ValidationCases.Mask("scope", "vct", "display", "claims", "default_values", "credential_validity", "claim_mappings");

        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest { Profile = change, UpdateMask = mask }),
            invalid.Fields);

        var read = (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile;
        Assert.Equal(profile, read);
    }

    [Theory]
    [MemberData(nameof(ValidationCases.OfferCaseNames), MemberType = typeof(ValidationCases))]
    public async Task CreateOffer_Invalid_IsInvalidArgumentNamingField(string caseName)
    {
        var invalid = ValidationCases.OfferCases[caseName];
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var request = new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name };
        invalid.Spoil(request, fixture.Now);

        await RpcAssert.InvalidAsync(async () => await tenant.Clients.Offers.CreateOfferAsync(request), invalid.Fields);

        Assert.Empty((await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name })).Offers);
    }

    [Fact]
    public async Task CreateOffer_WithMandatoryClaimWithoutDefaultOrOverride_IsInvalidArgumentNamingOverrides()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, p => p.Claims[2].Mandatory = true); // birthdate, no default

        await RpcAssert.InvalidAsync(
            async () => await ServerFixture.CreateOfferAsync(tenant, profile),
            "overrides");

        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Overrides.Add(Samples.StringValue("1990-01-31", "birthdate")));
        Assert.Equal(OfferState.Active, offer.Offer.State);
    }

    [Fact]
    public async Task CreateOffer_WithMandatoryClaimWithDefault_NeedsNoOverride()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, p => p.Claims[0].Mandatory = true); // given_name has a default

        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);

        Assert.Equal(OfferState.Active, offer.Offer.State);
    }

    [Fact]
    public async Task CreateOffer_ForUnknownProfile_IsRefusedNamingProfile()
    {
        var tenant = await fixture.CreateTenantAsync();

        await RpcAssert.UnknownReferenceAsync(
            async () => await tenant.Clients.Offers.CreateOfferAsync(new CreateOfferRequest
            {
                Parent = tenant.Name,
                Profile = tenant.Name + "/profiles/nope",
            }),
            "profile");
        Assert.Empty((await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name })).Offers);
    }

    [Fact]
    public async Task CreateOffer_ForDeletedProfile_IsRefusedNamingProfile()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name });

        await RpcAssert.UnknownReferenceAsync(async () => await ServerFixture.CreateOfferAsync(tenant, profile), "profile");
        Assert.Empty((await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name })).Offers);
    }

    [Fact]
    public async Task CreateProfile_WithSeveralBadFields_NamesEachOne()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = Samples.Profile(ServerFixture.NewProfileId());
        profile.Vct = "";
        profile.CredentialValidity = Samples.Seconds(1);
        profile.DefaultValues.Add(Samples.StringValue("ten", "age_in_years"));

        var badRequest = await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = profile }),
            "profile.vct");

        var fields = badRequest.FieldViolations.Select(v => v.Field).ToList();
        Assert.Contains("profile.vct", fields);
        Assert.Contains("profile.credential_validity", fields);
        Assert.Contains("profile.default_values[2].value", fields);
    }

    [Fact]
    public async Task CreateOffer_WithSeveralBadFields_NamesEachOne()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var badRequest = await RpcAssert.InvalidAsync(
            async () => await ServerFixture.CreateOfferAsync(tenant, profile, r =>
            {
                r.MaxUses = 20000;
                r.TxCode = new TxCodeOptions { Length = 2 };
                r.Overrides.Add(Samples.StringValue("x", "nickname"));
            }),
            "max_uses");

        var fields = badRequest.FieldViolations.Select(v => v.Field).ToList();
        Assert.Contains("max_uses", fields);
        Assert.Contains("tx_code.length", fields);
        Assert.Contains(fields, f => f.StartsWith("overrides[0]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListOffers_WithPageTokenOfOtherFilters_IsInvalidArgumentNamingPageToken()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        for (var i = 0; i < 3; i++)
        {
            await ServerFixture.CreateOfferAsync(tenant, profile);
        }

        var first = await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name, PageSize = 1 });
        Assert.NotEmpty(first.NextPageToken);

        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest
            {
                Parent = tenant.Name,
                PageSize = 1,
                PageToken = first.NextPageToken,
                State = OfferState.Revoked,
            }),
            "page_token");
        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest
            {
                Parent = tenant.Name,
                PageSize = 1,
                PageToken = first.NextPageToken,
                Profile = profile.Name,
            }),
            "page_token");
    }

    [Fact]
    public async Task ListOffers_WithAnotherTenantsPageToken_IsInvalidArgumentNamingPageToken()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(a);
        for (var i = 0; i < 3; i++)
        {
            await ServerFixture.CreateOfferAsync(a, profile);
        }

        var first = await a.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = a.Name, PageSize = 1 });
        Assert.NotEmpty(first.NextPageToken);

        await RpcAssert.InvalidAsync(
            async () => await b.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = b.Name, PageSize = 1, PageToken = first.NextPageToken }),
            "page_token");
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("AAAA")]
    public async Task List_WithForgedPageToken_IsInvalidArgumentNamingPageToken(string token)
    {
        var tenant = await fixture.CreateTenantAsync();

        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name, PageToken = token }),
            "page_token");
        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name, PageToken = token }),
            "page_token");
        await RpcAssert.InvalidAsync(
            async () => await fixture.Admin.Tenants.ListTenantsAsync(new ListTenantsRequest { PageToken = token }),
            "page_token");
    }

    [Fact]
    public async Task List_WithNegativePageSize_IsInvalidArgumentNamingPageSize()
    {
        var tenant = await fixture.CreateTenantAsync();

        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name, PageSize = -1 }),
            "page_size");
    }

    [Fact]
    public async Task List_WithPageSizeAbove200_IsAccepted()
    {
        var tenant = await fixture.CreateTenantAsync();
        await ServerFixture.CreateProfileAsync(tenant);

        var page = await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name, PageSize = 100_000 });

        Assert.Single(page.Profiles);
        Assert.Empty(page.NextPageToken);
    }

    [Fact]
    public async Task UpdateProfile_WithEmptyMask_IsInvalidArgumentNamingUpdateMask()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
            {
                Profile = new Profile { Name = profile.Name, Vct = "changed" },
                UpdateMask = ValidationCases.Mask(),
            }),
            "update_mask");
    }
}

public sealed class ValidationTests_Sqlite(SqliteServerFixture fixture)
    : ValidationTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class ValidationTests_Postgres(PostgresServerFixture fixture)
    : ValidationTests(fixture), IClassFixture<PostgresServerFixture>;
