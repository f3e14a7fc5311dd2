using Grpc.Net.Client;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>A tenant made through host A, with its API key's clients on both hosts.</summary>
public sealed record TwoHostTenant(Tenant Tenant, Clients OnA, Clients OnB)
{
    public string TenantId => Tenant.TenantId;

    public string Name => Tenant.Name;

    public string CredentialIssuer => Tenant.CredentialIssuer;
}

/// <summary>
/// Two Issuer2 servers as separate OS processes on one fresh PostgreSQL database (ISSUER2_TEST_POSTGRES), with the
/// same public base URL, key-encryption key and admin key: to a wallet they are one issuer. Fails without PostgreSQL.
/// </summary>
public sealed class TwoHostsFixture : IAsyncLifetime
{
    /// <summary>Neither host's own address: every URL the issuer publishes lives under this one.</summary>
    public const string PublicBaseUrl = "https://issuer.example.com";

    private readonly string _adminKey = TestEnvironment.NewAdminKey();
    private readonly string _kek = TestEnvironment.NewKeyEncryptionKey();

    /// <summary>The cursors both hosts make, from the key-encryption key they share.</summary>
    public Issuer2.Core.Events.EventCursors Cursors => Issuer2.Server.Hosting.EventCursorKey.CursorsFrom(Issuer2.Core.Security.KeyRing.OfOne(Convert.FromBase64String(_kek)));
    private readonly List<string> _dataDirectories = [];
    private PostgresDatabase? _database;
    private ServerProcess? _a;
    private ServerProcess? _b;
    private GrpcChannel? _channelA;
    private GrpcChannel? _channelB;

    public ServerProcess A => _a ?? throw new InvalidOperationException("not started");

    public ServerProcess B => _b ?? throw new InvalidOperationException("not started");

    public PostgresDatabase Database => _database ?? throw new InvalidOperationException("not started");

    public TestWallet WalletA { get; private set; } = null!;

    public TestWallet WalletB { get; private set; } = null!;

    public Clients AdminA { get; private set; } = null!;

    /// <summary>Host A for even indexes, host B for odd ones: how concurrent requests are split.</summary>
    public TestWallet WalletFor(int index) => index % 2 == 0 ? WalletA : WalletB;

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        _a = ServerProcess.Start(Settings("host-a"), PublicBaseUrl);
        _b = ServerProcess.Start(Settings("host-b"), PublicBaseUrl);
        await Task.WhenAll(_a.WaitUntilHealthyAsync(), _b.WaitUntilHealthyAsync());
        _channelA = Clients.Channel(_a.GrpcUrl);
        _channelB = Clients.Channel(_b.GrpcUrl);
        AdminA = Clients.For(_channelA, "Bearer " + _adminKey);
        WalletA = new TestWallet(_a.HttpUrl, PublicBaseUrl);
        WalletB = new TestWallet(_b.HttpUrl, PublicBaseUrl);
    }

    /// <summary>Creates a tenant through host A and an API key for it.</summary>
    public async Task<TwoHostTenant> CreateTenantAsync(Action<Tenant>? configure = null)
    {
        var tenant = new Tenant { TenantId = ServerFixture.NewTenantId() };
        tenant.Display.Add(new IssuerDisplay { Locale = "en-US", Name = "Two hosts " + tenant.TenantId });
        configure?.Invoke(tenant);
        var created = (await AdminA.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = tenant })).Tenant;
        var key = (await AdminA.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = created.Name, DisplayName = "two hosts" })).Key;
        return new TwoHostTenant(created, Clients.For(_channelA!, "Bearer " + key), Clients.For(_channelB!, "Bearer " + key));
    }

    public static async Task<Profile> CreateProfileAsync(TwoHostTenant tenant, Action<Profile>? configure = null)
    {
        var profile = Samples.Profile(ServerFixture.NewProfileId());
        configure?.Invoke(profile);
        return (await tenant.OnA.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = profile })).Profile;
    }

    public static async Task<CreateOfferResponse> CreateOfferAsync(TwoHostTenant tenant, Profile profile, Action<CreateOfferRequest>? configure = null)
    {
        var request = new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name };
        configure?.Invoke(request);
        return await tenant.OnA.Offers.CreateOfferAsync(request);
    }

    public async Task DisposeAsync()
    {
        WalletA?.Dispose();
        WalletB?.Dispose();
        _channelA?.Dispose();
        _channelB?.Dispose();
        if (_a is not null)
        {
            await _a.DisposeAsync();
        }

        if (_b is not null)
        {
            await _b.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        foreach (var directory in _dataDirectories)
        {
            TestEnvironment.DeleteDirectory(directory);
        }
    }

    private Dictionary<string, string> Settings(string purpose)
    {
        var dataDirectory = TestEnvironment.NewTempDirectory(purpose);
        _dataDirectories.Add(dataDirectory);
        return new Dictionary<string, string>
        {
            ["Issuer2:Database:Provider"] = "Postgres",
            ["Issuer2:Database:ConnectionString"] = Database.ConnectionString,
            ["Issuer2:DataDirectory"] = dataDirectory,
            ["Issuer2:AdminKey"] = _adminKey,
            ["Issuer2:KeyEncryptionKey"] = _kek,
        };
    }
}
