using System.Globalization;
using System.Net;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// One offer link cannot mint codes without bound: beyond the cap of live codes per offer (remaining uses + 10 by
/// default) a wallet gets 429 temporarily_unavailable with Retry-After, and nothing is written, also under
/// concurrent resolutions; once the oldest code expires, resolving works again.
/// </summary>
public abstract class OfferCapsTests(ServerFixture fixture)
{
    /// <summary>One use plus the default slack of ten.</summary>
    private const int OneUseCap = 11;

    private static string OfferId(CreateOfferResponse offer) => offer.Offer.Name.Split('/')[^1];

    private async Task<(int Codes, int Resolutions)> StoredAsync(string offerId)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        var codes = await db.PreAuthorizedCodes.CountAsync(c => c.OfferId == offerId);
        var resolutions = await db.Offers.Where(o => o.Id == offerId).Select(o => o.ResolutionCount).SingleAsync();
        return (codes, resolutions);
    }

    private static Task<WalletReply> ResolveAsync(TestWallet wallet, CreateOfferResponse offer) =>
        wallet.GetAsync(wallet.OnThisHost(OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri!));

    [Fact]
    public async Task Resolve_BeyondTheCap_Is429WithRetryAfter_AndWritesNothing()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var offer = await w.OfferAsync(r => r.MaxUses = 1);
        for (var i = 0; i < OneUseCap; i++) Assert.Equal(HttpStatusCode.OK, (await ResolveAsync(w.Wallet, offer)).Status);
        await fixture.ReadEventsUntilCountAsync(w.A.TenantId, "offer.resolved", OneUseCap);

        var refused = await ResolveAsync(w.Wallet, offer);

        Assert.Equal((HttpStatusCode)429, refused.Status);
        Assert.Equal("temporarily_unavailable", refused.Error);
        Assert.False(string.IsNullOrEmpty(refused.ErrorDescription));
        Assert.Equal("no-store", refused.CacheControl);
        var retryAfter = int.Parse(refused.RetryAfter!, CultureInfo.InvariantCulture);
        // The oldest code was minted a moment ago: it expires after the tenant's code lifetime (5 minutes).
        Assert.InRange(retryAfter, 1, 300);
        Assert.Equal((OneUseCap, OneUseCap), await StoredAsync(OfferId(offer)));
        Assert.Equal(OneUseCap, (await fixture.ReadEventsAsync(w.A.TenantId)).Count(e => e.Type == "offer.resolved"));
    }

    [Fact]
    public async Task Resolve_ThirtyAtOnce_MintsExactlyTheCap()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var offer = await w.OfferAsync(r => r.MaxUses = 1);
        using var start = new SemaphoreSlim(0, 30);
        var racers = Enumerable.Range(0, 30).Select(async _ =>
        {
            await start.WaitAsync();
            return await ResolveAsync(w.Wallet, offer);
        }).ToList();
        start.Release(30);
        var replies = await Task.WhenAll(racers);

        Assert.Equal(OneUseCap, replies.Count(r => r.Status == HttpStatusCode.OK));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => Assert.Equal(((HttpStatusCode)429, "temporarily_unavailable"), (r.Status, r.Error)));
        Assert.Equal((OneUseCap, OneUseCap), await StoredAsync(OfferId(offer)));
    }

    [Fact]
    public async Task Resolve_OnceTheOldestCodeExpired_WorksAgain()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var offer = await w.OfferAsync(r => r.MaxUses = 1);
        Assert.Equal(HttpStatusCode.OK, (await ResolveAsync(w.Wallet, offer)).Status);
        fixture.Time.Advance(TimeSpan.FromSeconds(30));
        for (var i = 1; i < OneUseCap; i++) Assert.Equal(HttpStatusCode.OK, (await ResolveAsync(w.Wallet, offer)).Status);
        var refused = await ResolveAsync(w.Wallet, offer);
        Assert.Equal((HttpStatusCode)429, refused.Status);
        var retryAfter = TimeSpan.FromSeconds(int.Parse(refused.RetryAfter!, CultureInfo.InvariantCulture));

        fixture.Time.Advance(retryAfter - TimeSpan.FromSeconds(1));
        Assert.Equal((HttpStatusCode)429, (await ResolveAsync(w.Wallet, offer)).Status);
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        var again = await ResolveAsync(w.Wallet, offer);

        Assert.Equal(HttpStatusCode.OK, again.Status);
        // Only the oldest one expired: the next resolution is at the cap again.
        Assert.Equal((HttpStatusCode)429, (await ResolveAsync(w.Wallet, offer)).Status);
    }

    [Fact]
    public async Task Resolve_AuthorizedOfferWithIssuerState_BeyondTheCap_Is429_AndWritesNoIssuerState()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, r =>
        {
            r.Authorized(IssuerStateMode.Include);
            r.MaxUses = 1;
        });
        using var wallet = WalletSetup.WalletOn(fixture);
        for (var i = 0; i < OneUseCap; i++) Assert.Equal(HttpStatusCode.OK, (await ResolveAsync(wallet, offer)).Status);

        var refused = await ResolveAsync(wallet, offer);

        Assert.Equal(((HttpStatusCode)429, "temporarily_unavailable"), (refused.Status, refused.Error));
        // An issuer_state minted a moment ago lives ten minutes.
        Assert.InRange(int.Parse(refused.RetryAfter!, CultureInfo.InvariantCulture), 1, 600);
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        var offerId = OfferId(offer);
        Assert.Equal(OneUseCap, await db.IssuerStates.CountAsync(s => s.OfferId == offerId));
    }

    [Fact]
    public async Task Resolve_AfterARedemption_CountsTheRedeemedCodeNoLonger()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var offer = await w.OfferAsync(r => r.MaxUses = 2);
        // Two uses: twelve live codes.
        var codes = new List<string>();
        for (var i = 0; i < 12; i++) codes.Add(TestWallet.CodeOf((await ResolveAsync(w.Wallet, offer)).Json));
        Assert.Equal((HttpStatusCode)429, (await ResolveAsync(w.Wallet, offer)).Status);

        Assert.Equal(HttpStatusCode.OK, (await w.Wallet.RedeemCodeAsync(w.A.TenantId, codes[0])).Status);

        // One use left: eleven live codes allowed, eleven live: still at the cap; the cap follows the remaining uses.
        Assert.Equal((HttpStatusCode)429, (await ResolveAsync(w.Wallet, offer)).Status);
        Assert.Equal(12, (await StoredAsync(OfferId(offer))).Codes);
    }
}

public sealed class OfferCapsTests_Sqlite(SqliteServerFixture fixture)
    : OfferCapsTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class OfferCapsTests_Postgres(PostgresServerFixture fixture)
    : OfferCapsTests(fixture), IClassFixture<PostgresServerFixture>;
