using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Issuer2.Core.Security;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Keys;

/// <summary>Makes and opens tenant signing keys (ES256 on P-256).</summary>
public sealed class SigningKeys(KeyRing keys)
{
    private readonly SecretProtector _protector = keys.Protector(KeyPurpose.SigningKeys);

    public const string Es256 = SecurityAlgorithms.EcdsaSha256;

    /// <summary>Creates a fresh ES256 key for <paramref name="tenantId"/>, its private part encrypted.</summary>
    public SigningKey Create(string tenantId, DateTimeOffset now)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ecdsa.ExportParameters(includePrivateParameters: false);
        var jwk = new JsonWebKey
        {
            Kty = JsonWebAlgorithmsKeyTypes.EllipticCurve,
            Crv = JsonWebKeyECTypes.P256,
            X = Base64Url.EncodeToString(parameters.Q.X),
            Y = Base64Url.EncodeToString(parameters.Q.Y),
        };
        var kid = Base64Url.EncodeToString(jwk.ComputeJwkThumbprint());
        var publicJwk = JsonSerializer.Serialize(new { kty = jwk.Kty, crv = jwk.Crv, x = jwk.X, y = jwk.Y, kid, use = "sig", alg = Es256 });
        var pkcs8 = ecdsa.ExportPkcs8PrivateKey();
        try
        {
            return new SigningKey
            {
                Id = Guid.NewGuid(),
                TenantId = tenantId,
                Kid = kid,
                Algorithm = Es256,
                PublicJwk = publicJwk,
                EncryptedPrivateKey = _protector.Encrypt(pkcs8, SigningKey.EncryptionContext(tenantId, kid)),
                Status = SigningKeyStatus.Active,
                CreatedAt = now,
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>Opens the private key for signing; the caller disposes it.</summary>
    public ECDsa OpenPrivateKey(SigningKey key)
    {
        var pkcs8 = _protector.Decrypt(key.EncryptedPrivateKey, SigningKey.EncryptionContext(key.TenantId, key.Kid));
        try
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
            return ecdsa;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }
}
