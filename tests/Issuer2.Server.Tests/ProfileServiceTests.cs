using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests;

/// <summary>ProfileService: create, read, list, update (versions) and delete credential profiles.</summary>
public abstract class ProfileServiceTests(ServerFixture fixture)
{
    [Fact]
    public async Task CreateProfile_ReturnsVersionOneWithDefaults()
    {
        var tenant = await fixture.CreateTenantAsync();
        var request = Samples.Profile(ServerFixture.NewProfileId());
        request.CredentialValidity = null;

        var profile = (await tenant.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = request })).Profile;

        Assert.Equal($"{tenant.Name}/profiles/{request.ProfileId}", profile.Name);
        Assert.Equal(request.ProfileId, profile.ProfileId);
        Assert.Equal(request.ProfileId, profile.Scope);
        Assert.Equal(CredentialFormat.DcSdJwt, profile.Format);
        Assert.Equal(request.Vct, profile.Vct);
        Assert.Equal(request.Display, profile.Display);
        Assert.Equal(request.Claims.Select(c => string.Join('.', c.Path)), profile.Claims.Select(c => string.Join('.', c.Path)));
        Assert.Equal(request.Claims.Select(c => c.ValueType), profile.Claims.Select(c => c.ValueType));
        Assert.All(profile.Claims, c => Assert.True(c.SelectivelyDisclosable));
        Assert.Equal(request.DefaultValues, profile.DefaultValues);
        Assert.Equal(TimeSpan.FromDays(365), profile.CredentialValidity.ToTimeSpan());
        Assert.Equal(1, profile.Version);
        Assert.Equal(fixture.Now, profile.CreateTime.ToDateTimeOffset());
        Assert.Equal(fixture.Now, profile.UpdateTime.ToDateTimeOffset());
    }

    [Theory]
    [InlineData(CredentialFormat.MsoMdoc, "mso_mdoc is not issued yet")]
    [InlineData(CredentialFormat.JwtVcJson, "jwt_vc_json is not issued yet")]
    [InlineData((CredentialFormat)99, "not a known credential format")]
    public async Task CreateProfile_InAFormatNotIssued_IsInvalidArgumentOnFormatAndWritesNothing(CredentialFormat format, string reason)
    {
        var tenant = await fixture.CreateTenantAsync();
        var request = Samples.Profile(ServerFixture.NewProfileId());
        request.Format = format;

        var bad = await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = request }),
            "profile.format");

        Assert.Contains(reason, Assert.Single(bad.FieldViolations, v => v.Field == "profile.format").Description, StringComparison.Ordinal);
        Assert.Empty((await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name })).Profiles);
    }

    [Fact]
    public async Task CreateProfile_SdJwtWithMembersOfOtherFormats_NamesEachOne()
    {
        var tenant = await fixture.CreateTenantAsync();
        var request = Samples.Profile(ServerFixture.NewProfileId());
        request.Doctype = "org.iso.18013.5.1.mDL";
        request.CredentialTypes.Add("VerifiableCredential");

        var bad = await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = request }),
            "profile.doctype");

        Assert.Equal(["profile.doctype", "profile.credential_types"], bad.FieldViolations.Select(v => v.Field));
    }

    [Fact]
    public async Task CreateProfile_KeepsScopeValidityAndClaimFlags()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, p =>
        {
            p.Scope = "identity_credential";
            p.CredentialValidity = Samples.Days(90);
            p.Claims[0].Mandatory = true;
            p.Claims[1].SelectivelyDisclosable = false;
        });

        var read = (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile;

        Assert.Equal(profile, read);
        Assert.Equal("identity_credential", read.Scope);
        Assert.Equal(TimeSpan.FromDays(90), read.CredentialValidity.ToTimeSpan());
        Assert.True(read.Claims[0].Mandatory);
        Assert.False(read.Claims[1].SelectivelyDisclosable);
    }

    [Fact]
    public async Task CreateProfile_WithTakenId_IsAlreadyExists()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        await RpcAssert.FailsAsync(StatusCode.AlreadyExists, "ALREADY_EXISTS", async () =>
            await tenant.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest
            {
                Parent = tenant.Name,
                Profile = Samples.Profile(profile.ProfileId),
            }));
    }

    [Fact]
    public async Task CreateProfile_WithScopeOfAnotherProfile_IsAlreadyExistsScopeInUse()
    {
        var tenant = await fixture.CreateTenantAsync();
        var first = await ServerFixture.CreateProfileAsync(tenant, p => p.Scope = "shared_scope");

        await RpcAssert.FailsAsync(StatusCode.AlreadyExists, "SCOPE_IN_USE", async () =>
            await ServerFixture.CreateProfileAsync(tenant, p => p.Scope = first.Scope));
    }

    [Fact]
    public async Task CreateProfile_SameIdInAnotherTenant_IsAllowed()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var inA = await ServerFixture.CreateProfileAsync(a);

        var inB = await ServerFixture.CreateProfileAsync(b, p => p.ProfileId = inA.ProfileId);

        Assert.Equal($"{b.Name}/profiles/{inA.ProfileId}", inB.Name);
    }

    [Fact]
    public async Task ListProfiles_PagesInIdOrder()
    {
        var tenant = await fixture.CreateTenantAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await ServerFixture.CreateProfileAsync(tenant)).ProfileId);
        }

        var seen = new List<string>();
        var token = "";
        do
        {
            var page = await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name, PageSize = 2, PageToken = token });
            Assert.True(page.Profiles.Count <= 2);
            seen.AddRange(page.Profiles.Select(p => p.ProfileId));
            token = page.NextPageToken;
            Assert.True(seen.Count < 100, "the page tokens never end");
        }
        while (token.Length > 0);

        Assert.Equal(ids.Order(StringComparer.Ordinal), seen);
    }

    [Fact]
    public async Task UpdateProfile_WithMask_MakesTheNextVersionAndChangesOnlyMaskedFields()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        fixture.Time.Advance(TimeSpan.FromMinutes(5));

        var change = new Profile { Name = profile.Name, Vct = "https://credentials.example.com/v2", Scope = "not_in_mask" };
        var updated = (await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
        {
            Profile = change,
            UpdateMask = Mask("vct"),
        })).Profile;

        Assert.Equal(2, updated.Version);
        Assert.Equal("https://credentials.example.com/v2", updated.Vct);
        Assert.Equal(profile.Scope, updated.Scope);
        Assert.Equal(profile.Claims, updated.Claims);
        Assert.Equal(profile.Display, updated.Display);
        Assert.Equal(profile.CreateTime, updated.CreateTime);
        Assert.Equal(fixture.Now, updated.UpdateTime.ToDateTimeOffset());

        var read = (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile;
        Assert.Equal(updated, read);

        var again = (await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
        {
            Profile = new Profile { Name = profile.Name, CredentialValidity = Samples.Days(7) },
            UpdateMask = Mask("credential_validity"),
        })).Profile;
        Assert.Equal(3, again.Version);
        Assert.Equal(TimeSpan.FromDays(7), again.CredentialValidity.ToTimeSpan());
    }

    [Fact]
    public async Task UpdateProfile_ClaimsAndDefaults_ValidatesTheWholeResult()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        // Replacing the claims alone would leave defaults for claims that no longer exist.
        var onlyEmail = new Profile { Name = profile.Name };
        onlyEmail.Claims.Add(Samples.Claim(ClaimValueType.String, "email"));
        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest { Profile = onlyEmail, UpdateMask = Mask("claims") }),
            "profile.default_values");
        Assert.Equal(1, (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile.Version);

        onlyEmail.DefaultValues.Add(Samples.StringValue("erika@example.com", "email"));
        var updated = (await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
        {
            Profile = onlyEmail,
            UpdateMask = Mask("claims", "default_values"),
        })).Profile;
        Assert.Equal(2, updated.Version);
        Assert.Equal("email", Assert.Single(Assert.Single(updated.Claims).Path));
        Assert.Equal(onlyEmail.DefaultValues, updated.DefaultValues);
    }

    [Fact]
    public async Task UpdateProfile_WithoutMask_IsInvalidArgumentNamingUpdateMask()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest { Profile = new Profile { Name = profile.Name, Vct = "x" } }),
            "update_mask");
    }

    [Theory]
    [InlineData("profile_id")]
    [InlineData("format")]
    [InlineData("version")]
    [InlineData("name")]
    [InlineData("no_such_field")]
    public async Task UpdateProfile_WithMaskOfAFieldThatCannotChange_IsInvalidArgumentNamingUpdateMask(string path)
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
            {
                Profile = new Profile { Name = profile.Name, ProfileId = "other" },
                UpdateMask = Mask(path),
            }),
            "update_mask");
        Assert.Equal(profile, (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile);
    }

    [Fact]
    public async Task UpdateProfile_Unknown_IsNotFound()
    {
        var tenant = await fixture.CreateTenantAsync();

        await RpcAssert.NotFoundAsync(async () => await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
        {
            Profile = new Profile { Name = $"{tenant.Name}/profiles/nope", Vct = "x" },
            UpdateMask = Mask("vct"),
        }));
    }

    [Fact]
    public async Task DeleteProfile_RemovesIt_AndTheIdCanBeUsedAgain()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var deleted = await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name });

        Assert.Equal(0, deleted.RevokedOfferCount);
        await RpcAssert.NotFoundAsync(async () => await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name }));
        await RpcAssert.NotFoundAsync(async () => await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name }));
        Assert.Empty((await tenant.Clients.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name })).Profiles);

        var again = await ServerFixture.CreateProfileAsync(tenant, p => p.ProfileId = profile.ProfileId);
        Assert.Equal(1, again.Version);
    }

    [Fact]
    public async Task UpdateProfile_AfterAnOffer_OfferKeepsVersionOneAndNewOffersTakeVersionTwo()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var before = await ServerFixture.CreateOfferAsync(tenant, profile);
        Assert.Equal(1, before.Offer.ProfileVersion);

        await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
        {
            Profile = new Profile { Name = profile.Name, Vct = "https://credentials.example.com/v2" },
            UpdateMask = Mask("vct"),
        });
        var after = await ServerFixture.CreateOfferAsync(tenant, profile);

        Assert.Equal(1, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = before.Offer.Name })).Offer.ProfileVersion);
        Assert.Equal(2, after.Offer.ProfileVersion);
    }

    [Fact]
    public async Task DeleteProfile_WithActiveOffers_IsFailedPreconditionProfileInUse()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);

        await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, "PROFILE_IN_USE", async () =>
            await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name }));

        Assert.Equal(profile, (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile);
        Assert.Equal(OfferState.Active, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.State);
    }

    [Fact]
    public async Task DeleteProfile_WithRevokeOffers_RevokesItsActiveOffers()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var other = await ServerFixture.CreateProfileAsync(tenant);
        var first = await ServerFixture.CreateOfferAsync(tenant, profile);
        var second = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.MaxUses = 3);
        var alreadyRevoked = await ServerFixture.CreateOfferAsync(tenant, profile);
        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = alreadyRevoked.Offer.Name });
        var ofOther = await ServerFixture.CreateOfferAsync(tenant, other);

        var deleted = await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name, RevokeOffers = true });

        Assert.Equal(2, deleted.RevokedOfferCount);
        foreach (var offer in new[] { first, second, alreadyRevoked })
        {
            var read = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
            Assert.Equal(OfferState.Revoked, read.State);
            Assert.NotNull(read.RevokeTime);
        }

        Assert.Equal(OfferState.Active, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = ofOther.Offer.Name })).Offer.State);
        await RpcAssert.NotFoundAsync(async () => await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name }));
    }

    [Fact]
    public async Task DeleteProfile_WhoseOffersAreAllRevokedOrExpired_NeedsNoRevokeOffers()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var revoked = await ServerFixture.CreateOfferAsync(tenant, profile);
        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = revoked.Offer.Name });
        var expiring = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Lifetime = Samples.Minutes(10));
        fixture.Time.Advance(TimeSpan.FromMinutes(11));

        var deleted = await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name });

        Assert.Equal(0, deleted.RevokedOfferCount);
        Assert.Equal(OfferState.Expired, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = expiring.Offer.Name })).Offer.State);
    }

    // Claim mappings

    private static ClaimMapping Mapping(ClaimSource source, string[] sourcePath, params string[] path)
    {
        var mapping = new ClaimMapping { Source = source };
        mapping.Path.AddRange(path);
        mapping.SourcePath.AddRange(sourcePath);
        return mapping;
    }

    [Fact]
    public async Task CreateProfile_WithClaimMappings_ReturnsThemWithTheDefaultSourceNamed()
    {
        var tenant = await fixture.CreateTenantAsync();

        var profile = await ServerFixture.CreateProfileAsync(tenant, p =>
        {
            p.ClaimMappings.Add(Mapping(ClaimSource.Unspecified, ["given_name"], "given_name"));
            p.ClaimMappings.Add(Mapping(ClaimSource.Userinfo, ["address", "locality"], "address", "locality"));
        });

        Assert.Equal([ClaimSource.IdToken, ClaimSource.Userinfo], profile.ClaimMappings.Select(m => m.Source));
        Assert.Equal(["given_name"], profile.ClaimMappings[0].Path);
        Assert.Equal(["address", "locality"], profile.ClaimMappings[1].SourcePath);
        Assert.Equal(profile, (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile);
    }

    [Fact]
    public async Task UpdateProfile_ClaimMappings_MakesTheNextVersionAndOffersKeepTheirs()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, p => p.ClaimMappings.Add(Mapping(ClaimSource.IdToken, ["given_name"], "given_name")));
        var change = new Profile { Name = profile.Name };
        change.ClaimMappings.Add(Mapping(ClaimSource.IdToken, ["family_name"], "family_name"));

        var updated = (await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest { Profile = change, UpdateMask = Mask("claim_mappings") })).Profile;
        var cleared = (await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest { Profile = new Profile { Name = profile.Name }, UpdateMask = Mask("claim_mappings") })).Profile;

        Assert.Equal(2, updated.Version);
        Assert.Equal(["family_name"], Assert.Single(updated.ClaimMappings).Path);
        Assert.Equal(profile.Claims, updated.Claims);
        Assert.Equal(3, cleared.Version);
        Assert.Empty(cleared.ClaimMappings);
    }

    [Fact]
    public async Task UpdateProfile_RemovingAMappedClaim_IsInvalidOnTheMapping()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, p => p.ClaimMappings.Add(Mapping(ClaimSource.IdToken, ["score"], "score")));
        var change = new Profile { Name = profile.Name };
        change.Claims.AddRange(profile.Claims.Take(6));

        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest { Profile = change, UpdateMask = Mask("claims") }),
            "profile.claim_mappings[0].path");

        Assert.Equal(profile, (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile);
    }

    [Fact]
    public async Task DeleteProfile_WithAnActiveWalletInitiatedOffer_IsFailedPreconditionProfileInUse()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Authorized(IssuerStateMode.Omit));

        await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, "PROFILE_IN_USE", async () =>
            await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name }));
        var deleted = await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name, RevokeOffers = true });

        Assert.Equal(1, deleted.RevokedOfferCount);
        Assert.Equal(OfferState.Revoked, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.State);
    }

    // Wallet-initiated sessions

    [Fact]
    public async Task ListProfileSessions_ListsTheSessionsWithoutOfferOfThisProfileOldestFirst_InPages()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);
        var uid = await ProfileUidAsync(tenant.TenantId, profile.ProfileId);
        var t0 = Core.Common.Clock.ToMicroseconds(fixture.Now);
        await SeedSessionsAsync(
            Session(tenant, profile, uid, "s3", t0.AddMinutes(3)),
            Session(tenant, profile, uid, "s1b", t0.AddMinutes(1)),
            Session(tenant, profile, uid, "s1a", t0.AddMinutes(1)),
            Session(tenant, profile, uid, "s-offer", t0.AddMinutes(2), offer.Offer.OfferId),
            Session(tenant, profile, Guid.NewGuid(), "s-earlier-profile", t0.AddMinutes(2)));
        await SeedCredentialAsync(tenant.TenantId, "s1b", t0.AddMinutes(1).AddSeconds(5));

        var first = await tenant.Clients.Profiles.ListProfileSessionsAsync(new ListProfileSessionsRequest { Parent = profile.Name, PageSize = 2 });
        var second = await tenant.Clients.Profiles.ListProfileSessionsAsync(new ListProfileSessionsRequest { Parent = profile.Name, PageSize = 2, PageToken = first.NextPageToken });

        Assert.Equal([$"{profile.Name}/sessions/s1a", $"{profile.Name}/sessions/s1b"], first.Sessions.Select(x => x.Name));
        Assert.Empty(first.Sessions[0].Credentials);
        var credential = Assert.Single(first.Sessions[1].Credentials);
        Assert.Equal("cred-s1b", credential.CredentialId);
        Assert.Equal(profile.ProfileId, first.Sessions[1].CredentialConfigurationId);
        Assert.Equal(t0.AddMinutes(1), first.Sessions[1].CreateTime.ToDateTimeOffset());
        Assert.Equal([$"{profile.Name}/sessions/s3"], second.Sessions.Select(x => x.Name));
        Assert.Empty(second.NextPageToken);
        var offerSessions = await tenant.Clients.Offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offer.Offer.Name });
        Assert.Equal([$"{offer.Offer.Name}/sessions/s-offer"], offerSessions.Sessions.Select(x => x.Name));
    }

    [Fact]
    public async Task ListProfileSessions_OfAnotherTenantsOrAnUnknownProfile_IsNotFound()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(a);

        await RpcAssert.NotFoundAsync(async () => await b.Clients.Profiles.ListProfileSessionsAsync(new ListProfileSessionsRequest { Parent = profile.Name }));
        await RpcAssert.NotFoundAsync(async () => await a.Clients.Profiles.ListProfileSessionsAsync(new ListProfileSessionsRequest { Parent = a.Name + "/profiles/nope" }));
        await RpcAssert.InvalidAsync(async () => await a.Clients.Profiles.ListProfileSessionsAsync(new ListProfileSessionsRequest { Parent = a.Name }), "parent");
        Assert.Empty((await a.Clients.Profiles.ListProfileSessionsAsync(new ListProfileSessionsRequest { Parent = profile.Name })).Sessions);
    }

    [Fact]
    public async Task ListProfileSessions_WithAnotherProfilesPageToken_IsInvalidOnPageToken()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var other = await ServerFixture.CreateProfileAsync(tenant);
        var uid = await ProfileUidAsync(tenant.TenantId, profile.ProfileId);
        var t0 = Core.Common.Clock.ToMicroseconds(fixture.Now);
        await SeedSessionsAsync(Session(tenant, profile, uid, "s1", t0), Session(tenant, profile, uid, "s2", t0.AddSeconds(1)));
        var first = await tenant.Clients.Profiles.ListProfileSessionsAsync(new ListProfileSessionsRequest { Parent = profile.Name, PageSize = 1 });

        Assert.NotEmpty(first.NextPageToken);
        await RpcAssert.InvalidAsync(
            async () => await tenant.Clients.Profiles.ListProfileSessionsAsync(new ListProfileSessionsRequest { Parent = other.Name, PageToken = first.NextPageToken }),
            "page_token");
    }

    private static Core.Sessions.IssuanceSession Session(TestTenant tenant, Profile profile, Guid uid, string id, DateTimeOffset at, string? offerId = null) => new()
    {
        Id = id, TenantId = tenant.TenantId, OfferId = offerId, ConfigurationId = profile.ProfileId, ProfileUid = uid, ProfileVersion = profile.Version,
        ClientId = "wallet", CreatedAt = at,
    };

    private async Task<Guid> ProfileUidAsync(string tenantId, string profileId)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        return await db.Profiles.AsNoTracking().Where(p => p.TenantId == tenantId && p.ProfileId == profileId).Select(p => p.Uid).SingleAsync();
    }

    /// <summary>Sessions written straight to the database, as the wallet flow writes them.</summary>
    private async Task SeedSessionsAsync(params Core.Sessions.IssuanceSession[] sessions)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        db.Sessions.AddRange(sessions);
        await db.SaveChangesAsync();
    }

    private async Task SeedCredentialAsync(string tenantId, string sessionId, DateTimeOffset issuedAt)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        var session = await db.Sessions.AsNoTracking().SingleAsync(s => s.Id == sessionId);
        db.IssuedCredentials.Add(new Core.Sessions.IssuedCredential
        {
            Id = "cred-" + sessionId, TenantId = tenantId, SessionId = sessionId, ConfigurationId = session.ConfigurationId, Format = "dc+sd-jwt",
            HolderKeyThumbprint = "thumbprint", IssuedAt = issuedAt, ExpiresAt = issuedAt.AddDays(30), NotificationId = "n-" + sessionId + Guid.NewGuid().ToString("N"),
        });
        await db.SaveChangesAsync();
    }

    internal static FieldMask Mask(params string[] paths)
    {
        var mask = new FieldMask();
        mask.Paths.AddRange(paths);
        return mask;
    }
}

public sealed class ProfileServiceTests_Sqlite(SqliteServerFixture fixture)
    : ProfileServiceTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class ProfileServiceTests_Postgres(PostgresServerFixture fixture)
    : ProfileServiceTests(fixture), IClassFixture<PostgresServerFixture>;
