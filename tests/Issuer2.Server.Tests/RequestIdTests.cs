using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>CreateOffer's request_id: a retry returns the identical response and creates nothing; other parameters are refused.</summary>
public abstract class RequestIdTests(ServerFixture fixture)
{
    [Fact]
    public async Task CreateOffer_RetriedWithSameRequestId_ReturnsTheSameUrlPinAndOffer_AndCreatesNothing()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var requestId = "order-" + Guid.NewGuid();
        var request = new CreateOfferRequest
        {
            Parent = tenant.Name,
            Profile = profile.Name,
            RequestId = requestId,
            MaxUses = 3,
            TxCode = new TxCodeOptions { Length = 8, Description = "PIN from the letter" },
        };
        request.Overrides.Add(Samples.StringValue("Anna", "given_name"));

        var first = await tenant.Clients.Offers.CreateOfferAsync(request);
        fixture.Time.Advance(TimeSpan.FromMinutes(10));
        var retry = await tenant.Clients.Offers.CreateOfferAsync(request.Clone());

        Assert.Equal(first.OfferUrl, retry.OfferUrl);
        Assert.Equal(first.TxCode, retry.TxCode);
        Assert.Equal(first.Offer.Name, retry.Offer.Name);
        Assert.Equal(first.Offer.CreateTime, retry.Offer.CreateTime);
        Assert.Equal(first.Offer.ExpireTime, retry.Offer.ExpireTime);
        Assert.Equal(first.Offer, retry.Offer);

        var listed = await OfferServiceTests.ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name });
        Assert.Equal(first.Offer.Name, Assert.Single(listed).Name);

        // Exactly one offer.created, even after a later write has shown up in the log.
        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = first.Offer.Name });
        var events = await fixture.ReadEventsUntilAsync(tenant.TenantId, e => e.Type == "offer.revoked");
        Assert.Single(events, e => e.Type == "offer.created");
    }

    [Fact]
    public async Task CreateOffer_RetriedByValueWithQrCode_ReturnsTheSameUrl()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var request = new CreateOfferRequest
        {
            Parent = tenant.Name,
            Profile = profile.Name,
            RequestId = Guid.NewGuid().ToString(),
            DeliveryMode = DeliveryMode.ByValue,
            TxCode = new TxCodeOptions(),
            IncludeQrCode = true,
        };

        var first = await tenant.Clients.Offers.CreateOfferAsync(request);
        var retry = await tenant.Clients.Offers.CreateOfferAsync(request);

        Assert.Equal(first.OfferUrl, retry.OfferUrl);
        Assert.Equal(first.TxCode, retry.TxCode);
        Assert.Equal(first.Offer, retry.Offer);
        Assert.Equal(first.QrCode.Svg, retry.QrCode.Svg);
        Assert.Single(await OfferServiceTests.ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name }));
    }

    public static TheoryData<string> ConflictingChanges => new()
    {
        "max_uses", "lifetime", "pin", "overrides", "delivery_mode", "profile",
    };

    [Theory]
    [MemberData(nameof(ConflictingChanges))]
    public async Task CreateOffer_SameRequestIdWithOtherParameters_IsAlreadyExistsRequestIdConflict(string change)
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var other = await ServerFixture.CreateProfileAsync(tenant);
        var request = new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name, RequestId = Guid.NewGuid().ToString() };
        var first = await tenant.Clients.Offers.CreateOfferAsync(request);

        var conflicting = request.Clone();
        switch (change)
        {
            case "max_uses": conflicting.MaxUses = 2; break;
            case "lifetime": conflicting.Lifetime = Samples.Hours(2); break;
            case "pin": conflicting.TxCode = new TxCodeOptions(); break;
            case "overrides": conflicting.Overrides.Add(Samples.StringValue("Anna", "given_name")); break;
            case "delivery_mode": conflicting.DeliveryMode = DeliveryMode.ByValue; break;
            case "profile": conflicting.Profile = other.Name; break;
            default: throw new ArgumentOutOfRangeException(nameof(change), change, "unknown change");
        }

        await RpcAssert.FailsAsync(StatusCode.AlreadyExists, "REQUEST_ID_CONFLICT", async () =>
            await tenant.Clients.Offers.CreateOfferAsync(conflicting));

        var listed = await OfferServiceTests.ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name });
        Assert.Equal(first.Offer.Name, Assert.Single(listed).Name);
    }

    [Fact]
    public async Task CreateOffer_SameRequestIdInAnotherTenant_CreatesAnIndependentOffer()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var profileA = await ServerFixture.CreateProfileAsync(a);
        var profileB = await ServerFixture.CreateProfileAsync(b, p => p.ProfileId = profileA.ProfileId);
        var requestId = Guid.NewGuid().ToString();

        var inA = await CreateInAsync(a, profileA);
        var inB = await CreateInAsync(b, profileB);

        Assert.NotEqual(inA.OfferUrl, inB.OfferUrl);
        Assert.StartsWith(b.Name + "/offers/", inB.Offer.Name, StringComparison.Ordinal);
        Assert.Single(await OfferServiceTests.ListAllAsync(a, new ListOffersRequest { Parent = a.Name }));
        Assert.Single(await OfferServiceTests.ListAllAsync(b, new ListOffersRequest { Parent = b.Name }));

        async Task<CreateOfferResponse> CreateInAsync(TestTenant tenant, Profile profile) =>
            await tenant.Clients.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name, RequestId = requestId });
    }

    [Fact]
    public async Task CreateOffer_WithoutRequestId_CreatesEachTime()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var request = new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name };

        var first = await tenant.Clients.Offers.CreateOfferAsync(request);
        var second = await tenant.Clients.Offers.CreateOfferAsync(request);

        Assert.NotEqual(first.Offer.Name, second.Offer.Name);
        Assert.NotEqual(first.OfferUrl, second.OfferUrl);
        Assert.Equal(2, (await OfferServiceTests.ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name })).Count);
    }
}

public sealed class RequestIdTests_Sqlite(SqliteServerFixture fixture)
    : RequestIdTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class RequestIdTests_Postgres(PostgresServerFixture fixture)
    : RequestIdTests(fixture), IClassFixture<PostgresServerFixture>;
