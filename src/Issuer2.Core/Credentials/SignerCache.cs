using System.Collections.Concurrent;
using Issuer2.Core.Keys;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Credentials;

/// <summary>
/// Opened signing keys, by kid, for this host's lifetime: a key row never changes its private part, so it is
/// decrypted once instead of per credential.
/// </summary>
public sealed class SignerCache(SigningKeys keys)
{
    private readonly ConcurrentDictionary<string, SigningCredentials> _signers = new(StringComparer.Ordinal);

    public SigningCredentials For(SigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _signers.GetOrAdd($"{key.TenantId}/{key.Kid}", _ =>
            new SigningCredentials(new ECDsaSecurityKey(keys.OpenPrivateKey(key)) { KeyId = key.Kid }, SigningKeys.Es256));
    }
}
