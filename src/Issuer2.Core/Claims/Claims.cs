using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Issuer2.Core.Claims;

/// <summary>The JSON type a claim's values must have.</summary>
#pragma warning disable CA1720 // The names are JSON's type names on purpose.
public enum ClaimValueType
{
    String,
    Integer,
    Number,
    Boolean,
    Date,
    DateTime,
    Object,
    Array,
}
#pragma warning restore CA1720

/// <summary>A claim's label in one locale.</summary>
public sealed record ClaimDisplay(string? Locale, string Name);

/// <summary>One claim of a credential configuration (OID4VCI 1.0 Appendix B claims description).</summary>
public sealed record ClaimDefinition(
    IReadOnlyList<string> Path, IReadOnlyList<ClaimDisplay> Display, bool Mandatory, bool SelectivelyDisclosable, ClaimValueType ValueType);

/// <summary>A value for the claim at <see cref="Path"/>.</summary>
public sealed record ClaimValue(IReadOnlyList<string> Path, JsonElement Value);

/// <summary>Where an IdP claim is read: the validated ID token, or the userinfo response (fetched only when a mapping reads it).</summary>
public enum ClaimSource
{
    IdToken,
    UserInfo,
}

/// <summary>One credential claim filled from the user's sign-in: <see cref="Path"/> ← <see cref="SourcePath"/> of <see cref="Source"/>.</summary>
public sealed record ClaimMapping(IReadOnlyList<string> Path, ClaimSource Source, IReadOnlyList<string> SourcePath);

/// <summary>Paths and typed values of claims.</summary>
public static partial class ClaimPaths
{
    public static string Format(IReadOnlyList<string> path) => string.Join('.', path);

    public static bool SamePath(IReadOnlyList<string> a, IReadOnlyList<string> b) => a.SequenceEqual(b, StringComparer.Ordinal);

    public static bool IsPrefix(IReadOnlyList<string> prefix, IReadOnlyList<string> path) =>
        prefix.Count < path.Count && prefix.SequenceEqual(path.Take(prefix.Count), StringComparer.Ordinal);

    /// <summary>Whether <paramref name="value"/> is of <paramref name="type"/>; the reason when it is not.</summary>
    public static string? TypeMismatch(JsonElement value, ClaimValueType type) => type switch
    {
        ClaimValueType.String => value.ValueKind == JsonValueKind.String ? null : "must be a string",
        ClaimValueType.Integer => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d)
            && Math.Floor(d) == d && Math.Abs(d) <= 9007199254740991d ? null : "must be an integer",
        ClaimValueType.Number => value.ValueKind == JsonValueKind.Number ? null : "must be a number",
        ClaimValueType.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "must be true or false",
        ClaimValueType.Date => value.ValueKind == JsonValueKind.String
            && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            ? null : "must be a date \"YYYY-MM-DD\"",
        ClaimValueType.DateTime => value.ValueKind == JsonValueKind.String && IsRfc3339(value.GetString()!)
            ? null : "must be an RFC 3339 date-time such as \"2026-01-31T12:00:00Z\"",
        ClaimValueType.Object => value.ValueKind == JsonValueKind.Object ? null : "must be an object",
        ClaimValueType.Array => value.ValueKind == JsonValueKind.Array ? null : "must be an array",
        _ => "has an unknown type",
    };

    // RFC 3339 §5.6 date-time: full-date "T" full-time, seconds and an offset required.
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\z")]
    private static partial Regex Rfc3339();

    private static bool IsRfc3339(string text) =>
        Rfc3339().IsMatch(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _);
}
