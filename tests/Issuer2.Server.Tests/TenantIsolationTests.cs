using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>Tenant B's key cannot see or touch tenant A's profiles and offers: NOT_FOUND, as if they did not exist.</summary>
public abstract class TenantIsolationTests(ServerFixture fixture)
{
    [Fact]
    public async Task OtherTenant_CannotReadListUpdateOrDeleteProfiles()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var profileOfA = await ServerFixture.CreateProfileAsync(a);
        await ServerFixture.CreateProfileAsync(b);

        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profileOfA.Name }));
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = a.Name }));
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
            {
                Profile = new Profile { Name = profileOfA.Name, Vct = "https://evil.example" },
                UpdateMask = new FieldMask { Paths = { "vct" } },
            }));
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profileOfA.Name, RevokeOffers = true }));

        var listOfB = (await b.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = b.Name })).Profiles;
        Assert.Single(listOfB);
        Assert.DoesNotContain(listOfB, p => p.Name.StartsWith(a.Name + "/", StringComparison.Ordinal));

        var stillThere = (await a.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profileOfA.Name })).Profile;
        Assert.Equal(profileOfA, stillThere);
    }

    [Fact]
    public async Task OtherTenant_CannotReadListRevokeOrUseOffers()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var profileOfA = await ServerFixture.CreateProfileAsync(a);
        var profileOfB = await ServerFixture.CreateProfileAsync(b);
        var offerOfA = await ServerFixture.CreateOfferAsync(a, profileOfA);
        var offerOfB = await ServerFixture.CreateOfferAsync(b, profileOfB);

        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offerOfA.Offer.Name }));
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = a.Name }));
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offerOfA.Offer.Name }));
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = a.Name, Profile = profileOfA.Name }));
        // B's own parent with A's profile: refused exactly as a profile that does not exist.
        var withAsProfile = await RpcAssert.UnknownReferenceAsync(
            async () => await b.Clients.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = b.Name, Profile = profileOfA.Name }),
            "profile");
        var withNoProfile = await RpcAssert.UnknownReferenceAsync(
            async () => await b.Clients.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = b.Name, Profile = $"{a.Name}/profiles/{ServerFixture.NewProfileId()}" }),
            "profile");
        Assert.Equal(withNoProfile.StatusCode, withAsProfile.StatusCode);
        // Nor may B name A's profile as its own.
        await RpcAssert.UnknownReferenceAsync(
            async () => await b.Clients.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = b.Name, Profile = $"{b.Name}/profiles/{profileOfA.ProfileId}" }),
            "profile");

        // The same offer id under B's name is not A's offer either.
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = $"{b.Name}/offers/{offerOfA.Offer.OfferId}" }));
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = $"{b.Name}/offers/{offerOfA.Offer.OfferId}" }));

        var listOfB = await OfferServiceTests.ListAllAsync(b, new ListOffersRequest { Parent = b.Name });
        Assert.Equal(offerOfB.Offer.Name, Assert.Single(listOfB).Name);
        // Filtering B's offers by A's profile shows none of A's: an empty list, or a refusal naming the filter.
        try
        {
            var filtered = await OfferServiceTests.ListAllAsync(b, new ListOffersRequest { Parent = b.Name, Profile = profileOfA.Name });
            Assert.Empty(filtered);
        }
        catch (RpcException ex)
        {
            await RpcAssert.UnknownReferenceAsync(() => Task.FromException(ex), "profile");
        }

        var ofA = (await a.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offerOfA.Offer.Name })).Offer;
        Assert.Equal(OfferState.Active, ofA.State);
        Assert.Single(await OfferServiceTests.ListAllAsync(a, new ListOffersRequest { Parent = a.Name }));
    }

    [Fact]
    public async Task OtherTenant_ProfileWithSameId_IsASeparateProfile()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var profileOfA = await ServerFixture.CreateProfileAsync(a);
        var profileOfB = await ServerFixture.CreateProfileAsync(b, p =>
        {
            p.ProfileId = profileOfA.ProfileId;
            p.Vct = "https://b.example/vct";
        });
        await ServerFixture.CreateOfferAsync(a, profileOfA);

        // Deleting B's profile of the same id is not blocked by A's offer and leaves A's profile alone.
        await b.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profileOfB.Name });

        var stillThere = (await a.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profileOfA.Name })).Profile;
        Assert.Equal(profileOfA.Vct, stillThere.Vct);
    }

    [Fact]
    public async Task TenantKey_GetTenant_SeesOnlyItsOwnTenant()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();

        var own = (await b.Clients.Tenants.GetTenantAsync(new GetTenantRequest { Name = b.Name })).Tenant;
        Assert.Equal(b.TenantId, own.TenantId);
        await RpcAssert.NotFoundAsync(async () =>
            await b.Clients.Tenants.GetTenantAsync(new GetTenantRequest { Name = a.Name }));
    }
}

public sealed class TenantIsolationTests_Sqlite(SqliteServerFixture fixture)
    : TenantIsolationTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class TenantIsolationTests_Postgres(PostgresServerFixture fixture)
    : TenantIsolationTests(fixture), IClassFixture<PostgresServerFixture>;
