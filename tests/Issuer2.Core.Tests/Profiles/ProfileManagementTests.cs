using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Profiles;

public sealed class ProfileManagementTests
{
    private static readonly ProfileInput Input = new(
        Vct: "https://credentials.example/employee",
        Claims: [TestBed.Claim("given_name", mandatory: true), TestBed.Claim("family_name")]);

    private readonly TestBed _bed = new();

    public ProfileManagementTests()
    {
        _bed.SeedTenant();
        _bed.SeedTenant(TestBed.OtherTenantId);
    }

    private Task<Result<Profile, Error>> Create(string? profileId, ProfileInput input) =>
        _bed.Profiles.CreateAsync(TestBed.AcmeKey, TestBed.TenantId, profileId, input, default);

    [Fact]
    public async Task Create_StoresVersion1WithDefaultsAndAppendsProfileCreated()
    {
        var result = await Create("employee", Input);

        var profile = result.Value;
        var snapshot = Assert.Single(_bed.Db.ProfileVersions);
        Assert.Equal(1, profile.Version);
        Assert.Equal("employee", profile.Scope);
        Assert.Equal("employee", profile.Definition.Scope);
        Assert.Equal(CredentialFormats.SdJwtVc, profile.Definition.Format);
        Assert.Equal(TimeSpan.FromDays(365), profile.Definition.CredentialValidity);
        Assert.Same(profile, Assert.Single(_bed.Db.Profiles));
        Assert.Equal(1, snapshot.Version);
        Assert.Equal(profile.Uid, snapshot.ProfileUid);
        Assert.Equal([EventTypes.ProfileCreated], _bed.CommittedEventTypes());
    }

    [Fact]
    public async Task Create_ChangesTheTenantsPublishedMetadataVersion()
    {
        await Create("employee", Input);

        Assert.Equal(2, _bed.Db.Tenants[0].MetadataVersion);
    }

    [Fact]
    public async Task Create_WithExplicitScope_KeepsIt()
    {
        var result = await Create("employee", Input with { Scope = "openid:employee" });

        Assert.Equal("openid:employee", result.Value.Scope);
    }

    [Fact]
    public async Task Create_WithTakenId_IsAlreadyExists()
    {
        await Create("employee", Input);

        var result = await Create("employee", Input with { Scope = "other" });

        Assert.Equal(ErrorKind.AlreadyExists, result.Error?.Kind);
        Assert.Equal(ErrorReasons.AlreadyExists, result.Error?.Reason);
        Assert.Single(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_WithScopeOfAnotherProfile_IsScopeInUse()
    {
        await Create("employee", Input);

        var result = await Create("badge", Input with { Scope = "employee" });

        Assert.Equal(ErrorKind.AlreadyExists, result.Error?.Kind);
        Assert.Equal(ErrorReasons.ScopeInUse, result.Error?.Reason);
        Assert.Single(_bed.Db.Profiles);
    }

    [Fact]
    public async Task Create_WithSameIdInAnotherTenant_IsIndependent()
    {
        await Create("employee", Input);

        var result = await _bed.Profiles.CreateAsync(TestBed.GlobexKey, TestBed.OtherTenantId, "employee", Input, default);

        Assert.Equal(TestBed.OtherTenantId, result.Value.TenantId);
    }

    [Fact]
    public async Task Create_WithReservedClaim_IsInvalidAndWritesNothing()
    {
        var result = await Create("employee", Input with { Claims = [TestBed.Claim("iss")] });

        Assert.Equal(["profile.claims[0].path"], TestBed.Fields(result.Error));
        Assert.Empty(_bed.Db.Profiles);
        Assert.Empty(_bed.Db.AppendedEvents);
        Assert.Equal(1, _bed.Db.Tenants[0].MetadataVersion);
    }

    [Fact]
    public async Task Create_WithoutVct_IsInvalidOnVct()
    {
        var result = await Create("employee", Input with { Vct = null });

        Assert.Equal(["profile.vct"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithBadIdAndBadVct_NamesBoth()
    {
        var result = await Create("bad id", Input with { Scope = "ok", Vct = "" });

        Assert.Equal(["profile.profile_id", "profile.vct"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_ByAdmin_IsPermissionDenied()
    {
        var result = await _bed.Profiles.CreateAsync(TestBed.Admin, TestBed.TenantId, "employee", Input, default);

        Assert.Equal(ErrorKind.PermissionDenied, result.Error?.Kind);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_ByAnotherTenantsKey_IsNotFound()
    {
        var result = await _bed.Profiles.CreateAsync(TestBed.GlobexKey, TestBed.TenantId, "employee", Input, default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
        Assert.Empty(_bed.Db.Profiles);
    }

    [Fact]
    public async Task Get_ByAnotherTenantsKey_IsNotFound()
    {
        await Create("employee", Input);

        var result = await _bed.Profiles.GetAsync(TestBed.GlobexKey, TestBed.TenantId, "employee", default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
    }

    [Fact]
    public async Task Update_MakesTheNextVersionAndKeepsTheOldSnapshot()
    {
        await Create("employee", Input);
        _bed.Clock.Advance(TimeSpan.FromMinutes(1));

        var result = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", new ProfileInput(Vct: "https://credentials.example/employee/v2"), default);
        var versions = _bed.Db.ProfileVersions.Select(v => (v.Version, v.Definition.Vct)).ToArray();

        Assert.Equal(2, result.Value.Version);
        Assert.Equal("https://credentials.example/employee/v2", result.Value.Definition.Vct);
        Assert.Equal(2, result.Value.Definition.Claims.Count);
        Assert.Equal(TestBed.Start.AddMinutes(1), result.Value.UpdatedAt);
        Assert.Equal([(1, "https://credentials.example/employee"), (2, "https://credentials.example/employee/v2")], versions);
        Assert.Equal([EventTypes.ProfileCreated, EventTypes.ProfileUpdated], _bed.CommittedEventTypes());
    }

    [Fact]
    public async Task Update_ThatBreaksARule_IsInvalidAndKeepsTheVersion()
    {
        await Create("employee", Input);

        var result = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", new ProfileInput(CredentialValidity: TimeSpan.FromSeconds(1)), default);

        Assert.Equal(["profile.credential_validity"], TestBed.Fields(result.Error));
        Assert.Equal(1, _bed.Db.Profiles[0].Version);
        Assert.Single(_bed.Db.ProfileVersions);
        Assert.Single(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Update_WithDefaultForAClaimItRemoves_IsInvalidOnDefaultValues()
    {
        await Create("employee", Input with { DefaultValues = [new ClaimValue(["family_name"], TestBed.Json("\"Mustermann\""))] });

        var result = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", new ProfileInput(Claims: [TestBed.Claim("given_name")]), default);

        Assert.Equal(["profile.default_values[0].path"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Update_ToTheScopeOfAnotherProfile_IsScopeInUse()
    {
        await Create("employee", Input);
        await Create("badge", Input);

        var result = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "badge", new ProfileInput(Scope: "employee"), default);

        Assert.Equal(ErrorReasons.ScopeInUse, result.Error?.Reason);
    }

    [Fact]
    public async Task Update_KeepingItsOwnScope_IsAccepted()
    {
        await Create("employee", Input);

        var result = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", new ProfileInput(Scope: "employee"), default);

        Assert.Equal(2, result.Value.Version);
    }

    [Fact]
    public async Task Update_ByAnotherTenantsKey_IsNotFound()
    {
        await Create("employee", Input);

        var result = await _bed.Profiles.UpdateAsync(TestBed.GlobexKey, TestBed.TenantId, "employee", new ProfileInput(Vct: "x"), default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
        Assert.Equal(1, _bed.Db.Profiles[0].Version);
    }

    [Fact]
    public async Task Update_LosingARace_IsConcurrentUpdate()
    {
        await Create("employee", Input);
        _bed.Db.BeforeNextSave = () => throw new UniqueConflictException();

        var result = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", new ProfileInput(Vct: "https://credentials.example/v2"), default);

        Assert.Equal(ErrorKind.Aborted, result.Error?.Kind);
        Assert.Equal(ErrorReasons.ConcurrentUpdate, result.Error?.Reason);
    }

    [Fact]
    public async Task Delete_WithActiveOffers_IsProfileInUseAndWritesNothing()
    {
        await Create("employee", Input);
        var offer = await CreateOfferAsync();

        var result = await _bed.Profiles.DeleteAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", revokeOffers: false, default);

        Assert.Equal(ErrorKind.FailedPrecondition, result.Error?.Kind);
        Assert.Equal(ErrorReasons.ProfileInUse, result.Error?.Reason);
        Assert.Single(_bed.Db.Profiles);
        Assert.Null(offer.RevokedAt);
        Assert.Equal([EventTypes.ProfileCreated, EventTypes.OfferCreated], _bed.CommittedEventTypes());
        Assert.Equal(2, _bed.Db.AppendedEvents.Count);
    }

    [Fact]
    public async Task Delete_WithActiveOffersAndRevokeOffers_RevokesThemAndKeepsTheVersions()
    {
        await Create("employee", Input);
        var offer = await CreateOfferAsync();
        _bed.Clock.Advance(TimeSpan.FromMinutes(1));

        var result = await _bed.Profiles.DeleteAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", revokeOffers: true, default);

        Assert.Equal(1, result.Value);
        Assert.Equal(TestBed.Start.AddMinutes(1), offer.RevokedAt);
        Assert.Empty(_bed.Db.Profiles);
        Assert.Single(_bed.Db.ProfileVersions);
        Assert.Equal([EventTypes.ProfileCreated, EventTypes.OfferCreated, EventTypes.OfferRevoked, EventTypes.ProfileDeleted], _bed.CommittedEventTypes());
    }

    [Fact]
    public async Task Delete_WithOnlyExpiredOffers_Succeeds()
    {
        await Create("employee", Input);
        await CreateOfferAsync();
        _bed.Clock.Advance(TimeSpan.FromDays(2));

        var result = await _bed.Profiles.DeleteAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", revokeOffers: false, default);

        Assert.Equal(0, result.Value);
        Assert.Empty(_bed.Db.Profiles);
    }

    [Fact]
    public async Task Delete_ThenCreateAgain_GivesANewProfileAtVersion1()
    {
        var first = await Create("employee", Input);
        await _bed.Profiles.DeleteAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", revokeOffers: false, default);

        var second = await Create("employee", Input);

        Assert.Equal(1, second.Value.Version);
        Assert.NotEqual(first.Value.Uid, second.Value.Uid);
    }

    [Fact]
    public async Task Delete_ByAnotherTenantsKey_IsNotFound()
    {
        await Create("employee", Input);

        var result = await _bed.Profiles.DeleteAsync(TestBed.GlobexKey, TestBed.TenantId, "employee", revokeOffers: true, default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
        Assert.Single(_bed.Db.Profiles);
    }

    [Fact]
    public async Task List_PagesInIdOrderAndRefusesAnotherTenantsToken()
    {
        foreach (var id in new[] { "c", "a", "b" }) await Create(id, Input);

        var first = await _bed.Profiles.ListAsync(TestBed.AcmeKey, TestBed.TenantId, 2, null, PageBudget.Unlimited<Profile>(), default);
        var second = await _bed.Profiles.ListAsync(TestBed.AcmeKey, TestBed.TenantId, 2, first.Value.NextPageToken, PageBudget.Unlimited<Profile>(), default);
        var elsewhere = await _bed.Profiles.ListAsync(TestBed.GlobexKey, TestBed.OtherTenantId, 2, first.Value.NextPageToken, PageBudget.Unlimited<Profile>(), default);
        var firstIds = first.Value.Items.Select(p => p.ProfileId).ToArray();
        var secondIds = second.Value.Items.Select(p => p.ProfileId).ToArray();

        Assert.Equal(["a", "b"], firstIds);
        Assert.Equal(["c"], secondIds);
        Assert.Equal(["page_token"], TestBed.Fields(elsewhere.Error));
    }

    // Claim mappings

    [Fact]
    public async Task Create_WithMappings_KeepsThemAndWithoutKeepsNone()
    {
        var mapped = await Create("employee", Input with { ClaimMappings = [TestBed.Mapping("given_name", "given_name")] });
        var plain = await Create("visitor", Input with { ClaimMappings = [] });

        Assert.Equal(ClaimSource.IdToken, Assert.Single(mapped.Value.Definition.Mappings).Source);
        Assert.Null(plain.Value.Definition.ClaimMappings);
        Assert.Empty(plain.Value.Definition.Mappings);
    }

    [Fact]
    public async Task Update_Mappings_MakesTheNextVersionAndTheOldKeepsItsOwn()
    {
        await Create("employee", Input with { ClaimMappings = [TestBed.Mapping("given_name", "given_name")] });

        var result = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "employee",
            new ProfileInput(ClaimMappings: [TestBed.Mapping("family_name", "family_name", ClaimSource.UserInfo)]), default);

        Assert.Equal(2, result.Value.Version);
        Assert.Equal("family_name", Assert.Single(result.Value.Definition.Mappings).Path[0]);
        Assert.Equal("given_name", Assert.Single(_bed.Db.ProfileVersions.Single(v => v.Version == 1).Definition.Mappings).Path[0]);
    }

    [Fact]
    public async Task Update_WithEmptyMappings_RemovesThemAndUnsetKeepsThem()
    {
        await Create("employee", Input with { ClaimMappings = [TestBed.Mapping("given_name", "given_name")] });

        var kept = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", new ProfileInput(Vct: "https://credentials.example/v2"), default);
        Assert.Single(kept.Value.Definition.Mappings);
        var removed = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", new ProfileInput(ClaimMappings: []), default);

        Assert.Empty(removed.Value.Definition.Mappings);
    }

    [Fact]
    public async Task Update_RemovingAMappedClaim_IsInvalidOnTheMapping()
    {
        await Create("employee", Input with { ClaimMappings = [TestBed.Mapping("family_name", "family_name")] });

        var result = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "employee",
            new ProfileInput(Claims: [TestBed.Claim("given_name", mandatory: true)]), default);

        Assert.Equal(["profile.claim_mappings[0].path"], TestBed.Fields(result.Error));
        Assert.Equal(1, _bed.Db.Profiles.Single().Version);
    }

    // Wallet-initiated sessions

    private IssuanceSession SeedSession(Profile profile, string id, TimeSpan after, string? offerId = null, Guid? profileUid = null)
    {
        var session = new IssuanceSession
        {
            Id = id, TenantId = profile.TenantId, OfferId = offerId, ConfigurationId = profile.ProfileId, ProfileUid = profileUid ?? profile.Uid,
            ProfileVersion = profile.Version, ClientId = "wallet", CreatedAt = TestBed.Start + after,
        };
        _bed.Db.Sessions.Add(session);
        return session;
    }

    [Fact]
    public async Task ListSessions_ListsTheProfilesSessionsWithoutOfferOldestFirstInPages()
    {
        var profile = (await Create("employee", Input)).Value;
        SeedSession(profile, "s-c", TimeSpan.FromMinutes(3));
        SeedSession(profile, "s-a", TimeSpan.FromMinutes(1));
        SeedSession(profile, "s-b", TimeSpan.FromMinutes(1));
        SeedSession(profile, "s-offer", TimeSpan.FromMinutes(2), offerId: "offer1");
        SeedSession(profile, "s-old-profile", TimeSpan.FromMinutes(2), profileUid: Guid.NewGuid());
        _bed.Db.IssuedCredentials.Add(new IssuedCredential
        {
            Id = "c1", TenantId = TestBed.TenantId, SessionId = "s-b", ConfigurationId = "employee", Format = CredentialFormats.SdJwtVc,
            HolderKeyThumbprint = "thumb", IssuedAt = TestBed.Start, ExpiresAt = TestBed.Start.AddDays(1), NotificationId = "n1",
        });

        var first = await _bed.Profiles.ListSessionsAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", 2, null, PageBudget.Unlimited<SessionView>(), default);
        var second = await _bed.Profiles.ListSessionsAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", 2, first.Value.NextPageToken, PageBudget.Unlimited<SessionView>(), default);

        Assert.Equal(["s-a", "s-b"], first.Value.Items.Select(i => i.Session.Id));
        Assert.Equal("c1", Assert.Single(first.Value.Items[1].Credentials).Id);
        Assert.Equal(["s-c"], second.Value.Items.Select(i => i.Session.Id));
        Assert.Empty(second.Value.NextPageToken);
    }

    [Fact]
    public async Task ListSessions_ByAnotherTenantsKeyOrOfAnUnknownProfile_IsNotFound()
    {
        await Create("employee", Input);

        var foreign = await _bed.Profiles.ListSessionsAsync(TestBed.GlobexKey, TestBed.TenantId, "employee", 0, null, PageBudget.Unlimited<SessionView>(), default);
        var unknown = await _bed.Profiles.ListSessionsAsync(TestBed.AcmeKey, TestBed.TenantId, "nope", 0, null, PageBudget.Unlimited<SessionView>(), default);
        var admin = await _bed.Profiles.ListSessionsAsync(TestBed.Admin, TestBed.TenantId, "employee", 0, null, PageBudget.Unlimited<SessionView>(), default);

        Assert.Equal(ErrorKind.NotFound, foreign.Error?.Kind);
        Assert.Equal(ErrorKind.NotFound, unknown.Error?.Kind);
        Assert.Equal(ErrorKind.PermissionDenied, admin.Error?.Kind);
    }

    [Fact]
    public async Task ListSessions_WithAnotherProfilesPageToken_IsInvalidOnPageToken()
    {
        var employee = (await Create("employee", Input)).Value;
        await Create("visitor", Input);
        SeedSession(employee, "s1", TimeSpan.FromMinutes(1));
        SeedSession(employee, "s2", TimeSpan.FromMinutes(2));
        var first = await _bed.Profiles.ListSessionsAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", 1, null, PageBudget.Unlimited<SessionView>(), default);

        var other = await _bed.Profiles.ListSessionsAsync(TestBed.AcmeKey, TestBed.TenantId, "visitor", 1, first.Value.NextPageToken, PageBudget.Unlimited<SessionView>(), default);

        Assert.NotEmpty(first.Value.NextPageToken);
        Assert.Equal(["page_token"], TestBed.Fields(other.Error));
    }

    private async Task<Offer> CreateOfferAsync()
    {
        var command = TestBed.Command(overrides: [new ClaimValue(["given_name"], TestBed.Json("\"Erika\""))]);
        return (await _bed.Management.CreateAsync(TestBed.AcmeKey, TestBed.TenantId, command, default)).Value.Offer;
    }
}
