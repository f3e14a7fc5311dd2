using Issuer2.Console.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Issuer2.Console.Tests;

/// <summary>One Chromium for every browser test, and one server (SQLite) for the tests that need no server of their own.</summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public Chromium Chromium { get; } = new();

    public IssuerServer Server { get; } = new();

    public async Task InitializeAsync()
    {
        await Task.WhenAll(Chromium.InitializeAsync(), Server.StartAsync());
    }

    public async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        await Server.DisposeAsync();
    }

    /// <summary>Signs in on the console's start page with the keyboard-free path (fill and click).</summary>
    public static async Task SignInAsync(IPage page, IssuerServer server, string key, string? tenantId)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(server);
        await page.GotoAsync(server.ConsoleUrl);
        await page.GetByLabel("API key").FillAsync(key);
        if (tenantId is not null) await page.GetByLabel("Tenant id").FillAsync(tenantId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith(tenantId is null ? "/console/tenants" : "/console/offers", StringComparison.Ordinal));
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Repo.ScreenshotDirectory, name + ".png"), FullPage = true });
}

[CollectionDefinition(Name)]
public sealed class BrowserTests : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "browser";
}
