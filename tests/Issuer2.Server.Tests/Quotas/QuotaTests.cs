using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Hosting;
using Issuer2.Server.Tests.Events;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Quotas;

/// <summary>A host with small quotas: 3 profiles, 3 versions per profile, 4 live offers, 3 API keys per tenant; 64 KiB pages.</summary>
public abstract class QuotaFixture : TunedServerFixture
{
    public const int Profiles = 3;
    public const int Versions = 3;
    public const int LiveOffers = 4;
    public const int ApiKeys = 3;
    public const int PageBytes = 64 * 1024;

    protected override IReadOnlyDictionary<string, string> Configuration { get; } = new Dictionary<string, string>
    {
        ["Issuer2:Quotas:ProfilesPerTenant"] = Profiles.ToString(CultureInfo.InvariantCulture),
        ["Issuer2:Quotas:VersionsPerProfile"] = Versions.ToString(CultureInfo.InvariantCulture),
        ["Issuer2:Quotas:LiveOffersPerTenant"] = LiveOffers.ToString(CultureInfo.InvariantCulture),
        ["Issuer2:Quotas:ApiKeysPerTenant"] = ApiKeys.ToString(CultureInfo.InvariantCulture),
        ["Issuer2:Quotas:MaxPageBytes"] = PageBytes.ToString(CultureInfo.InvariantCulture),
    };

    protected override void Tune(EventOptions events)
    {
    }
}

public sealed class QuotaSqliteFixture : QuotaFixture
{
    public override string Provider => "Sqlite";
}

public sealed class QuotaPostgresFixture : QuotaFixture
{
    public override string Provider => "Postgres";
}

/// <summary>
/// Each quota, exceeded: RESOURCE_EXHAUSTED naming it, and not one row or event written; freeing a place (delete,
/// revoke) lets the next create through; concurrent creates at the edge never pass the limit.
/// </summary>
public abstract class QuotaTests(QuotaFixture fixture)
{
    private static readonly string[] Tables = ["profiles", "profile_versions", "offers", "pre_authorized_codes", "offer_requests", "api_keys", "events", "tenants"];

    [Fact]
    public async Task CreateProfile_BeyondTheQuota_IsResourceExhausted_WritesNothing_AndDeletingOneFreesAPlace()
    {
        var tenant = await fixture.CreateTenantAsync();
        var made = new List<Profile>();
        for (var i = 0; i < QuotaFixture.Profiles; i++) made.Add(await ServerFixture.CreateProfileAsync(tenant));

        var before = await DatabaseSnapshot.TakeAsync(fixture);
        await RpcAssert.QuotaExceededAsync(() => ServerFixture.CreateProfileAsync(tenant), "profiles_per_tenant", QuotaFixture.Profiles, tenant.Name);
        AssertUnchanged(before, await DatabaseSnapshot.TakeAsync(fixture));

        await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = made[0].Name });
        await ServerFixture.CreateProfileAsync(tenant);
    }

    [Fact]
    public async Task UpdateProfile_BeyondTheVersionQuota_IsResourceExhausted_AndTheProfileStaysAsItWas()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        for (var version = 2; version <= QuotaFixture.Versions; version++) await UpdateVctAsync(tenant, profile, "v" + version);

        var before = await DatabaseSnapshot.TakeAsync(fixture);
        await RpcAssert.QuotaExceededAsync(() => UpdateVctAsync(tenant, profile, "too-many"), "versions_per_profile", QuotaFixture.Versions, profile.Name);
        AssertUnchanged(before, await DatabaseSnapshot.TakeAsync(fixture));

        var stored = await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name });
        Assert.Equal("v" + QuotaFixture.Versions, stored.Profile.Vct);
    }

    [Fact]
    public async Task CreateOffer_BeyondTheLiveOfferQuota_IsResourceExhausted_WritesNoOfferEventOrReplay_AndRevokingOneFreesAPlace()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var made = new List<CreateOfferResponse>();
        for (var i = 0; i < QuotaFixture.LiveOffers; i++) made.Add(await ServerFixture.CreateOfferAsync(tenant, profile));

        var before = await DatabaseSnapshot.TakeAsync(fixture);
        await RpcAssert.QuotaExceededAsync(() => ServerFixture.CreateOfferAsync(tenant, profile, r => r.RequestId = "retry-me"),
            "live_offers_per_tenant", QuotaFixture.LiveOffers, tenant.Name);
        AssertUnchanged(before, await DatabaseSnapshot.TakeAsync(fixture));

        // The refused request_id recorded nothing: once a place is free the same request creates a new offer.
        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = made[0].Offer.Name });
        var created = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.RequestId = "retry-me");
        Assert.DoesNotContain(made, m => m.Offer.Name == created.Offer.Name);
    }

    [Fact]
    public async Task CreateOffer_ExpiredOffersDoNotCount()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        for (var i = 0; i < QuotaFixture.LiveOffers; i++) await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Lifetime = Samples.Minutes(5));
        await RpcAssert.FailsAsync(StatusCode.ResourceExhausted, "QUOTA_EXCEEDED", () => ServerFixture.CreateOfferAsync(tenant, profile));

        fixture.Time.Advance(TimeSpan.FromMinutes(6));
        await ServerFixture.CreateOfferAsync(tenant, profile);
    }

    [Fact]
    public async Task CreateApiKey_BeyondTheQuota_IsResourceExhausted_WritesNothing_AndRevokingOneFreesAPlace()
    {
        // The tenant's own test key is its first.
        var tenant = await fixture.CreateTenantAsync();
        ApiKey? last = null;
        for (var i = 1; i < QuotaFixture.ApiKeys; i++) last = (await CreateKeyAsync(tenant)).ApiKey;

        var before = await DatabaseSnapshot.TakeAsync(fixture);
        await RpcAssert.QuotaExceededAsync(() => CreateKeyAsync(tenant), "api_keys_per_tenant", QuotaFixture.ApiKeys, tenant.Name);
        AssertUnchanged(before, await DatabaseSnapshot.TakeAsync(fixture));

        await fixture.Admin.Tenants.RevokeApiKeyAsync(new RevokeApiKeyRequest { Name = last!.Name });
        await CreateKeyAsync(tenant);
    }

    [Fact]
    public async Task ConcurrentCreateOffers_AtTheQuotaEdge_NeverExceedIt()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        const int attempts = 16;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, attempts).Select(async _ =>
        {
            try
            {
                await ServerFixture.CreateOfferAsync(tenant, profile);
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }));

        Assert.Equal(QuotaFixture.LiveOffers, outcomes.Count(o => o == StatusCode.OK));
        Assert.Equal(attempts - QuotaFixture.LiveOffers, outcomes.Count(o => o == StatusCode.ResourceExhausted));
        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.Equal(QuotaFixture.LiveOffers, after["offers"].Count(r => r["tenant_id"] == tenant.TenantId));
        var log = await fixture.ReadEventsUntilCountAsync(tenant.TenantId, "offer.created", QuotaFixture.LiveOffers);
        Assert.Equal(QuotaFixture.LiveOffers, log.Count(e => e.Type == "offer.created"));
    }

    [Fact]
    public async Task ConcurrentCreateProfiles_AtTheQuotaEdge_NeverExceedIt()
    {
        var tenant = await fixture.CreateTenantAsync();
        const int attempts = 10;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, attempts).Select(async _ =>
        {
            try
            {
                await ServerFixture.CreateProfileAsync(tenant);
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }));

        Assert.Equal(QuotaFixture.Profiles, outcomes.Count(o => o == StatusCode.OK));
        Assert.Equal(attempts - QuotaFixture.Profiles, outcomes.Count(o => o == StatusCode.ResourceExhausted));
        // The bounded counts are well-defined queries: EF warns of none (a row limit without an order is warning 10102).
        Assert.DoesNotContain(fixture.Host.Logs.Entries, e => e.Contains("Microsoft.EntityFrameworkCore.Query", StringComparison.Ordinal));
        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.Equal(QuotaFixture.Profiles, after["profiles"].Count(r => r["tenant_id"] == tenant.TenantId));
    }

    private Task<CreateApiKeyResponse> CreateKeyAsync(TestTenant tenant) =>
        fixture.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "more" }).ResponseAsync;

    private static Task<UpdateProfileResponse> UpdateVctAsync(TestTenant tenant, Profile profile, string vct) =>
        tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
        {
            Profile = new Profile { Name = profile.Name, Vct = vct },
            UpdateMask = new FieldMask { Paths = { "vct" } },
        }).ResponseAsync;

    private static void AssertUnchanged(DatabaseSnapshot before, DatabaseSnapshot after)
    {
        foreach (var table in Tables) Assert.True(before.Checksum(table) == after.Checksum(table), $"{table} changed");
    }
}

public sealed class QuotaTests_Sqlite(QuotaSqliteFixture fixture) : QuotaTests(fixture), IClassFixture<QuotaSqliteFixture>;

public sealed class QuotaTests_Postgres(QuotaPostgresFixture fixture) : QuotaTests(fixture), IClassFixture<QuotaPostgresFixture>;
