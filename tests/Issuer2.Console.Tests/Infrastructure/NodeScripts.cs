using System.Diagnostics;
using System.Text.Json;

namespace Issuer2.Console.Tests.Infrastructure;

/// <summary>
/// The independent wallet (tests/interop, npm @openid4vc/openid4vci) as a child process: it claims an offer as a phone
/// wallet would. Fails with node's output when node or the packages are missing.
/// </summary>
public static class NodeScripts
{
    public static async Task<JsonElement> ClaimAsync(string offerUrl, string? pin)
    {
        var dir = Repo.InteropDirectory;
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "@openid4vc", "openid4vci")))
            throw new InvalidOperationException($"The interop wallet libraries are not installed: run `npm ci` in {dir} (tests/run-all.sh does).");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("claim-cli.mjs");
        start.ArgumentList.Add(offerUrl);
        if (pin is not null) start.ArgumentList.Add(pin);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start (is it on PATH?)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(cts.Token);
        var line = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        Assert.True(process.ExitCode == 0 && line is not null, $"the wallet failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        using var doc = JsonDocument.Parse(line!);
        return doc.RootElement.Clone();
    }
}
