namespace Issuer2.Core.Common;

/// <summary>Who is calling: the admin, or one tenant's API key.</summary>
public sealed record Caller(bool IsAdmin, string? TenantId, string KeyId)
{
    public static Caller Admin(string keyId) => new(true, null, keyId);

    public static Caller ForTenant(string tenantId, string keyId) => new(false, tenantId, keyId);
}

/// <summary>The scoping rules of the management API, in one place.</summary>
public static class Access
{
    /// <summary>Tenant administration is the admin key's alone.</summary>
    public static Error? RequireAdmin(Caller caller) =>
        caller.IsAdmin ? null : Error.PermissionDenied("This method takes the admin key.");

    /// <summary>
    /// Profiles and offers belong to one tenant's key. Another tenant's resource is NOT_FOUND, exactly as if
    /// it did not exist; the admin key is refused (it creates a tenant key for that).
    /// </summary>
    public static Error? RequireTenant(Caller caller, string tenantId, string resourceName)
    {
        if (caller.IsAdmin) return Error.PermissionDenied("The admin key does not manage a tenant's profiles or offers; create an API key for the tenant.");
        return caller.TenantId == tenantId ? null : Error.NotFound(resourceName);
    }

    /// <summary>A tenant may be read by the admin and by its own keys.</summary>
    public static Error? RequireReadTenant(Caller caller, string tenantId) =>
        caller.IsAdmin || caller.TenantId == tenantId ? null : Error.NotFound(ResourceNames.Tenant(tenantId));
}
