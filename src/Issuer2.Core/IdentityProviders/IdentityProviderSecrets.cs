using System.Text;
using Issuer2.Core.Security;

namespace Issuer2.Core.IdentityProviders;

/// <summary>
/// The tenant IdP's client secret at rest: encrypted under the key-encryption key, bound to its tenant, so a copy moved
/// to another tenant's row does not decrypt. Never returned, logged or put in an event.
/// </summary>
public static class IdentityProviderSecrets
{
    /// <summary>The encryption context of a tenant's client secret.</summary>
    public static string Context(string tenantId) => $"idp-client-secret/{tenantId}";

    /// <summary>The stored form of <paramref name="clientSecret"/> for <paramref name="tenantId"/>.</summary>
    public static byte[] Encrypt(SecretProtector protector, string tenantId, string clientSecret)
    {
        ArgumentNullException.ThrowIfNull(protector);
        protector.Require(KeyPurpose.SecretsAtRest);
        return protector.Encrypt(Encoding.UTF8.GetBytes(clientSecret), Context(tenantId));
    }

    /// <summary>The client secret in the clear, for the code exchange at the IdP's token endpoint only.</summary>
    public static string Decrypt(SecretProtector protector, string tenantId, IdentityProviderSettings settings)
    {
        ArgumentNullException.ThrowIfNull(protector);
        protector.Require(KeyPurpose.SecretsAtRest);
        ArgumentNullException.ThrowIfNull(settings);
        return Encoding.UTF8.GetString(protector.Decrypt(settings.EncryptedClientSecret, Context(tenantId)));
    }
}

/// <summary>Where the tenant's IdP sends the user back: one callback per tenant (also the mix-up defence, RFC 9700 §4.4).</summary>
public static class IdentityProviderCallback
{
    /// <summary>The path under the credential issuer identifier.</summary>
    public const string Path = "/idp/callback";

    /// <summary>The redirect URI to register at the IdP: <c>{credential_issuer}/idp/callback</c>.</summary>
    public static string RedirectUri(string credentialIssuer) => credentialIssuer + Path;
}
