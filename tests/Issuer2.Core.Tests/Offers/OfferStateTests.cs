using Issuer2.Core.Offers;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Offers;

public sealed class OfferStateTests
{
    private static readonly DateTimeOffset Now = TestBed.Start;

    private static Offer NewOffer(bool revoked = false, bool locked = false, bool usedUp = false, bool expired = false) => new()
    {
        Id = "offer1",
        TenantId = "acme",
        ProfileId = "employee",
        ProfileUid = Guid.Empty,
        ProfileVersion = 1,
        Method = AuthenticationMethod.PreAuthorized,
        Delivery = DeliveryMode.ByReference,
        IssuerStateMode = IssuerStateMode.Omit,
        MaxUses = 2,
        UseCount = usedUp ? 2 : 1,
        CreatedAt = Now.AddHours(-2),
        ExpiresAt = expired ? Now.AddSeconds(-1) : Now.AddHours(1),
        RevokedAt = revoked ? Now.AddMinutes(-5) : null,
        LockedAt = locked ? Now.AddMinutes(-10) : null,
    };

    [Theory]
    [InlineData(true, true, true, true, OfferState.Revoked)]
    [InlineData(true, false, false, false, OfferState.Revoked)]
    [InlineData(false, true, true, true, OfferState.Locked)]
    [InlineData(false, true, false, false, OfferState.Locked)]
    [InlineData(false, false, true, true, OfferState.UsedUp)]
    [InlineData(false, false, true, false, OfferState.UsedUp)]
    [InlineData(false, false, false, true, OfferState.Expired)]
    [InlineData(false, false, false, false, OfferState.Active)]
    public void StateAt_FirstMatchWins_RevokedLockedUsedUpExpiredActive(bool revoked, bool locked, bool usedUp, bool expired, OfferState expected)
    {
        var offer = NewOffer(revoked, locked, usedUp, expired);

        var state = offer.StateAt(Now);

        Assert.Equal(expected, state);
    }

    [Fact]
    public void StateAt_ExactlyAtExpiry_IsExpired()
    {
        var offer = NewOffer();

        var state = offer.StateAt(offer.ExpiresAt);

        Assert.Equal(OfferState.Expired, state);
    }

    [Fact]
    public void StateAt_JustBeforeExpiry_IsActive()
    {
        var offer = NewOffer();

        var state = offer.StateAt(offer.ExpiresAt.AddTicks(-1));

        Assert.Equal(OfferState.Active, state);
    }

    [Fact]
    public void PinContext_DiffersPerOfferAndTenant()
    {
        Assert.NotEqual(Offer.PinContext("acme", "offer1"), Offer.PinContext("acme", "offer2"));
        Assert.NotEqual(Offer.PinContext("acme", "offer1"), Offer.PinContext("globex", "offer1"));
    }
}
