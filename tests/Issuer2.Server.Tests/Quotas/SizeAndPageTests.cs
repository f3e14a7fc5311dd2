using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Quotas;

/// <summary>
/// Sizes: claim values past their bounds and logos that are not https URLs are INVALID_ARGUMENT naming the field,
/// writing nothing; list pages stop before the byte budget and together list every item once.
/// </summary>
public abstract class SizeAndPageTests(QuotaFixture fixture)
{
    /// <summary>Just under the default bound of one claim value (16 KiB of JSON).</summary>
    private static readonly string LargeName = new('x', 15_000);

    [Fact]
    public async Task CreateOffer_WithAnOverrideOverTheByteBound_IsInvalid_NamingIt_AndWritesNothing()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        await RpcAssert.InvalidAsync(() => ServerFixture.CreateOfferAsync(tenant, profile,
            r => r.Overrides.Add(Samples.StringValue(new string('x', 17_000), "given_name"))), "overrides[0].value");

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.Equal(before.Checksum("offers"), after.Checksum("offers"));
        Assert.Equal(before.Checksum("events"), after.Checksum("events"));
    }

    [Fact]
    public async Task CreateProfile_WithADefaultOverTheByteBound_OrADataLogo_IsInvalid_NamingEachField()
    {
        var tenant = await fixture.CreateTenantAsync();

        var bad = await RpcAssert.InvalidAsync(() => ServerFixture.CreateProfileAsync(tenant, p =>
        {
            p.DefaultValues[0] = Samples.StringValue(new string('y', 17_000), "given_name");
            p.Display[0].Logo = new Logo { Uri = "data:image/png;base64,iVBORw0KGgo=" };
        }), "profile.default_values[0].value");

        Assert.Contains(bad.FieldViolations, v => v.Field == "profile.display[0].logo.uri");
    }

    [Fact]
    public async Task ListOffers_WithLargeOverrides_PagesStayUnderTheBudget_AndListEveryOfferOnce()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var made = new HashSet<string>(StringComparer.Ordinal);
        // Live offers are capped at 4: revoked ones stay listed and free their place.
        for (var i = 0; i < 10; i++)
        {
            var offer = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Overrides.Add(Samples.StringValue(LargeName, "given_name")));
            made.Add(offer.Offer.Name);
            await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name });
        }

        var listed = new List<string>();
        var pages = 0;
        var token = "";
        do
        {
            var page = await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name, PageSize = 200, PageToken = token });
            Assert.InRange(page.CalculateSize(), 1, QuotaFixture.PageBytes);
            Assert.NotEmpty(page.Offers);
            listed.AddRange(page.Offers.Select(o => o.Name));
            token = page.NextPageToken;
            pages++;
        }
        while (token != "");

        Assert.True(pages >= 3, $"10 offers of about 15 KB in 64 KiB pages took {pages} pages");
        Assert.Equal(made.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ListProfiles_WithLargeDefaults_PagesStayUnderTheBudget_AndListEveryProfileOnce()
    {
        var tenant = await fixture.CreateTenantAsync();
        var made = new List<string>();
        for (var i = 0; i < QuotaFixture.Profiles; i++)
        {
            var p = await ServerFixture.CreateProfileAsync(tenant, p =>
            {
                p.DefaultValues[0] = Samples.StringValue(LargeName, "given_name");
                p.DefaultValues[1] = Samples.StringValue(LargeName, "family_name");
            });
            made.Add(p.Name);
        }

        // Two profiles of about 30 KB each (two large defaults) fill a 64 KiB page.
        var first = await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name });
        var rest = await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name, PageToken = first.NextPageToken });

        Assert.InRange(first.CalculateSize(), 1, QuotaFixture.PageBytes);
        Assert.NotEqual("", first.NextPageToken);
        Assert.Equal(made.Order(StringComparer.Ordinal), first.Profiles.Concat(rest.Profiles).Select(p => p.Name).Order(StringComparer.Ordinal));
    }
}

public sealed class SizeAndPageTests_Sqlite(QuotaSqliteFixture fixture) : SizeAndPageTests(fixture), IClassFixture<QuotaSqliteFixture>;

public sealed class SizeAndPageTests_Postgres(QuotaPostgresFixture fixture) : SizeAndPageTests(fixture), IClassFixture<QuotaPostgresFixture>;
