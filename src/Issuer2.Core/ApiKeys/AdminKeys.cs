using System.Security.Cryptography;
using Issuer2.Core.Common;
using Issuer2.Core.Security;

namespace Issuer2.Core.ApiKeys;

/// <summary>
/// The admin keys from configuration, held as hashes with a public name each. Several may be valid at once so the
/// admin key rotates without downtime: add the new one, move the callers, remove the old one. Replaced as a whole
/// when configuration reloads; empty when none is configured (then a generated admin key counts).
/// </summary>
public sealed class ConfiguredAdminKeys
{
    /// <summary>Shortest admin key accepted.</summary>
    public const int MinimumLength = 32;

    /// <summary>Least estimated strength, in bits: length × log2(distinct characters).</summary>
    public const int MinimumBits = 128;

    private const string NamePrefix = "configured-";

    private volatile Entry[] _entries;

    private ConfiguredAdminKeys(Entry[] entries) => _entries = entries;

    /// <summary>No configured admin key: the generated one counts.</summary>
    public static ConfiguredAdminKeys None => new([]);

    public bool Any => _entries.Length > 0;

    /// <summary>The keys' public names (<c>configured-</c> and 8 hex digits of the key's hash), for logs and events.</summary>
    public IReadOnlyList<string> Names => [.. _entries.Select(e => e.Name)];

    /// <summary>The keys of configuration, or the reason one of them is too weak (the message never holds a key).</summary>
    public static Result<ConfiguredAdminKeys, string> From(IEnumerable<string?> keys)
    {
        var parsed = Parse(keys);
        return parsed.IsSuccess ? new ConfiguredAdminKeys(parsed.Value) : parsed.Error;
    }

    /// <summary>Takes the keys of reloaded configuration; a set with a weak key is refused and the old one kept.</summary>
    public Result<bool, string> Replace(IEnumerable<string?> keys)
    {
        var parsed = Parse(keys);
        if (!parsed.IsSuccess) return parsed.Error;
        _entries = parsed.Value;
        return true;
    }

    /// <summary>The name of the configured key with this hash, or null.</summary>
    public string? Match(byte[] hash)
    {
        string? name = null;
        // Every entry is compared, in constant time, whichever matches.
        foreach (var entry in _entries)
            if (CryptographicOperations.FixedTimeEquals(hash, entry.Hash)) name ??= entry.Name;
        return name;
    }

    /// <summary>Why this admin key is too weak, or null when it is strong enough.</summary>
    public static string? Weakness(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < MinimumLength) return $"must be at least {MinimumLength} characters";
        if (key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) return "must not contain spaces or control characters";
        var distinct = key.Distinct().Count();
        if (key.Length * Math.Log2(distinct) < MinimumBits)
            return $"must have at least {MinimumBits} bits of strength (length × log2 of its distinct characters); generate one, e.g. 32 random bytes in base64";
        return null;
    }

    private static Result<Entry[], string> Parse(IEnumerable<string?> keys)
    {
        var entries = new List<Entry>();
        var position = 0;
        foreach (var key in keys)
        {
            position++;
            if (string.IsNullOrEmpty(key)) continue;
            if (Weakness(key) is { } weakness) return $"The configured admin key #{position} {weakness}.";
            var hash = Secrets.Hash(key);
            if (entries.Any(e => e.Hash.AsSpan().SequenceEqual(hash))) continue;
            entries.Add(new Entry(hash, NamePrefix + Convert.ToHexStringLower(hash, 0, 4)));
        }
        return entries.ToArray();
    }

    private sealed record Entry(byte[] Hash, string Name);
}
