using System.Text.RegularExpressions;

namespace Issuer2.Core.Common;

/// <summary>A logo: an https URL (never inline data) and its alternative text.</summary>
public sealed record Logo(string Uri, string? AltText);

/// <summary>Checks of display metadata shared by issuers and credentials.</summary>
public static partial class DisplayRules
{
    public const int MaxEntries = 50;

    /// <summary>Display names (issuer, credential, claim).</summary>
    public const int MaxNameLength = 200;

    /// <summary>Descriptions (credential display).</summary>
    public const int MaxDescriptionLength = 1000;

    /// <summary>Short texts shown beside something else: a logo's alternative text, a PIN's description.</summary>
    public const int MaxShortTextLength = 300;

    /// <summary>A logo's URL: a reference, so metadata stays small (inline images are refused).</summary>
    public const int MaxLogoUriLength = 2048;

    /// <summary>BCP 47 tags are short (RFC 5646 §4.4.1 recommends 35 characters at most).</summary>
    public const int MaxLocaleLength = 35;

    [GeneratedRegex(@"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*\z")]
    private static partial Regex LocalePattern();

    [GeneratedRegex(@"^(#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{4}|#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{8}|[A-Za-z]{3,20})\z")]
    private static partial Regex ColorPattern();

    public static void CheckLocale(Violations v, string field, string? locale) =>
        v.Require(string.IsNullOrEmpty(locale) || (locale.Length <= MaxLocaleLength && LocalePattern().IsMatch(locale)), field, "must be a BCP 47 language tag such as \"en-US\"");

    public static void CheckName(Violations v, string field, string? name, int max = MaxNameLength) =>
        v.Require(!string.IsNullOrWhiteSpace(name) && name.Length <= max, field, $"is required, at most {max} characters");

    public static void CheckOptionalText(Violations v, string field, string? text, int max) =>
        v.Require(text is null || text.Length <= max, field, $"must be at most {max} characters");

    public static void CheckColor(Violations v, string field, string? color) =>
        v.Require(string.IsNullOrEmpty(color) || ColorPattern().IsMatch(color), field, "must be a CSS colour such as \"#12107c\"");

    public static void CheckLogo(Violations v, string field, Logo? logo)
    {
        if (logo is null) return;
        // Note: wallets fetch logos by reference; a data: URI would put an image into every metadata document and list page.
        var ok = logo.Uri.Length <= MaxLogoUriLength
            && Uri.TryCreate(logo.Uri, UriKind.Absolute, out var u) && u.Scheme == Uri.UriSchemeHttps && !string.IsNullOrEmpty(u.Host);
        v.Require(ok, field + ".uri", $"must be an https URL of at most {MaxLogoUriLength} characters (no data: URIs or inline images)");
        CheckOptionalText(v, field + ".alt_text", logo.AltText, MaxShortTextLength);
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
