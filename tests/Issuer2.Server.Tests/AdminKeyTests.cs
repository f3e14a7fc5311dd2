using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Events;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>
/// The admin key's hygiene: a minimum strength, rotation without a restart, an audit line per refused call that
/// never holds the key, and management events that name the key that acted.
/// </summary>
public sealed class AdminKeyTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "issuer2-adminkey-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("short-admin-key")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")]
    public async Task AWeakConfiguredAdminKey_StopsTheStart_WithAMessageThatDoesNotHoldIt(string weak)
    {
        var settings = Settings() with { AdminKey = weak };

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => IssuerTestHost.StartAsync(settings));

        Assert.Contains("admin key", failure.Message, StringComparison.Ordinal);
        Assert.Contains("#1", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(weak, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAdminKey_RotatesWithoutARestart_BothWorkDuringTheRotation_ThenOnlyTheNewOne()
    {
        var file = Path.Combine(_directory, "admin-keys.json");
        await File.WriteAllTextAsync(file, "{}");
        var settings = Settings() with { ReloadableConfigurationFile = file };
        await using var host = await IssuerTestHost.StartAsync(settings);
        var next = TestEnvironment.NewAdminKey();
        var oldKey = host.ClientsForKey(settings.AdminKey);
        var newKey = host.ClientsForKey(next);
        await RpcAssert.UnauthenticatedAsync(async () => await newKey.Tenants.ListTenantsAsync(new ListTenantsRequest()));

        // 1. The new key beside the old one.
        await File.WriteAllTextAsync(file, $$"""{ "Issuer2": { "AdminKeys": [ "{{next}}" ] } }""");
        await WaitUntilAsync(async () => await Works(newKey));
        Assert.True(await Works(oldKey));

        // 2. Callers moved: the old one goes.
        await File.WriteAllTextAsync(file, $$"""{ "Issuer2": { "AdminKey": "{{next}}" } }""");
        await WaitUntilAsync(async () => !await Works(oldKey));
        Assert.True(await Works(newKey));
        Assert.Contains(host.Logs.Entries, e => e.Contains("Admin keys reloaded", StringComparison.Ordinal));
        Assert.DoesNotContain(next, host.Logs.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReloadWithAWeakAdminKey_IsRefused_AndTheKeysInUseKeepWorking()
    {
        var file = Path.Combine(_directory, "admin-keys.json");
        await File.WriteAllTextAsync(file, "{}");
        var settings = Settings() with { ReloadableConfigurationFile = file };
        await using var host = await IssuerTestHost.StartAsync(settings);
        const string weak = "weak-key";

        await File.WriteAllTextAsync(file, $$"""{ "Issuer2": { "AdminKey": "{{weak}}" } }""");
        await WaitUntilAsync(() => Task.FromResult(host.Logs.AllText().Contains("reloaded admin keys were refused", StringComparison.Ordinal)));

        Assert.True(await Works(host.Admin));
        Assert.False(await Works(host.ClientsForKey(weak)));
        Assert.DoesNotContain(weak, host.Logs.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARefusedCall_WritesOneAuditLine_WithItsReasonAndKeyId_NeverTheKey()
    {
        await using var host = await IssuerTestHost.StartAsync(Settings());
        var tenant = await host.Admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = ServerFixture.NewTenantId() } });
        var created = await host.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Tenant.Name });
        await host.Admin.Tenants.RevokeApiKeyAsync(new RevokeApiKeyRequest { Name = created.ApiKey.Name });
        var unknown = TestEnvironment.NewAdminKey();

        await RpcAssert.UnauthenticatedAsync(async () => await host.ClientsForKey(unknown).Tenants.ListTenantsAsync(new ListTenantsRequest()));
        await RpcAssert.UnauthenticatedAsync(async () =>
            await host.ClientsForKey(created.Key).Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Tenant.Name }));

        var lines = host.Logs.Entries.Where(e => e.Contains("gRPC authentication refused", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Contains(lines, l => l.Contains("Reason=unknown_key", StringComparison.Ordinal) && l.Contains("/issuer2.v1.TenantService/ListTenants", StringComparison.Ordinal));
        var keyId = created.ApiKey.Name.Split('/')[^1];
        Assert.Contains(lines, l => l.Contains("Reason=revoked", StringComparison.Ordinal) && l.Contains($"KeyId={keyId}", StringComparison.Ordinal)
            && l.Contains("RemoteAddress=127.0.0.1", StringComparison.Ordinal));
        Assert.DoesNotContain(unknown, host.Logs.AllText(), StringComparison.Ordinal);
        Assert.DoesNotContain(created.Key, host.Logs.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManagementEvents_NameTheApiKeyThatActed_AndWalletEventsNone()
    {
        await using var host = await IssuerTestHost.StartAsync(Settings());
        var tenantId = ServerFixture.NewTenantId();
        var tenant = (await host.Admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = tenantId } })).Tenant;
        var created = await host.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name });
        var tenantKey = new TestTenant(tenant, created.Key, host.ClientsForKey(created.Key));
        var profile = await ServerFixture.CreateProfileAsync(tenantKey);
        await ServerFixture.CreateOfferAsync(tenantKey, profile);

        var events = await EventClients.ListAtLeastAsync(EventClients.For(host.Channel, created.Key), tenant.Name, atLeast: 4);

        var adminName = Assert.Single(events, e => e.Type == EventType.TenantCreated).ApiKey;
        Assert.Matches(@"\AadminKeys/configured-[0-9a-f]{8}\z", adminName);
        Assert.Equal(adminName, Assert.Single(events, e => e.Type == EventType.ApiKeyCreated).ApiKey);
        Assert.Equal(created.ApiKey.Name, Assert.Single(events, e => e.Type == EventType.ProfileCreated).ApiKey);
        Assert.Equal(created.ApiKey.Name, Assert.Single(events, e => e.Type == EventType.OfferCreated).ApiKey);
    }

    private TestHostSettings Settings() => new()
    {
        Provider = "Sqlite",
        DataDirectory = Path.Combine(_directory, "data-" + Guid.NewGuid().ToString("N")[..8]),
    };

    private static async Task<bool> Works(Clients admin)
    {
        try
        {
            await admin.Tenants.ListTenantsAsync(new ListTenantsRequest());
            return true;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
        {
            return false;
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The reloaded configuration did not take effect within 15 s.");
            await Task.Delay(100);
        }
    }
}
