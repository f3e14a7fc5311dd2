using Issuer2.Core.Offers;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Offers;

/// <summary>
/// The offer and code rules of <see cref="OfferRules"/> and <see cref="CodeRules"/>: every way of asking them — the
/// state, the compiled condition, the condition bound and run as a LINQ filter (as storage runs it), and the
/// derived rules — must give the same answer, so the decision and its enforcement cannot drift apart.
/// </summary>
public sealed class OfferStateTests
{
    private const int Limit = 3;
    private static readonly DateTimeOffset Now = TestBed.Start;

    /// <summary>Every combination of the facts that end an offer, with the state precedence names for it.</summary>
    public static readonly TheoryData<bool, bool, bool, bool, OfferState> StateTable = new()
    {
        // revoked, locked, used up, expired → state
        { false, false, false, false, OfferState.Active },
        { false, false, false, true, OfferState.Expired },
        { false, false, true, false, OfferState.UsedUp },
        { false, false, true, true, OfferState.UsedUp },
        { false, true, false, false, OfferState.Locked },
        { false, true, false, true, OfferState.Locked },
        { false, true, true, false, OfferState.Locked },
        { false, true, true, true, OfferState.Locked },
        { true, false, false, false, OfferState.Revoked },
        { true, false, false, true, OfferState.Revoked },
        { true, false, true, false, OfferState.Revoked },
        { true, false, true, true, OfferState.Revoked },
        { true, true, false, false, OfferState.Revoked },
        { true, true, false, true, OfferState.Revoked },
        { true, true, true, false, OfferState.Revoked },
        { true, true, true, true, OfferState.Revoked },
    };

    private static Offer NewOffer(bool revoked = false, bool locked = false, bool usedUp = false, bool expired = false, int pinFailedAttempts = 0, string id = "offer1") => new()
    {
        Id = id,
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
        PinFailedAttempts = pinFailedAttempts,
    };

    private static PreAuthorizedCode NewCode(bool consumed, bool expired) => new()
    {
        CodeHash = [1, 2, 3],
        TenantId = "acme",
        OfferId = "offer1",
        CreatedAt = Now.AddMinutes(-1),
        ExpiresAt = expired ? Now : Now.AddMinutes(4),
        ConsumedAt = consumed ? Now.AddSeconds(-30) : null,
    };

    private static string Id(bool revoked, bool locked, bool usedUp, bool expired) => $"r{revoked}-l{locked}-u{usedUp}-e{expired}";

    /// <summary>The states whose filter, bound to <see cref="Now"/> and run over the list, keeps the offer.</summary>
    private static OfferState[] StatesKeptByBoundFilter(Offer offer) =>
        [.. Enum.GetValues<OfferState>().Where(s => new[] { offer }.AsQueryable().Where(OfferRules.InState(s).Bind(Now)).Any())];

    [Theory]
    [MemberData(nameof(StateTable))]
    public void StateAt_FirstMatchWins_RevokedLockedUsedUpExpiredActive(bool revoked, bool locked, bool usedUp, bool expired, OfferState expected)
    {
        var offer = NewOffer(revoked, locked, usedUp, expired);

        var state = offer.StateAt(Now);

        Assert.Equal(expected, state);
    }

    [Theory]
    [MemberData(nameof(StateTable))]
    public void InState_IsMetOnlyForTheStateOfStateAt(bool revoked, bool locked, bool usedUp, bool expired, OfferState expected)
    {
        var offer = NewOffer(revoked, locked, usedUp, expired);

        var states = Enum.GetValues<OfferState>().Where(s => OfferRules.InState(s).IsMetBy(offer, Now)).ToArray();

        Assert.Equal([expected], states);
    }

    [Theory]
    [MemberData(nameof(StateTable))]
    public void InState_BoundAsAFilter_KeepsTheOfferOnlyInTheStateOfStateAt(bool revoked, bool locked, bool usedUp, bool expired, OfferState expected)
    {
        var offer = NewOffer(revoked, locked, usedUp, expired);

        var states = StatesKeptByBoundFilter(offer);

        Assert.Equal([expected], states);
    }

    [Theory]
    [MemberData(nameof(StateTable))]
    public void Usable_HoldsExactlyForActiveOffers(bool revoked, bool locked, bool usedUp, bool expired, OfferState expected)
    {
        var offer = NewOffer(revoked, locked, usedUp, expired);

        var usable = OfferRules.Usable.IsMetBy(offer, Now);
        var usableAsFilter = new[] { offer }.AsQueryable().Where(OfferRules.Usable.Bind(Now)).Any();

        Assert.Equal(expected == OfferState.Active, usable);
        Assert.Equal(usable, usableAsFilter);
    }

    [Fact]
    public void InState_BoundAsAFilterOverEveryCombination_SplitsTheListByState()
    {
        var offers = StateTable.Select(row => NewOffer((bool)row[0], (bool)row[1], (bool)row[2], (bool)row[3], id: Id((bool)row[0], (bool)row[1], (bool)row[2], (bool)row[3]))).ToList();

        var locked = offers.AsQueryable().Where(OfferRules.InState(OfferState.Locked).Bind(Now)).Select(o => o.Id).ToArray();
        var usedUp = offers.AsQueryable().Where(OfferRules.InState(OfferState.UsedUp).Bind(Now)).Select(o => o.Id).ToArray();
        var expired = offers.AsQueryable().Where(OfferRules.InState(OfferState.Expired).Bind(Now)).Select(o => o.Id).ToArray();
        var active = offers.AsQueryable().Where(OfferRules.InState(OfferState.Active).Bind(Now)).Select(o => o.Id).ToArray();
        var revoked = offers.AsQueryable().Where(OfferRules.InState(OfferState.Revoked).Bind(Now)).Count();

        Assert.Equal([Id(false, true, false, false), Id(false, true, false, true), Id(false, true, true, false), Id(false, true, true, true)], locked);
        Assert.Equal([Id(false, false, true, false), Id(false, false, true, true)], usedUp);
        Assert.Equal([Id(false, false, false, true)], expired);
        Assert.Equal([Id(false, false, false, false)], active);
        Assert.Equal(8, revoked);
    }

    [Fact]
    public void InState_BoundToTwoTimes_FiltersEachByItsOwnTime()
    {
        var offers = new[] { NewOffer() }.AsQueryable();
        var activeNow = OfferRules.InState(OfferState.Active).Bind(Now);
        var activeLater = OfferRules.InState(OfferState.Active).Bind(Now.AddHours(2));

        var now = offers.Where(activeNow).Count();
        var later = offers.Where(activeLater).Count();

        Assert.Equal(1, now);
        Assert.Equal(0, later);
    }

    [Fact]
    public void StateAt_WithMoreUsesThanAllowed_IsUsedUp()
    {
        var offer = NewOffer();
        offer.UseCount = offer.MaxUses + 1;

        var state = offer.StateAt(Now);

        Assert.Equal(OfferState.UsedUp, state);
    }

    // Offers that count no uses (AUTHORIZED with issuer_state OMIT: wallet-initiated issuance)

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void StateAt_OfferCountingNoUses_IsNeverUsedUp(int useCount)
    {
        var offer = NewOffer();
        offer = CountingNoUses(offer, useCount);

        var state = offer.StateAt(Now);
        var usedUpAsFilter = new[] { offer }.AsQueryable().Where(OfferRules.InState(OfferState.UsedUp).Bind(Now)).Any();

        Assert.Equal(OfferState.Active, state);
        Assert.False(usedUpAsFilter);
    }

    [Fact]
    public void StateAt_OfferCountingNoUses_StillExpiresAndIsRevoked()
    {
        var expired = CountingNoUses(NewOffer(expired: true), 0);
        var revoked = CountingNoUses(NewOffer(revoked: true), 0);

        Assert.Equal(OfferState.Expired, expired.StateAt(Now));
        Assert.Equal(OfferState.Revoked, revoked.StateAt(Now));
    }

    [Fact]
    public void Usable_OfferCountingNoUses_IsFalseWhileActive()
    {
        var offer = CountingNoUses(NewOffer(), 0);

        var usable = OfferRules.Usable.IsMetBy(offer, Now);
        var usableAsFilter = new[] { offer }.AsQueryable().Where(OfferRules.Usable.Bind(Now)).Any();

        Assert.Equal(OfferState.Active, offer.StateAt(Now));
        Assert.False(usable);
        Assert.False(usableAsFilter);
    }

    /// <summary>A copy of <paramref name="offer"/> with <see cref="OfferRules.CountsNoUses"/> as its use limit.</summary>
    private static Offer CountingNoUses(Offer offer, int useCount) => new()
    {
        Id = offer.Id, TenantId = offer.TenantId, ProfileId = offer.ProfileId, ProfileUid = offer.ProfileUid, ProfileVersion = offer.ProfileVersion,
        Method = AuthenticationMethod.Authorized, Delivery = offer.Delivery, IssuerStateMode = IssuerStateMode.Omit,
        MaxUses = OfferRules.CountsNoUses, UseCount = useCount, CreatedAt = offer.CreatedAt, ExpiresAt = offer.ExpiresAt, RevokedAt = offer.RevokedAt,
        LockedAt = offer.LockedAt,
    };

    // Wrong PINs

    [Theory]
    [InlineData(false, false, 0, true)]
    [InlineData(false, false, Limit - 1, true)]
    [InlineData(false, false, Limit, false)]
    [InlineData(false, false, Limit + 1, false)]
    [InlineData(true, false, 0, false)]
    [InlineData(false, true, 0, false)]
    [InlineData(true, true, 0, false)]
    public void CountsWrongPin_WhileNeitherRevokedNorLockedAndUnderTheLimit(bool revoked, bool locked, int attempts, bool expected)
    {
        var offer = NewOffer(revoked, locked, pinFailedAttempts: attempts);

        var counts = OfferRules.CountsWrongPin.IsMetBy(offer, Limit);
        var countsAsFilter = new[] { offer }.AsQueryable().Where(OfferRules.CountsWrongPin.Bind(Limit)).Any();

        Assert.Equal(expected, counts);
        Assert.Equal(expected, countsAsFilter);
    }

    [Fact]
    public void CountsWrongPin_OnUsedUpAndExpiredOffer_StillCounts()
    {
        var offer = NewOffer(usedUp: true, expired: true);

        var counts = OfferRules.CountsWrongPin.IsMetBy(offer, Limit);

        Assert.True(counts);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(Limit - 1, false)]
    [InlineData(Limit, true)]
    [InlineData(Limit + 1, true)]
    public void LocksAt_TheAttemptThatReachesTheLimit(int attempts, bool expected)
    {
        var locks = OfferRules.LocksAt(attempts, Limit);

        Assert.Equal(expected, locks);
    }

    // Pre-authorized codes

    [Theory]
    [InlineData(false, false, false, false, true)]
    [InlineData(true, false, true, false, false)]
    [InlineData(false, true, false, true, false)]
    [InlineData(true, true, true, true, false)]
    public void CodeRules_UsedExpiredAndRedeemableAgreeInMemoryAndAsFilters(bool consumed, bool expired, bool used, bool isExpired, bool redeemable)
    {
        var code = NewCode(consumed, expired);
        var list = new[] { code }.AsQueryable();

        var answers = new[] { CodeRules.Used.IsMetBy(code, Now), CodeRules.Expired.IsMetBy(code, Now), CodeRules.Redeemable.IsMetBy(code, Now) };
        var filtered = new[] { list.Where(CodeRules.Used.Bind(Now)).Any(), list.Where(CodeRules.Expired.Bind(Now)).Any(), list.Where(CodeRules.Redeemable.Bind(Now)).Any() };

        Assert.Equal([used, isExpired, redeemable], answers);
        Assert.Equal(answers, filtered);
    }

    [Fact]
    public void CodeRules_JustBeforeExpiry_IsRedeemable()
    {
        var code = NewCode(consumed: false, expired: false);

        var redeemable = CodeRules.Redeemable.IsMetBy(code, code.ExpiresAt.AddTicks(-1));
        var atExpiry = CodeRules.Redeemable.IsMetBy(code, code.ExpiresAt);

        Assert.True(redeemable);
        Assert.False(atExpiry);
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
