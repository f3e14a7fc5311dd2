using Issuer2.Core.Common;

namespace Issuer2.Server.Hosting;

/// <summary>
/// The "Issuer2:Quotas" section: what one tenant may hold, how large what it stores may be, and how large one list page
/// may grow. The same for every tenant; see docs/security.md ("Quotas and sizes").
/// </summary>
public sealed class QuotaOptions
{
    /// <summary>Credential profiles one tenant may have.</summary>
    public int ProfilesPerTenant { get; set; } = QuotaLimits.Default.Profiles;

    /// <summary>Versions one profile may accumulate (each update makes one; they are kept for the offers made from them).</summary>
    public int VersionsPerProfile { get; set; } = QuotaLimits.Default.ProfileVersions;

    /// <summary>Active offers (not revoked, locked, used up or expired) one tenant may have.</summary>
    public int LiveOffersPerTenant { get; set; } = QuotaLimits.Default.LiveOffers;

    /// <summary>API keys, neither revoked nor expired, one tenant may have.</summary>
    public int ApiKeysPerTenant { get; set; } = QuotaLimits.Default.ApiKeys;

    /// <summary>Event streams one tenant may hold open on one host (counted per host: N hosts allow N times as many).</summary>
    public int EventStreamsPerTenant { get; set; } = QuotaLimits.Default.EventStreams;

    /// <summary>The largest serialized JSON of one claim value (a profile default or an offer override), in bytes.</summary>
    public int MaxClaimValueBytes { get; set; } = QuotaLimits.Default.MaxClaimValueBytes;

    /// <summary>The largest serialized JSON of all claim values of one profile's defaults or one offer's overrides, in bytes.</summary>
    public int MaxClaimValuesBytes { get; set; } = QuotaLimits.Default.MaxClaimValuesBytes;

    /// <summary>The deepest nesting of arrays and objects in one claim value.</summary>
    public int MaxClaimValueDepth { get; set; } = QuotaLimits.Default.MaxClaimValueDepth;

    /// <summary>The serialized size a list page stops before (at least one item is always returned).</summary>
    public int MaxPageBytes { get; set; } = QuotaLimits.Default.MaxPageBytes;

    /// <summary>The limits as Core holds them; a negative or zero bound is a configuration error.</summary>
    public QuotaLimits ToCore()
    {
        int[] all = [ProfilesPerTenant, VersionsPerProfile, LiveOffersPerTenant, ApiKeysPerTenant, EventStreamsPerTenant, MaxClaimValueBytes, MaxClaimValuesBytes, MaxClaimValueDepth, MaxPageBytes];
        if (all.Any(n => n < 1)) throw new InvalidOperationException("Every Issuer2:Quotas setting must be at least 1.");
        return new QuotaLimits(ProfilesPerTenant, VersionsPerProfile, LiveOffersPerTenant, ApiKeysPerTenant, EventStreamsPerTenant,
            MaxClaimValueBytes, MaxClaimValuesBytes, MaxClaimValueDepth, MaxPageBytes);
    }
}
