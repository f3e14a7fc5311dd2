namespace Issuer2.Core.Common;

/// <summary>The per-tenant quotas, each named as callers see it in <c>google.rpc.ErrorInfo.metadata["quota"]</c>.</summary>
public enum Quota
{
    /// <summary>Credential profiles of one tenant.</summary>
    Profiles,

    /// <summary>Stored versions of one profile (every update makes one).</summary>
    ProfileVersions,

    /// <summary>Offers of one tenant in the ACTIVE state (not revoked, locked, used up or expired).</summary>
    LiveOffers,

    /// <summary>API keys of one tenant that are neither revoked nor expired.</summary>
    ApiKeys,

    /// <summary>Session event streams one tenant holds open on one host (kept per host, in memory).</summary>
    EventStreams,
}

/// <summary>
/// The host's quotas and size bounds (Issuer2:Quotas), the same for every tenant. The storage quotas are enforced by
/// the database in the transaction that would exceed them (<see cref="IUnitOfWork.SaveWithinQuotasAsync"/>), so N hosts allow what
/// one allows; <see cref="EventStreams"/> is counted per host.
/// </summary>
public sealed record QuotaLimits(
    int Profiles = 200,
    int ProfileVersions = 1000,
    int LiveOffers = 100_000,
    int ApiKeys = 50,
    int EventStreams = 100,
    int MaxClaimValueBytes = 16 * 1024,
    int MaxClaimValuesBytes = 64 * 1024,
    int MaxClaimValueDepth = 8,
    int MaxPageBytes = 1024 * 1024)
{
    /// <summary>The production defaults (the README's configuration table).</summary>
    public static QuotaLimits Default { get; } = new();

    /// <summary>The bounds of claim values (profile defaults, offer overrides).</summary>
    public ClaimValueBounds ClaimValues => new(MaxClaimValueBytes, MaxClaimValuesBytes, MaxClaimValueDepth);

    /// <summary>The limit of one quota.</summary>
    public int LimitOf(Quota quota) => quota switch
    {
        Quota.Profiles => Profiles,
        Quota.ProfileVersions => ProfileVersions,
        Quota.LiveOffers => LiveOffers,
        Quota.ApiKeys => ApiKeys,
        Quota.EventStreams => EventStreams,
    };
}

/// <summary>
/// "After this change the tenant (or, for <see cref="Quota.ProfileVersions"/>, the profile) holds at most
/// <see cref="Limit"/> of <see cref="Quota"/>": what a use case asks storage to enforce in its commit.
/// <see cref="At"/> is the time "live" is judged at (offers, API keys).
/// </summary>
public sealed record QuotaCheck(Quota Quota, string TenantId, int Limit, Guid? ProfileUid = null, string? ProfileId = null, DateTimeOffset At = default)
{
    /// <summary>The resource the quota is counted on, as <c>google.rpc.QuotaFailure.Violation.subject</c>.</summary>
    public string Subject => Quota == Quota.ProfileVersions && ProfileId is not null
        ? ResourceNames.Child(TenantId, ResourceNames.Profiles, ProfileId)
        : ResourceNames.Tenant(TenantId);

    /// <summary>The check of <paramref name="quota"/> on a tenant, at the host's limit.</summary>
    public static QuotaCheck Of(QuotaLimits limits, Quota quota, string tenantId, DateTimeOffset at, Guid? profileUid = null, string? profileId = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return new(quota, tenantId, limits.LimitOf(quota), profileUid, profileId, at);
    }
}

/// <summary>The quota names and their texts, stated once.</summary>
public static class Quotas
{
    /// <summary>The name of a quota in error metadata and in the documentation (snake_case).</summary>
    public static string NameOf(Quota quota) => quota switch
    {
        Quota.Profiles => "profiles_per_tenant",
        Quota.ProfileVersions => "versions_per_profile",
        Quota.LiveOffers => "live_offers_per_tenant",
        Quota.ApiKeys => "api_keys_per_tenant",
        Quota.EventStreams => "event_streams_per_tenant_per_host",
    };

    private static string Describe(Quota quota, int limit) => quota switch
    {
        Quota.Profiles => $"The tenant has its {limit} credential profiles; delete one first.",
        Quota.ProfileVersions => $"The profile has its {limit} versions; create a new profile instead of updating this one.",
        Quota.LiveOffers => $"The tenant has its {limit} active offers; revoke some or wait until they expire or are used.",
        Quota.ApiKeys => $"The tenant has its {limit} live API keys; revoke one first.",
        Quota.EventStreams => $"The tenant has its {limit} event streams open on this host; close one or try another host.",
    };

    /// <summary>The RESOURCE_EXHAUSTED answer of an exceeded quota: nothing was written.</summary>
    public static Error Exceeded(QuotaCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        var name = NameOf(check.Quota);
        return new Error(ErrorKind.ResourceExhausted, ErrorReasons.QuotaExceeded, Describe(check.Quota, check.Limit), [])
        {
            Quota = new QuotaViolation(name, check.Limit, check.Subject, Describe(check.Quota, check.Limit)),
        };
    }
}

/// <summary>An exceeded quota as an error carries it: its name and limit (ErrorInfo metadata) and the QuotaFailure violation.</summary>
public sealed record QuotaViolation(string Quota, int Limit, string Subject, string Description);


/// <summary>
/// How large claim values may be: one value's serialized JSON (UTF-8 bytes, as stored and as signed into a credential),
/// all values of one list together, and the nesting of arrays and objects (a scalar is depth 0).
/// </summary>
public sealed record ClaimValueBounds(int MaxValueBytes, int MaxTotalBytes, int MaxDepth)
{
    /// <summary>The UTF-8 bytes of the value's compact JSON.</summary>
    public static long SizeOf(System.Text.Json.JsonElement value)
    {
        if (value.ValueKind == System.Text.Json.JsonValueKind.Undefined) return 0;
        var counter = new ByteCounter();
        // Counted unescaped, as UTF-8 text: "é" is two bytes, not a six-byte \u escape.
        var options = new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var writer = new System.Text.Json.Utf8JsonWriter(counter, options)) value.WriteTo(writer);
        return counter.Count;
    }

    /// <summary>How deep arrays and objects nest: 0 for a scalar, 1 for a flat array or object.</summary>
    public static int DepthOf(System.Text.Json.JsonElement value) => value.ValueKind switch
    {
        System.Text.Json.JsonValueKind.Object => 1 + value.EnumerateObject().Select(p => DepthOf(p.Value)).DefaultIfEmpty(0).Max(),
        System.Text.Json.JsonValueKind.Array => 1 + value.EnumerateArray().Select(DepthOf).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    /// <summary>Counts what is written without keeping it.</summary>
    private sealed class ByteCounter : System.Buffers.IBufferWriter<byte>
    {
        private byte[] _scratch = new byte[256];

        public long Count { get; private set; }

        public void Advance(int count) => Count += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => Scratch(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Scratch(sizeHint).Span;

        private Memory<byte> Scratch(int sizeHint)
        {
            if (sizeHint > _scratch.Length) _scratch = new byte[sizeHint];
            return _scratch;
        }
    }
}
