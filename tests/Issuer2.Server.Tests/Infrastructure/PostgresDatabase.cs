using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>A fresh, empty database "i2t_{guid}" on the test run's PostgreSQL cluster, dropped on dispose.</summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _serverConnectionString;

    private PostgresDatabase(string serverConnectionString, string name)
    {
        _serverConnectionString = serverConnectionString;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>
    /// A fresh database on the run's cluster, or on <paramref name="serverConnectionString"/>'s: a test that holds
    /// transactions open for seconds takes a cluster of its own, since an open transaction holds back every other
    /// test's event log on the same cluster.
    /// </summary>
    public static async Task<PostgresDatabase> CreateAsync(string? serverConnectionString = null)
    {
        var server = serverConnectionString ?? TestEnvironment.PostgresConnectionString;
        var name = "i2t_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new PostgresDatabase(server, name);
    }

    /// <summary>Runs a query on this database and returns the first column of every row as text.</summary>
    public async Task<IReadOnlyList<string>> QueryColumnAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture) ?? "");
        }

        return values;
    }

    /// <summary>The whole database as pg_dump writes it (plain SQL: schema and every row).</summary>
    public async Task<string> DumpAsync()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        var start = new ProcessStartInfo(TestEnvironment.PostgresTool("pg_dump"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--host=" + builder.Host);
        start.ArgumentList.Add("--port=" + builder.Port.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--username=" + builder.Username);
        start.ArgumentList.Add("--no-password");
        start.ArgumentList.Add("--no-owner");
        start.ArgumentList.Add(Name);
        if (!string.IsNullOrEmpty(builder.Password))
        {
            start.Environment["PGPASSWORD"] = builder.Password;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("pg_dump did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var dump = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pg_dump failed ({process.ExitCode}): {await stderr}");
        }

        return dump;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(_serverConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // The cluster is thrown away at the end of the run anyway.
        }
    }
}
