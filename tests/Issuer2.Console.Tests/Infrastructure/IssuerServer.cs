using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Issuer2.Console.Tests.Infrastructure;

/// <summary>
/// The built server as a separate process on two loopback ports with embedded SQLite in its own data directory. It can
/// be stopped (SIGTERM, as an operator would) and started again on the same ports and data, so a browser sees the same
/// origin come back.
/// </summary>
public sealed class IssuerServer : IAsyncDisposable
{
    private readonly string _dataDirectory = Repo.NewTempDirectory("data");
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    public IssuerServer(IReadOnlyDictionary<string, string>? settings = null)
    {
        _settings = settings ?? new Dictionary<string, string>();
        var http = Repo.FreePort();
        var grpc = Repo.FreePort();
        HttpUrl = $"http://127.0.0.1:{http.ToString(CultureInfo.InvariantCulture)}";
        GrpcUrl = $"http://127.0.0.1:{grpc.ToString(CultureInfo.InvariantCulture)}";
    }

    public string AdminKey { get; } = Repo.NewAdminKey();

    /// <summary>Wallets, gRPC-Web and the console (HTTP/1.1).</summary>
    public string HttpUrl { get; }

    /// <summary>Native gRPC (h2c).</summary>
    public string GrpcUrl { get; }

    public string ConsoleUrl => HttpUrl + "/console/";

    public string Output => string.Join('\n', _output);

    public async Task StartAsync()
    {
        if (!File.Exists(Repo.ServerDll))
            throw new InvalidOperationException($"The server is not built: {Repo.ServerDll} is missing (dotnet build Issuer2.Grpc.sln -c {Repo.Configuration}).");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Repo.ServerDll);
        var args = new Dictionary<string, string>
        {
            ["Kestrel:Endpoints:Http:Url"] = HttpUrl,
            ["Kestrel:Endpoints:Grpc:Url"] = GrpcUrl,
            ["Issuer2:PublicBaseUrl"] = HttpUrl,
            ["Issuer2:AllowInsecureHttp"] = "true",
            ["Issuer2:DataDirectory"] = Path.Combine(_dataDirectory, "data"),
            ["Issuer2:AdminKey"] = AdminKey,
            ["Issuer2:ShutdownDrainTime"] = "00:00:02",
            ["Issuer2:Events:HeartbeatInterval"] = "00:00:02",
        };
        foreach (var (key, value) in _settings) args[key] = value;
        foreach (var (key, value) in args) start.ArgumentList.Add($"--{key}={value}");
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("ASPNETCORE_ENVIRONMENT");

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue("err: " + e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"The server exited with {process.ExitCode}:\n{Output}");
            try
            {
                using var response = await http.GetAsync(new Uri(HttpUrl + "/healthz"));
                if (response.StatusCode == HttpStatusCode.OK && _output.Any(l => l.StartsWith("Issuer2 is running.", StringComparison.Ordinal))) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow; again.
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"The server did not become healthy:\n{Output}");
    }

    /// <summary>SIGTERM and wait: the host drains, event streams end with UNAVAILABLE.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean.
        }
    }
}
