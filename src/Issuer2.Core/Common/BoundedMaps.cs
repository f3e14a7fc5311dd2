using System.Collections.Concurrent;

namespace Issuer2.Core.Common;

/// <summary>
/// The one eviction rule of the per-host caches (tenant snapshots, opened signers, OpenID Providers): each holds at
/// most a capacity of entries, and each entry is only a reload away, so past the capacity any entry may go.
/// </summary>
public static class BoundedMaps
{
    /// <summary>Evicts entries of <paramref name="map"/> until one more fits under <paramref name="capacity"/>.</summary>
    public static void MakeRoom<TKey, TValue>(ConcurrentDictionary<TKey, TValue> map, int capacity)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(map);
        while (map.Count >= capacity)
        {
            // Note: enumerating takes no lock and copies nothing (unlike Keys); any entry will do.
            using var entries = map.GetEnumerator();
            if (!entries.MoveNext() || !map.TryRemove(entries.Current.Key, out _)) break;
        }
    }
}
