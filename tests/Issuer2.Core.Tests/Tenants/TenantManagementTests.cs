using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Keys;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Tenants;

public sealed class TenantManagementTests
{
    private readonly TestBed _bed = new();

    [Fact]
    public async Task Create_ByAdmin_AppliesTheDocumentedDefaults()
    {
        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(), default);

        var tenant = result.Value.Tenant;
        Assert.Equal("https://issuer.example/acme", tenant.CredentialIssuer);
        Assert.True(tenant.AllowPreAuthorized);
        Assert.False(tenant.AllowAuthorized);
        Assert.False(tenant.RequirePin);
        Assert.Equal(TimeSpan.FromHours(24), tenant.DefaultOfferLifetime);
        Assert.Equal(TimeSpan.FromDays(30), tenant.MaxOfferLifetime);
        Assert.Equal(TimeSpan.FromMinutes(5), tenant.PreAuthorizedCodeLifetime);
        Assert.Equal(5, tenant.PinAttemptLimit);
        Assert.Equal(TestBed.Start, tenant.CreatedAt);
    }

    [Fact]
    public async Task Create_ByAdmin_StoresTenantWithOneSigningKeyAndAppendsTenantCreated()
    {
        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(), default);

        var key = Assert.Single(result.Value.Keys);
        Assert.Same(result.Value.Tenant, Assert.Single(_bed.Db.Tenants));
        Assert.Same(key, Assert.Single(_bed.Db.SigningKeys));
        Assert.Equal("acme", key.TenantId);
        Assert.Equal(SigningKeyStatus.Active, key.Status);
        Assert.Equal([EventTypes.TenantCreated], _bed.CommittedEventTypes());
        Assert.Equal("acme", _bed.Db.Events[0].TenantId);
    }

    [Fact]
    public async Task Create_SigningKeyOpensUnderTheBedKek()
    {
        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(), default);

        using var privateKey = new SigningKeys(_bed.Keys).OpenPrivateKey(result.Value.Keys[0]);

        Assert.Equal(256, privateKey.KeySize);
    }

    [Fact]
    public async Task Create_WithSettings_KeepsThem()
    {
        var settings = new TenantSettings(
            AllowedMethods: [AuthenticationMethod.PreAuthorized, AuthenticationMethod.Authorized],
            RequirePin: true,
            DefaultOfferLifetime: TimeSpan.FromHours(2),
            MaxOfferLifetime: TimeSpan.FromDays(2),
            PreAuthorizedCodeLifetime: TimeSpan.FromMinutes(10),
            PinAttemptLimit: 3);

        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", settings, default);

        var tenant = result.Value.Tenant;
        Assert.True(tenant.AllowAuthorized);
        Assert.True(tenant.RequirePin);
        Assert.Equal(TimeSpan.FromHours(2), tenant.DefaultOfferLifetime);
        Assert.Equal(TimeSpan.FromDays(2), tenant.MaxOfferLifetime);
        Assert.Equal(TimeSpan.FromMinutes(10), tenant.PreAuthorizedCodeLifetime);
        Assert.Equal(3, tenant.PinAttemptLimit);
    }

    [Fact]
    public async Task Create_ByTenantKey_IsPermissionDenied()
    {
        var result = await _bed.Tenants.CreateAsync(TestBed.AcmeKey, "newco", new TenantSettings(), default);

        Assert.Equal(ErrorKind.PermissionDenied, result.Error?.Kind);
        Assert.Empty(_bed.Db.Tenants);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_WithReservedId_IsInvalidOnTenantId()
    {
        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "admin", new TenantSettings(), default);

        Assert.Equal(ErrorReasons.InvalidArgument, result.Error?.Reason);
        Assert.Equal("tenant.tenant_id", Assert.Single(result.Error!.Violations).Field);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_WithDefaultLifetimeAboveMax_IsInvalidOnDefaultOfferLifetime()
    {
        var settings = new TenantSettings(DefaultOfferLifetime: TimeSpan.FromDays(31));

        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", settings, default);

        Assert.Equal("tenant.default_offer_lifetime", Assert.Single(result.Error!.Violations).Field);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_WithNoAllowedMethod_IsInvalidOnAllowedMethods()
    {
        var settings = new TenantSettings(AllowedMethods: []);

        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", settings, default);

        Assert.Equal("tenant.allowed_authentication_methods", Assert.Single(result.Error!.Violations).Field);
    }

    [Fact]
    public async Task Create_WithTakenId_IsAlreadyExists()
    {
        _bed.SeedTenant("acme");

        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(), default);

        Assert.Equal(ErrorKind.AlreadyExists, result.Error?.Kind);
        Assert.Equal(ErrorReasons.AlreadyExists, result.Error?.Reason);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_WithIdOfDeletedTenant_IsAlreadyExists()
    {
        _bed.SeedTenant("acme", t => t.DeletedAt = TestBed.Start);

        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(), default);

        Assert.Equal(ErrorKind.AlreadyExists, result.Error?.Kind);
    }

    [Fact]
    public async Task Create_LosingARaceForTheId_IsAlreadyExists()
    {
        _bed.Db.BeforeNextSave = () => throw new UniqueConflictException();

        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(), default);

        Assert.Equal(ErrorKind.AlreadyExists, result.Error?.Kind);
    }

    [Fact]
    public async Task Get_ByOwnTenantKey_ReturnsTenantWithKeys()
    {
        await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(), default);

        var result = await _bed.Tenants.GetAsync(TestBed.AcmeKey, "acme", default);

        Assert.Equal("acme", result.Value.Tenant.Id);
        Assert.Single(result.Value.Keys);
    }

    [Fact]
    public async Task Get_ByOtherTenantKey_IsNotFound()
    {
        await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(), default);

        var result = await _bed.Tenants.GetAsync(TestBed.GlobexKey, "acme", default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
    }

    [Fact]
    public async Task Get_OfUnknownTenant_IsNotFound()
    {
        var result = await _bed.Tenants.GetAsync(TestBed.Admin, "nobody", default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
    }

    [Fact]
    public async Task Update_ChangesSettingsBumpsMetadataVersionAndAppendsTenantUpdated()
    {
        _bed.SeedTenant();
        _bed.Clock.Advance(TimeSpan.FromMinutes(1));

        var result = await _bed.Tenants.UpdateAsync(TestBed.Admin, "acme", new TenantSettings(RequirePin: true), default);

        Assert.True(result.Value.Tenant.RequirePin);
        Assert.Equal(2, result.Value.Tenant.MetadataVersion);
        Assert.Equal(TestBed.Start.AddMinutes(1), result.Value.Tenant.UpdatedAt);
        Assert.Equal([EventTypes.TenantUpdated], _bed.CommittedEventTypes());
    }

    [Fact]
    public async Task Update_WithBadSettings_IsInvalidAndAppendsNothing()
    {
        _bed.SeedTenant();

        var result = await _bed.Tenants.UpdateAsync(TestBed.Admin, "acme", new TenantSettings(PinAttemptLimit: 101), default);

        Assert.Equal("tenant.pin_attempt_limit", Assert.Single(result.Error!.Violations).Field);
        Assert.Empty(_bed.Db.AppendedEvents);
        Assert.Equal(0, _bed.Db.SaveCount);
    }

    [Fact]
    public async Task Update_ByTenantKey_IsPermissionDenied()
    {
        _bed.SeedTenant();

        var result = await _bed.Tenants.UpdateAsync(TestBed.AcmeKey, "acme", new TenantSettings(RequirePin: true), default);

        Assert.Equal(ErrorKind.PermissionDenied, result.Error?.Kind);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Delete_LeavesTombstoneThatIsNoLongerFoundAndAppendsTenantDeleted()
    {
        _bed.SeedTenant();

        var result = await _bed.Tenants.DeleteAsync(TestBed.Admin, "acme", default);
        var afterwards = await _bed.Tenants.GetAsync(TestBed.Admin, "acme", default);

        Assert.True(result.Value);
        Assert.Equal(TestBed.Start, Assert.Single(_bed.Db.Tenants).DeletedAt);
        Assert.Equal(ErrorKind.NotFound, afterwards.Error?.Kind);
        Assert.Equal([EventTypes.TenantDeleted], _bed.CommittedEventTypes());
    }

    [Fact]
    public async Task Delete_ByTenantKey_IsPermissionDenied()
    {
        _bed.SeedTenant();

        var result = await _bed.Tenants.DeleteAsync(TestBed.AcmeKey, "acme", default);

        Assert.Equal(ErrorKind.PermissionDenied, result.Error?.Kind);
        Assert.Null(_bed.Db.Tenants[0].DeletedAt);
    }

    [Fact]
    public async Task List_PagesThroughLiveTenantsInIdOrder()
    {
        foreach (var id in new[] { "delta", "alpha", "charlie", "bravo" }) _bed.SeedTenant(id);
        _bed.SeedTenant("echo", t => t.DeletedAt = TestBed.Start);

        var first = await _bed.Tenants.ListAsync(TestBed.Admin, 3, null, PageBudget.Unlimited<TenantView>(), default);
        var second = await _bed.Tenants.ListAsync(TestBed.Admin, 3, first.Value.NextPageToken, PageBudget.Unlimited<TenantView>(), default);
        var firstIds = first.Value.Items.Select(t => t.Tenant.Id).ToArray();
        var secondIds = second.Value.Items.Select(t => t.Tenant.Id).ToArray();

        Assert.Equal(["alpha", "bravo", "charlie"], firstIds);
        Assert.Equal(["delta"], secondIds);
        Assert.Equal("", second.Value.NextPageToken);
    }

    [Fact]
    public async Task List_WithPageTokenOfAnotherList_IsInvalidOnPageToken()
    {
        var token = PageTokens.Encode("profiles/acme", "employee");

        var result = await _bed.Tenants.ListAsync(TestBed.Admin, 10, token, PageBudget.Unlimited<TenantView>(), default);

        Assert.Equal("page_token", Assert.Single(result.Error!.Violations).Field);
    }

    [Fact]
    public async Task List_ByTenantKey_IsPermissionDenied()
    {
        var result = await _bed.Tenants.ListAsync(TestBed.AcmeKey, 10, null, PageBudget.Unlimited<TenantView>(), default);

        Assert.Equal(ErrorKind.PermissionDenied, result.Error?.Kind);
    }

    [Fact]
    public async Task Create_EventNamesTheKidButNotThePrivateKey()
    {
        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(), default);

        var detail = Assert.Single(_bed.Db.Events).Detail;
        Assert.Contains(result.Value.Keys[0].Kid, detail, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(result.Value.Keys[0].EncryptedPrivateKey), detail, StringComparison.Ordinal);
    }
}
