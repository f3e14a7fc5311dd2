using System.Net;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Events;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// One offer link cannot write refusal events without bound: of identical refusals (one offer, one reason) at most K
/// per window become events, the rest are counted in the database, and their count reaches subscribers on one event:
/// the next refusal's in a later window, or the one maintenance writes when the window closed with none.
/// </summary>
public abstract class RefusalCoalescingTests(ServerFixture fixture)
{
    internal const int Limit = 3;

    /// <summary>Shorter than a code's life (5 minutes), so the code still reaches the tx_code check in the next window.</summary>
    internal static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Longer than any window a test crosses, so maintenance runs only when a test moves the clock past it.</summary>
    internal static readonly TimeSpan Maintenance = TimeSpan.FromHours(1);

    private static string OfferId(CreateOfferResponse offer) => offer.Offer.Name.Split('/')[^1];

    /// <summary>A PIN offer's code: a token request without tx_code is refused (tx_code_missing) and never locks the offer.</summary>
    private static Task<(string Code, CreateOfferResponse Offer)> PinCodeAsync(BadInputWorld w) =>
        w.CodeAsync(r => r.TxCode = new TxCodeOptions { Length = 6 });

    private static async Task RefuseAsync(BadInputWorld w, string code, int times)
    {
        for (var i = 0; i < times; i++)
        {
            var reply = await w.Wallet.RedeemCodeAsync(w.A.TenantId, code);
            Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (reply.Status, reply.Error));
        }
    }

    /// <summary>The offer's token.refused events as subscribers get them (gRPC ListEvents).</summary>
    private static async Task<List<TokenRefusedDetail>> RefusalsAsync(BadInputWorld w, string offerId)
    {
        var events = await EventClients.For(w.Fixture.Host.Channel, w.A.ApiKey).ListEventsAsync(new ListEventsRequest { Parent = w.A.Name, PageSize = 500 });
        return [.. events.Events.Where(e => e.Type == EventType.TokenRefused && e.Offer == w.A.Name + "/offers/" + offerId).Select(e => e.TokenRefused)];
    }

    private async Task<int> StoredRefusalEventsAsync(string offerId)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        return await db.Events.CountAsync(e => e.OfferId == offerId && e.Type == "token.refused");
    }

    private async Task<int> CounterRowsAsync(string tenantId)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        return await db.RefusalCounters.CountAsync(c => c.TenantId == tenantId);
    }

    /// <summary>Moves the host's clock to the start of the next window (never as far as the next maintenance pass).</summary>
    private void NextWindow()
    {
        var now = fixture.Now;
        var start = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % Window.Ticks), TimeSpan.Zero);
        fixture.Time.Advance(start + Window - now);
    }

    [Fact]
    public async Task TwentyRefusals_WriteKEvents_AndMaintenanceWritesOneWithTheRest()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var (code, offer) = await PinCodeAsync(w);

        await RefuseAsync(w, code, 20);

        Assert.Equal(Limit, await StoredRefusalEventsAsync(OfferId(offer)));
        // The window closes; the next maintenance pass writes the 17 counted refusals as one event, and purges the counter.
        fixture.Time.Advance(Maintenance);
        await fixture.ReadEventsUntilAsync(w.A.TenantId, e => e.OfferId == OfferId(offer) && e.Detail.Contains("\"repeats\"", StringComparison.Ordinal));
        var refusals = await RefusalsAsync(w, OfferId(offer));
        Assert.Equal(Enumerable.Repeat(1, Limit).Append(17), refusals.Select(r => r.Repeats));
        Assert.All(refusals, r => Assert.Equal("tx_code_missing", r.Reason));
        Assert.Equal(Limit + 1, await StoredRefusalEventsAsync(OfferId(offer)));
        Assert.Equal(0, await CounterRowsAsync(w.A.TenantId));
    }

    [Fact]
    public async Task NextRefusalInALaterWindow_CarriesTheCount_AndNothingIsToldTwice()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var (code, offer) = await PinCodeAsync(w);
        await RefuseAsync(w, code, 20);
        NextWindow();

        await RefuseAsync(w, code, 1);
        // On PostgreSQL a reader sees a commit once every older transaction of the cluster has ended: wait for it.
        await fixture.ReadEventsUntilAsync(w.A.TenantId, e => e.OfferId == OfferId(offer) && e.Detail.Contains("\"repeats\":18", StringComparison.Ordinal));

        // Itself and the 17 of the closed window; flushing once this window closed too finds nothing more to tell.
        Assert.Equal(Enumerable.Repeat(1, Limit).Append(18), (await RefusalsAsync(w, OfferId(offer))).Select(r => r.Repeats));
        await using (var scope = fixture.Host.App.Services.CreateAsyncScope())
        {
            var journal = scope.ServiceProvider.GetRequiredService<Issuer2.Core.Wallet.IEventJournal>();
            Assert.True(await journal.FlushClosedWindowsAsync(fixture.Now + Window, 1000, CancellationToken.None) >= 1);
        }
        Assert.Equal(0, await CounterRowsAsync(w.A.TenantId));
        Assert.Equal(Limit + 1, await StoredRefusalEventsAsync(OfferId(offer)));
    }

    [Fact]
    public async Task TwentyRefusalsAtOnce_WriteExactlyKEvents_AndCountEveryOne()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var (code, offer) = await PinCodeAsync(w);
        using var start = new SemaphoreSlim(0, 20);
        var racers = Enumerable.Range(0, 20).Select(async _ =>
        {
            await start.WaitAsync();
            return await w.Wallet.RedeemCodeAsync(w.A.TenantId, code);
        }).ToList();
        start.Release(20);
        var replies = await Task.WhenAll(racers);

        Assert.All(replies, r => Assert.Equal("invalid_request", r.Error));
        Assert.Equal(Limit, await StoredRefusalEventsAsync(OfferId(offer)));
        fixture.Time.Advance(Maintenance);
        await fixture.ReadEventsUntilAsync(w.A.TenantId, e => e.OfferId == OfferId(offer) && e.Detail.Contains("\"repeats\"", StringComparison.Ordinal));
        Assert.Equal(20, (await RefusalsAsync(w, OfferId(offer))).Sum(r => r.Repeats));
    }
}

/// <summary>A host whose refusal coalescing and maintenance are set for <see cref="RefusalCoalescingTests"/>.</summary>
internal static class RefusalCoalescingSettings
{
    public static readonly IReadOnlyDictionary<string, string> Configuration = new Dictionary<string, string>
    {
        ["Issuer2:Caps:RefusalEventsPerWindow"] = RefusalCoalescingTests.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Issuer2:Caps:RefusalWindow"] = RefusalCoalescingTests.Window.ToString(),
        ["Issuer2:MaintenanceInterval"] = RefusalCoalescingTests.Maintenance.ToString(),
    };
}

public sealed class RefusalCoalescingSqliteFixture : SqliteServerFixture
{
    protected override IReadOnlyDictionary<string, string> Configuration => RefusalCoalescingSettings.Configuration;
}

public sealed class RefusalCoalescingPostgresFixture : PostgresServerFixture
{
    protected override IReadOnlyDictionary<string, string> Configuration => RefusalCoalescingSettings.Configuration;
}

public sealed class RefusalCoalescingTests_Sqlite(RefusalCoalescingSqliteFixture fixture)
    : RefusalCoalescingTests(fixture), IClassFixture<RefusalCoalescingSqliteFixture>;

public sealed class RefusalCoalescingTests_Postgres(RefusalCoalescingPostgresFixture fixture)
    : RefusalCoalescingTests(fixture), IClassFixture<RefusalCoalescingPostgresFixture>;
