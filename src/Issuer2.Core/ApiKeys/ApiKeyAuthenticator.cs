using Issuer2.Core.Common;
using Issuer2.Core.Security;

namespace Issuer2.Core.ApiKeys;

/// <summary>Why an authentication was refused: a fixed reason for the audit log, and the key's id when it is one of ours.</summary>
public sealed record AuthenticationRefusal(string Reason, string? KeyId, Error Error);

/// <summary>The reasons of <see cref="AuthenticationRefusal"/>, as written to the log.</summary>
public static class AuthenticationRefusalReasons
{
    public const string Missing = "missing";
    public const string NotBearer = "not_bearer";
    public const string UnknownKey = "unknown_key";
    public const string Revoked = "revoked";
    public const string Expired = "expired";
    public const string TenantDeleted = "tenant_deleted";
    public const string GeneratedAdminKeySuperseded = "generated_admin_key_superseded";
}

/// <summary>Turns an <c>authorization</c> header into a <see cref="Caller"/>, failing closed.</summary>
public sealed class ApiKeyAuthenticator(IApiKeyStore keys, ConfiguredAdminKeys admin, TimeProvider clock)
{
    private const string Bearer = "Bearer ";

    public async Task<Result<Caller, AuthenticationRefusal>> AuthenticateAsync(string? authorization, CancellationToken ct)
    {
        // Only "Bearer <key>" with a key of our shape is looked up at all.
        if (string.IsNullOrEmpty(authorization)) return Refuse(AuthenticationRefusalReasons.Missing, null, "Send the API key as \"authorization: Bearer <key>\".");
        if (!authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
            return Refuse(AuthenticationRefusalReasons.NotBearer, null, "Send the API key as \"authorization: Bearer <key>\".");
        var key = authorization[Bearer.Length..].Trim();
        if (!key.StartsWith(ApiKeyManagement.KeyPrefix, StringComparison.Ordinal) && !admin.Any)
            return Refuse(AuthenticationRefusalReasons.UnknownKey, null, "The API key is not valid.");

        var hash = Secrets.Hash(key);
        if (admin.Match(hash) is { } configured) return Caller.Admin(configured);

        var match = await keys.FindByHashAsync(hash, ct);
        if (match is null) return Refuse(AuthenticationRefusalReasons.UnknownKey, null, "The API key is not valid (unknown, revoked or expired).");
        var found = match.Key;
        if (found.RevokedAt is not null) return Refuse(AuthenticationRefusalReasons.Revoked, found.Id, "The API key is not valid (unknown, revoked or expired).");
        if (!found.IsUsableAt(clock.UtcNow())) return Refuse(AuthenticationRefusalReasons.Expired, found.Id, "The API key is not valid (unknown, revoked or expired).");
        if (found.TenantId is null)
        {
            // A generated admin key counts only while no admin key is configured.
            return admin.Any
                ? Refuse(AuthenticationRefusalReasons.GeneratedAdminKeySuperseded, found.Id, "The API key is not valid.")
                : Caller.Admin(found.Id);
        }
        return match.TenantLive
            ? Caller.ForTenant(found.TenantId, found.Id)
            : Refuse(AuthenticationRefusalReasons.TenantDeleted, found.Id, "The API key's tenant was deleted.");
    }

    private static AuthenticationRefusal Refuse(string reason, string? keyId, string message) => new(reason, keyId, Error.Unauthenticated(message));
}
