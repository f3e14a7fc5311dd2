using Issuer2.Console.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Playwright;

namespace Issuer2.Console.Tests;

/// <summary>
/// clients/typescript's example page (protoc-gen-es stubs, @connectrpc/connect-web) in Chromium, served from another
/// origin than the server: CreateOffer and a SubscribeEvents stream over gRPC-Web, allowed by Issuer2:CorsOrigins.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class TypeScriptExampleTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task The_example_page_creates_an_offer_and_streams_its_events_across_origins()
    {
        var exampleDir = Path.Combine(Repo.TypeScriptDirectory, "example");
        if (!File.Exists(Path.Combine(exampleDir, "dist", "main.js")))
            throw new InvalidOperationException($"The TypeScript example is not built: run `npm ci && npm run build` in {Repo.TypeScriptDirectory} (tests/run-all.sh does).");

        var pageOrigin = $"http://127.0.0.1:{Repo.FreePort()}";
        await using var site = await StaticSiteAsync(pageOrigin, exampleDir);
        await using var server = new IssuerServer(new Dictionary<string, string> { ["Issuer2:CorsOrigins:0"] = pageOrigin });
        await server.StartAsync();
        using var management = new Management(server);
        var (tenantId, key) = await management.NewTenantAsync();
        var profileId = await management.NewProfileAsync(tenantId, key);

        var (context, page, _) = await fixture.Chromium.NewPageAsync();
        await using var _c = context;
        var crossOrigin = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Url.StartsWith(server.HttpUrl + "/issuer2.v1.", StringComparison.Ordinal)) lock (crossOrigin) crossOrigin.Add(request.Url);
        };
        await page.GotoAsync(pageOrigin + "/index.html");

        // A wrong key first: the server's refusal reaches the page (CORS exposes the gRPC status).
        await FillAsync(page, server.HttpUrl, Repo.NewAdminKey(), tenantId, profileId);
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("Refused: Unauthenticated");

        await FillAsync(page, server.HttpUrl, key, tenantId, profileId);
        await Assertions.Expect(page.Locator("#offer-url")).ToContainTextAsync("openid-credential-offer://?credential_offer_uri=");
        var events = page.Locator("#events li");
        await Assertions.Expect(events).ToHaveCountAsync(1);
        await Assertions.Expect(events.First).ToHaveAttributeAsync("data-type", "OFFER_CREATED");

        var offerUrl = (await page.Locator("#offer-url").TextContentAsync())!;
        await NodeScripts.ClaimAsync(offerUrl, null);
        string[] expected = ["OFFER_CREATED", "OFFER_RESOLVED", "TOKEN_ISSUED", "CREDENTIAL_ISSUED", "SESSION_COMPLETED", "NOTIFICATION_RECEIVED"];
        await Assertions.Expect(events).ToHaveCountAsync(expected.Length);
        Assert.Equal(expected, await events.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.type)"));
        Assert.Contains(crossOrigin, u => u.EndsWith("/issuer2.v1.OfferService/CreateOffer", StringComparison.Ordinal));
        Assert.Contains(crossOrigin, u => u.EndsWith("/issuer2.v1.SessionEventsService/SubscribeEvents", StringComparison.Ordinal));
        await ConsoleFixture.ScreenshotAsync(page, "typescript-example");
    }

    private static async Task FillAsync(IPage page, string serverUrl, string key, string tenantId, string profileId)
    {
        await page.GetByLabel("Issuer2 HTTP URL").FillAsync(serverUrl);
        await page.GetByLabel("Tenant API key").FillAsync(key);
        await page.GetByLabel("Tenant id").FillAsync(tenantId);
        await page.GetByLabel("Profile id").FillAsync(profileId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create offer" }).ClickAsync();
    }

    /// <summary>The example's files on their own origin (a second Kestrel).</summary>
    private static async Task<WebApplication> StaticSiteAsync(string origin, string directory)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = directory });
        builder.WebHost.UseUrls(origin);
        var app = builder.Build();
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(directory) });
        await app.StartAsync();
        return app;
    }
}
