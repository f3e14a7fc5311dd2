using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// Runs tests/interop/scenarios.mjs (independent npm wallet libraries) as a child process and returns the one JSON
/// line it prints. Fails the test, with node's output, when node is missing, the npm packages are not installed,
/// or the scenario crashed.
/// </summary>
public static class NodeWallet
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static string InteropDirectory => Path.Combine(TestEnvironment.RepoRoot, "tests", "interop");

    public static async Task<JsonElement> RunAsync(JsonObject input, string script = "scenarios.mjs")
    {
        var directory = InteropDirectory;
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "@openid4vc", "openid4vci")))
        {
            throw new InvalidOperationException(
                $"The interop wallet libraries are not installed: run `npm ci` in {directory} (tests/run-all.sh does).");
        }

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(input.ToJsonString());

        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start (is it on PATH?).");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"node {script} did not finish within {Timeout}:\n{await stdout}\n{await stderr}");
        }

        var output = await stdout;
        var errors = await stderr;
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        Assert.True(
            process.ExitCode == 0 && line is not null,
            $"node {script} {input.ToJsonString()} exited with {process.ExitCode}:\n{output}\n--- stderr ---\n{errors}");
        using var document = JsonDocument.Parse(line!);
        return document.RootElement.Clone();
    }
}
