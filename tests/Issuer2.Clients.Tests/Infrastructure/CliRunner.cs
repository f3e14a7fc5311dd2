using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Issuer2.Clients.Tests.Infrastructure;

/// <summary>Runs the built issuer2 (dotnet issuer2.dll) as a user would, with its own empty config file.</summary>
public sealed class CliRunner(ServerHost host, string? apiKey, string? tenant)
{
    private readonly string _config = Path.Combine(TestEnvironment.NewTempDirectory("cli"), "config.json");

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public JsonElement Json() => JsonDocument.Parse(Stdout).RootElement.Clone();

        public JsonElement ErrorJson() => JsonDocument.Parse(Stderr).RootElement.GetProperty("error").Clone();

        public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
    }

    public string ConfigPath => _config;

    public CliRunner As(string? key, string? tenantId = null) => new(host, key, tenantId ?? tenant);

    public async Task<Result> RunAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args)) ?? throw new InvalidOperationException("dotnet did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"issuer2 {string.Join(' ', args)} did not exit:\n{await stdout}\n{await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts a long-running command (events follow) whose standard output lines are collected as they come.</summary>
    public Running Start(params string[] args) => new(Process.Start(StartInfo(args)) ?? throw new InvalidOperationException("dotnet did not start."));

    private ProcessStartInfo StartInfo(string[] args)
    {
        if (!File.Exists(TestEnvironment.CliDll))
        {
            throw new InvalidOperationException($"issuer2 is not built: {TestEnvironment.CliDll} is missing.");
        }

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(TestEnvironment.CliDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["ISSUER2_ADDRESS"] = host.GrpcUrl;
        start.Environment["ISSUER2_CONFIG"] = _config;
        start.Environment.Remove("ISSUER2_CONNECTION");
        if (apiKey is null) start.Environment.Remove("ISSUER2_API_KEY");
        else start.Environment["ISSUER2_API_KEY"] = apiKey;
        if (tenant is null) start.Environment.Remove("ISSUER2_TENANT");
        else start.Environment["ISSUER2_TENANT"] = tenant;
        start.Environment["DOTNET_NOLOGO"] = "1";
        return start;
    }

    /// <summary>A running issuer2 process.</summary>
    public sealed class Running : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly ConcurrentQueue<string> _errors = new();

        internal Running(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) _lines.Enqueue(line); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _errors.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public IReadOnlyList<string> Lines => _lines.ToArray();

        public string Errors => string.Join('\n', _errors);

        /// <summary>Waits until at least <paramref name="count"/> lines arrived matching <paramref name="predicate"/>.</summary>
        public async Task<IReadOnlyList<string>> WaitForLinesAsync(Func<IReadOnlyList<string>, bool> predicate, TimeSpan? timeout = null)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
            {
                var lines = Lines;
                if (predicate(lines)) return lines;
                if (_process.HasExited)
                {
                    // Note: the process can have exited before its last lines were read; WaitForExitAsync waits for the end
                    // of its redirected output too.
                    await _process.WaitForExitAsync();
                    if (predicate(Lines)) return Lines;
                    throw new InvalidOperationException($"issuer2 exited with {_process.ExitCode}:\n{string.Join('\n', Lines)}\n{Errors}");
                }

                await Task.Delay(50);
            }

            throw new TimeoutException($"issuer2 did not print what was awaited:\n{string.Join('\n', Lines)}\n--- stderr ---\n{Errors}");
        }

        /// <summary>SIGKILL: nothing of it runs any more, as if the machine lost it.</summary>
        public async Task KillAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }
}
