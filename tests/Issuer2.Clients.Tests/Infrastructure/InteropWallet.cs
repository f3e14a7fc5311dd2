using System.Diagnostics;
using System.Text.Json;

namespace Issuer2.Clients.Tests.Infrastructure;

/// <summary>The independent wallet of tests/interop (claim-cli.mjs, on @openid4vc/openid4vci) claiming one offer.</summary>
public static class InteropWallet
{
    public static async Task<JsonElement> ClaimAsync(string offerUrl, string? pin)
    {
        var directory = TestEnvironment.InteropDirectory;
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "@openid4vc", "openid4vci")))
        {
            throw new InvalidOperationException($"The interop wallet libraries are not installed: run `npm ci` in {directory} (tests/run-all.sh does).");
        }

        var start = new ProcessStartInfo("node") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("claim-cli.mjs");
        start.ArgumentList.Add(offerUrl);
        if (pin is not null) start.ArgumentList.Add(pin);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start (is it on PATH?).");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var line = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        Assert.True(process.ExitCode == 0 && line is not null, $"the wallet failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        return JsonDocument.Parse(line!).RootElement.Clone();
    }
}
