using System.Diagnostics;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.IdentityProviders;

/// <summary>
/// tests/interop/browser.mjs, the user agent of the end-to-end tests, by its own node tests
/// (tests/interop/idp/browser.test.mjs): cookie jar, form reading, the drivers of the test provider's login and
/// consent pages against provider.mjs, and of Issuer2's consent page contract.
/// </summary>
public sealed class BrowserScriptTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task BrowserScript_PassesItsNodeTests()
    {
        var directory = Path.Combine(TestEnvironment.RepoRoot, "tests", "interop");
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException($"oidc-provider is not installed: run `npm ci` in {directory} (tests/run-all.sh does).");
        }

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--test");
        start.ArgumentList.Add("--test-reporter=spec");
        start.ArgumentList.Add(Path.Combine("idp", "browser.test.mjs"));
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
            throw new InvalidOperationException($"node --test idp/browser.test.mjs did not finish within {Timeout}:\n{await stdout}\n{await stderr}");
        }

        Assert.True(process.ExitCode == 0, $"node --test idp/browser.test.mjs exited with {process.ExitCode}:\n{await stdout}\n--- stderr ---\n{await stderr}");
    }
}
