using System.Text.RegularExpressions;
using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Tenants;

namespace Issuer2.Core.Profiles;

/// <summary>The rules every profile obeys; its format adds its own (<see cref="ICredentialFormat.Check"/>).</summary>
public static partial class ProfileRules
{
    public static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(365);
    public static readonly TimeSpan MinValidity = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxValidity = TimeSpan.FromDays(3653);
    public const int MaxClaims = 100;
    public const int MaxPathDepth = 8;
    public const int MaxClaimMappings = 64;
    public const int MaxSourceSegmentLength = 128;

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z")]
    private static partial Regex ProfileIdPattern();

    // RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E.
    [GeneratedRegex(@"^[\x21\x23-\x5B\x5D-\x7E]{1,128}\z")]
    private static partial Regex ScopePattern();

    public static void CheckId(Violations v, string field, string? id) =>
        v.Require(id is not null && ProfileIdPattern().IsMatch(id), field, "must be 1 to 64 letters, digits, '.', '_' or '-'");

    public static void Check(Violations v, string prefix, ProfileDefinition d, ClaimValueBounds bounds)
    {
        v.Require(ScopePattern().IsMatch(d.Scope), prefix + "scope", "must be 1 to 128 OAuth scope characters (no spaces, quotes or backslashes)");
        CredentialFormats.Check(v, prefix, d);
        CheckDisplay(v, prefix + "display", d.Display);
        // Defaults are checked against the claims, so only when the claims themselves are sound.
        var before = v.Items.Count;
        CheckClaims(v, prefix + "claims", d.Claims, CredentialFormats.Issued.GetValueOrDefault(d.Format));
        if (v.Items.Count == before)
        {
            CheckValues(v, prefix + "default_values", d.Claims, d.DefaultValues, bounds);
            CheckMappings(v, prefix + "claim_mappings", d.Claims, d.Mappings);
        }
        v.Require(d.CredentialValidity >= MinValidity && d.CredentialValidity <= MaxValidity, prefix + "credential_validity",
            "must be between 1 minute and 10 years");
    }

    private static void CheckDisplay(Violations v, string field, IReadOnlyList<CredentialDisplay> display)
    {
        v.Require(display.Count <= DisplayRules.MaxEntries, field, $"at most {DisplayRules.MaxEntries} entries");
        DisplayRules.CheckUniqueLocales(v, field, display.Select(d => d.Locale));
        for (var i = 0; i < display.Count; i++)
        {
            var d = display[i];
            var f = $"{field}[{i}]";
            DisplayRules.CheckLocale(v, f + ".locale", d.Locale);
            DisplayRules.CheckName(v, f + ".name", d.Name);
            DisplayRules.CheckOptionalText(v, f + ".description", d.Description, DisplayRules.MaxDescriptionLength);
            DisplayRules.CheckLogo(v, f + ".logo", d.Logo);
            DisplayRules.CheckColor(v, f + ".background_color", d.BackgroundColor);
            DisplayRules.CheckColor(v, f + ".text_color", d.TextColor);
        }
    }

    private static void CheckClaims(Violations v, string field, IReadOnlyList<ClaimDefinition> claims, ICredentialFormat? format)
    {
        if (!v.Require(claims.Count <= MaxClaims, field, $"must declare at most {MaxClaims} claims")) return;
        for (var i = 0; i < claims.Count; i++)
        {
            var c = claims[i];
            var f = $"{field}[{i}]";
            if (!v.Require(c.Path.Count is >= 1 and <= MaxPathDepth, f + ".path", $"must have 1 to {MaxPathDepth} segments")) continue;
            if (!v.Require(c.Path.All(s => s.Length is >= 1 and <= 100), f + ".path", "segments must be 1 to 100 characters")) continue;
            if (format?.ClaimPathProblem(c.Path) is { } reserved)
            {
                v.Add(f + ".path", reserved);
                continue;
            }
            for (var j = 0; j < i; j++)
            {
                if (ClaimPaths.SamePath(claims[j].Path, c.Path)) v.Add(f + ".path", $"is declared twice (also claims[{j}])");
                else if (ClaimPaths.IsPrefix(claims[j].Path, c.Path) || ClaimPaths.IsPrefix(c.Path, claims[j].Path))
                    v.Add(f + ".path", $"overlaps claims[{j}]: a claim cannot be inside another declared claim");
            }
            v.Require(c.Display.Count <= DisplayRules.MaxEntries, f + ".display", $"at most {DisplayRules.MaxEntries} entries");
            DisplayRules.CheckUniqueLocales(v, f + ".display", c.Display.Select(d => d.Locale));
            for (var k = 0; k < c.Display.Count; k++)
            {
                DisplayRules.CheckLocale(v, $"{f}.display[{k}].locale", c.Display[k].Locale);
                DisplayRules.CheckName(v, $"{f}.display[{k}].name", c.Display[k].Name);
            }
        }
    }

    /// <summary>
    /// Checks claim mappings against the declared claims: each fills one declared claim, each claim is filled by at most one
    /// mapping, and each reads a path of 1 to 8 segments from its source.
    /// </summary>
    private static void CheckMappings(Violations v, string field, IReadOnlyList<ClaimDefinition> claims, IReadOnlyList<ClaimMapping> mappings)
    {
        if (!v.Require(mappings.Count <= MaxClaimMappings, field, $"at most {MaxClaimMappings} mappings")) return;
        for (var i = 0; i < mappings.Count; i++)
        {
            var m = mappings[i];
            var f = $"{field}[{i}]";
            if (!claims.Any(c => ClaimPaths.SamePath(c.Path, m.Path)))
            {
                v.Add(f + ".path", $"\"{ClaimPaths.Format(m.Path)}\" is not a claim of the profile");
            }
            else
            {
                for (var j = 0; j < i; j++)
                    if (ClaimPaths.SamePath(mappings[j].Path, m.Path)) v.Add(f + ".path", $"is mapped twice (also {field}[{j}])");
            }
            if (v.Require(m.SourcePath.Count is >= 1 and <= MaxPathDepth, f + ".source_path", $"must have 1 to {MaxPathDepth} segments"))
                v.Require(m.SourcePath.All(s => s.Length is >= 1 and <= MaxSourceSegmentLength), f + ".source_path",
                    $"segments must be 1 to {MaxSourceSegmentLength} characters");
        }
    }

    /// <summary>
    /// Checks claim values (defaults or overrides) against the declared claims and the size bounds: each value's JSON
    /// depth and serialized size, and the size of them all together.
    /// </summary>
    public static void CheckValues(Violations v, string field, IReadOnlyList<ClaimDefinition> claims, IReadOnlyList<ClaimValue> values, ClaimValueBounds bounds)
    {
        ArgumentNullException.ThrowIfNull(bounds);
        long total = 0;
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            var f = $"{field}[{i}]";
            var size = ClaimValueBounds.SizeOf(value.Value);
            total += size;
            v.Require(size <= bounds.MaxValueBytes, f + ".value", $"must serialize to at most {bounds.MaxValueBytes} bytes of JSON (this one is {size})");
            v.Require(ClaimValueBounds.DepthOf(value.Value) <= bounds.MaxDepth, f + ".value", $"must nest arrays and objects at most {bounds.MaxDepth} deep");
            var claim = claims.FirstOrDefault(c => ClaimPaths.SamePath(c.Path, value.Path));
            if (claim is null)
            {
                v.Add(f + ".path", $"\"{ClaimPaths.Format(value.Path)}\" is not a claim of the profile");
                continue;
            }
            if (TypeOf(value, claim) is { } mismatch) v.Add(f + ".value", mismatch);
            for (var j = 0; j < i; j++)
                if (ClaimPaths.SamePath(values[j].Path, value.Path)) v.Add(f + ".path", $"is given twice (also {field}[{j}])");
        }
        v.Require(total <= bounds.MaxTotalBytes, field, $"must serialize to at most {bounds.MaxTotalBytes} bytes of JSON together (these are {total})");
    }

    private static string? TypeOf(ClaimValue value, ClaimDefinition claim) =>
        value.Value.ValueKind is System.Text.Json.JsonValueKind.Undefined or System.Text.Json.JsonValueKind.Null
            ? "is required"
            : ClaimPaths.TypeMismatch(value.Value, claim.ValueType);

    /// <summary>
    /// Mandatory claims that neither a default nor an override supplies, nor, for an offer of the authorization code flow
    /// (<paramref name="method"/>), a claim mapping (a user whose sign-in lacks it is refused then: access_denied).
    /// </summary>
    public static IEnumerable<ClaimDefinition> MissingMandatory(ProfileDefinition d, IReadOnlyList<ClaimValue> overrides, AuthenticationMethod method)
    {
        ArgumentNullException.ThrowIfNull(d);
        var mappings = method == AuthenticationMethod.Authorized ? d.Mappings : [];
        return d.Claims.Where(c => c.Mandatory
            && !d.DefaultValues.Any(x => ClaimPaths.SamePath(x.Path, c.Path))
            && !overrides.Any(x => ClaimPaths.SamePath(x.Path, c.Path))
            && !mappings.Any(x => ClaimPaths.SamePath(x.Path, c.Path)));
    }
}
