using Issuer2.Core.Events;
using Issuer2.Server.Grpc;
using Issuer2.Server.Hosting;
using Issuer2.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Issuer2.Server.Tests.Events;

/// <summary>
/// An in-process host like <see cref="SqliteServerFixture"/> and <see cref="PostgresServerFixture"/>, with the
/// "Issuer2:Events" options a test class needs (a short heartbeat, a small buffer, a low stream limit). The shared
/// <see cref="IssuerTestHost"/> takes no extra settings, so the options are set on the host's own
/// <see cref="IOptions{TOptions}"/> instance right after start, before any stream opens: SessionEventsService reads
/// them at every call.
/// </summary>
public abstract class TunedServerFixture : ServerFixture, IAsyncLifetime
{
    private readonly string _dataDirectory = TestEnvironment.NewTempDirectory("events");
    private PostgresDatabase? _database;

    /// <summary>The fresh database of a PostgreSQL fixture.</summary>
    public PostgresDatabase Database => _database ?? throw new InvalidOperationException("Not a PostgreSQL fixture, or not started.");

    /// <summary>The host's open event streams (the gauge tests read).</summary>
    public EventStreams Streams => Host.App.Services.GetRequiredService<EventStreams>();

    public EventOptions EventOptions => Host.App.Services.GetRequiredService<IOptions<IssuerOptions>>().Value.Events;

    /// <summary>Starts the host, then applies <see cref="Tune"/>.</summary>
    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Tune(EventOptions);
    }

    protected abstract void Tune(EventOptions events);

    protected override async Task<TestHostSettings> CreateSettingsAsync()
    {
        if (Provider == "Postgres")
        {
            _database = await PostgresDatabase.CreateAsync();
        }

        return new TestHostSettings
        {
            Provider = Provider,
            ConnectionString = _database?.ConnectionString,
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

/// <summary>Heartbeats every 200 ms: a "from now" stream shows it is open with its first heartbeat, and heartbeat cursors come quickly.</summary>
public abstract class StreamingFixture : TunedServerFixture
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(200);

    protected override void Tune(EventOptions events) => events.HeartbeatInterval = Heartbeat;
}

public sealed class StreamingSqliteFixture : StreamingFixture
{
    public override string Provider => "Sqlite";
}

public sealed class StreamingPostgresFixture : StreamingFixture
{
    public override string Provider => "Postgres";
}

/// <summary>At most 2 streams per tenant on the host, 8 items buffered per stream, heartbeats every 200 ms.</summary>
public abstract class LimitedStreamsFixture : TunedServerFixture
{
    public const int MaxStreamsPerTenant = 2;
    public const int StreamBuffer = 8;

    /// <summary>How long a full buffer may wait for the client before the stream ends as lagging.</summary>
    public static readonly TimeSpan LagTimeout = TimeSpan.FromSeconds(1);

    protected override IReadOnlyDictionary<string, string> Configuration { get; } = new Dictionary<string, string>
    {
        ["Issuer2:Quotas:EventStreamsPerTenant"] = MaxStreamsPerTenant.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    protected override void Tune(EventOptions events)
    {
        events.HeartbeatInterval = StreamingFixture.Heartbeat;
        events.StreamBuffer = StreamBuffer;
        events.LagTimeout = LagTimeout;
    }
}

public sealed class LimitedStreamsSqliteFixture : LimitedStreamsFixture
{
    public override string Provider => "Sqlite";
}

public sealed class LimitedStreamsPostgresFixture : LimitedStreamsFixture
{
    public override string Provider => "Postgres";
}
