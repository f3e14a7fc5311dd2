using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Issuer2.Core.Events;

/// <summary>
/// Wakes this host's listeners of a tenant. On SQLite (one host) it is the whole notifier; on PostgreSQL the
/// LISTEN/NOTIFY notifier feeds it with other hosts' commits.
/// </summary>
public sealed class LocalEventNotifier : IEventNotifier
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Wakeup, byte>> _listeners = new(StringComparer.Ordinal);

    public IEventWakeup Subscribe(string tenantId)
    {
        var wakeup = new Wakeup(this, tenantId);
        _listeners.GetOrAdd(tenantId, _ => new()).TryAdd(wakeup, 0);
        return wakeup;
    }

    public void Committed(string tenantId)
    {
        if (!_listeners.TryGetValue(tenantId, out var listeners)) return;
        foreach (var listener in listeners.Keys) listener.Signal();
    }

    /// <summary>Wakes every listener of every tenant: after a lost connection nobody knows what was missed.</summary>
    public void WakeAll()
    {
        foreach (var listeners in _listeners.Values)
            foreach (var listener in listeners.Keys) listener.Signal();
    }

    private void Remove(Wakeup wakeup, string tenantId)
    {
        if (_listeners.TryGetValue(tenantId, out var listeners)) listeners.TryRemove(wakeup, out _);
    }

    private sealed class Wakeup(LocalEventNotifier owner, string tenantId) : IEventWakeup
    {
        // One pending signal at most: commits between two waits collapse into one wake-up.
        private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        public void Signal() => _signal.Writer.TryWrite(true);

        public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
        {
            if (_signal.Reader.TryRead(out _)) return true;
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timer.CancelAfter(timeout);
            try
            {
                await _signal.Reader.ReadAsync(timer.Token);
                return true;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return false;
            }
        }

        public void Dispose() => owner.Remove(this, tenantId);
    }
}
