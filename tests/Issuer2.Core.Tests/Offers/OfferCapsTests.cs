using Issuer2.Core.Offers;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Offers;

/// <summary>The cap on live codes and issuer_states per offer, and what a wallet beyond it gets.</summary>
public sealed class OfferCapsTests
{
    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    private static Offer OfferWith(int maxUses, int useCount) => new()
    {
        Id = "o1", TenantId = "t", ProfileId = "p", ProfileUid = Guid.NewGuid(), ProfileVersion = 1,
        Method = AuthenticationMethod.PreAuthorized, Delivery = DeliveryMode.ByReference, IssuerStateMode = IssuerStateMode.Omit,
        MaxUses = maxUses, UseCount = useCount, CreatedAt = TestBed.Start, ExpiresAt = TestBed.Start.AddDays(1),
    };

    [Theory]
    [InlineData(1, 0, 11)]
    [InlineData(5, 2, 13)]
    [InlineData(1000, 0, 100)]
    [InlineData(3, 3, 10)]
    [InlineData(OfferRules.CountsNoUses, 0, 10)]
    public void LiveSecretsFor_IsRemainingUsesPlusSlack_AtMostMax(int maxUses, int useCount, int expected)
    {
        Assert.Equal(expected, OfferCaps.Default.LiveSecretsFor(OfferWith(maxUses, useCount)));
    }

    [Fact]
    public void LiveSecretsFor_WithoutSlackAndNoUseLeft_IsStillOne()
    {
        Assert.Equal(1, new OfferCaps(0, 5).LiveSecretsFor(OfferWith(2, 2)));
    }

    [Fact]
    public void RetryAfter_IsUntilTheOldestLiveSecretExpires_InWholeSecondsAtLeastOne()
    {
        var now = TestBed.Start;

        Assert.Equal(TimeSpan.FromSeconds(91), OfferCaps.RetryAfter(now.AddSeconds(90.2), now));
        Assert.Equal(TimeSpan.FromSeconds(1), OfferCaps.RetryAfter(now.AddMilliseconds(10), now));
        Assert.Equal(TimeSpan.FromSeconds(1), OfferCaps.RetryAfter(null, now));
        Assert.Equal(TimeSpan.FromSeconds(1), OfferCaps.RetryAfter(now.AddSeconds(-5), now));
    }

    [Fact]
    public void TooManyRequests_IsSentAsTemporarilyUnavailable()
    {
        var error = WalletError.TooManyRequests("x", TimeSpan.FromSeconds(3));

        Assert.Equal(WalletErrors.TemporarilyUnavailable, error.SpecCode);
        Assert.Equal(TimeSpan.FromSeconds(3), error.RetryAfter);
    }

    [Fact]
    public async Task Resolve_BeyondTheCap_IsTooManyRequestsUntilTheOldestCodeExpires_AndWritesNothing()
    {
        // One use, slack 2 (TestBed.Caps): three live codes at most.
        var offer = await _bed.OfferAsync(TestBed.Command(maxUses: 1));
        var uriToken = TestBed.UriToken(offer);
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, uriToken, default)).IsSuccess);
            _bed.Clock.Advance(TimeSpan.FromSeconds(10));
        }
        var events = _bed.CommittedEventTypes();

        var refused = await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, uriToken, default);

        Assert.Equal(WalletErrorCode.TooManyRequests, refused.Error?.Code);
        var oldest = _bed.Db.Codes.Min(c => c.ExpiresAt);
        Assert.Equal(oldest - _bed.Clock.GetUtcNow(), refused.Error!.RetryAfter);
        Assert.Equal(3, _bed.Db.Codes.Count);
        Assert.Equal(3, _bed.Db.Offers.Single(o => o.Id == offer.Offer.Id).ResolutionCount);
        Assert.Equal(events, _bed.CommittedEventTypes());

        // Once the oldest code expired, its place is free again.
        _bed.Clock.Advance(refused.Error.RetryAfter!.Value);
        Assert.True((await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, uriToken, default)).IsSuccess);
    }

    [Fact]
    public async Task Resolve_AtTheMaximum_OnceACodeWasRedeemed_MintsAgain()
    {
        // Many uses: the maximum (5 in TestBed.Caps) decides.
        var offer = await _bed.OfferAsync(TestBed.Command(maxUses: 1000));
        var uriToken = TestBed.UriToken(offer);
        var codes = new List<string>();
        for (var i = 0; i < 5; i++) codes.Add(TestBed.PreAuthorizedCode((await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, uriToken, default)).Value));
        Assert.Equal(WalletErrorCode.TooManyRequests, (await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, uriToken, default)).Error?.Code);

        Assert.True((await _bed.IssueToken.ExecuteAsync(TestBed.TenantId, TestBed.PreAuthorized(codes[0], offer.Pin, null), default)).IsSuccess);

        Assert.True((await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, uriToken, default)).IsSuccess);
        Assert.Equal(WalletErrorCode.TooManyRequests, (await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, uriToken, default)).Error?.Code);
    }

    [Fact]
    public async Task Resolve_AuthorizedOfferWithIssuerState_CapsLiveIssuerStates()
    {
        _bed.AllowAuthorized();
        var offer = (await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include, maxUses: 1))).Value;
        var uriToken = TestBed.UriToken(offer);
        for (var i = 0; i < 3; i++) Assert.True((await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, uriToken, default)).IsSuccess);

        var refused = await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, uriToken, default);

        Assert.Equal(WalletErrorCode.TooManyRequests, refused.Error?.Code);
        Assert.Equal(3, _bed.Db.IssuerStates.Count(s => s.OfferId == offer.Offer.Id));
    }
}
