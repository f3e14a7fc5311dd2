using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>
/// A cheap account of the whole database, computed in SQL: a row count and an order-independent checksum (the sum of
/// a 40-bit hash of every row) per table, and the counters a wallet request may move — events by tenant and type,
/// offers' use, resolution, PIN and issued counts, codes consumed, sessions completed, credentials by notification
/// event. Two ledgers a batch apart must differ by exactly the sum of the batch's allowed deltas; a table whose
/// counters may not move must keep its checksum.
/// </summary>
public sealed class Ledger
{
    public const string CodesCount = "codes/count";
    public const string CodesConsumed = "codes/consumed";
    public const string OffersResolutions = "offers/resolution_count";
    public const string OffersUses = "offers/use_count";
    public const string OffersPinFailures = "offers/pin_failed_attempts";
    public const string OffersIssued = "offers/issued_count";
    public const string OffersLocked = "offers/locked";
    public const string SessionsCount = "sessions/count";
    public const string SessionsCompleted = "sessions/completed";
    public const string TokensCount = "tokens/count";
    public const string NoncesCount = "nonces/count";

    /// <summary>Refusals counted for coalescing (docs/session-events.md): every refusal the journal records counts once.</summary>
    public const string RefusalsCounted = "refusals/counted";

    /// <summary>The columns of offers that no wallet request changes.</summary>
    private static readonly string[] MutableOfferColumns = ["resolution_count", "use_count", "pin_failed_attempts", "issued_count", "locked_at"];

    /// <summary>Which table a counter key belongs to: a change to it lets that table's checksum change.</summary>
    private static readonly Dictionary<string, string> TableOfKey = new(StringComparer.Ordinal)
    {
        ["events"] = "events",
        ["offers"] = "offers",
        ["codes"] = "pre_authorized_codes",
        ["sessions"] = "issuance_sessions",
        ["tokens"] = "access_tokens",
        ["credentials"] = "issued_credentials",
        ["nonces"] = "consumed_nonces",
        ["refusals"] = "refusal_counters",
    };

    private static readonly string[] Counters =
    [
        "SELECT 'offers/resolution_count', coalesce(sum(resolution_count), 0) FROM offers",
        "SELECT 'offers/use_count', coalesce(sum(use_count), 0) FROM offers",
        "SELECT 'offers/pin_failed_attempts', coalesce(sum(pin_failed_attempts), 0) FROM offers",
        "SELECT 'offers/issued_count', coalesce(sum(issued_count), 0) FROM offers",
        "SELECT 'offers/locked', count(locked_at) FROM offers",
        "SELECT 'codes/count', count(*) FROM pre_authorized_codes",
        "SELECT 'codes/consumed', count(consumed_at) FROM pre_authorized_codes",
        "SELECT 'sessions/count', count(*) FROM issuance_sessions",
        "SELECT 'sessions/completed', count(completed_at) FROM issuance_sessions",
        "SELECT 'tokens/count', count(*) FROM access_tokens",
        "SELECT 'nonces/count', count(*) FROM consumed_nonces",
        "SELECT 'refusals/counted', coalesce(sum(refusals), 0) FROM refusal_counters",
        "SELECT 'credentials/' || coalesce(notification_event, 'none'), count(*) FROM issued_credentials GROUP BY notification_event",
        "SELECT 'events/' || tenant_id || '/' || type, count(*) FROM events GROUP BY tenant_id, type",
    ];

    private readonly ServerFixture _fixture;
    private readonly string _connectionString;
    private readonly List<string> _checksumQueries = [];

    private Ledger(ServerFixture fixture)
    {
        _fixture = fixture;
        _connectionString = DatabaseSnapshot.ConnectionStringOf(fixture);
    }

    public static string Event(string tenant, string type) => $"events/{tenant}/{type}";

    public static string Credentials(string? notificationEvent) => "credentials/" + (notificationEvent ?? "none");

    private bool IsPostgres => _fixture.Provider == "Postgres";

    /// <summary>A ledger of the fixture's database, its checksum queries built from the tables as they are.</summary>
    public static async Task<Ledger> ForAsync(ServerFixture fixture)
    {
        var ledger = new Ledger(fixture);
        var tables = await ledger.ColumnsAsync();
        foreach (var (table, columns) in tables.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            ledger._checksumQueries.Add(ledger.ChecksumQuery($"checksum/{table}", table, columns));
            if (table == "offers")
            {
                ledger._checksumQueries.Add(ledger.ChecksumQuery("checksum/offers.fixed", table, [.. columns.Where(c => !MutableOfferColumns.Contains(c))]));
            }
        }

        Assert.Contains("checksum/events", string.Join('\n', ledger._checksumQueries), StringComparison.Ordinal);
        return ledger;
    }

    /// <summary>Every counter and checksum now.</summary>
    public async Task<IReadOnlyDictionary<string, long>> TakeAsync()
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        if (IsPostgres)
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync();
            await using var batch = new NpgsqlBatch(connection);
            foreach (var sql in Counters.Concat(_checksumQueries))
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(sql));
            }

            await using var reader = await batch.ExecuteReaderAsync();
            do
            {
                while (await reader.ReadAsync())
                {
                    Read(values, reader.GetString(0), reader.GetValue(1), reader.FieldCount > 2 ? reader.GetValue(2) : null);
                }
            }
            while (await reader.NextResultAsync());
        }
        else
        {
            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync();
            connection.CreateFunction("fz_hash", (object?[] columns) => Hash40(columns), isDeterministic: true);
            foreach (var sql in Counters.Concat(_checksumQueries))
            {
                await using var command = connection.CreateCommand();
                command.CommandText = sql;
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    Read(values, reader.GetString(0), reader.GetValue(1), reader.FieldCount > 2 ? reader.GetValue(2) : null);
                }
            }
        }

        return values;
    }

    /// <summary>
    /// What is wrong with the change from <paramref name="before"/> to <paramref name="after"/> given the allowed
    /// <paramref name="expected"/> delta; tenant ids in event keys are named by <paramref name="tenantNames"/>
    /// (A, B), every other tenant as "other". Empty when the change is exactly the allowed one.
    /// </summary>
    public static IReadOnlyList<string> Problems(
        IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after, Delta expected, IReadOnlyDictionary<string, string> tenantNames)
    {
        var problems = new List<string>();
        var observed = new Delta();
        foreach (var key in before.Keys.Union(after.Keys).Where(k => !k.StartsWith("checksum/", StringComparison.Ordinal)))
        {
            observed.Add(Named(key, tenantNames), after.GetValueOrDefault(key) - before.GetValueOrDefault(key));
        }

        foreach (var key in observed.Changes.Keys.Union(expected.Changes.Keys).Order(StringComparer.Ordinal))
        {
            var (want, got) = (expected.Changes.GetValueOrDefault(key), observed.Changes.GetValueOrDefault(key));
            if (want != got)
            {
                problems.Add($"{key}: expected {want:+#;-#;0}, observed {got:+#;-#;0}");
            }
        }

        // A table none of whose counters may move keeps every row exactly as it was.
        var moving = expected.Touched.Select(k => TableOfKey[k[..k.IndexOf('/', StringComparison.Ordinal)]]).ToHashSet(StringComparer.Ordinal);
        foreach (var key in after.Keys.Where(k => k.StartsWith("checksum/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var table = key["checksum/".Length..].Replace("#rows", "", StringComparison.Ordinal);
            if (!moving.Contains(table) && before.GetValueOrDefault(key) != after[key])
            {
                problems.Add($"{table} changed although nothing in it may (checksum {before.GetValueOrDefault(key)} -> {after[key]})");
            }
        }

        return problems;
    }

    private static string Named(string key, IReadOnlyDictionary<string, string> tenantNames)
    {
        if (!key.StartsWith("events/", StringComparison.Ordinal))
        {
            return key;
        }

        var parts = key.Split('/', 3);
        return $"events/{tenantNames.GetValueOrDefault(parts[1], "other")}/{parts[2]}";
    }

    private static void Read(Dictionary<string, long> values, string key, object value, object? rows)
    {
        values[key] = Convert.ToInt64(value, CultureInfo.InvariantCulture);
        if (rows is not null)
        {
            // Checksum queries also give the row count, which must match as well.
            values[key + "#rows"] = Convert.ToInt64(rows, CultureInfo.InvariantCulture);
        }
    }

    private string ChecksumQuery(string key, string table, IReadOnlyList<string> columns)
    {
        var quoted = string.Join(", ", columns.Select(c => $"t.\"{c}\""));
        return IsPostgres
            ? $"SELECT '{key}', coalesce(sum(('x' || substr(md5(ROW({quoted})::text), 1, 10))::bit(40)::bigint), 0), count(*) FROM \"{table}\" t"
            : $"SELECT '{key}', coalesce(sum(fz_hash({quoted})), 0), count(*) FROM \"{table}\" t";
    }

    private async Task<Dictionary<string, List<string>>> ColumnsAsync()
    {
        var tables = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var sql = IsPostgres
            ? "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_%' ORDER BY table_name, ordinal_position"
            : "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '\\_\\_%' ESCAPE '\\' ORDER BY m.name, p.cid";
        if (IsPostgres)
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                Column(tables, reader.GetString(0), reader.GetString(1));
            }
        }
        else
        {
            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                Column(tables, reader.GetString(0), reader.GetString(1));
            }
        }

        return tables;
    }

    private static void Column(Dictionary<string, List<string>> tables, string table, string column)
    {
        if (!tables.TryGetValue(table, out var columns))
        {
            tables[table] = columns = [];
        }

        columns.Add(column);
    }

    /// <summary>The first 40 bits of SHA-256 over the row's values as invariant text: sums of them cannot overflow.</summary>
    private static long Hash40(object?[] columns)
    {
        var text = string.Join('\u001f', columns.Select(c => c switch
        {
            null or DBNull => "\u2205",
            byte[] bytes => Convert.ToHexString(bytes),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => c.ToString(),
        }));
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return ((long)hash[0] << 32) | ((long)hash[1] << 24) | ((long)hash[2] << 16) | ((long)hash[3] << 8) | hash[4];
    }
}
