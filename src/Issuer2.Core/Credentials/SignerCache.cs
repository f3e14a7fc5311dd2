using System.Collections.Concurrent;
using Issuer2.Core.Common;
using Issuer2.Core.Keys;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Credentials;

/// <summary>
/// Opened signing keys, by kid: a key row never changes its private part, so it is decrypted once instead of per
/// credential. At most <see cref="Capacity"/> keys are held; past it a new key evicts another (only a decryption away).
/// </summary>
public sealed class SignerCache(SigningKeys keys, int capacity = SignerCache.DefaultCapacity)
{
    /// <summary>Opened keys one host keeps.</summary>
    public const int DefaultCapacity = 4096;

    private readonly ConcurrentDictionary<string, SigningCredentials> _signers = new(StringComparer.Ordinal);

    public int Capacity { get; } = capacity >= 1 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Keys held now.</summary>
    public int Count => _signers.Count;

    public SigningCredentials For(SigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var id = $"{key.TenantId}/{key.Kid}";
        if (_signers.TryGetValue(id, out var cached)) return cached;
        BoundedMaps.MakeRoom(_signers, Capacity);
        return _signers.GetOrAdd(id, _ =>
            new SigningCredentials(new ECDsaSecurityKey(keys.OpenPrivateKey(key)) { KeyId = key.Kid }, SigningKeys.Es256));
    }
}
