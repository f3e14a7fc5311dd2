using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Issuer2.Core.Security;

/// <summary>What a key is for. Each purpose gets its own keys (HKDF with its own info string), so no key serves two.</summary>
public enum KeyPurpose
{
    /// <summary>c_nonce and DPoP-Nonce values, minted for anyone: per-epoch keys (<see cref="NonceKeys"/>).</summary>
    Nonces,

    /// <summary>Tenants' signing private keys at rest.</summary>
    SigningKeys,

    /// <summary>Copies of create-offer answers kept for request_id retries, and their request fingerprints.</summary>
    ReplayCopies,

    /// <summary>Keyed hashes of offer PINs.</summary>
    PinHashes,

    /// <summary>Opaque event and heartbeat cursors (a raw key: <see cref="KeyRing.EventCursorKey"/>).</summary>
    EventCursors,

    /// <summary>Other secrets at rest: IdP client secrets, sign-in claims, PKCE verifiers for the IdP.</summary>
    SecretsAtRest,
}

/// <summary>
/// The versioned key-encryption keys (KEKs), which never live in the database, and every key derived from them. New
/// secrets are made under <see cref="CurrentVersion"/> (the newest unless told otherwise); what was made under an older
/// version names it and opens while that version is in the ring. Keys are derived per purpose and version with HKDF
/// (info <c>issuer2/v1/{purpose}</c>); version 1 also keeps the two shared sub-keys of the release before purposes
/// (<c>issuer2/v1/encryption</c>, <c>issuer2/v1/keyed-hash</c>), for reading what that release wrote.
/// </summary>
public sealed class KeyRing
{
    /// <summary>Versions are 1 to this (they travel in two bytes inside nonces).</summary>
    public const int MaxVersion = ushort.MaxValue;

    private readonly SortedDictionary<int, byte[]> _keks = [];
    private readonly Dictionary<KeyPurpose, SecretProtector> _protectors = [];
    private readonly byte[]? _legacyEncryptionKey;
    private readonly byte[]? _legacyHashKey;

    /// <summary>A ring of the given versions; <paramref name="currentVersion"/> (default: the newest) makes new secrets.</summary>
    public KeyRing(IReadOnlyDictionary<int, byte[]> keyEncryptionKeys, int? currentVersion = null)
    {
        ArgumentNullException.ThrowIfNull(keyEncryptionKeys);
        if (keyEncryptionKeys.Count == 0) throw new ArgumentException("The key ring needs at least one key-encryption key.", nameof(keyEncryptionKeys));
        foreach (var (version, kek) in keyEncryptionKeys)
        {
            if (version is < 1 or > MaxVersion)
                throw new ArgumentException($"Key-encryption key versions are whole numbers from 1 to {MaxVersion}; {version} is not.", nameof(keyEncryptionKeys));
            if (kek is not { Length: 32 })
                throw new ArgumentException($"The key-encryption key of version {version} must be 32 bytes (256 bits).", nameof(keyEncryptionKeys));
            _keks[version] = kek.ToArray();
        }
        CurrentVersion = currentVersion ?? _keks.Keys.Max();
        if (!_keks.ContainsKey(CurrentVersion))
            throw new ArgumentException($"The current key-encryption key version {CurrentVersion} is not in the ring ({string.Join(", ", _keks.Keys)}).", nameof(currentVersion));
        Versions = [.. _keks.Keys];
        if (_keks.TryGetValue(1, out var first))
        {
            _legacyEncryptionKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, first, 32, info: "issuer2/v1/encryption"u8.ToArray());
            _legacyHashKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, first, 32, info: "issuer2/v1/keyed-hash"u8.ToArray());
            LegacyKeyId = SHA256.HashData(_legacyEncryptionKey)[..4];
        }
        foreach (var purpose in Enum.GetValues<KeyPurpose>())
            if (purpose is not (KeyPurpose.Nonces or KeyPurpose.EventCursors)) _protectors[purpose] = new SecretProtector(this, purpose);
    }

    /// <summary>A ring of one key-encryption key, version 1 (what a single configured key means).</summary>
    public static KeyRing OfOne(ReadOnlySpan<byte> keyEncryptionKey)
    {
        if (keyEncryptionKey.Length != 32)
            throw new ArgumentException("The key-encryption key must be 32 bytes (256 bits).", nameof(keyEncryptionKey));
        return new KeyRing(new Dictionary<int, byte[]> { [1] = keyEncryptionKey.ToArray() });
    }

    /// <summary>The version new secrets are made under.</summary>
    public int CurrentVersion { get; }

    /// <summary>Every version in the ring, oldest first.</summary>
    public IReadOnlyList<int> Versions { get; }

    /// <summary>Whether <paramref name="version"/> is in the ring.</summary>
    public bool Has(int version) => _keks.ContainsKey(version);

    /// <summary>The protector of one purpose (every purpose but <see cref="KeyPurpose.Nonces"/> and <see cref="KeyPurpose.EventCursors"/>).</summary>
    public SecretProtector Protector(KeyPurpose purpose) =>
        _protectors.TryGetValue(purpose, out var protector)
            ? protector
            : throw new ArgumentException($"{purpose} keys are not used through a protector.", nameof(purpose));

    /// <summary>The 32-byte key of opaque event cursors under <paramref name="version"/> (HKDF info <c>issuer2/v1/event-cursors</c>).</summary>
    public byte[] EventCursorKey(int version) => Derive(version, InfoOf(KeyPurpose.EventCursors));

    /// <summary>The HKDF info string of a purpose's key.</summary>
    public static string InfoOf(KeyPurpose purpose) => purpose switch
    {
        KeyPurpose.Nonces => "issuer2/v1/nonces",
        KeyPurpose.SigningKeys => "issuer2/v1/signing-keys",
        KeyPurpose.ReplayCopies => "issuer2/v1/replay-copies",
        KeyPurpose.PinHashes => "issuer2/v1/pin-hashes",
        KeyPurpose.EventCursors => "issuer2/v1/event-cursors",
        KeyPurpose.SecretsAtRest => "issuer2/v1/secrets-at-rest",
    };

    /// <summary>The shared encryption sub-key of the release before purposes (version 1 only), to read what it wrote.</summary>
    internal byte[] LegacyEncryptionKey => _legacyEncryptionKey ?? throw Missing(1);

    /// <summary>The shared keyed-hash sub-key of the release before purposes (version 1 only).</summary>
    internal byte[] LegacyHashKey => _legacyHashKey ?? throw Missing(1);

    /// <summary>The key id the release before purposes wrote into its ciphertexts (version 1), or null without version 1.</summary>
    internal byte[]? LegacyKeyId { get; }

    /// <summary>A 32-byte key of <paramref name="version"/> for <paramref name="info"/>.</summary>
    internal byte[] Derive(int version, string info) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _keks.TryGetValue(version, out var kek) ? kek : throw Missing(version), 32,
            info: Encoding.UTF8.GetBytes(info));

    /// <summary>The error of a version that is needed and not configured.</summary>
    internal static CryptographicException Missing(int version) => new(string.Create(CultureInfo.InvariantCulture,
        $"The data was protected under key-encryption key version {version}, which is not in the key ring. Configure Issuer2:KeyEncryptionKeys:{version} again (see `Issuer2.Server keys status`)."));
}
