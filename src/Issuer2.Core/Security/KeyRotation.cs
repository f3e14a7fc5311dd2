using System.Security.Cryptography;
using Issuer2.Core.Authorization;
using Issuer2.Core.IdentityProviders;
using Issuer2.Core.Keys;
using Issuer2.Core.Offers;

namespace Issuer2.Core.Security;

/// <summary>A kind of stored secret that depends on a key-encryption key version.</summary>
public enum ProtectedKind
{
    /// <summary>A tenant's signing private key (every key row, whatever its status).</summary>
    SigningKey,

    /// <summary>The copy of a create-offer answer kept for request_id retries, while the request id is remembered.</summary>
    ReplayCopy,

    /// <summary>The keyed fingerprint of a remembered create request: a hash, it cannot be re-made.</summary>
    ReplayFingerprint,

    /// <summary>A tenant's IdP client secret.</summary>
    IdentityProviderSecret,

    /// <summary>Sign-in claims of an authorization in flight.</summary>
    AuthorizationClaims,

    /// <summary>The PKCE verifier of an IdP journey in flight.</summary>
    ProviderVerifier,

    /// <summary>Sign-in claims held by an issuance session until its credential is issued.</summary>
    SessionClaims,

    /// <summary>The PIN hash of an offer that can still be redeemed: a hash, it cannot be re-made.</summary>
    PinHash,
}

/// <summary>One stored secret: its kind, where it lives (tenant and key within the tenant), and its stored bytes.</summary>
public sealed record ProtectedItem(ProtectedKind Kind, string TenantId, string Key, byte[] Data);

/// <summary>The stored secrets that depend on the key ring, for <see cref="KeyRotation"/>.</summary>
public interface IProtectedDataStore
{
    /// <summary>
    /// Up to <paramref name="limit"/> live secrets of <paramref name="kind"/> (what can still be read at
    /// <paramref name="now"/>), ordered by (tenant, key), after <paramref name="after"/>.
    /// </summary>
    Task<IReadOnlyList<ProtectedItem>> ReadAsync(ProtectedKind kind, DateTimeOffset now, (string TenantId, string Key)? after, int limit, CancellationToken ct);

    /// <summary>Replaces the item's bytes with <paramref name="replacement"/> in one statement if they are still <see cref="ProtectedItem.Data"/>; false when they changed meanwhile.</summary>
    Task<bool> ReplaceAsync(ProtectedItem item, byte[] replacement, CancellationToken ct);
}

/// <summary>How many live secrets of one kind depend on one version (<c>Legacy</c>: in the format of the release before purposes).</summary>
public sealed record KeyDependency(ProtectedKind Kind, int Version, bool Legacy, int Count);

/// <summary>What depends on which version, and the versions needed that the ring lacks.</summary>
public sealed record KeyUsage(IReadOnlyList<KeyDependency> Dependencies, IReadOnlyList<int> MissingVersions)
{
    /// <summary>Whether every secret still needed opens under the ring.</summary>
    public bool Complete => MissingVersions.Count == 0;
}

/// <summary>What a rewrap changed: re-encrypted per kind, and those that changed meanwhile (left for the next run).</summary>
public sealed record RewrapResult(IReadOnlyDictionary<ProtectedKind, int> Rewrapped, int ChangedMeanwhile, KeyUsage After);

/// <summary>
/// Key rotation: which stored secrets depend on which key-encryption key version, and re-encryption of those that can
/// be re-encrypted under the current one. Hashes (PINs, create-request fingerprints) cannot be re-made: they depend
/// on their version until their offer or request ends. Every change is one conditional statement (its own short
/// transaction) that applies only when the stored bytes are still those read, so a rewrap is safe while hosts run
/// and may be repeated.
/// </summary>
public sealed class KeyRotation(KeyRing keys, IProtectedDataStore store, TimeProvider clock)
{
    private const int Batch = 100;

    /// <summary>Counts live secrets by kind and version.</summary>
    public async Task<KeyUsage> StatusAsync(CancellationToken ct)
    {
        var now = Common.Clock.UtcNow(clock);
        var counts = new Dictionary<(ProtectedKind, int, bool), int>();
        foreach (var kind in Enum.GetValues<ProtectedKind>())
        {
            await foreach (var item in ReadAllAsync(kind, now, ct))
            {
                var (version, legacy) = VersionOf(item);
                counts[(kind, version, legacy)] = counts.GetValueOrDefault((kind, version, legacy)) + 1;
            }
        }
        var dependencies = counts.OrderBy(c => c.Key.Item2).ThenBy(c => c.Key.Item1)
            .Select(c => new KeyDependency(c.Key.Item1, c.Key.Item2, c.Key.Item3, c.Value)).ToList();
        return new KeyUsage(dependencies, [.. dependencies.Select(d => d.Version).Distinct().Where(v => !keys.Has(v)).Order()]);
    }

    /// <summary>Re-encrypts every live secret that can be re-encrypted and is not under the current version; then reports what still depends on which version.</summary>
    public async Task<RewrapResult> RewrapAsync(CancellationToken ct)
    {
        var now = Common.Clock.UtcNow(clock);
        var rewrapped = new Dictionary<ProtectedKind, int>();
        var changed = 0;
        foreach (var kind in Enum.GetValues<ProtectedKind>())
        {
            if (Protector(kind) is not { } protector) continue;
            await foreach (var item in ReadAllAsync(kind, now, ct))
            {
                // Not decryptable here (a version not in the ring): left as it is, and reported by the status below.
                if (!keys.Has(VersionOf(item).Version)) continue;
                var replacement = protector.Rewrap(item.Data, Context(item));
                if (replacement is null) continue;
                if (await store.ReplaceAsync(item, replacement, ct)) rewrapped[kind] = rewrapped.GetValueOrDefault(kind) + 1;
                else changed++;
            }
        }
        return new RewrapResult(rewrapped, changed, await StatusAsync(ct));
    }

    private async IAsyncEnumerable<ProtectedItem> ReadAllAsync(ProtectedKind kind, DateTimeOffset now, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        (string, string)? after = null;
        while (true)
        {
            var page = await store.ReadAsync(kind, now, after, Batch, ct);
            foreach (var item in page) yield return item;
            if (page.Count < Batch) yield break;
            after = (page[^1].TenantId, page[^1].Key);
        }
    }

    /// <summary>The version an item needs, and whether it is in the format of the release before purposes.</summary>
    public static (int Version, bool Legacy) VersionOf(ProtectedItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        try
        {
            return item.Kind is ProtectedKind.PinHash or ProtectedKind.ReplayFingerprint
                ? (SecretProtector.HashVersionOf(item.Data), SecretProtector.IsLegacyHash(item.Data))
                : (SecretProtector.VersionOf(item.Data), SecretProtector.IsLegacy(item.Data));
        }
        catch (CryptographicException)
        {
            // Bytes of no known format: they open under no version (reported as version 0, never in a ring).
            return (0, false);
        }
    }

    /// <summary>The protector that re-encrypts a kind, or null for hashes.</summary>
    private SecretProtector? Protector(ProtectedKind kind) => kind switch
    {
        ProtectedKind.SigningKey => keys.Protector(KeyPurpose.SigningKeys),
        ProtectedKind.ReplayCopy => keys.Protector(KeyPurpose.ReplayCopies),
        ProtectedKind.IdentityProviderSecret or ProtectedKind.AuthorizationClaims or ProtectedKind.ProviderVerifier or ProtectedKind.SessionClaims
            => keys.Protector(KeyPurpose.SecretsAtRest),
        ProtectedKind.ReplayFingerprint or ProtectedKind.PinHash => null,
    };

    /// <summary>The encryption context of an item: the same one its writer bound it to.</summary>
    private static string Context(ProtectedItem item) => item.Kind switch
    {
        ProtectedKind.SigningKey => SigningKey.EncryptionContext(item.TenantId, item.Key),
        ProtectedKind.ReplayCopy => OfferManagement.ReplayContext(item.TenantId, item.Key),
        ProtectedKind.IdentityProviderSecret => IdentityProviderSecrets.Context(item.TenantId),
        ProtectedKind.AuthorizationClaims => ClaimsAtRest.ForAuthorization(item.TenantId, item.Key),
        ProtectedKind.ProviderVerifier => BrowserSteps.VerifierContext(item.TenantId, item.Key),
        ProtectedKind.SessionClaims => ClaimsAtRest.ForSession(item.TenantId, item.Key),
        ProtectedKind.ReplayFingerprint or ProtectedKind.PinHash => throw new InvalidOperationException("A hash has no encryption context."),
    };
}
