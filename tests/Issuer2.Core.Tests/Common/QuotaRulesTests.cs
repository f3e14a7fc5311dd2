using System.Text;
using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Profiles;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Common;

/// <summary>The quota rule, the claim value bounds and the page rule, each as Core states it.</summary>
public sealed class QuotaRulesTests
{
    [Fact]
    public async Task CreateOffer_AtTheLiveOfferQuota_IsResourceExhaustedNamingIt_AndCommitsNothing()
    {
        var bed = new TestBed(QuotaLimits.Default with { LiveOffers = 2 });
        bed.SeedTenant();
        bed.SeedProfile();
        Assert.True((await bed.CreateOfferAsync(TestBed.Command())).IsSuccess);
        Assert.True((await bed.CreateOfferAsync(TestBed.Command())).IsSuccess);
        var events = bed.Db.Events.Count;

        var refused = await bed.CreateOfferAsync(TestBed.Command(requestId: "r1"));

        Assert.Equal(ErrorKind.ResourceExhausted, refused.Error!.Kind);
        Assert.Equal(ErrorReasons.QuotaExceeded, refused.Error!.Reason);
        Assert.Equal(new QuotaViolation("live_offers_per_tenant", 2, "tenants/acme", refused.Error!.Message), refused.Error!.Quota);
        Assert.Equal(2, bed.Db.Offers.Count);
        Assert.Empty(bed.Db.OfferRequests);
        Assert.Equal(events, bed.Db.Events.Count);
    }

    [Fact]
    public async Task CreateProfile_AtTheProfileQuota_IsRefused_AndOtherTenantsAreNotCounted()
    {
        var bed = new TestBed(QuotaLimits.Default with { Profiles = 1 });
        bed.SeedTenant();
        bed.SeedTenant(TestBed.OtherTenantId);
        bed.SeedProfile();

        var refused = await bed.Profiles.CreateAsync(TestBed.AcmeKey, TestBed.TenantId, "second", new ProfileInput(Vct: "https://x.example/v"), default);
        var elsewhere = await bed.Profiles.CreateAsync(TestBed.GlobexKey, TestBed.OtherTenantId, "first", new ProfileInput(Vct: "https://x.example/v"), default);

        Assert.Equal("profiles_per_tenant", refused.Error!.Quota?.Quota);
        Assert.True(elsewhere.IsSuccess);
        Assert.Single(bed.Db.Profiles, p => p.TenantId == TestBed.TenantId);
    }

    [Fact]
    public async Task CreateApiKey_CountsOnlyLiveKeys()
    {
        var bed = new TestBed(QuotaLimits.Default with { ApiKeys = 1 });
        bed.SeedTenant();
        var first = await bed.ApiKeys.CreateAsync(TestBed.Admin, TestBed.TenantId, "one", bed.Clock.GetUtcNow().AddMinutes(1), default);
        var refused = await bed.ApiKeys.CreateAsync(TestBed.Admin, TestBed.TenantId, "two", null, default);
        bed.Clock.Advance(TimeSpan.FromMinutes(2));
        var afterExpiry = await bed.ApiKeys.CreateAsync(TestBed.Admin, TestBed.TenantId, "three", null, default);

        Assert.True(first.IsSuccess);
        Assert.Equal("api_keys_per_tenant", refused.Error!.Quota?.Quota);
        Assert.True(afterExpiry.IsSuccess);
    }

    [Fact]
    public void CheckValues_TooLargeOrTooDeep_NamesEachValue()
    {
        var bounds = new ClaimValueBounds(MaxValueBytes: 20, MaxTotalBytes: 30, MaxDepth: 2);
        ClaimDefinition[] claims = [TestBed.Claim("a"), TestBed.Claim("b", ClaimValueType.Object), TestBed.Claim("c")];
        var v = new Violations();

        ProfileRules.CheckValues(v, "overrides", claims,
        [
            new ClaimValue(["a"], TestBed.Json("\"" + new string('x', 30) + "\"")),
            new ClaimValue(["b"], TestBed.Json("{\"x\":{\"y\":{\"z\":1}}}")),
            new ClaimValue(["c"], TestBed.Json("\"fits\"")),
        ], bounds);

        Assert.Equal(["overrides[0].value", "overrides[1].value", "overrides"], v.Items.Select(i => i.Field));
    }

    [Theory]
    [InlineData("\"x\"", 0)]
    [InlineData("[1,2]", 1)]
    [InlineData("{\"a\":[{\"b\":1}]}", 3)]
    public void DepthOf_CountsNesting(string json, int depth) => Assert.Equal(depth, ClaimValueBounds.DepthOf(TestBed.Json(json)));

    [Fact]
    public void SizeOf_IsTheCompactUtf8Json() => Assert.Equal(Encoding.UTF8.GetByteCount("{\"a\":\"é\"}"), ClaimValueBounds.SizeOf(TestBed.Json("{ \"a\" : \"é\" }")));

    [Theory]
    [InlineData("data:image/png;base64,iVBORw0KGgo=")]
    [InlineData("http://logo.example/a.png")]
    [InlineData("https:///nohost.png")]
    public void CheckLogo_OtherThanAnHttpsUrl_IsRefused(string uri)
    {
        var v = new Violations();
        DisplayRules.CheckLogo(v, "display[0].logo", new Logo(uri, null));
        Assert.Equal("display[0].logo.uri", Assert.Single(v.Items).Field);
    }

    [Fact]
    public void Cut_StopsBeforeTheBudget_KeepsAtLeastOne_AndSaysMoreFollow()
    {
        var budget = new PageBudget<int>(PageSizes.Reserve + 100, n => n);

        var (fits, more) = PageSizes.Cut([40, 40, 40, 40], 10, budget);
        var (oversized, moreAfterOversized) = PageSizes.Cut([500, 1], 10, budget);
        var (all, none) = PageSizes.Cut([10, 10], 10, budget);
        var (counted, moreByCount) = PageSizes.Cut([1, 1, 1], 2, budget);

        Assert.Equal([40, 40], fits);
        Assert.True(more);
        Assert.Equal([500], oversized);
        Assert.True(moreAfterOversized);
        Assert.Equal([10, 10], all);
        Assert.False(none);
        Assert.Equal([1, 1], counted);
        Assert.True(moreByCount);
    }
}

/// <summary>Per-host memory that tenants fill is bounded.</summary>
public sealed class HostMemoryBoundsTests
{
    [Fact]
    public void TenantSnapshotCache_PastItsCapacity_EvictsInsteadOfGrowing()
    {
        var bed = new TestBed();
        var cache = new Issuer2.Core.Metadata.TenantSnapshotCache(capacity: 2);

        foreach (var id in new[] { "t-one", "t-two", "t-three" })
            cache.Put(new Issuer2.Core.Metadata.TenantSnapshot(bed.SeedTenant(id), [], [], 1));

        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet("t-three", 1, out _));
    }

    [Fact]
    public void EventStreams_ATenantWithoutStreams_LeavesNoEntry()
    {
        var bed = new TestBed();

        Assert.True(bed.Streams.TryOpen("t-one", 2));
        Assert.True(bed.Streams.TryOpen("t-one", 2));
        Assert.False(bed.Streams.TryOpen("t-two", 0));
        var whileOpen = bed.Streams.TenantsWithStreams;
        bed.Streams.Close("t-one");
        bed.Streams.Close("t-one");

        Assert.Equal(1, whileOpen);
        Assert.Equal(0, bed.Streams.TenantsWithStreams);
        Assert.Equal(0, bed.Streams.Active);
    }
}
