using Microsoft.Playwright;

namespace Issuer2.Console.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright. Missing Chromium fails the test with how to install it
/// (tests/run-all.sh does). Flags keep it off the network beyond loopback.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"{ExecutablePath} is missing: `apt-get install -y chromium` (tests/run-all.sh installs it).");
        // Playwright's expectations wait 5 s by default, its actions 30 s (set per context below). On a loaded CI
        // machine a page's first render or a live event can take longer than 5 s without anything being wrong:
        // the expectations wait as long as the actions do. A broken page still fails them.
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
    }

    /// <summary>A fresh browser profile (its own session storage), desktop-sized unless told otherwise.</summary>
    public async Task<(IBrowserContext Context, IPage Page, List<string> Problems)> NewPageAsync(ViewportSize? viewport = null, bool isMobile = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = viewport ?? new ViewportSize { Width = 1280, Height = 900 },
            IsMobile = isMobile,
            HasTouch = isMobile,
            DeviceScaleFactor = isMobile ? 2 : 1,
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        // Console errors and CSP violations are collected: a test asserts there are none it did not expect.
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error") lock (problems) problems.Add(message.Text);
        };
        page.PageError += (_, error) => { lock (problems) problems.Add("page error: " + error); };
        return (context, page, problems);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
