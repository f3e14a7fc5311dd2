using System.Security.Cryptography;

namespace Issuer2.Client;

/// <summary>Exponential backoff with ±20 % jitter, so many clients cut off at once do not come back at once.</summary>
internal static class Backoff
{
    /// <summary>The wait after <paramref name="failures"/> consecutive failures (from 1): initial × 2^(failures−1), capped, jittered.</summary>
    public static TimeSpan Jittered(TimeSpan initial, TimeSpan max, int failures)
    {
        var exponent = Math.Clamp(failures - 1, 0, 30);
        var ticks = Math.Min(initial.Ticks * Math.Pow(2, exponent), max.Ticks);
        var jitter = 0.8 + (RandomNumberGenerator.GetInt32(0, 401) / 1000.0);
        return TimeSpan.FromTicks((long)(ticks * jitter));
    }
}
