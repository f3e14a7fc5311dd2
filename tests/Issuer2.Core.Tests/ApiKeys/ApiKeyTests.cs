using Issuer2.Core.ApiKeys;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Security;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.ApiKeys;

public sealed class ApiKeyTests
{
    private const string ConfiguredAdminKey = "configured-admin-secret-0123456789-ABCDEFGHIJ";
    private readonly TestBed _bed = new();

    public ApiKeyTests()
    {
        _bed.SeedTenant();
    }

    private ApiKeyAuthenticator Authenticator(string? adminKey = null) =>
        new(_bed.ApiKeyStore, ConfiguredAdminKeys.From([adminKey]).Value, _bed.Clock);

    private async Task<CreatedApiKey> CreateKeyAsync(DateTimeOffset? expiresAt = null) =>
        (await _bed.ApiKeys.CreateAsync(TestBed.Admin, TestBed.TenantId, "ci", expiresAt, default)).Value;

    [Fact]
    public void NewKey_IsPrefixedAnd256RandomBits()
    {
        var key = ApiKeyManagement.NewKey();

        Assert.Matches(@"\Ai2_[A-Za-z0-9_-]{43}\z", key);
    }

    [Fact]
    public async Task Create_StoresOnlyTheHashAndAppendsApiKeyCreated()
    {
        var created = await CreateKeyAsync();

        var stored = Assert.Single(_bed.Db.ApiKeys);
        Assert.Equal(Secrets.Hash(created.Key), stored.KeyHash);
        Assert.Equal(created.Key[..9], stored.KeyPrefix);
        Assert.Equal(TestBed.TenantId, stored.TenantId);
        Assert.Equal(EventTypes.ApiKeyCreated, Assert.Single(_bed.Db.Events).Type);
        Assert.DoesNotContain(created.Key, _bed.Db.Events[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ByTenantKey_IsPermissionDenied()
    {
        var result = await _bed.ApiKeys.CreateAsync(TestBed.AcmeKey, TestBed.TenantId, "ci", null, default);

        Assert.Equal(ErrorKind.PermissionDenied, result.Error?.Kind);
        Assert.Empty(_bed.Db.ApiKeys);
    }

    [Fact]
    public async Task Create_WithExpiryInThePast_IsInvalidOnExpireTime()
    {
        var result = await _bed.ApiKeys.CreateAsync(TestBed.Admin, TestBed.TenantId, "ci", TestBed.Start, default);

        Assert.Equal("expire_time", Assert.Single(result.Error!.Violations).Field);
    }

    [Fact]
    public async Task Create_ForUnknownTenant_IsNotFound()
    {
        var result = await _bed.ApiKeys.CreateAsync(TestBed.Admin, "nobody", "ci", null, default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
    }

    [Fact]
    public async Task Authenticate_WithTenantKey_IsThatTenant()
    {
        var created = await CreateKeyAsync();

        var caller = await Authenticator().AuthenticateAsync($"Bearer {created.Key}", default);

        Assert.Equal(Caller.ForTenant(TestBed.TenantId, created.Record.Id), caller.Value);
    }

    [Fact]
    public async Task Authenticate_AcceptsLowercaseBearerScheme()
    {
        var created = await CreateKeyAsync();

        var caller = await Authenticator().AuthenticateAsync($"bearer {created.Key}", default);

        Assert.True(caller.IsSuccess);
    }

    [Theory]
    [InlineData(null, AuthenticationRefusalReasons.Missing)]
    [InlineData("", AuthenticationRefusalReasons.Missing)]
    [InlineData("Basic abc", AuthenticationRefusalReasons.NotBearer)]
    [InlineData("Bearer", AuthenticationRefusalReasons.NotBearer)]
    [InlineData("Bearer ", AuthenticationRefusalReasons.UnknownKey)]
    [InlineData("Bearer i2_unknownunknownunknownunknownunknownunknow", AuthenticationRefusalReasons.UnknownKey)]
    [InlineData("Bearer not-our-shape", AuthenticationRefusalReasons.UnknownKey)]
    public async Task Authenticate_WithoutAUsableKey_IsUnauthenticated_WithItsReasonAndNoKeyId(string? header, string reason)
    {
        var caller = await Authenticator().AuthenticateAsync(header, default);

        Assert.Equal(ErrorKind.Unauthenticated, caller.Error?.Error.Kind);
        Assert.Equal(reason, caller.Error?.Reason);
        Assert.Null(caller.Error?.KeyId);
    }

    [Fact]
    public async Task Authenticate_WithRevokedKey_IsUnauthenticated()
    {
        var created = await CreateKeyAsync();
        await _bed.ApiKeys.RevokeAsync(TestBed.Admin, TestBed.TenantId, created.Record.Id, default);

        var caller = await Authenticator().AuthenticateAsync($"Bearer {created.Key}", default);

        Assert.Equal(ErrorKind.Unauthenticated, caller.Error?.Error.Kind);
        Assert.Equal((AuthenticationRefusalReasons.Revoked, created.Record.Id), (caller.Error?.Reason, caller.Error?.KeyId));
    }

    [Fact]
    public async Task Authenticate_WithExpiredKey_IsUnauthenticated()
    {
        var created = await CreateKeyAsync(TestBed.Start.AddHours(1));
        _bed.Clock.Advance(TimeSpan.FromHours(1));

        var caller = await Authenticator().AuthenticateAsync($"Bearer {created.Key}", default);

        Assert.Equal(ErrorKind.Unauthenticated, caller.Error?.Error.Kind);
        Assert.Equal((AuthenticationRefusalReasons.Expired, created.Record.Id), (caller.Error?.Reason, caller.Error?.KeyId));
    }

    [Fact]
    public async Task Authenticate_WithKeyOfDeletedTenant_IsUnauthenticated()
    {
        var created = await CreateKeyAsync();
        await _bed.Tenants.DeleteAsync(TestBed.Admin, TestBed.TenantId, default);

        var caller = await Authenticator().AuthenticateAsync($"Bearer {created.Key}", default);

        Assert.Equal(ErrorKind.Unauthenticated, caller.Error?.Error.Kind);
        Assert.Equal(AuthenticationRefusalReasons.TenantDeleted, caller.Error?.Reason);
    }

    [Fact]
    public async Task Authenticate_WithConfiguredAdminKey_IsAdmin()
    {
        var caller = await Authenticator(ConfiguredAdminKey).AuthenticateAsync($"Bearer {ConfiguredAdminKey}", default);

        Assert.True(caller.Value.IsAdmin);
    }

    [Fact]
    public async Task Authenticate_WithGeneratedAdminKey_IsAdminOnlyWhileNoneIsConfigured()
    {
        var generated = ApiKeyManagement.NewKey();
        _bed.Db.ApiKeys.Add(ApiKeyManagement.NewRecord(null, "admin", generated, TestBed.Start, null));

        var withoutConfigured = await Authenticator().AuthenticateAsync($"Bearer {generated}", default);
        var withConfigured = await Authenticator(ConfiguredAdminKey).AuthenticateAsync($"Bearer {generated}", default);

        Assert.True(withoutConfigured.Value.IsAdmin);
        Assert.Equal(ErrorKind.Unauthenticated, withConfigured.Error?.Error.Kind);
        Assert.Equal(AuthenticationRefusalReasons.GeneratedAdminKeySuperseded, withConfigured.Error?.Reason);
    }

    [Fact]
    public async Task Authenticate_WithConfiguredAdminKey_NamesItByAFingerprintThatIsNotTheKey()
    {
        var caller = (await Authenticator(ConfiguredAdminKey).AuthenticateAsync($"Bearer {ConfiguredAdminKey}", default)).Value;

        Assert.Matches(@"\Aconfigured-[0-9a-f]{8}\z", caller.KeyId);
        Assert.DoesNotContain(caller.KeyId["configured-".Length..], ConfiguredAdminKey, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminKeys_DuringARotation_BothAreAdmin_AndAfterTheOldOneIsRemovedItIsRefused()
    {
        const string next = "the-next-admin-key-QRSTUVWXYZ-9876543210-abcdefgh";
        var keys = ConfiguredAdminKeys.From([ConfiguredAdminKey]).Value;
        var authenticator = new ApiKeyAuthenticator(_bed.ApiKeyStore, keys, _bed.Clock);

        Assert.True(keys.Replace([ConfiguredAdminKey, next]).IsSuccess);
        var oldDuring = await authenticator.AuthenticateAsync($"Bearer {ConfiguredAdminKey}", default);
        var newDuring = await authenticator.AuthenticateAsync($"Bearer {next}", default);
        Assert.True(keys.Replace([next]).IsSuccess);
        var oldAfter = await authenticator.AuthenticateAsync($"Bearer {ConfiguredAdminKey}", default);
        var newAfter = await authenticator.AuthenticateAsync($"Bearer {next}", default);

        Assert.True(oldDuring.Value.IsAdmin);
        Assert.True(newDuring.Value.IsAdmin);
        Assert.NotEqual(oldDuring.Value.KeyId, newDuring.Value.KeyId);
        Assert.Equal(AuthenticationRefusalReasons.UnknownKey, oldAfter.Error?.Reason);
        Assert.Equal(newDuring.Value.KeyId, newAfter.Value.KeyId);
    }

    [Fact]
    public async Task AdminKeys_AReloadWithAWeakKey_IsRefusedAndTheKeysInUseStay()
    {
        var keys = ConfiguredAdminKeys.From([ConfiguredAdminKey]).Value;
        var authenticator = new ApiKeyAuthenticator(_bed.ApiKeyStore, keys, _bed.Clock);

        var replaced = keys.Replace([ConfiguredAdminKey, "short"]);

        Assert.False(replaced.IsSuccess);
        Assert.DoesNotContain("short", replaced.Error, StringComparison.Ordinal);
        Assert.True((await authenticator.AuthenticateAsync($"Bearer {ConfiguredAdminKey}", default)).Value.IsAdmin);
    }

    [Theory]
    [InlineData("too-short-0123456789")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")]
    [InlineData("abababababababababababababababababababab")]
    [InlineData("0123456789 0123456789 0123456789 0123456789")]
    public void AdminKeys_BelowTheMinimumStrength_AreRefused(string key)
    {
        Assert.NotNull(ConfiguredAdminKeys.Weakness(key));
        Assert.False(ConfiguredAdminKeys.From([key]).IsSuccess);
    }

    [Theory]
    [InlineData("3q2+7wHNzTRE0D2Ew3uHIrZ4KyqlGMDpj5yF1ZkJSb0=")]
    [InlineData("0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0")]
    [InlineData("i2_kW9mJx2QpZ7vB4nR8sT1uY6aC3dF5gH0jL2eN7oP9qA")]
    public void AdminKeys_OfGeneratedShape_AreStrongEnough(string key) => Assert.Null(ConfiguredAdminKeys.Weakness(key));

    [Fact]
    public async Task ManagementEvents_NameTheApiKeyThatActed()
    {
        var created = await CreateKeyAsync();
        await _bed.ApiKeys.RevokeAsync(TestBed.Admin, TestBed.TenantId, created.Record.Id, default);

        var events = _bed.Db.Events.Where(e => e.Type is EventTypes.ApiKeyCreated or EventTypes.ApiKeyRevoked).ToList();

        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal($"adminKeys/{TestBed.Admin.KeyId}", e.Actor));
    }

    [Fact]
    public async Task Revoke_Twice_KeepsTheFirstTimeAndAppendsOneEvent()
    {
        var created = await CreateKeyAsync();
        await _bed.ApiKeys.RevokeAsync(TestBed.Admin, TestBed.TenantId, created.Record.Id, default);
        _bed.Clock.Advance(TimeSpan.FromMinutes(5));

        var again = await _bed.ApiKeys.RevokeAsync(TestBed.Admin, TestBed.TenantId, created.Record.Id, default);
        var types = _bed.Db.Events.Select(e => e.Type).ToArray();

        Assert.Equal(TestBed.Start, again.Value.RevokedAt);
        Assert.Equal([EventTypes.ApiKeyCreated, EventTypes.ApiKeyRevoked], types);
    }

    [Fact]
    public async Task Revoke_OfAnotherTenantsKey_IsNotFound()
    {
        _bed.SeedTenant(TestBed.OtherTenantId);
        var created = await CreateKeyAsync();

        var result = await _bed.ApiKeys.RevokeAsync(TestBed.Admin, TestBed.OtherTenantId, created.Record.Id, default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
        Assert.Null(created.Record.RevokedAt);
    }

    [Fact]
    public async Task List_PagesNewestFirst()
    {
        var first = await CreateKeyAsync();
        _bed.Clock.Advance(TimeSpan.FromSeconds(1));
        var second = await CreateKeyAsync();
        _bed.Clock.Advance(TimeSpan.FromSeconds(1));
        var third = await CreateKeyAsync();

        var page1 = await _bed.ApiKeys.ListAsync(TestBed.Admin, TestBed.TenantId, 2, null, PageBudget.Unlimited<ApiKey>(), default);
        var page2 = await _bed.ApiKeys.ListAsync(TestBed.Admin, TestBed.TenantId, 2, page1.Value.NextPageToken, PageBudget.Unlimited<ApiKey>(), default);
        var ids1 = page1.Value.Items.Select(k => k.Id).ToArray();
        var ids2 = page2.Value.Items.Select(k => k.Id).ToArray();

        Assert.Equal([third.Record.Id, second.Record.Id], ids1);
        Assert.Equal([first.Record.Id], ids2);
    }

    [Fact]
    public async Task List_WithTokenOfThisListButNoPosition_IsInvalidOnPageToken()
    {
        var token = PageTokens.Encode($"apiKeys/{TestBed.TenantId}", "not-a-position");

        var result = await _bed.ApiKeys.ListAsync(TestBed.Admin, TestBed.TenantId, 2, token, PageBudget.Unlimited<ApiKey>(), default);

        Assert.Equal("page_token", Assert.Single(result.Error!.Violations).Field);
    }
}
