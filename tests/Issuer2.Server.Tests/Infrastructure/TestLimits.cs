using System.Globalization;
using Issuer2.Server.Hosting;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>
/// Rate limits for hosts started by tests: every limit so high that no test (the fuzzing and load tests included)
/// meets one. Tests of the limits lower the ones they watch (their settings come after these and win).
/// </summary>
public static class TestLimits
{
    public const int HighBurst = 1_000_000;

    /// <summary>Every limit of <see cref="LimitOptions"/>, found by reflection, so a new limit is covered too.</summary>
    public static IReadOnlyDictionary<string, string> High { get; } = typeof(LimitOptions).GetProperties()
        .Where(p => p.PropertyType == typeof(RateLimit))
        .SelectMany(p => new[]
        {
            KeyValuePair.Create($"Issuer2:Limits:{p.Name}:Burst", HighBurst.ToString(CultureInfo.InvariantCulture)),
            KeyValuePair.Create($"Issuer2:Limits:{p.Name}:PerMinute", IssuerRateLimits.MaxPerMinute.ToString(CultureInfo.InvariantCulture)),
        })
        .ToDictionary();

    /// <summary>The settings of one limit: <paramref name="burst"/> at once, refilled at one a minute (so none refills during a test).</summary>
    public static IEnumerable<KeyValuePair<string, string>> Low(string limit, int burst, int perMinute = 1) =>
    [
        KeyValuePair.Create($"Issuer2:Limits:{limit}:Burst", burst.ToString(CultureInfo.InvariantCulture)),
        KeyValuePair.Create($"Issuer2:Limits:{limit}:PerMinute", perMinute.ToString(CultureInfo.InvariantCulture)),
    ];
}
