using System.Security.Cryptography;
using Issuer2.Core.Common;
using Issuer2.Core.Security;

namespace Issuer2.Core.ApiKeys;

/// <summary>The admin key from configuration, as a hash; null when none is configured.</summary>
public sealed record ConfiguredAdminKey(byte[]? Hash);

/// <summary>Turns an <c>authorization</c> header into a <see cref="Caller"/>, failing closed.</summary>
public sealed class ApiKeyAuthenticator(IApiKeyStore keys, ConfiguredAdminKey admin, TimeProvider clock)
{
    private const string Bearer = "Bearer ";

    public async Task<Result<Caller, Error>> AuthenticateAsync(string? authorization, CancellationToken ct)
    {
        // Only "Bearer <key>" with a key of our shape is looked up at all.
        if (authorization is null || !authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
            return Error.Unauthenticated("Send the API key as \"authorization: Bearer <key>\".");
        var key = authorization[Bearer.Length..].Trim();
        if (!key.StartsWith(ApiKeyManagement.KeyPrefix, StringComparison.Ordinal) && admin.Hash is null)
            return Error.Unauthenticated("The API key is not valid.");

        var hash = Secrets.Hash(key);
        if (admin.Hash is not null && CryptographicOperations.FixedTimeEquals(hash, admin.Hash)) return Caller.Admin("configured");

        var match = await keys.FindByHashAsync(hash, ct);
        if (match is null || !match.Key.IsUsableAt(clock.UtcNow()))
            return Error.Unauthenticated("The API key is not valid (unknown, revoked or expired).");
        if (match.Key.TenantId is null)
        {
            // A generated admin key counts only while no admin key is configured.
            return admin.Hash is null ? Caller.Admin(match.Key.Id) : Error.Unauthenticated("The API key is not valid.");
        }
        return match.TenantLive
            ? Caller.ForTenant(match.Key.TenantId, match.Key.Id)
            : Error.Unauthenticated("The API key's tenant was deleted.");
    }
}
