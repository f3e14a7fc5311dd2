using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Issuer2.Core.Common;

namespace Issuer2.Core.Tenants;

/// <summary>The rules a tenant's id and settings obey.</summary>
public static partial class TenantRules
{
    public static readonly TimeSpan DefaultOfferLifetime = TimeSpan.FromHours(24);
    public static readonly TimeSpan DefaultMaxOfferLifetime = TimeSpan.FromDays(30);
    public static readonly TimeSpan MaxMaxOfferLifetime = TimeSpan.FromDays(365);
    public static readonly TimeSpan DefaultCodeLifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MinCodeLifetime = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxCodeLifetime = TimeSpan.FromHours(1);
    public const int DefaultPinAttemptLimit = 5;
    public const int MaxPinAttemptLimit = 100;

    /// <summary>Words the host's own routes use at the top of the URL space; a tenant id never takes one.</summary>
    public static readonly FrozenSet<string> ReservedIds = new[]
    {
        "health", "healthz", "ready", "readyz", "live", "livez", "metrics", "console", "admin", "api", "grpc",
        "static", "assets", "docs", "tenants", "oauth", "oauth2", "login", "logout", "callback", "status",
        "version", "www", "issuer2", "well-known", "openid", "favicon", "robots", "public", "internal", "system",
    }.ToFrozenSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^[a-z][a-z0-9-]{1,61}[a-z0-9]\z")]
    private static partial Regex IdPattern();

    public static void CheckId(Violations v, string field, string? id)
    {
        if (!v.Require(id is not null && IdPattern().IsMatch(id), field,
                "must be 3 to 63 lowercase letters, digits and hyphens, start with a letter and not end with a hyphen"))
            return;
        v.Require(!ReservedIds.Contains(id!), field, $"\"{id}\" is reserved for the host's own routes");
    }

    /// <summary>Checks settings as they will be after create or update (all values known).</summary>
    public static void Check(Violations v, string prefix, Tenant t)
    {
        DisplayRules.CheckUniqueLocales(v, prefix + "display", t.Display.Select(d => d.Locale));
        v.Require(t.Display.Count <= DisplayRules.MaxEntries, prefix + "display", $"at most {DisplayRules.MaxEntries} entries");
        for (var i = 0; i < t.Display.Count; i++)
        {
            var d = t.Display[i];
            DisplayRules.CheckLocale(v, $"{prefix}display[{i}].locale", d.Locale);
            DisplayRules.CheckName(v, $"{prefix}display[{i}].name", d.Name);
            DisplayRules.CheckLogo(v, $"{prefix}display[{i}].logo", d.Logo);
        }
        v.Require(t.AllowPreAuthorized || t.AllowAuthorized, prefix + "allowed_authentication_methods", "must allow at least one method");
        v.Require(t.MaxOfferLifetime > TimeSpan.Zero && t.MaxOfferLifetime <= MaxMaxOfferLifetime,
            prefix + "max_offer_lifetime", $"must be positive and at most {MaxMaxOfferLifetime.TotalDays:0} days");
        v.Require(t.DefaultOfferLifetime > TimeSpan.Zero && t.DefaultOfferLifetime <= t.MaxOfferLifetime,
            prefix + "default_offer_lifetime", "must be positive and at most max_offer_lifetime");
        v.Require(t.PreAuthorizedCodeLifetime >= MinCodeLifetime && t.PreAuthorizedCodeLifetime <= MaxCodeLifetime,
            prefix + "pre_authorized_code_lifetime", "must be between 30 seconds and 1 hour");
        v.Require(t.PinAttemptLimit is >= 1 and <= MaxPinAttemptLimit, prefix + "pin_attempt_limit", $"must be between 1 and {MaxPinAttemptLimit}");
    }

    /// <summary>Applies the given settings; unset ones keep the tenant's current values.</summary>
    public static void Apply(Tenant t, TenantSettings s)
    {
        if (s.Display is not null) t.Display = [.. s.Display];
        if (s.AllowedMethods is not null)
        {
            t.AllowPreAuthorized = s.AllowedMethods.Contains(AuthenticationMethod.PreAuthorized);
            t.AllowAuthorized = s.AllowedMethods.Contains(AuthenticationMethod.Authorized);
        }
        if (s.RequirePin is { } pin) t.RequirePin = pin;
        if (s.DefaultOfferLifetime is { } dl) t.DefaultOfferLifetime = dl;
        if (s.MaxOfferLifetime is { } ml) t.MaxOfferLifetime = ml;
        if (s.PreAuthorizedCodeLifetime is { } cl) t.PreAuthorizedCodeLifetime = cl;
        if (s.PinAttemptLimit is { } limit) t.PinAttemptLimit = limit;
    }
}
