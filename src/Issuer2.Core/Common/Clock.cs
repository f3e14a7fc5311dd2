namespace Issuer2.Core.Common;

/// <summary>
/// Time as the database keeps it. PostgreSQL stores microseconds; a time with finer ticks would be answered one
/// way when created and another when read back, so every time Core stores is cut to whole microseconds.
/// </summary>
public static class Clock
{
    /// <summary>The current UTC time, cut to whole microseconds.</summary>
    public static DateTimeOffset UtcNow(this TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return ToMicroseconds(clock.GetUtcNow());
    }

    public static DateTimeOffset ToMicroseconds(DateTimeOffset time) => time.AddTicks(-(time.UtcTicks % TimeSpan.TicksPerMicrosecond));

    /// <summary>
    /// A wait as every retry hint says it (Retry-After's delay-seconds, RFC 9110 §10.2.3, and gRPC's RetryInfo): whole
    /// seconds, rounded up, at least one.
    /// </summary>
    public static TimeSpan WholeSecondsToWait(TimeSpan wait) => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(wait.TotalSeconds)));
}
