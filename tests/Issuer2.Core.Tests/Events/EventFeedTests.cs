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
        _bed.EventFeed.StartAsync(new FeedStart(afterCursor, fromOldest), default);

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
        [.. items.Select(i => i switch { FeedItem.Event e => e.Value.Cursor, FeedItem.Heartbeat h => "heartbeat " + h.Cursor, _ => "?" })];

    // StartAsync

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Start_FromNow_IsTheHeadOfTheLog(string? afterCursor)
    {
        await _bed.AppendEventAsync();
        var newest = await _bed.AppendEventAsync();

        var started = await Start(afterCursor);

        Assert.Equal(newest.Cursor, started.Value.ToString());
    }

    [Fact]
    public async Task Start_FromNow_SeesOnlyEventsCommittedAfterwards()
    {
        await _bed.AppendEventAsync();
        var started = await Start(null);
        var later = await _bed.AppendEventAsync();

        var events = await ReadFrom(started.Value);

        Assert.Equal([later.Cursor], events.Select(e => e.Cursor));
    }

    [Fact]
    public async Task Start_FromOldestRetained_ReplaysEveryEvent()
    {
        var first = await _bed.AppendEventAsync();
        var second = await _bed.AppendEventAsync();

        var started = await Start(second.Cursor, fromOldest: true);
        var events = await ReadFrom(started.Value);

        Assert.Equal(default, started.Value);
        Assert.Equal([first.Cursor, second.Cursor], events.Select(e => e.Cursor));
    }

    [Fact]
    public async Task Start_AfterACursor_ResumesAfterIt()
    {
        var first = await _bed.AppendEventAsync();
        var second = await _bed.AppendEventAsync();

        var started = await Start(first.Cursor);
        var events = await ReadFrom(started.Value);

        Assert.Equal([second.Cursor], events.Select(e => e.Cursor));
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

        var started = await Start(purged.Cursor);

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

        var started = await Start(newestPurged.Cursor);
        var events = await ReadFrom(started.Value);

        Assert.Equal([kept.Cursor], events.Select(e => e.Cursor));
    }

    // FollowAsync

    [Fact]
    public async Task Follow_ReplaysTheLogThenDeliversALiveEvent()
    {
        var first = await _bed.AppendEventAsync();
        var second = await _bed.AppendEventAsync();
        IssuerEvent? live = null;

        var items = await FollowAsync(default, 3, TimeSpan.FromSeconds(10), async () => live = await _bed.AppendEventAsync());

        Assert.Equal([first.Cursor, second.Cursor, live!.Cursor], Cursors(items));
    }

    [Fact]
    public async Task Follow_LeavesOutOtherTenantsEvents()
    {
        await _bed.AppendEventAsync(TestBed.OtherTenantId);
        var ours = await _bed.AppendEventAsync();

        var items = await FollowAsync(default, 1, TimeSpan.FromSeconds(10));

        Assert.Equal([ours.Cursor], Cursors(items));
    }

    [Fact]
    public async Task Follow_WhenIdle_SendsAHeartbeatWithTheSafeCursor()
    {
        var last = await _bed.AppendEventAsync();
        var started = await Start(null);

        var items = await FollowAsync(started.Value, 1, TimeSpan.FromMilliseconds(50));

        var heartbeat = Assert.IsType<FeedItem.Heartbeat>(Assert.Single(items));
        Assert.Equal(last.Cursor, heartbeat.Cursor);
        Assert.Equal(_bed.Clock.GetUtcNow(), heartbeat.At);
    }

    [Fact]
    public async Task Follow_HeartbeatAfterAnotherTenantsEvent_MovesTheCursorPastIt()
    {
        var started = await Start(null);
        var theirs = await _bed.AppendEventAsync(TestBed.OtherTenantId);

        var items = await FollowAsync(started.Value, 1, TimeSpan.FromMilliseconds(50));

        Assert.Equal(["heartbeat " + theirs.Cursor], Cursors(items));
    }
}
