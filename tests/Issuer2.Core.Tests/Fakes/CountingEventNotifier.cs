using Issuer2.Core.Events;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>
/// Core's <see cref="LocalEventNotifier"/>, counting its listeners: a feed listens while it follows the log, so a
/// test can tell when every feed stopped reading without guessing at timings.
/// </summary>
internal sealed class CountingEventNotifier : IEventNotifier
{
    private readonly LocalEventNotifier _inner = new();
    private int _listeners;

    /// <summary>Feeds listening now.</summary>
    public int Listeners => Volatile.Read(ref _listeners);

    public IEventWakeup Subscribe(string tenantId)
    {
        Interlocked.Increment(ref _listeners);
        return new CountedWakeup(_inner.Subscribe(tenantId), this);
    }

    public void Committed(string tenantId) => _inner.Committed(tenantId);

    /// <summary>Completes once no feed listens any more.</summary>
    public async Task NoListenersAsync(CancellationToken ct)
    {
        while (Listeners > 0) await Task.Delay(TimeSpan.FromMilliseconds(5), ct);
    }

    private sealed class CountedWakeup(IEventWakeup inner, CountingEventNotifier owner) : IEventWakeup
    {
        private int _disposed;

        public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitAsync(timeout, ct);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            inner.Dispose();
            Interlocked.Decrement(ref owner._listeners);
        }
    }
}
