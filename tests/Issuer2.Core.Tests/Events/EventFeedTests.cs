using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Events;

/// <summary>Where a feed starts, and how it replays and then follows the log.</summary>
public sealed class EventFeedTests
{
    // Note: a bound on a feed that must answer by itself, generous for a loaded 2-core machine; passing tests end long before it.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    private Task<Result<EventCursor, Error>> Start(string? afterCursor, bool fromOldest = false) =>
        _bed.EventFeed.StartAsync(TestBed.TenantId, new FeedStart(afterCursor, fromOldest), default);

    private async Task<IssuerEvent[]> ReadFrom(EventCursor from) =>
        [.. (await _bed.EventReader.ReadAsync(TestBed.TenantId, from, EventFilter.All, 100, default)).Events];

    /// <summary>The first <paramref name="count"/> items of a feed followed from <paramref name="from"/>; <paramref name="whileFollowing"/> runs after the first.</summary>
    private async Task<List<FeedItem>> FollowAsync(EventCursor from, int count, TimeSpan heartbeat, Func<Task>? whileFollowing = null)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var items = new List<FeedItem>();
        await foreach (var item in _bed.EventFeed.FollowAsync(TestBed.TenantId, EventFilter.All, from, heartbeat, deadline.Token))
        {
            items.Add(item);
            if (items.Count == count) break;
            if (items.Count == 1 && whileFollowing is not null) await whileFollowing();
        }
        return items;
    }

    private static string[] Cursors(IEnumerable<FeedItem> items) =>
        [.. items.Select(i => i switch { FeedItem.Event e => e.Cursor, FeedItem.Heartbeat h => "heartbeat " + h.Cursor, _ => "?" })];

    // StartAsync

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Start_FromNow_IsTheHeadOfTheLog(string? afterCursor)
    {
        await _bed.AppendEventAsync();
        var newest = await _bed.AppendEventAsync();

        var started = await Start(afterCursor);

        Assert.Equal(newest.Position, started.Value);
    }

    [Fact]
    public async Task Start_FromNow_SeesOnlyEventsCommittedAfterwards()
    {
        await _bed.AppendEventAsync();
        var started = await Start(null);
        var later = await _bed.AppendEventAsync();

        var events = await ReadFrom(started.Value);

        Assert.Equal([_bed.CursorOf(later)], events.Select(_bed.CursorOf));
    }

    [Fact]
    public async Task Start_FromOldestRetained_ReplaysEveryEvent()
    {
        var first = await _bed.AppendEventAsync();
        var second = await _bed.AppendEventAsync();

        var started = await Start(_bed.CursorOf(second), fromOldest: true);
        var events = await ReadFrom(started.Value);

        Assert.Equal(default, started.Value);
        Assert.Equal([_bed.CursorOf(first), _bed.CursorOf(second)], events.Select(_bed.CursorOf));
    }

    [Fact]
    public async Task Start_AfterACursor_ResumesAfterIt()
    {
        var first = await _bed.AppendEventAsync();
        var second = await _bed.AppendEventAsync();

        var started = await Start(_bed.CursorOf(first));
        var events = await ReadFrom(started.Value);

        Assert.Equal([_bed.CursorOf(second)], events.Select(_bed.CursorOf));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("12")]
    [InlineData(".5")]
    [InlineData("zz.1")]
    [InlineData("1.")]
    public async Task Start_AfterSomethingThatIsNoCursor_IsInvalidOnAfterCursor(string afterCursor)
    {
        var started = await Start(afterCursor);

        Assert.Equal(ErrorKind.InvalidArgument, started.Error?.Kind);
        Assert.Equal(ErrorReasons.InvalidArgument, started.Error?.Reason);
        Assert.Equal(["after_cursor"], TestBed.Fields(started.Error));
    }

    [Fact]
    public async Task Start_AfterACursorOlderThanThePurgeMark_IsOutOfRangeCursorExpired()
    {
        var purged = await _bed.AppendEventAsync();
        await _bed.AppendEventAsync();
        _bed.Clock.Advance(TimeSpan.FromDays(1));
        await _bed.AppendEventAsync();
        await _bed.EventReader.PurgeOlderThanAsync(_bed.Clock.GetUtcNow(), 100, default);

        var started = await Start(_bed.CursorOf(purged));

        Assert.Equal(ErrorKind.OutOfRange, started.Error?.Kind);
        Assert.Equal(ErrorReasons.CursorExpired, started.Error?.Reason);
    }

    [Fact]
    public async Task Start_AfterTheNewestPurgedEvent_ResumesBecauseNothingAfterItWasDeleted()
    {
        await _bed.AppendEventAsync();
        var newestPurged = await _bed.AppendEventAsync();
        _bed.Clock.Advance(TimeSpan.FromDays(1));
        var kept = await _bed.AppendEventAsync();
        await _bed.EventReader.PurgeOlderThanAsync(_bed.Clock.GetUtcNow(), 100, default);

        var started = await Start(_bed.CursorOf(newestPurged));
        var events = await ReadFrom(started.Value);

        Assert.Equal([_bed.CursorOf(kept)], events.Select(_bed.CursorOf));
    }

    // FollowAsync

    [Fact]
    public async Task Follow_ReplaysTheLogThenDeliversALiveEvent()
    {
        var first = await _bed.AppendEventAsync();
        var second = await _bed.AppendEventAsync();
        IssuerEvent? live = null;

        var items = await FollowAsync(default, 3, TimeSpan.FromSeconds(10), async () => live = await _bed.AppendEventAsync());

        Assert.Equal([_bed.CursorOf(first), _bed.CursorOf(second), _bed.CursorOf(live!)], Cursors(items));
    }

    [Fact]
    public async Task Follow_LeavesOutOtherTenantsEvents()
    {
        await _bed.AppendEventAsync(TestBed.OtherTenantId);
        var ours = await _bed.AppendEventAsync();

        var items = await FollowAsync(default, 1, TimeSpan.FromSeconds(10));

        Assert.Equal([_bed.CursorOf(ours)], Cursors(items));
    }

    [Fact]
    public async Task Follow_WhenIdle_SendsAHeartbeatWithTheSafeCursor()
    {
        var last = await _bed.AppendEventAsync();
        var started = await Start(null);

        var items = await FollowAsync(started.Value, 1, TimeSpan.FromMilliseconds(50));

        var heartbeat = Assert.IsType<FeedItem.Heartbeat>(Assert.Single(items));
        Assert.Equal(_bed.CursorOf(last), heartbeat.Cursor);
        Assert.Equal(_bed.Clock.GetUtcNow(), heartbeat.At);
    }

    [Fact]
    public async Task Follow_HeartbeatAfterAnotherTenantsEvents_IsUnchanged()
    {
        var ours = await _bed.AppendEventAsync();
        var before = await FollowAsync(await StartedNow(), 1, TimeSpan.FromMilliseconds(50));
        for (var i = 0; i < 10; i++) await _bed.AppendEventAsync(TestBed.OtherTenantId);

        var after = await FollowAsync(await StartedNow(), 1, TimeSpan.FromMilliseconds(50));

        Assert.Equal(["heartbeat " + _bed.CursorOf(ours)], Cursors(before));
        Assert.Equal(Cursors(before), Cursors(after));
    }

    [Fact]
    public async Task Follow_HeartbeatOfATenantWithNoEvents_IsTheFixedStartCursor()
    {
        await _bed.AppendEventAsync(TestBed.OtherTenantId);
        var items = await FollowAsync(await StartedNow(), 1, TimeSpan.FromMilliseconds(50));
        await _bed.AppendEventAsync(TestBed.OtherTenantId);

        var again = await FollowAsync(await StartedNow(), 1, TimeSpan.FromMilliseconds(50));

        Assert.Equal(["heartbeat " + _bed.Cursors.Encode(TestBed.TenantId, default)], Cursors(items));
        Assert.Equal(Cursors(items), Cursors(again));
    }

    [Fact]
    public async Task Follow_FromAHeartbeatCursor_MissesAndRepeatsNothing()
    {
        var seen = await _bed.AppendEventAsync();
        await _bed.AppendEventAsync(TestBed.OtherTenantId);
        var heartbeat = Assert.IsType<FeedItem.Heartbeat>(Assert.Single(await FollowAsync(await StartedNow(), 1, TimeSpan.FromMilliseconds(50))));
        await _bed.AppendEventAsync(TestBed.OtherTenantId);
        var next = await _bed.AppendEventAsync();

        var resumed = await Start(heartbeat.Cursor);
        var events = await ReadFrom(resumed.Value);

        Assert.Equal("heartbeat " + _bed.CursorOf(seen), Cursors([heartbeat])[0]);
        Assert.Equal([_bed.CursorOf(next)], events.Select(_bed.CursorOf));
    }

    [Fact]
    public async Task Follow_HeartbeatAfterRetentionDeletedEveryEvent_IsTheNewestDeletedAndResumesWithoutExpiring()
    {
        await _bed.AppendEventAsync();
        var newest = await _bed.AppendEventAsync();
        _bed.Clock.Advance(TimeSpan.FromDays(1));
        await _bed.EventReader.PurgeOlderThanAsync(_bed.Clock.GetUtcNow(), 100, default);

        var heartbeat = Assert.IsType<FeedItem.Heartbeat>(Assert.Single(await FollowAsync(await StartedNow(), 1, TimeSpan.FromMilliseconds(50))));
        var resumed = await Start(heartbeat.Cursor);

        Assert.Equal(_bed.CursorOf(newest), heartbeat.Cursor);
        Assert.True(resumed.IsSuccess);
    }

    [Fact]
    public async Task Start_AfterAnotherTenantsCursor_IsInvalidOnAfterCursor()
    {
        var theirs = await _bed.AppendEventAsync(TestBed.OtherTenantId);

        var started = await Start(_bed.CursorOf(theirs));

        Assert.Equal(ErrorKind.InvalidArgument, started.Error?.Kind);
        Assert.Equal(["after_cursor"], TestBed.Fields(started.Error));
    }

    [Fact]
    public async Task Start_AfterACursorBelowAnotherTenantsPurge_ResumesBecauseNoneOfThisTenantsEventsAfterItWereDeleted()
    {
        var ours = await _bed.AppendEventAsync();
        await _bed.AppendEventAsync(TestBed.OtherTenantId);
        _bed.Clock.Advance(TimeSpan.FromDays(1));
        var kept = await _bed.AppendEventAsync();
        await _bed.EventReader.PurgeOlderThanAsync(_bed.Clock.GetUtcNow(), 100, default);

        var afterOurs = await Start(_bed.CursorOf(ours));
        var fromStart = await Start(_bed.Cursors.Encode(TestBed.TenantId, default));

        Assert.Equal([_bed.CursorOf(kept)], (await ReadFrom(afterOurs.Value)).Select(_bed.CursorOf));
        Assert.Equal(ErrorKind.OutOfRange, fromStart.Error?.Kind);
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(8, 5)]
    [InlineData(40, 20)]
    [InlineData(400, 200)]
    [InlineData(1000, 500)]
    [InlineData(60000, 500)]
    public void HeldBackWait_GrowsWithTheTimeWaitedNotTheReads(int heldForMs, int expectedMs) =>
        // A feed woken by every commit under load reads often; only a transaction open for long slows its looks.
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), EventFeed.HeldBackWait(TimeSpan.FromMilliseconds(heldForMs)));

    private async Task<EventCursor> StartedNow() => (await Start(null)).Value;
}
