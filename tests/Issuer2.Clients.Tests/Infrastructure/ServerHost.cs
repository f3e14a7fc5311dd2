using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Issuer2.Client;
using Npgsql;

namespace Issuer2.Clients.Tests.Infrastructure;

/// <summary>
/// The built server as a separate process on two fixed loopback ports, its data directory (SQLite) or database
/// (PostgreSQL) and key ring kept, so it can be killed and started again at the same address with the same state.
/// </summary>
public sealed class ServerHost : IAsyncDisposable
{
    private readonly string _workingDirectory = TestEnvironment.NewTempDirectory("server");
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    private ServerHost(string provider, IReadOnlyDictionary<string, string> settings)
    {
        Provider = provider;
        _settings = settings;
        var httpPort = TestEnvironment.FreePort();
        var grpcPort = TestEnvironment.FreePort();
        HttpUrl = $"http://127.0.0.1:{httpPort.ToString(CultureInfo.InvariantCulture)}";
        GrpcUrl = $"http://127.0.0.1:{grpcPort.ToString(CultureInfo.InvariantCulture)}";
    }

    public string Provider { get; }

    public string HttpUrl { get; }

    public string GrpcUrl { get; }

    public string AdminKey { get; } = TestEnvironment.NewAdminKey();

    private string KeyEncryptionKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private string? ConnectionString { get; set; }

    public string Output => string.Join('\n', _output);

    /// <summary>Starts a server on <paramref name="provider"/> ("Sqlite" or "Postgres", a fresh database) with these settings.</summary>
    public static async Task<ServerHost> StartAsync(string provider, IReadOnlyDictionary<string, string>? settings = null)
    {
        var host = new ServerHost(provider, settings ?? new Dictionary<string, string>());
        if (provider == "Postgres")
        {
            var database = "clients_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            await using (var connection = new NpgsqlConnection(TestEnvironment.PostgresConnectionString))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
                await create.ExecuteNonQueryAsync();
            }

            host.ConnectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = database }.ConnectionString;
        }

        await host.RestartAsync();
        return host;
    }

    /// <summary>Starts the process (again), at the same address and on the same data, and waits until it serves.</summary>
    public async Task RestartAsync()
    {
        if (!File.Exists(TestEnvironment.ServerDll))
        {
            throw new InvalidOperationException($"The server is not built: {TestEnvironment.ServerDll} is missing.");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(TestEnvironment.ServerDll);
        var arguments = new Dictionary<string, string>
        {
            ["Kestrel:Endpoints:Http:Url"] = HttpUrl,
            ["Kestrel:Endpoints:Grpc:Url"] = GrpcUrl,
            ["Issuer2:PublicBaseUrl"] = HttpUrl,
            ["Issuer2:AllowInsecureHttp"] = "true",
            ["Issuer2:AdminKey"] = AdminKey,
            ["Issuer2:KeyEncryptionKey"] = KeyEncryptionKey,
            ["Issuer2:Database:Provider"] = Provider,
        };
        if (ConnectionString is not null) arguments["Issuer2:Database:ConnectionString"] = ConnectionString;
        foreach (var (key, value) in arguments.Concat(TestEnvironment.HighLimits).Concat(_settings))
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment.Remove("ASPNETCORE_URLS");
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _output.Clear();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await WaitUntilServingAsync();
    }

    private async Task WaitUntilServingAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(HttpUrl + "/healthz"));
                if (response.StatusCode == HttpStatusCode.OK && _output.Any(l => l.StartsWith("Issuer2 is running.", StringComparison.Ordinal)))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow answer.
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"The server did not become healthy:\n{Output}");
    }

    /// <summary>SIGKILL, as a crash: every stream it served breaks without a status.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>A client with this key (default: the admin key).</summary>
    public Issuer2Client Client(string? apiKey = null, RetryPolicy? retry = null, HttpMessageHandler? handler = null) => new(new Issuer2ClientOptions
    {
        Address = new Uri(GrpcUrl),
        ApiKey = apiKey ?? AdminKey,
        Retry = retry ?? RetryPolicy.Default,
        HttpHandler = handler,
    });

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        TestEnvironment.DeleteDirectory(_workingDirectory);
    }
}
