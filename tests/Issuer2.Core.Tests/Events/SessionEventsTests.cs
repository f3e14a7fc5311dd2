using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Events;

/// <summary>
/// The session event service: a tenant's own key pages through or streams its log. Stream tests use small real
/// timeouts and end within a deadline, so a stream that does not end fails the test instead of hanging it.
/// </summary>
public sealed class SessionEventsTests
{
    // Note: a bound on a stream that must end by itself, generous for a loaded 2-core machine; passing tests end long before it.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly EventStreamPolicy Policy = new(MaxStreamsPerTenant: 2, Buffer: 10, LagTimeout: TimeSpan.FromMilliseconds(200), HeartbeatInterval: TimeSpan.FromSeconds(10),
        StuckWriteTimeout: TimeSpan.FromMilliseconds(300));

    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    private Task<Result<EventList, Error>> List(int pageSize, string? pageToken = null, string? afterCursor = null, EventFilter? filter = null, Caller? caller = null) =>
        _bed.SessionEvents.ListAsync(caller ?? TestBed.AcmeKey, TestBed.TenantId, filter ?? EventFilter.All, pageSize, pageToken, afterCursor, PageBudget.Unlimited<IssuerEvent>(), default);

    private Task<Error?> Stream(
        Func<FeedItem, CancellationToken, Task> write, CancellationToken ct, EventStreamPolicy? policy = null, Caller? caller = null, string tenantId = TestBed.TenantId, FeedStart? start = null) =>
        _bed.SessionEvents.StreamAsync(caller ?? TestBed.AcmeKey, tenantId, EventFilter.All, start ?? new FeedStart(null, true), policy ?? Policy, write, ct);

    /// <summary>A stream expected to end by itself: the outcome, or a timeout error when it is still open at the deadline.</summary>
    private async Task<Error?> StreamToItsEnd(Func<FeedItem, CancellationToken, Task> write, EventStreamPolicy? policy = null, Caller? caller = null, FeedStart? start = null)
    {
        using var cancel = new CancellationTokenSource();
        return await WithinDeadline(Stream(write, cancel.Token, policy, caller, start: start), cancel);
    }

    private static Task Ignore(FeedItem item, CancellationToken ct) => Task.CompletedTask;

    private static string[] Cursors(EventList page) => [.. page.Events.Select(e => e.Cursor)];

    /// <summary>The stream's outcome, or a timeout error when it is still open at the deadline (then it is cancelled).</summary>
    private static async Task<Error?> WithinDeadline(Task<Error?> stream, CancellationTokenSource cancel)
    {
        if (await Task.WhenAny(stream, Task.Delay(Deadline)) == stream) return await stream;
        await cancel.CancelAsync();
        await stream;
        return new Error(ErrorKind.Unavailable, "STILL_OPEN_AT_THE_DEADLINE", "The stream did not end by itself.", []);
    }

    // Listing

    [Fact]
    public async Task List_PagesThroughTheTenantsEventsOldestFirst()
    {
        var events = new List<IssuerEvent>();
        for (var i = 0; i < 3; i++) events.Add(await _bed.AppendEventAsync());
        await _bed.AppendEventAsync(TestBed.OtherTenantId);

        var first = await List(2);
        var token = first.Value.NextPageToken;
        var second = await List(2, token);

        Assert.Equal([_bed.CursorOf(events[0]), _bed.CursorOf(events[1])], Cursors(first.Value));
        Assert.NotNull(token);
        Assert.Equal([_bed.CursorOf(events[2])], Cursors(second.Value));
        Assert.Null(second.Value.NextPageToken);
    }

    [Fact]
    public async Task List_WithPageSizeZero_UsesTheDefaultOf50()
    {
        for (var i = 0; i < 51; i++) await _bed.AppendEventAsync();

        var page = await List(0);

        Assert.Equal(PageSizes.Default, page.Value.Events.Count);
        Assert.NotNull(page.Value.NextPageToken);
    }

    [Fact]
    public async Task List_PageToken_IsUnchangedByAnotherTenantsWritesAndCarriesOnlyTheLastEventsCursor()
    {
        var ours = new List<IssuerEvent>();
        for (var i = 0; i < 3; i++) ours.Add(await _bed.AppendEventAsync());
        var before = (await List(2)).Value.NextPageToken;
        for (var i = 0; i < 100; i++) await _bed.AppendEventAsync(TestBed.OtherTenantId);

        var after = (await List(2)).Value.NextPageToken;
        var json = System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(after));

        Assert.Equal(before, after);
        Assert.Contains(_bed.CursorOf(ours[1]), json, StringComparison.Ordinal);
        Assert.Equal([_bed.CursorOf(ours[2])], Cursors((await List(2, after)).Value));
    }

    [Fact]
    public async Task List_AfterAnotherTenantsCursor_IsInvalidOnAfterCursor()
    {
        var theirs = await _bed.AppendEventAsync(TestBed.OtherTenantId);

        var page = await List(10, afterCursor: _bed.CursorOf(theirs));

        Assert.Equal(["after_cursor"], TestBed.Fields(page.Error));
    }

    [Fact]
    public async Task List_WithNegativePageSize_IsInvalidOnPageSize()
    {
        var page = await List(-1);

        Assert.Equal(["page_size"], TestBed.Fields(page.Error));
    }

    [Fact]
    public async Task List_WithPageTokenOfAnotherFilter_IsInvalidOnPageToken()
    {
        for (var i = 0; i < 3; i++) await _bed.AppendEventAsync();
        var first = await List(2);
        var token = first.Value.NextPageToken;

        var filtered = await List(2, token, filter: new EventFilter(SessionId: "session1"));

        Assert.Equal(["page_token"], TestBed.Fields(filtered.Error));
    }

    [Fact]
    public async Task List_WithPageTokenOfAnotherTenant_IsInvalidOnPageToken()
    {
        for (var i = 0; i < 3; i++) await _bed.AppendEventAsync(TestBed.OtherTenantId);
        var theirs = await _bed.SessionEvents.ListAsync(TestBed.GlobexKey, TestBed.OtherTenantId, EventFilter.All, 2, null, null, PageBudget.Unlimited<IssuerEvent>(), default);
        var token = theirs.Value.NextPageToken;

        var result = await List(2, token);

        Assert.Equal(["page_token"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task List_FilteredBySession_HasOnlyThatSessionsEvents()
    {
        await _bed.AppendEventAsync(sessionId: "session1");
        var mine = await _bed.AppendEventAsync(sessionId: "session2");
        await _bed.AppendEventAsync(sessionId: "session1");

        var page = await List(10, filter: new EventFilter(SessionId: "session2"));

        Assert.Equal([_bed.CursorOf(mine)], Cursors(page.Value));
    }

    [Fact]
    public async Task List_AfterACursor_StartsAfterIt()
    {
        var first = await _bed.AppendEventAsync();
        var second = await _bed.AppendEventAsync();

        var page = await List(10, afterCursor: _bed.CursorOf(first));

        Assert.Equal([_bed.CursorOf(second)], Cursors(page.Value));
    }

    [Fact]
    public async Task List_AfterAPurgedCursor_IsOutOfRangeCursorExpired()
    {
        var purged = await _bed.AppendEventAsync();
        await _bed.AppendEventAsync();
        _bed.Clock.Advance(TimeSpan.FromDays(1));
        await _bed.EventReader.PurgeOlderThanAsync(_bed.Clock.GetUtcNow(), 100, default);

        var page = await List(10, afterCursor: _bed.CursorOf(purged));

        Assert.Equal(ErrorKind.OutOfRange, page.Error?.Kind);
        Assert.Equal(ErrorReasons.CursorExpired, page.Error?.Reason);
    }

    [Fact]
    public async Task List_ByAnotherTenantsKey_IsNotFound()
    {
        await _bed.AppendEventAsync();

        var page = await List(10, caller: TestBed.GlobexKey);

        Assert.Equal(ErrorKind.NotFound, page.Error?.Kind);
    }

    [Fact]
    public async Task List_ByTheAdminKey_IsPermissionDenied()
    {
        var page = await List(10, caller: TestBed.Admin);

        Assert.Equal(ErrorKind.PermissionDenied, page.Error?.Kind);
    }

    // Streaming: access and start

    [Fact]
    public async Task Stream_ByAnotherTenantsKey_IsNotFoundAndOpensNoStream()
    {
        var error = await StreamToItsEnd(Ignore, caller: TestBed.GlobexKey);

        Assert.Equal(ErrorKind.NotFound, error?.Kind);
        Assert.Equal(0, _bed.Streams.Active);
    }

    [Fact]
    public async Task Stream_ByTheAdminKey_IsPermissionDenied()
    {
        var error = await StreamToItsEnd(Ignore, caller: TestBed.Admin);

        Assert.Equal(ErrorKind.PermissionDenied, error?.Kind);
        Assert.Equal(0, _bed.Streams.Active);
    }

    [Fact]
    public async Task Stream_AfterSomethingThatIsNoCursor_IsInvalidOnAfterCursor()
    {
        var error = await StreamToItsEnd(Ignore, start: new FeedStart("not-a-cursor", false));

        Assert.Equal(["after_cursor"], TestBed.Fields(error));
        Assert.Equal(0, _bed.Streams.Active);
    }

    // Streaming: delivery and the stream limit

    [Fact]
    public async Task Stream_DeliversTheLogThenLiveEventsUntilTheCallerLeaves()
    {
        var replayed = await _bed.AppendEventAsync();
        var received = new List<string>();
        var gotLive = new TaskCompletionSource();
        using var cancel = new CancellationTokenSource();
        var stream = Stream((item, ct) =>
        {
            if (item is FeedItem.Event e) received.Add(e.Cursor);
            if (received.Count == 2) gotLive.TrySetResult();
            return Task.CompletedTask;
        }, cancel.Token);
        var live = await _bed.AppendEventAsync();
        await gotLive.Task.WaitAsync(Deadline);
        var activeWhileOpen = _bed.Streams.Active;

        await cancel.CancelAsync();
        var error = await stream;

        Assert.Null(error);
        Assert.Equal([_bed.CursorOf(replayed), _bed.CursorOf(live)], received);
        Assert.Equal(1, activeWhileOpen);
        Assert.Equal(0, _bed.Streams.Active);
    }

    [Fact]
    public async Task Stream_OverTheTenantsStreamLimit_IsResourceExhaustedNamingTheQuota()
    {
        await _bed.AppendEventAsync();
        var open = new TaskCompletionSource();
        using var cancel = new CancellationTokenSource();
        var first = Stream((_, _) =>
        {
            open.TrySetResult();
            return Task.CompletedTask;
        }, cancel.Token, Policy with { MaxStreamsPerTenant = 1 });
        await open.Task.WaitAsync(Deadline);

        var second = await StreamToItsEnd(Ignore, Policy with { MaxStreamsPerTenant = 1 });
        var otherTenant = Stream(Ignore, cancel.Token, Policy with { MaxStreamsPerTenant = 1 }, TestBed.GlobexKey, TestBed.OtherTenantId);
        var activeWithBoth = _bed.Streams.Active;
        await cancel.CancelAsync();
        await first;
        await otherTenant;

        Assert.Equal(ErrorKind.ResourceExhausted, second?.Kind);
        Assert.Equal(ErrorReasons.QuotaExceeded, second?.Reason);
        Assert.Equal("event_streams_per_tenant_per_host", second?.Quota?.Quota);
        Assert.Equal(2, activeWithBoth);
        Assert.Equal(0, _bed.Streams.Active);
    }

    [Fact]
    public async Task Stream_AfterAStreamClosed_CanOpenAgainUnderTheLimit()
    {
        using (var cancel = new CancellationTokenSource())
        {
            var first = Stream(Ignore, cancel.Token, Policy with { MaxStreamsPerTenant = 1 });
            await cancel.CancelAsync();
            await first;
        }
        using var again = new CancellationTokenSource();
        var opened = new TaskCompletionSource();
        await _bed.AppendEventAsync();

        var second = Stream((_, _) =>
        {
            opened.TrySetResult();
            return Task.CompletedTask;
        }, again.Token, Policy with { MaxStreamsPerTenant = 1 });
        await opened.Task.WaitAsync(Deadline);
        await again.CancelAsync();

        Assert.Null(await second);
    }

    // Streaming: a lagging subscriber

    [Fact]
    public async Task Stream_WhoseWriterStallsLongerThanTheLagTimeout_EndsWithSubscriberLaggingOnceItResumes()
    {
        for (var i = 0; i < 5; i++) await _bed.AppendEventAsync();
        var written = 0;

        var error = await StreamToItsEnd(async (item, ct) =>
        {
            // The first write stalls until the host gave up on the client (its feed stopped), then the client reads on.
            if (Interlocked.Increment(ref written) == 1) await _bed.Notifier.NoListenersAsync(ct);
        }, Policy with { Buffer = 1 });

        Assert.Equal(ErrorKind.Unavailable, error?.Kind);
        Assert.Equal(ErrorReasons.SubscriberLagging, error?.Reason);
        Assert.InRange(written, 1, 4);
        Assert.Equal(0, _bed.Streams.Active);
    }

    [Fact]
    public async Task Stream_WhoseWriterNeverCompletesAWrite_EndsWithSubscriberLaggingAfterTheStuckWriteTimeout()
    {
        for (var i = 0; i < 5; i++) await _bed.AppendEventAsync();

        // A client that reads nothing: the write waits until the stream is torn down, as a blocked transport does.
        var error = await StreamToItsEnd((item, ct) => Task.Delay(Timeout.Infinite, ct), Policy with { Buffer = 1 });

        Assert.Equal(ErrorKind.Unavailable, error?.Kind);
        Assert.Equal(ErrorReasons.SubscriberLagging, error?.Reason);
    }
}
