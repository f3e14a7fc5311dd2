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
}
