using Issuer2.Storage;

namespace Issuer2.Server.Hosting;

/// <summary>The "Issuer2" configuration section; see the README's configuration table.</summary>
public sealed class IssuerOptions
{
    public const string Section = "Issuer2";

    /// <summary>Base of every tenant's credential issuer identifier; defaults to the HTTP listener's URL.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Allows an http public base URL on loopback hosts (local runs and tests); never for other hosts.</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>Where the embedded database and a generated key-encryption key live.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The admin API key; when unset (and <see cref="AdminKeys"/> empty), one is generated on first start and printed once.</summary>
    public string? AdminKey { get; set; }

    /// <summary>More admin keys, all valid at once: a rotation adds the new key here, moves the callers, then removes the old one.</summary>
    public string[] AdminKeys { get; set; } = [];

    /// <summary>Base64 of 32 bytes. Required with PostgreSQL (all hosts share it); generated into the data directory for SQLite.</summary>
    public string? KeyEncryptionKey { get; set; }

    /// <summary>A file holding the key-encryption key in base64, instead of <see cref="KeyEncryptionKey"/>.</summary>
    public string? KeyEncryptionKeyFile { get; set; }

    /// <summary>The key ring: version (a whole number) → base64 of 32 bytes; the newest is current. Version 1 may instead come from the two settings above.</summary>
    public Dictionary<string, string> KeyEncryptionKeys { get; set; } = [];

    /// <summary>A file holding key-ring versions, one <c>version:base64</c> per line (a bare base64 line is version 1).</summary>
    public string? KeyEncryptionKeysFile { get; set; }

    public KeyRingOptions Keys { get; set; } = new();

    /// <summary>Browser origins allowed to call gRPC-Web from another origin.</summary>
    public string[] CorsOrigins { get; set; } = [];

    public DatabaseOptions Database { get; set; } = new();

    public EventOptions Events { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    public TrustedProxyOptions ForwardedHeaders { get; set; } = new();

    public CapsOptions Caps { get; set; } = new();

    public RetentionOptions Retention { get; set; } = new();

    public QuotaOptions Quotas { get; set; } = new();

    /// <summary>How often expired one-time rows are purged, and how many per batch.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromMinutes(1);

    public int MaintenanceBatchSize { get; set; } = 500;

    /// <summary>
    /// On SIGTERM: how long the host lets in-flight requests finish after it stopped accepting new ones (the host's
    /// shutdown timeout). Event streams end at once with UNAVAILABLE <c>HOST_STOPPING</c> and do not wait for it.
    /// </summary>
    public TimeSpan ShutdownDrainTime { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The "Issuer2:Events" section: the session event stream.</summary>
public sealed class EventOptions
{
    /// <summary>How long the log keeps events; older cursors get OUT_OF_RANGE.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>An idle stream sends a heartbeat (and re-reads the log) this often.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Events buffered for one subscriber.</summary>
    public int StreamBuffer { get; set; } = 1000;

    /// <summary>How long a full buffer waits for the client to take an event before the stream ends as lagging.</summary>
    public TimeSpan LagTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a lagging stream's last write may still wait for a client that reads nothing at all; then the stream
    /// is reset and its place freed.
    /// </summary>
    public TimeSpan StuckWriteTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>The "Issuer2:Database" section.</summary>
public sealed class DatabaseOptions
{
    /// <summary>"Sqlite" (default) or "Postgres".</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>Defaults to the SQLite file "issuer2.db" in the data directory.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// While the database is unavailable (restart, failover, no free connection): the <c>Retry-After</c> wallets
    /// get with their 503, in whole seconds (at least 1).
    /// </summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// SQLite only: "Full" (default: every commit is synced to disk before the answer) or "Normal" (synced at
    /// checkpoints only: faster, but a power loss may roll back the last commits; docs/architecture.md,
    /// "SQLite durability").
    /// </summary>
    public SqliteSynchronous SqliteSynchronous { get; set; } = SqliteSynchronous.Full;
}
