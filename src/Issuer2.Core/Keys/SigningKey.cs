namespace Issuer2.Core.Keys;

/// <summary>Whether a key signs new credentials.</summary>
public enum SigningKeyStatus
{
    Active,
    Retired,
}

/// <summary>
/// A tenant's signing key. Rows, not configuration, so rotation needs no migration: <c>kid</c> is the
/// RFC 7638 thumbprint and the private part is stored only encrypted under the key-encryption key.
/// </summary>
public sealed class SigningKey
{
    public required Guid Id { get; init; }
    public required string TenantId { get; init; }
    public required string Kid { get; init; }
    public required string Algorithm { get; init; }
    public required string PublicJwk { get; init; }
    public required byte[] EncryptedPrivateKey { get; init; }
    public SigningKeyStatus Status { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RetiredAt { get; set; }

    /// <summary>The context the private key is encrypted under: a row copied to another tenant or kid fails to decrypt.</summary>
    public static string EncryptionContext(string tenantId, string kid) => $"signing-key/{tenantId}/{kid}";
}
