using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster of a test's own (initdb in a temp directory, a free loopback port), which the test
/// may stop and start under a running server, as .ci/lib.sh starts the run's shared one. pg_ctl runs as the postgres
/// user (<c>runuser -u postgres --</c>), so the tests that use it need root, as tests/run-all.sh runs them.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    private readonly string _directory;
    private bool _running;

    private PostgresCluster(string directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The cluster's "postgres" database as user postgres (trust authentication).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database=postgres";

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>Makes the cluster and starts it.</summary>
    public static async Task<PostgresCluster> StartNewAsync()
    {
        var directory = TestEnvironment.NewTempDirectory("pg-cluster");
        var cluster = new PostgresCluster(directory, TestEnvironment.FreePort());
        try
        {
            await RunAsync("chown", ["postgres", directory]);
            await RunAsPostgresAsync("initdb", ["-D", cluster.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
            await cluster.StartAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the (stopped) cluster and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        await RunAsPostgresAsync("pg_ctl", [
            "-D", DataDirectory, "-l", Path.Combine(_directory, "log"), "-w", "-t", "60",
            "-o", $"-c listen_addresses=127.0.0.1 -p {Port.ToString(CultureInfo.InvariantCulture)} -k {_directory} -c fsync=off -c max_connections=200",
            "start",
        ]);
        _running = true;
    }

    /// <summary>
    /// Stops the cluster: "fast" (every session is ended with 57P01 admin_shutdown and the server goes down at once,
    /// as in a restart or failover) or "immediate" (no clean shutdown at all, as in a crash).
    /// </summary>
    public async Task StopAsync(string mode = "fast")
    {
        await RunAsPostgresAsync("pg_ctl", ["-D", DataDirectory, "-m", mode, "-w", "-t", "60", "stop"]);
        _running = false;
    }

    /// <summary>A fresh database on this cluster.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "i2f_" + Guid.NewGuid().ToString("N");
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>The server's log, for failure messages.</summary>
    public string Log()
    {
        var path = Path.Combine(_directory, "log");
        return File.Exists(path) ? File.ReadAllText(path) : "(no log)";
    }

    public async ValueTask DisposeAsync()
    {
        if (_running)
        {
            try
            {
                await StopAsync("immediate");
            }
            catch (InvalidOperationException)
            {
                // Already down; the directory goes anyway.
            }
        }

        TestEnvironment.DeleteDirectory(_directory);
    }

    private static Task RunAsPostgresAsync(string tool, IEnumerable<string> args) =>
        RunAsync("runuser", ["-u", "postgres", "--", TestEnvironment.PostgresTool(tool), .. args]);

    private static async Task RunAsync(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{program} {string.Join(' ', start.ArgumentList)} did not finish within {ToolTimeout}.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }
}
