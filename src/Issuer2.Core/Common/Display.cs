using System.Text.RegularExpressions;

namespace Issuer2.Core.Common;

/// <summary>A logo: an https or data: URI and its alternative text.</summary>
public sealed record Logo(string Uri, string? AltText);

/// <summary>Checks of display metadata shared by issuers and credentials.</summary>
public static partial class DisplayRules
{
    public const int MaxEntries = 50;

    [GeneratedRegex(@"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*\z")]
    private static partial Regex LocalePattern();

    [GeneratedRegex(@"^(#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{4}|#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{8}|[A-Za-z]{3,20})\z")]
    private static partial Regex ColorPattern();

    public static void CheckLocale(Violations v, string field, string? locale) =>
        v.Require(string.IsNullOrEmpty(locale) || (locale.Length <= 35 && LocalePattern().IsMatch(locale)), field, "must be a BCP 47 language tag such as \"en-US\"");

    public static void CheckName(Violations v, string field, string? name, int max = 200) =>
        v.Require(!string.IsNullOrWhiteSpace(name) && name.Length <= max, field, $"is required, at most {max} characters");

    public static void CheckOptionalText(Violations v, string field, string? text, int max) =>
        v.Require(text is null || text.Length <= max, field, $"must be at most {max} characters");

    public static void CheckColor(Violations v, string field, string? color) =>
        v.Require(string.IsNullOrEmpty(color) || ColorPattern().IsMatch(color), field, "must be a CSS colour such as \"#12107c\"");

    public static void CheckLogo(Violations v, string field, Logo? logo)
    {
        if (logo is null) return;
        var ok = logo.Uri.Length <= 65536
            && (logo.Uri.StartsWith("data:image/", StringComparison.Ordinal)
                || (Uri.TryCreate(logo.Uri, UriKind.Absolute, out var u) && u.Scheme == Uri.UriSchemeHttps));
        v.Require(ok, field + ".uri", "must be an https URL or a data:image/ URI");
        CheckOptionalText(v, field + ".alt_text", logo.AltText, 300);
    }

    /// <summary>Each locale appears once (the empty locale being the default display).</summary>
    public static void CheckUniqueLocales(Violations v, string field, IEnumerable<string?> locales)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        foreach (var locale in locales)
        {
            if (!seen.Add(locale ?? "")) v.Add($"{field}[{i}].locale", "appears twice");
            i++;
        }
    }
}
