using System.Text.Json;
using Issuer2.Core.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Issuer2.Storage;

/// <summary>DateTimeOffset as UTC ticks, for SQLite.</summary>
public sealed class UtcTicksConverter() : ValueConverter<DateTimeOffset, long>(
    v => v.UtcTicks,
    v => new DateTimeOffset(v, TimeSpan.Zero));

internal static class Conversions
{
    /// <summary>Stores a value object as JSON text (the same on both providers); compared by its JSON.</summary>
    public static PropertyBuilder<T> HasJsonConversion<T>(this PropertyBuilder<T> property, bool required = true) where T : class
    {
        var converter = new ValueConverter<T, string>(
            v => JsonSerializer.Serialize(v, CoreJson.Options),
            v => JsonSerializer.Deserialize<T>(v, CoreJson.Options)!);
        var comparer = new ValueComparer<T>(
            (a, b) => JsonSerializer.Serialize(a, CoreJson.Options) == JsonSerializer.Serialize(b, CoreJson.Options),
            v => JsonSerializer.Serialize(v, CoreJson.Options).GetHashCode(StringComparison.Ordinal),
            v => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(v, CoreJson.Options), CoreJson.Options)!);
        property.HasConversion(converter, comparer).IsRequired(required);
        return property;
    }

    /// <summary>
    /// PostgreSQL: the writing transaction's id, so readers order by commit visibility (see docs/session-events.md).
    /// SQLite serialises commits, so 0 and the sequence order suffice.
    /// </summary>
    public static void ConfigureTransactionId(this PropertyBuilder<long> property, bool postgres)
    {
        if (postgres) property.HasDefaultValueSql("(pg_current_xact_id()::text)::bigint");
        else property.HasDefaultValue(0L);
        property.ValueGeneratedOnAdd();
    }
}
