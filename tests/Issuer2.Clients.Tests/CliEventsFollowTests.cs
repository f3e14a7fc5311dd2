using System.Text.Json;
using Issuer2.Clients.Tests.Infrastructure;

namespace Issuer2.Clients.Tests;

/// <summary>issuer2 events follow: live events of an issuance by the independent wallet, and a kill and restart with its cursor.</summary>
[Collection(SharedServerGroup.Name)]
public sealed class CliEventsFollowTests(SharedServer shared)
{
    private static readonly string[] Issuance =
    [
        "EVENT_TYPE_OFFER_RESOLVED", "EVENT_TYPE_TOKEN_ISSUED", "EVENT_TYPE_CREDENTIAL_ISSUED", "EVENT_TYPE_SESSION_COMPLETED", "EVENT_TYPE_NOTIFICATION_RECEIVED",
    ];

    [Fact]
    public async Task EventsFollow_ShowsTheWalletsIssuance_AndAfterAKillResumesFromItsCursorFileWithoutLossOrRepeat()
    {
        var tenant = await DemoTenant.CreateAsync(shared.Host);
        var cli = new CliRunner(shared.Host, tenant.ApiKey, tenant.TenantId);
        var cursorFile = Path.Combine(TestEnvironment.NewTempDirectory("cursor"), "cursor");

        // 1. Following from the oldest retained event: the tenant's own history, then the first issuance live.
        using var first = cli.Start("events", "follow", "--from-oldest", "--cursor-file", cursorFile, "-o", "json");
        var offer1 = await CreateOfferAsync(cli);
        await first.WaitForLinesAsync(lines => lines.Any(l => Type(l) == "EVENT_TYPE_OFFER_CREATED"));
        var wallet1 = await InteropWallet.ClaimAsync(offer1.Url, null);
        Assert.True(wallet1.GetProperty("ok").GetBoolean());
        var seen1 = await first.WaitForLinesAsync(lines => lines.Count(l => Offer(l) == offer1.Name) == 1 + Issuance.Length);
        Assert.Equal(Issuance, seen1.Where(l => Offer(l) == offer1.Name).Skip(1).Select(Type));
        await WaitForCursorFileAsync(cursorFile, Cursor(seen1[^1]));
        await first.KillAsync();

        // 2. While nobody follows: a second offer and its issuance.
        var offer2 = await CreateOfferAsync(cli);
        Assert.True((await InteropWallet.ClaimAsync(offer2.Url, null)).GetProperty("ok").GetBoolean());

        // 3. Started again with the same cursor file: exactly what happened since, from the log, nothing twice.
        using var second = cli.Start("events", "follow", "--cursor-file", cursorFile, "-o", "json");
        var seen2 = await second.WaitForLinesAsync(lines => lines.Count(l => Offer(l) == offer2.Name) == 1 + Issuance.Length);
        await Task.Delay(500);
        var expected = await cli.RunAsync("events", "list", "--after-cursor", Cursor(seen1[^1]), "--all", "-o", "json");
        var log = expected.Json().GetProperty("events").EnumerateArray().Select(e => e.GetProperty("cursor").GetString()).ToList();
        Assert.Equal(log, second.Lines.Select(Cursor));
        Assert.Equal(["EVENT_TYPE_OFFER_CREATED", .. Issuance], seen2.Where(l => Offer(l) == offer2.Name).Select(Type));
        Assert.DoesNotContain(second.Lines, l => Offer(l) == offer1.Name);
    }

    [Fact]
    public async Task EventsFollow_WithFilters_ShowsOnlyTheNamedOffersTypes_AndStopsAfterCount()
    {
        var tenant = await DemoTenant.CreateAsync(shared.Host);
        var cli = new CliRunner(shared.Host, tenant.ApiKey, tenant.TenantId);
        var offer = await CreateOfferAsync(cli);
        await CreateOfferAsync(cli);

        using var follow = cli.Start("events", "follow", "--from-oldest", "--offer", offer.Name, "--type", "token_issued", "--type", "credential_issued", "--count", "2", "-o", "json");
        await InteropWallet.ClaimAsync(offer.Url, null);
        var lines = await follow.WaitForLinesAsync(l => l.Count >= 2);

        Assert.Equal(["EVENT_TYPE_TOKEN_ISSUED", "EVENT_TYPE_CREDENTIAL_ISSUED"], lines.Select(Type));
        Assert.All(lines, l => Assert.Equal(offer.Name, Offer(l)));
    }

    private static async Task<(string Name, string Url)> CreateOfferAsync(CliRunner cli)
    {
        var result = await cli.RunAsync("offers", "create", "--profile", "diploma", "--set", "given_name=Ada", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        return (json.GetProperty("offer").GetProperty("name").GetString()!, json.GetProperty("offerUrl").GetString()!);
    }

    private static async Task WaitForCursorFileAsync(string path, string cursor)
    {
        for (var i = 0; i < 100 && !(File.Exists(path) && (await File.ReadAllTextAsync(path)).Trim() == cursor); i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(cursor, (await File.ReadAllTextAsync(path)).Trim());
    }

    private static string? Type(string line) => Field(line, "type");

    private static string? Offer(string line) => Field(line, "offer");

    private static string Cursor(string line) => Field(line, "cursor")!;

    private static string? Field(string line, string name)
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.TryGetProperty(name, out var value) ? value.GetString() : null;
    }
}
