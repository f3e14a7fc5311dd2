using System.Text;
using Issuer2.Core.Security;

namespace Issuer2.Core.IdentityProviders;

/// <summary>The tenant IdP's client secret at rest: encrypted under the key-encryption key, bound to its tenant.</summary>
public static class IdentityProviderSecrets
{
    public static string Context(string tenantId) => $"idp-client-secret/{tenantId}";

    public static byte[] Encrypt(SecretProtector protector, string tenantId, string secret)
    {
        ArgumentNullException.ThrowIfNull(protector);
        return protector.Encrypt(Encoding.UTF8.GetBytes(secret), Context(tenantId));
    }

    public static string Decrypt(SecretProtector protector, string tenantId, IdentityProviderSettings settings)
    {
        ArgumentNullException.ThrowIfNull(protector);
        ArgumentNullException.ThrowIfNull(settings);
        return Encoding.UTF8.GetString(protector.Decrypt(settings.EncryptedClientSecret, Context(tenantId)));
    }
}
