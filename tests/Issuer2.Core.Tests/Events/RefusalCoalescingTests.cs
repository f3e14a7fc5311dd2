using Issuer2.Core.Credentials;
using Issuer2.Core.Events;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Events;

/// <summary>
/// Refusal events coalesced: per offer or session, type and reason, at most K events per window; the rest counted and
/// told on one event, the next refusal's or maintenance's flush, so nothing is lost and one link cannot write without bound.
/// </summary>
public sealed class RefusalCoalescingTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(10);

    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    public RefusalCoalescingTests()
    {
        _bed.Coalescing = new RefusalCoalescing(3, Window);
    }

    private EventDetails.CredentialRefused[] CredentialRefusals() =>
        [.. _bed.Db.Events.Where(e => e.Type == EventTypes.CredentialRefused).Select(TestBed.Detail<EventDetails.CredentialRefused>)];

    private EventDetails.TokenRefused[] TokenRefusals() =>
        [.. _bed.Db.Events.Where(e => e.Type == EventTypes.TokenRefused).Select(TestBed.Detail<EventDetails.TokenRefused>)];

    private Task RefuseCredentialAsync(AuthorizedSession session, string error = "invalid_proof") =>
        _bed.IssueCredential.RecordRefusalAsync(session, new WalletError(error == "invalid_proof" ? WalletErrorCode.InvalidProof : WalletErrorCode.InvalidNonce, "refused"), default);

    /// <summary>Moves the clock to the start of the next window.</summary>
    private void NextWindow()
    {
        var now = _bed.Clock.GetUtcNow();
        _bed.Clock.Advance(_bed.Coalescing.WindowStart(now) + _bed.Coalescing.Window - now);
    }

    [Fact]
    public void WindowStart_IsAlignedToTheEpoch_SoEveryHostAgrees()
    {
        var rule = new RefusalCoalescing(5, Window);
        var at = new DateTimeOffset(2026, 12, 2, 1, 47, 13, TimeSpan.Zero);

        Assert.Equal(new DateTimeOffset(2026, 12, 2, 1, 40, 0, TimeSpan.Zero), rule.WindowStart(at));
        Assert.Equal(rule.WindowStart(at), rule.WindowStart(at.ToOffset(TimeSpan.FromHours(2))));
        Assert.Equal(at - TimeSpan.FromMinutes(7) - TimeSpan.FromSeconds(13) + Window, rule.WindowStart(at + TimeSpan.FromMinutes(3)));
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(5, true)]
    [InlineData(6, false)]
    public void Emits_TheFirstLimitRefusalsOfAWindow(long ordinal, bool emits) =>
        Assert.Equal(emits, new RefusalCoalescing(5, Window).Emits(ordinal));

    [Fact]
    public void Default_IsFiveEventsPerTenMinutes() =>
        Assert.Equal(new RefusalCoalescing(5, TimeSpan.FromMinutes(10)), RefusalCoalescing.Default);

    [Fact]
    public async Task CredentialRefusals_BeyondTheLimit_AreCountedNotWritten()
    {
        var session = await _bed.SessionAsync();

        for (var i = 0; i < 20; i++) await RefuseCredentialAsync(session);

        Assert.Equal([new("invalid_proof"), new("invalid_proof"), new("invalid_proof")], CredentialRefusals());
    }

    [Fact]
    public async Task NextRefusalInALaterWindow_CarriesTheCountOfTheUnwrittenOnes()
    {
        var session = await _bed.SessionAsync();
        for (var i = 0; i < 20; i++) await RefuseCredentialAsync(session);
        NextWindow();

        await RefuseCredentialAsync(session);

        // Itself and the 17 refusals of the closed window that were counted, not written.
        Assert.Equal(new EventDetails.CredentialRefused("invalid_proof", Repeats: 18), CredentialRefusals()[^1]);
        Assert.Equal(4, CredentialRefusals().Length);
    }

    [Fact]
    public async Task Flush_WritesOneEventWithTheCount_AndNothingIsToldTwice()
    {
        var session = await _bed.SessionAsync();
        for (var i = 0; i < 20; i++) await RefuseCredentialAsync(session);
        NextWindow();

        var flushed = await _bed.Journal.FlushClosedWindowsAsync(_bed.Clock.GetUtcNow(), 100, default);
        await RefuseCredentialAsync(session);

        Assert.Equal(1, flushed);
        Assert.Equal(
            [new("invalid_proof"), new("invalid_proof"), new("invalid_proof"), new("invalid_proof", Repeats: 17), new("invalid_proof")],
            CredentialRefusals());
        var told = _bed.Db.Events.Where(e => e.Type == EventTypes.CredentialRefused).ToList();
        Assert.All(told, e => Assert.Equal(session.Access.Session.Id, e.SessionId));
    }

    [Fact]
    public async Task Flush_OfAWindowWithinTheLimit_WritesNothing_AndAnOpenWindowIsKept()
    {
        var session = await _bed.SessionAsync();
        await RefuseCredentialAsync(session);
        await RefuseCredentialAsync(session);

        Assert.Equal(0, await _bed.Journal.FlushClosedWindowsAsync(_bed.Clock.GetUtcNow(), 100, default));
        NextWindow();
        Assert.Equal(1, await _bed.Journal.FlushClosedWindowsAsync(_bed.Clock.GetUtcNow(), 100, default));

        Assert.Equal(2, CredentialRefusals().Length);
    }

    [Fact]
    public async Task Refusals_WithAnotherReasonOrSession_AreCountedApart()
    {
        var one = await _bed.SessionAsync();
        var other = await _bed.SessionAsync();

        for (var i = 0; i < 10; i++)
        {
            await RefuseCredentialAsync(one);
            await RefuseCredentialAsync(one, "invalid_nonce");
            await RefuseCredentialAsync(other);
        }

        Assert.Equal(9, CredentialRefusals().Length);
    }

    [Fact]
    public async Task TokenRefusals_OfOneOffer_AreCoalesced()
    {
        // A window shorter than the code's life, so the code is still live in the next one.
        _bed.Coalescing = new RefusalCoalescing(3, TimeSpan.FromMinutes(1));
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);

        for (var i = 0; i < 10; i++) await _bed.IssueToken.ExecuteAsync(TestBed.TenantId, TestBed.PreAuthorized(code), default);
        NextWindow();
        await _bed.IssueToken.ExecuteAsync(TestBed.TenantId, TestBed.PreAuthorized(code), default);

        var missing = new EventDetails.TokenRefused(TokenRefusalReasons.TxCodeMissing);
        Assert.Equal([missing, missing, missing, missing with { Repeats = 8 }], TokenRefusals());
    }

    [Fact]
    public async Task WrongPins_AreCountedAndLockAsBefore_EachWithItsEvent()
    {
        _bed.Coalescing = new RefusalCoalescing(1, Window);
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);

        for (var i = 0; i < 8; i++) await _bed.IssueToken.ExecuteAsync(TestBed.TenantId, TestBed.PreAuthorized(code, "000000"), default);

        // The five wrong PINs are counted, each with its event (attempts left), and lock the offer; of the three
        // refusals after the lock, one event is written and two are counted.
        Assert.Equal(
            [
                new(TokenRefusalReasons.WrongPin, 4), new(TokenRefusalReasons.WrongPin, 3), new(TokenRefusalReasons.WrongPin, 2),
                new(TokenRefusalReasons.WrongPin, 1), new(TokenRefusalReasons.WrongPin, 0), new EventDetails.TokenRefused(TokenRefusalReasons.OfferLocked),
            ],
            TokenRefusals());
        Assert.Equal(5, _bed.Db.Offers.Single(o => o.Id == offer.Offer.Id).PinFailedAttempts);
        Assert.NotNull(_bed.Db.Offers.Single(o => o.Id == offer.Offer.Id).LockedAt);
        Assert.Single(_bed.Db.Events, e => e.Type == EventTypes.OfferLocked);
    }
}
