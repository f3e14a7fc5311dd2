using Google.Protobuf.WellKnownTypes;
using Issuer2.Core.Events;
using Issuer2.Grpc.V1;
using Microsoft.Extensions.Time.Testing;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>A tenant made for one test, with an API key and that key's clients.</summary>
public sealed record TestTenant(Tenant Tenant, string ApiKey, Clients Clients)
{
    public string TenantId => Tenant.TenantId;

    public string Name => Tenant.Name;
}

/// <summary>
/// One in-process Issuer2 host shared by the tests of one class, on one database provider. Tests isolate
/// themselves by creating fresh tenants with random ids.
/// </summary>
public abstract class ServerFixture : IAsyncLifetime
{
    private IssuerTestHost? _host;

    /// <summary>"Sqlite" or "Postgres", as Issuer2:Database:Provider spells it.</summary>
    public abstract string Provider { get; }

    /// <summary>Settings beyond the defaults this fixture's host runs with (a suite that needs other limits overrides it).</summary>
    protected virtual IReadOnlyDictionary<string, string> Configuration { get; } = new Dictionary<string, string>();

    public IssuerTestHost Host => _host ?? throw new InvalidOperationException("The host has not started.");

    public FakeTimeProvider Time => Host.Time;

    public Clients Admin => Host.Admin;

    public DateTimeOffset Now => Time.GetUtcNow();

    public async Task InitializeAsync()
    {
        _host = await IssuerTestHost.StartAsync(await CreateSettingsAsync());
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        await DisposeStorageAsync();
    }

    /// <summary>Settings for a host on a fresh database of this fixture's provider.</summary>
    protected abstract Task<TestHostSettings> CreateSettingsAsync();

    protected abstract Task DisposeStorageAsync();

    public static string NewTenantId() => "t" + Guid.NewGuid().ToString("N")[..16];

    public static string NewProfileId() => "p" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Creates a tenant (through the admin key) and an API key for it.</summary>
    public async Task<TestTenant> CreateTenantAsync(Action<Tenant>? configure = null)
    {
        var tenant = new Tenant { TenantId = NewTenantId() };
        tenant.Display.Add(new IssuerDisplay { Locale = "en-US", Name = "Test issuer " + tenant.TenantId });
        configure?.Invoke(tenant);
        var created = await Admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = tenant });
        var key = await Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest
        {
            Parent = created.Tenant.Name,
            DisplayName = "tests",
        });
        return new TestTenant(created.Tenant, key.Key, Host.ClientsForKey(key.Key));
    }

    /// <summary>Creates a profile (see <see cref="Samples.Profile"/>) in the tenant.</summary>
    public static async Task<Profile> CreateProfileAsync(TestTenant tenant, Action<Profile>? configure = null)
    {
        var profile = Samples.Profile(NewProfileId());
        configure?.Invoke(profile);
        var response = await tenant.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest
        {
            Parent = tenant.Name,
            Profile = profile,
        });
        return response.Profile;
    }

    /// <summary>Creates an offer from the profile; by default pre-authorized, by reference, without a PIN.</summary>
    public static async Task<CreateOfferResponse> CreateOfferAsync(
        TestTenant tenant, Profile profile, Action<CreateOfferRequest>? configure = null)
    {
        var request = new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name };
        configure?.Invoke(request);
        return await tenant.Clients.Offers.CreateOfferAsync(request);
    }

    public Task<IReadOnlyList<IssuerEvent>> ReadEventsAsync(string tenantId, EventCursor? after = null) =>
        Host.ReadEventsAsync(tenantId, after);

    /// <summary>Reads the tenant's events until one satisfies <paramref name="any"/>.</summary>
    public Task<IReadOnlyList<IssuerEvent>> ReadEventsUntilAsync(string tenantId, Func<IssuerEvent, bool> any) =>
        Host.ReadEventsUntilAsync(tenantId, events => events.Any(any));

    /// <summary>Reads the tenant's events until at least <paramref name="count"/> of them have this type.</summary>
    public Task<IReadOnlyList<IssuerEvent>> ReadEventsUntilCountAsync(string tenantId, string type, int count) =>
        Host.ReadEventsUntilAsync(tenantId, events => events.Count(e => e.Type == type) >= count);

    public Timestamp TimestampIn(TimeSpan fromNow) => Timestamp.FromDateTimeOffset(Now + fromNow);
}

/// <summary>The host on SQLite, its database file in a temporary data directory.</summary>
public class SqliteServerFixture : ServerFixture
{
    private readonly string _dataDirectory = TestEnvironment.NewTempDirectory("sqlite");

    public override string Provider => "Sqlite";

    protected override Task<TestHostSettings> CreateSettingsAsync() =>
        Task.FromResult(new TestHostSettings { Provider = Provider, DataDirectory = _dataDirectory, Settings = Configuration });

    protected override Task DisposeStorageAsync()
    {
        TestEnvironment.DeleteDirectory(_dataDirectory);
        return Task.CompletedTask;
    }
}

/// <summary>The host on a fresh PostgreSQL database of the test run's cluster (ISSUER2_TEST_POSTGRES).</summary>
public class PostgresServerFixture : ServerFixture
{
    private readonly string _dataDirectory = TestEnvironment.NewTempDirectory("postgres");
    private PostgresDatabase? _database;

    public override string Provider => "Postgres";

    public PostgresDatabase Database => _database ?? throw new InvalidOperationException("No database yet.");

    protected override async Task<TestHostSettings> CreateSettingsAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        return new TestHostSettings
        {
            Provider = Provider,
            ConnectionString = _database.ConnectionString,
            DataDirectory = _dataDirectory,
            Settings = Configuration,
        };
    }

    protected override async Task DisposeStorageAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        TestEnvironment.DeleteDirectory(_dataDirectory);
    }
}
