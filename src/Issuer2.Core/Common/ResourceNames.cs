using System.Diagnostics.CodeAnalysis;

namespace Issuer2.Core.Common;

/// <summary>AIP-122 resource names: <c>tenants/{tenant}</c> and <c>tenants/{tenant}/{collection}/{id}</c>.</summary>
public static class ResourceNames
{
    public const string ApiKeys = "apiKeys";
    public const string Profiles = "profiles";
    public const string Offers = "offers";

    public static string Tenant(string tenantId) => $"tenants/{tenantId}";

    /// <summary>
    /// A session's name: under its offer, or under its profile when it has none (wallet-initiated issuance, OID4VCI 1.0 §3.4).
    /// </summary>
    public static string Session(string tenantId, string? offerId, string profileId, string sessionId) => offerId is null
        ? $"{Child(tenantId, Profiles, profileId)}/sessions/{sessionId}"
        : $"{Child(tenantId, Offers, offerId)}/sessions/{sessionId}";

    public static string Child(string tenantId, string collection, string id) => $"tenants/{tenantId}/{collection}/{id}";

    /// <summary>The key a caller used: <c>tenants/{tenant}/apiKeys/{id}</c>, or <c>adminKeys/{id}</c> for an admin key.</summary>
    public static string ApiKey(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.TenantId is null ? $"adminKeys/{caller.KeyId}" : Child(caller.TenantId, ApiKeys, caller.KeyId);
    }

    public static bool TryParseTenant(string? name, [NotNullWhen(true)] out string? tenantId)
    {
        tenantId = null;
        if (name is null || !name.StartsWith("tenants/", StringComparison.Ordinal)) return false;
        var rest = name["tenants/".Length..];
        if (rest.Length == 0 || rest.Contains('/', StringComparison.Ordinal)) return false;
        tenantId = rest;
        return true;
    }

    public static bool TryParseChild(string? name, string collection, [NotNullWhen(true)] out string? tenantId, [NotNullWhen(true)] out string? id)
    {
        tenantId = null;
        id = null;
        var parts = name?.Split('/');
        if (parts is not { Length: 4 } || parts[0] != "tenants" || parts[2] != collection || parts[1].Length == 0 || parts[3].Length == 0)
            return false;
        tenantId = parts[1];
        id = parts[3];
        return true;
    }
}
