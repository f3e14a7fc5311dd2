using System.Runtime.CompilerServices;
using Grpc.Core;
using Issuer2.Grpc.V1;

namespace Issuer2.Client;

/// <summary>How an <see cref="EventFollower"/> resumes.</summary>
public sealed class EventFollowerOptions
{
    /// <summary>Which events to receive; null receives all.</summary>
    public EventFilter? Filter { get; init; }

    /// <summary>
    /// Start after this cursor (from an event or a heartbeat you kept). Null starts from now, or from the oldest
    /// retained event with <see cref="FromOldestRetained"/>.
    /// </summary>
    public string? AfterCursor { get; init; }

    /// <summary>Replay every retained event first (only when <see cref="AfterCursor"/> is null).</summary>
    public bool FromOldestRetained { get; init; }

    /// <summary>The first wait before resuming after a failure; doubles with each failure in a row.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between two resumes.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Failures in a row (without an event or heartbeat between them) before the follower gives up; null: never.</summary>
    public int? MaxConsecutiveFailures { get; init; }

    /// <summary>Told every new cursor (after an event, or from a heartbeat): store it to resume a later run from there.</summary>
    public Action<string>? OnCursor { get; init; }

    /// <summary>Told before each resume: why the stream ended (null when the server closed it cleanly) and the wait.</summary>
    public Action<Exception?, TimeSpan>? OnResume { get; init; }

    /// <summary>The clock the backoff waits on.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>
/// Follows a tenant's events over <c>SubscribeEvents</c> and keeps going when the stream ends: it remembers the last
/// cursor it was given (an event's, or a heartbeat's) and resubscribes after it, so a dropped connection,
/// <c>UNAVAILABLE SUBSCRIBER_LAGGING</c>, <c>HOST_STOPPING</c> or a host restart loses and repeats nothing.
/// It stops on what resuming cannot fix: <c>OUT_OF_RANGE</c> (the cursor is older than retention),
/// <c>INVALID_ARGUMENT</c>, <c>UNAUTHENTICATED</c>, <c>PERMISSION_DENIED</c>, <c>NOT_FOUND</c>, and on cancellation.
/// </summary>
/// <remarks>
/// Started without a cursor ("from now"), the follower holds none until the first event or heartbeat arrives;
/// a stream that fails before then resumes from now again. Pass a stored cursor for a gap-free start.
/// </remarks>
public sealed class EventFollower
{
    private readonly SessionEventsService.SessionEventsServiceClient _client;
    private readonly string _parent;
    private readonly EventFollowerOptions _options;

    /// <summary>A follower of <paramref name="parent"/> (<c>tenants/{tenant_id}</c>) on <paramref name="client"/>.</summary>
    public EventFollower(SessionEventsService.SessionEventsServiceClient client, string parent, EventFollowerOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(parent);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _parent = parent;
        _options = options;
        Cursor = options.AfterCursor;
    }

    /// <summary>Where a resume starts: the cursor of the last event or heartbeat received, or the start cursor.</summary>
    public string? Cursor { get; private set; }

    /// <summary>How many times the stream was opened again after it ended.</summary>
    public int Resumes { get; private set; }

    /// <summary>The events, each once and in log order, until <paramref name="ct"/> is cancelled or a failure cannot be resumed.</summary>
    public async IAsyncEnumerable<Event> FollowAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var failures = 0;
        var first = true;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var request = new SubscribeEventsRequest { Parent = _parent, Filter = _options.Filter ?? new EventFilter() };
            if (Cursor is not null)
            {
                request.AfterCursor = Cursor;
            }
            else if (first && _options.FromOldestRetained)
            {
                request.FromOldestRetained = true;
            }

            first = false;
            Exception? ended = null;
            using (var call = _client.SubscribeEvents(request, cancellationToken: ct))
            {
                var stream = call.ResponseStream;
                while (true)
                {
                    SubscribeEventsResponse? message = null;
                    try
                    {
                        if (!await stream.MoveNext(ct).ConfigureAwait(false))
                        {
                            break;
                        }

                        message = stream.Current;
                    }
                    catch (RpcException error) when (ct.IsCancellationRequested)
                    {
                        // The caller stopped following: that is a cancellation, whatever status the call ended with.
                        throw new OperationCanceledException("Following was cancelled.", error, ct);
                    }
                    catch (RpcException error) when (Resumable(error))
                    {
                        ended = error;
                        break;
                    }
                    catch (IOException error) when (!ct.IsCancellationRequested)
                    {
                        ended = error;
                        break;
                    }
                    catch (HttpRequestException error) when (!ct.IsCancellationRequested)
                    {
                        ended = error;
                        break;
                    }

                    failures = 0;
                    switch (message.KindCase)
                    {
                        case SubscribeEventsResponse.KindOneofCase.Event:
                            // Note: the cursor moves before the event is handed out, so a resume never sends it again.
                            SetCursor(message.Event.Cursor);
                            yield return message.Event;
                            break;
                        case SubscribeEventsResponse.KindOneofCase.Heartbeat:
                            SetCursor(message.Heartbeat.Cursor);
                            break;
                        case SubscribeEventsResponse.KindOneofCase.None:
                            break;
                        default:
                            throw new InvalidOperationException($"Unknown stream message {message.KindCase}.");
                    }
                }
            }

            failures++;
            if (_options.MaxConsecutiveFailures is { } max && failures > max)
            {
                throw ended ?? new RpcException(new Status(StatusCode.Unavailable, "The event stream kept ending."));
            }

            var wait = ended is RpcException rpc && RpcErrors.RetryDelay(rpc) is { } asked
                ? asked
                : Backoff.Jittered(_options.InitialBackoff, _options.MaxBackoff, failures);
            _options.OnResume?.Invoke(ended, wait);
            await Task.Delay(wait, _options.TimeProvider, ct).ConfigureAwait(false);
            Resumes++;
        }
    }

    private void SetCursor(string cursor)
    {
        if (cursor.Length == 0 || cursor == Cursor)
        {
            return;
        }

        Cursor = cursor;
        _options.OnCursor?.Invoke(cursor);
    }

    /// <summary>Whether opening the stream again after this cursor can succeed.</summary>
    internal static bool Resumable(RpcException error) => error.StatusCode switch
    {
        // A host stopping, a lagging subscriber, a database failing over, a connection that could not be made.
        StatusCode.Unavailable => true,
        // The stream quota or a rate limit: resumable once the server's RetryInfo delay has passed.
        StatusCode.ResourceExhausted => RpcErrors.RetryDelay(error) is not null,
        // A connection reset mid-stream surfaces as INTERNAL or CANCELLED without any server detail.
        StatusCode.Internal or StatusCode.Cancelled or StatusCode.Unknown => error.GetRpcStatus() is null,
        StatusCode.DeadlineExceeded => true,
        _ => false,
    };
}
