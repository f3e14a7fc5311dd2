using Issuer2.Console.Tests.Infrastructure;
using Issuer2.Grpc.V1;
using Microsoft.Playwright;

namespace Issuer2.Console.Tests;

/// <summary>
/// The offer's timeline survives a server restart: the stream breaks (UNAVAILABLE), the wallet moves while the console
/// cannot reconnect, and once it can, the console resumes from the last cursor it saw: every missed event arrives, in
/// order, none twice.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class ReconnectTests(ConsoleFixture fixture)
{
    private const string StreamUrl = "**/issuer2.v1.SessionEventsService/SubscribeEvents";

    [Fact]
    public async Task The_timeline_resumes_from_its_last_cursor_after_a_reconnect()
    {
        await using var server = new IssuerServer();
        await server.StartAsync();
        using var management = new Management(server);
        var (tenantId, key) = await management.NewTenantAsync();
        var profileId = await management.NewProfileAsync(tenantId, key);
        var created = await management.Offers.CreateOfferAsync(new CreateOfferRequest
        {
            Parent = "tenants/" + tenantId,
            Profile = $"tenants/{tenantId}/profiles/{profileId}",
        }, Management.Bearer(key));

        var (context, page, _) = await fixture.Chromium.NewPageAsync();
        await using var _c = context;
        await ConsoleFixture.SignInAsync(page, server, key, tenantId);
        await page.GotoAsync(server.ConsoleUrl + "offers/" + created.Offer.OfferId);
        var state = page.Locator(".stream-state");
        var events = page.Locator("li.event");
        await Assertions.Expect(state).ToHaveAttributeAsync("data-state", "live");
        await Assertions.Expect(events).ToHaveCountAsync(1);

        // The host stops: the stream ends and the console says it is reconnecting.
        await server.StopAsync();
        await Assertions.Expect(state).ToHaveAttributeAsync("data-state", "disconnected");

        // While it cannot get through, the host comes back and the wallet claims the offer.
        var refused = 0;
        await page.RouteAsync(StreamUrl, async route =>
        {
            Interlocked.Increment(ref refused);
            await route.AbortAsync("connectionrefused");
        });
        await server.StartAsync();
        await NodeScripts.ClaimAsync(created.OfferUrl, null);
        await Assertions.Expect(state).ToHaveAttributeAsync("data-state", "disconnected");
        // It kept trying (and was refused) meanwhile.
        for (var i = 0; i < 150 && Volatile.Read(ref refused) == 0; i++) await Task.Delay(100);
        Assert.True(Volatile.Read(ref refused) > 0, "the console retried the stream while it was blocked");
        Assert.Equal(1, await events.CountAsync());

        // Let it through: it resumes after the last event it showed.
        await page.UnrouteAsync(StreamUrl);
        string[] expected = ["OFFER_CREATED", "OFFER_RESOLVED", "TOKEN_ISSUED", "CREDENTIAL_ISSUED", "SESSION_COMPLETED", "NOTIFICATION_RECEIVED"];
        await Assertions.Expect(events).ToHaveCountAsync(expected.Length, new() { Timeout = 30_000 });
        await Assertions.Expect(state).ToHaveAttributeAsync("data-state", "live");
        Assert.Equal(expected, await events.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.type)"));
        var cursors = await events.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.cursor)");
        Assert.Equal(cursors.Length, cursors.Distinct().Count());
        await Assertions.Expect(state).ToContainTextAsync("resumed");
        await ConsoleFixture.ScreenshotAsync(page, "console-timeline-resumed");
    }
}
