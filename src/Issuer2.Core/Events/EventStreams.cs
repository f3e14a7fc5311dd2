using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Issuer2.Core.Events;

/// <summary>
/// The event streams open on this host: a per-tenant limit, and the count as a gauge
/// (<c>issuer2.event_streams.active</c>) and a property tests read.
/// </summary>
public sealed class EventStreams : IDisposable
{
    public const string MeterName = "Issuer2";

    private readonly ConcurrentDictionary<string, int> _perTenant = new(StringComparer.Ordinal);
    private readonly Meter _meter;
    private int _active;

    public EventStreams(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("issuer2.event_streams.active", () => Volatile.Read(ref _active), unit: "{stream}",
            description: "Session event streams open on this host.");
    }

    /// <summary>Streams open on this host now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Takes a place for one stream of the tenant, or returns false at the limit.</summary>
    public bool TryOpen(string tenantId, int limit)
    {
        while (true)
        {
            var current = _perTenant.GetOrAdd(tenantId, 0);
            if (current >= limit)
            {
                // A refusal leaves no entry behind for a tenant with no stream.
                if (current == 0) _perTenant.TryRemove(KeyValuePair.Create(tenantId, 0));
                return false;
            }
            if (_perTenant.TryUpdate(tenantId, current + 1, current)) break;
        }
        Interlocked.Increment(ref _active);
        return true;
    }

    /// <summary>Frees the tenant's place; a tenant with no stream left holds no entry, so the map never outgrows the open streams.</summary>
    public void Close(string tenantId)
    {
        while (_perTenant.TryGetValue(tenantId, out var current))
        {
            // The last stream removes the entry only if no open raced in since it was read.
            if (current <= 1 ? _perTenant.TryRemove(KeyValuePair.Create(tenantId, current)) : _perTenant.TryUpdate(tenantId, current - 1, current)) break;
        }
        Interlocked.Decrement(ref _active);
    }

    /// <summary>Tenants with a stream open on this host (the size of the per-tenant map).</summary>
    public int TenantsWithStreams => _perTenant.Count;

    public void Dispose() => _meter.Dispose();
}
