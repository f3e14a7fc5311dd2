using Issuer2.Core.Common;
using Issuer2.Core.IdentityProviders;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Microsoft.EntityFrameworkCore;

namespace Issuer2.Storage;

/// <summary>The stored secrets that depend on the key ring (<see cref="IProtectedDataStore"/>), read in pages and replaced by conditional updates.</summary>
public sealed class ProtectedDataStore(IssuerDbContext db) : IProtectedDataStore
{
    public async Task<IReadOnlyList<ProtectedItem>> ReadAsync(
        ProtectedKind kind, DateTimeOffset now, (string TenantId, string Key)? after, int limit, CancellationToken ct)
    {
        var (tenant, key) = after ?? ("", "");
        var first = after is null;
        switch (kind)
        {
            case ProtectedKind.SigningKey:
                return await db.SigningKeys.AsNoTracking()
                    .Where(k => first || string.Compare(k.TenantId, tenant) > 0 || (k.TenantId == tenant && string.Compare(k.Kid, key) > 0))
                    .OrderBy(k => k.TenantId).ThenBy(k => k.Kid).Take(limit)
                    .Select(k => new ProtectedItem(kind, k.TenantId, k.Kid, k.EncryptedPrivateKey)).ToListAsync(ct);
            case ProtectedKind.ReplayCopy:
            case ProtectedKind.ReplayFingerprint:
                var requests = await db.OfferRequests.AsNoTracking().Where(r => r.ExpiresAt > now)
                    .Where(r => first || string.Compare(r.TenantId, tenant) > 0 || (r.TenantId == tenant && string.Compare(r.RequestId, key) > 0))
                    .OrderBy(r => r.TenantId).ThenBy(r => r.RequestId).Take(limit)
                    .Select(r => new { r.TenantId, r.RequestId, r.EncryptedReplay, r.Fingerprint }).ToListAsync(ct);
                return [.. requests.Select(r => new ProtectedItem(kind, r.TenantId, r.RequestId, kind == ProtectedKind.ReplayCopy ? r.EncryptedReplay : r.Fingerprint))];
            case ProtectedKind.IdentityProviderSecret:
                // Tenants are few; the settings are a JSON column, read whole.
                var tenants = await db.Tenants.AsNoTracking().Where(t => t.IdentityProvider != null)
                    .Where(t => first || string.Compare(t.Id, tenant) > 0)
                    .OrderBy(t => t.Id).Take(limit).Select(t => new { t.Id, t.IdentityProvider }).ToListAsync(ct);
                return [.. tenants.Where(t => t.IdentityProvider!.EncryptedClientSecret.Length > 0)
                    .Select(t => new ProtectedItem(kind, t.Id, "", t.IdentityProvider!.EncryptedClientSecret))];
            case ProtectedKind.AuthorizationClaims:
                return await db.Authorizations.AsNoTracking().Where(a => a.EncryptedClaims != null && a.ExpiresAt > now)
                    .Where(a => first || string.Compare(a.TenantId, tenant) > 0 || (a.TenantId == tenant && string.Compare(a.Id, key) > 0))
                    .OrderBy(a => a.TenantId).ThenBy(a => a.Id).Take(limit)
                    .Select(a => new ProtectedItem(kind, a.TenantId, a.Id, a.EncryptedClaims!)).ToListAsync(ct);
            case ProtectedKind.ProviderVerifier:
                return await db.Authorizations.AsNoTracking().Where(a => a.EncryptedProviderVerifier != null && a.ExpiresAt > now)
                    .Where(a => first || string.Compare(a.TenantId, tenant) > 0 || (a.TenantId == tenant && string.Compare(a.Id, key) > 0))
                    .OrderBy(a => a.TenantId).ThenBy(a => a.Id).Take(limit)
                    .Select(a => new ProtectedItem(kind, a.TenantId, a.Id, a.EncryptedProviderVerifier!)).ToListAsync(ct);
            case ProtectedKind.SessionClaims:
                return await db.Sessions.AsNoTracking().Where(s => s.EncryptedClaims != null)
                    .Where(s => first || string.Compare(s.TenantId, tenant) > 0 || (s.TenantId == tenant && string.Compare(s.Id, key) > 0))
                    .OrderBy(s => s.TenantId).ThenBy(s => s.Id).Take(limit)
                    .Select(s => new ProtectedItem(kind, s.TenantId, s.Id, s.EncryptedClaims!)).ToListAsync(ct);
            case ProtectedKind.PinHash:
                return await db.Offers.AsNoTracking().Where(o => o.PinHash != null).Where(OfferRules.Usable.Bind(now))
                    .Where(o => first || string.Compare(o.TenantId, tenant) > 0 || (o.TenantId == tenant && string.Compare(o.Id, key) > 0))
                    .OrderBy(o => o.TenantId).ThenBy(o => o.Id).Take(limit)
                    .Select(o => new ProtectedItem(kind, o.TenantId, o.Id, o.PinHash!)).ToListAsync(ct);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a kind of stored secret.");
        }
    }

    public async Task<bool> ReplaceAsync(ProtectedItem item, byte[] replacement, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(item);
        var old = item.Data;
        var changed = item.Kind switch
        {
            ProtectedKind.SigningKey => await db.SigningKeys
                .Where(k => k.TenantId == item.TenantId && k.Kid == item.Key && k.EncryptedPrivateKey == old)
                .ExecuteUpdateAsync(u => u.SetProperty(k => k.EncryptedPrivateKey, replacement), ct),
            ProtectedKind.ReplayCopy => await db.OfferRequests
                .Where(r => r.TenantId == item.TenantId && r.RequestId == item.Key && r.EncryptedReplay == old)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.EncryptedReplay, replacement), ct),
            ProtectedKind.IdentityProviderSecret => await ReplaceProviderSecretAsync(item, replacement, ct),
            ProtectedKind.AuthorizationClaims => await db.Authorizations
                .Where(a => a.Id == item.Key && a.TenantId == item.TenantId && a.EncryptedClaims == old)
                .ExecuteUpdateAsync(u => u.SetProperty(a => a.EncryptedClaims, replacement), ct),
            ProtectedKind.ProviderVerifier => await db.Authorizations
                .Where(a => a.Id == item.Key && a.TenantId == item.TenantId && a.EncryptedProviderVerifier == old)
                .ExecuteUpdateAsync(u => u.SetProperty(a => a.EncryptedProviderVerifier, replacement), ct),
            ProtectedKind.SessionClaims => await db.Sessions
                .Where(s => s.Id == item.Key && s.TenantId == item.TenantId && s.EncryptedClaims == old)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.EncryptedClaims, replacement), ct),
            ProtectedKind.ReplayFingerprint or ProtectedKind.PinHash => throw new InvalidOperationException("A hash cannot be re-made."),
            _ => throw new ArgumentOutOfRangeException(nameof(item), item.Kind, "Not a kind of stored secret."),
        };
        return changed == 1;
    }

    private async Task<int> ReplaceProviderSecretAsync(ProtectedItem item, byte[] replacement, CancellationToken ct)
    {
        // The settings are one JSON value: replaced only while they are exactly the ones read (the same secret).
        var settings = await db.Tenants.AsNoTracking().Where(t => t.Id == item.TenantId).Select(t => t.IdentityProvider).SingleOrDefaultAsync(ct);
        if (settings is null || !settings.EncryptedClientSecret.AsSpan().SequenceEqual(item.Data)) return 0;
        var updated = settings with { EncryptedClientSecret = replacement };
        return await db.Tenants.Where(t => t.Id == item.TenantId && t.IdentityProvider == settings)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.IdentityProvider, updated), ct);
    }
}
