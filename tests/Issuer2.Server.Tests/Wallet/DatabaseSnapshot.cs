using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Issuer2.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>One table row: column name to its value as invariant text (null for SQL NULL).</summary>
public sealed class Row(IReadOnlyDictionary<string, string?> columns)
{
    public IReadOnlyDictionary<string, string?> Columns { get; } = columns;

    public string? this[string column] => Columns.TryGetValue(column, out var value) ? value : throw new KeyNotFoundException($"no column {column}");

    /// <summary>The whole row as one canonical string (columns in name order).</summary>
    public string Canonical { get; } = string.Join('|', columns.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value ?? "∅"}"));

    public override string ToString() => Canonical;
}

/// <summary>
/// Every row of every table of the issuer's database at one moment, with a row count and a checksum per table,
/// read through the provider's own client (not the server's code), so a test can say exactly what a request changed.
/// </summary>
public sealed class DatabaseSnapshot
{
    public static readonly string[] Tables =
    [
        "tenants", "signing_keys", "api_keys", "profiles", "profile_versions", "offers", "pre_authorized_codes",
        "offer_requests", "events", "issuance_sessions", "access_tokens", "issued_credentials", "consumed_nonces",
        "issuer_states", "authorizations", "dpop_proofs",
    ];

    private DatabaseSnapshot(IReadOnlyDictionary<string, IReadOnlyList<Row>> rows) => RowsByTable = rows;

    public IReadOnlyDictionary<string, IReadOnlyList<Row>> RowsByTable { get; }

    public IReadOnlyList<Row> this[string table] => RowsByTable[table];

    public int Count(string table) => RowsByTable[table].Count;

    /// <summary>SHA-256 over the table's canonical rows in sorted order: equal checksums, equal contents.</summary>
    public string Checksum(string table) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', RowsByTable[table].Select(r => r.Canonical).Order(StringComparer.Ordinal)))));

    /// <summary>The snapshot of the database a fixture's host uses.</summary>
    public static Task<DatabaseSnapshot> TakeAsync(ServerFixture fixture) => TakeAsync(fixture.Provider, ConnectionStringOf(fixture));

    public static string ConnectionStringOf(ServerFixture fixture) =>
        fixture.Provider == "Postgres"
            ? fixture.Host.Settings.ConnectionString!
            : new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(fixture.Host.Settings.DataDirectory, "issuer2.db"),
                Mode = SqliteOpenMode.ReadOnly,
                Pooling = false,
            }.ConnectionString;

    public static async Task<DatabaseSnapshot> TakeAsync(string provider, string connectionString)
    {
        var rows = new Dictionary<string, IReadOnlyList<Row>>(StringComparer.Ordinal);
        if (provider == "Postgres")
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            foreach (var table in Tables)
            {
                // row_to_json gives every column by name, whatever its type.
                await using var command = new NpgsqlCommand($"SELECT row_to_json(t)::text FROM \"{table}\" t", connection);
                await using var reader = await command.ExecuteReaderAsync();
                var list = new List<Row>();
                while (await reader.ReadAsync())
                {
                    list.Add(FromJson(reader.GetString(0)));
                }

                rows[table] = list;
            }
        }
        else
        {
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync();
            foreach (var table in Tables)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = $"SELECT * FROM \"{table}\"";
                await using var reader = await command.ExecuteReaderAsync();
                var list = new List<Row>();
                while (await reader.ReadAsync())
                {
                    var columns = new Dictionary<string, string?>(StringComparer.Ordinal);
                    for (var i = 0; i < reader.FieldCount; i++)
                    {
                        columns[reader.GetName(i)] = reader.IsDBNull(i) ? null : Text(reader.GetValue(i));
                    }

                    list.Add(new Row(columns));
                }

                rows[table] = list;
            }
        }

        return new DatabaseSnapshot(rows);
    }

    private static Row FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var columns = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            columns[property.Name] = property.Value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => property.Value.GetString(),
                _ => property.Value.GetRawText(),
            };
        }

        return new Row(columns);
    }

    private static string Text(object value) => value switch
    {
        byte[] bytes => Convert.ToHexString(bytes),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>What changed between two snapshots, table by table: rows gone and rows new (a changed row is both).</summary>
public sealed class DatabaseDelta
{
    private DatabaseDelta(IReadOnlyDictionary<string, (IReadOnlyList<Row> Removed, IReadOnlyList<Row> Added)> changes) => Changes = changes;

    /// <summary>Only the tables that changed.</summary>
    public IReadOnlyDictionary<string, (IReadOnlyList<Row> Removed, IReadOnlyList<Row> Added)> Changes { get; }

    public static DatabaseDelta Between(DatabaseSnapshot before, DatabaseSnapshot after)
    {
        var changes = new Dictionary<string, (IReadOnlyList<Row>, IReadOnlyList<Row>)>(StringComparer.Ordinal);
        foreach (var table in DatabaseSnapshot.Tables)
        {
            if (before.Count(table) == after.Count(table) && before.Checksum(table) == after.Checksum(table))
            {
                continue;
            }

            var beforeRows = before[table].GroupBy(r => r.Canonical).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var afterRows = after[table].GroupBy(r => r.Canonical).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var removed = before[table].Where(r => afterRows.GetValueOrDefault(r.Canonical) < beforeRows[r.Canonical]).ToList();
            var added = after[table].Where(r => beforeRows.GetValueOrDefault(r.Canonical) < afterRows[r.Canonical]).ToList();
            changes[table] = (removed, added);
        }

        return new DatabaseDelta(changes);
    }

    public override string ToString() =>
        Changes.Count == 0
            ? "no change"
            : string.Join('\n', Changes.Select(c =>
                $"{c.Key}: -{c.Value.Removed.Count} +{c.Value.Added.Count}\n" +
                string.Join('\n', c.Value.Removed.Select(r => "  - " + r)) + "\n" +
                string.Join('\n', c.Value.Added.Select(r => "  + " + r))));
}
