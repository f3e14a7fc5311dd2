using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Wallet;

/// <summary>The per-offer limits are decided by the use cases once they found the offer, and a refusal changes nothing.</summary>
public sealed class OfferRateLimitTests
{
    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    private int Writes => _bed.Db.Codes.Count + _bed.Db.Sessions.Count + _bed.Db.AccessTokens.Count + _bed.Db.IssuedCredentials.Count + _bed.Db.Events.Count;

    private static void AssertRateLimited(WalletError? error)
    {
        Assert.NotNull(error);
        Assert.Equal(WalletErrorCode.TooManyRequests, error.Code);
        Assert.Equal(WalletErrors.TemporarilyUnavailable, error.SpecCode);
        Assert.Equal(FakeRateGate.RetryAfter, error.RetryAfter);
    }

    [Fact]
    public async Task Resolve_OfferOverItsLimit_IsRateLimitedAndMintsNothing()
    {
        var offer = await _bed.OfferAsync();
        _bed.Gate.Close(OfferLimit.Resolution);
        var before = Writes;

        var result = await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, TestBed.UriToken(offer), default);

        AssertRateLimited(result.Error);
        Assert.Equal(before, Writes);
        Assert.Equal((OfferLimit.Resolution, TestBed.TenantId, offer.Offer.Id), Assert.Single(_bed.Gate.Asked));
    }

    [Fact]
    public async Task Resolve_UnknownOffer_AsksNoGate()
    {
        _bed.Gate.Close(OfferLimit.Resolution);

        var result = await _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, "no-such-offer", default);

        Assert.Equal(WalletErrors.NotFound, result.Error?.SpecCode);
        Assert.Empty(_bed.Gate.Asked);
    }

    [Fact]
    public async Task Token_OfferOverItsLimit_IsRateLimitedAndKeepsTheCode()
    {
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);
        _bed.Gate.Close(OfferLimit.Token);
        var before = Writes;

        // A wrong PIN would count an attempt and append an event: the limit comes first.
        var result = await _bed.IssueToken.ExecuteAsync(TestBed.TenantId, TestBed.PreAuthorized(code, "000000"), default);

        AssertRateLimited(result.Error);
        Assert.Equal(before, Writes);
        Assert.Equal(0, _bed.Db.Offers.Single(o => o.Id == offer.Offer.Id).PinFailedAttempts);
        Assert.Null(_bed.Db.Codes.Single().ConsumedAt);
        Assert.Contains((OfferLimit.Token, TestBed.TenantId, offer.Offer.Id), _bed.Gate.Asked);
    }

    [Fact]
    public async Task Token_UnknownCode_AsksNoGate()
    {
        _bed.Gate.Close(OfferLimit.Token);

        var result = await _bed.IssueToken.ExecuteAsync(TestBed.TenantId, TestBed.PreAuthorized("no-such-code"), default);

        Assert.Equal(WalletErrors.InvalidGrant, result.Error?.SpecCode);
        Assert.Empty(_bed.Gate.Asked);
    }

    [Fact]
    public async Task Credential_SessionOfAnOfferOverItsLimit_IsRateLimitedBeforeAnythingIsIssued()
    {
        var token = await _bed.TokenAsync(await _bed.OfferAsync());
        _bed.Gate.Close(OfferLimit.Session);
        var before = Writes;

        var result = await _bed.AuthorizeAccessToken.ExecuteAsync(TestBed.TenantId, TestBed.Bearer(token.AccessToken), default);

        AssertRateLimited(result.Error);
        Assert.Equal(before, Writes);
    }
}
