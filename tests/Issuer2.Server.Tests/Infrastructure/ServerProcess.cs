using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>
/// The built server (src/Issuer2.Server/bin/{Configuration}/net10.0/Issuer2.Server.dll) as a separate OS process,
/// on two free loopback ports, its standard output and error kept line by line.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly string _workingDirectory;

    private ServerProcess(Process process, string workingDirectory, string httpUrl, string grpcUrl)
    {
        _process = process;
        _workingDirectory = workingDirectory;
        HttpUrl = httpUrl;
        GrpcUrl = grpcUrl;
    }

    public string HttpUrl { get; }

    public string GrpcUrl { get; }

    public IReadOnlyList<string> StandardOutputLines => _stdout.ToArray();

    public IReadOnlyList<string> StandardErrorLines => _stderr.ToArray();

    public string Output => string.Join('\n', _stdout) + "\n--- stderr ---\n" + string.Join('\n', _stderr);

    /// <summary>
    /// Starts the server with these settings (as "--Key=value" arguments) plus its two listen URLs.
    /// <paramref name="publicBaseUrl"/> defaults to the HTTP URL. With <paramref name="umask"/> (e.g. "000") the server runs
    /// under that file mode creation mask instead of this process's.
    /// </summary>
    public static ServerProcess Start(IReadOnlyDictionary<string, string> settings, string? publicBaseUrl = null, string? umask = null)
    {
        var dll = TestEnvironment.ServerDll;
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"The server is not built: {dll} is missing (dotnet build Issuer2.Grpc.sln -c {TestEnvironment.Configuration}).");
        }

        var httpUrl = $"http://127.0.0.1:{TestEnvironment.FreePort().ToString(CultureInfo.InvariantCulture)}";
        var grpcUrl = $"http://127.0.0.1:{TestEnvironment.FreePort().ToString(CultureInfo.InvariantCulture)}";
        var workingDirectory = TestEnvironment.NewTempDirectory("process");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (umask is not null)
        {
            // sh sets the mask and becomes dotnet (exec): the process id stays the server's.
            start.FileName = "/bin/sh";
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("umask \"$0\" && exec dotnet \"$@\"");
            start.ArgumentList.Add(umask);
        }

        start.ArgumentList.Add(dll);
        start.ArgumentList.Add($"--Kestrel:Endpoints:Http:Url={httpUrl}");
        start.ArgumentList.Add($"--Kestrel:Endpoints:Grpc:Url={grpcUrl}");
        start.ArgumentList.Add($"--Issuer2:PublicBaseUrl={publicBaseUrl ?? httpUrl}");
        start.ArgumentList.Add("--Issuer2:AllowInsecureHttp=true");
        // Limits no test meets, then the test's own settings (a later argument wins).
        foreach (var (key, value) in TestLimits.High.Concat(settings))
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("ASPNETCORE_HTTP_PORTS");

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new ServerProcess(process, workingDirectory, httpUrl, grpcUrl);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                server._stdout.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                server._stderr.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>
    /// Waits until the host says it runs (printed once every listener is bound: /healthz answers on the HTTP listener
    /// a moment before the gRPC one is bound) and GET /healthz answers 200; fails with the process output if it exits
    /// or never does.
    /// </summary>
    public async Task WaitUntilHealthyAsync(TimeSpan? timeout = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        HttpStatusCode? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"The server exited with {_process.ExitCode} before it was healthy:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(HttpUrl + "/healthz"));
                last = response.StatusCode;
                if (response.StatusCode == HttpStatusCode.OK && StandardOutputLines.Any(line => line.StartsWith("Issuer2 is running.", StringComparison.Ordinal)))
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
                // Slow answer; try again.
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"The server was not healthy in time (last /healthz status: {last?.ToString() ?? "none"}):\n{Output}");
    }

    /// <summary>Runs the server to completion with these arguments (e.g. "migrate") and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IEnumerable<string> args, TimeSpan timeout)
    {
        var workingDirectory = TestEnvironment.NewTempDirectory("process");
        try
        {
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(TestEnvironment.ServerDll);
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"The server did not exit within {timeout}:\n{await stdout}\n{await stderr}");
            }

            return (process.ExitCode, await stdout + "\n--- stderr ---\n" + await stderr);
        }
        finally
        {
            TestEnvironment.DeleteDirectory(workingDirectory);
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Sends SIGTERM (a graceful stop) and returns at once.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start(new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "kill -TERM " + _process.Id.ToString(CultureInfo.InvariantCulture) },
            UseShellExecute = false,
        });
        if (kill is not null)
        {
            await kill.WaitForExitAsync();
        }
    }

    /// <summary>Ends the server with SIGKILL, as a crash would: nothing of it runs any more, and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
    }

    /// <summary>The exit code once the server exited within <paramref name="timeout"/>; null while it still runs.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Asks the server to stop (SIGTERM), waits for it to exit and for its output to end.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            await _process.WaitForExitAsync();
            return;
        }

        await TerminateAsync();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
        TestEnvironment.DeleteDirectory(_workingDirectory);
    }
}
