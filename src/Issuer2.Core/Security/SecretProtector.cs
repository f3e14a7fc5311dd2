using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Issuer2.Core.Security;

/// <summary>
/// Everything one purpose keys with the key ring: AES-256-GCM encryption bound to a context, and keyed hashes of
/// low-entropy secrets (PINs). New output is made under the ring's current version and names it; input opens under
/// the version it names. Made only by <see cref="KeyRing.Protector"/>, one per purpose.
/// </summary>
/// <remarks>
/// Formats. Ciphertext: a format byte, a 4-byte key id, a 12-byte GCM nonce, the 16-byte tag, the ciphertext.
/// Format 2 (now): the key id is the ring version (big-endian), the key that version's purpose key. Format 1 (the
/// release before purposes, read only): the key id is the first 4 bytes of SHA-256 of version 1's shared encryption
/// key, which encrypted it. Keyed hash: 4 bytes of version then HMAC-SHA-256 under the version's purpose hash key
/// (36 bytes); the 32-byte form of the release before is the HMAC under version 1's shared keyed-hash key.
/// </remarks>
public sealed class SecretProtector
{
    /// <summary>The format of what the release before purposes wrote (version 1, one shared key).</summary>
    internal const byte LegacyFormat = 1;

    /// <summary>The format written now (a ring version, a key per purpose).</summary>
    internal const byte Format = 2;

    internal const int HeaderSize = 1 + 4;
    internal const int NonceSize = 12;
    internal const int TagSize = 16;
    private const int LegacyHashSize = 32;
    private const int HashSize = 4 + 32;

    private readonly KeyRing _ring;
    private readonly Dictionary<int, (byte[] Encryption, byte[] Hash)> _keys = [];

    internal SecretProtector(KeyRing ring, KeyPurpose purpose)
    {
        _ring = ring;
        Purpose = purpose;
        var info = KeyRing.InfoOf(purpose);
        foreach (var version in ring.Versions)
            _keys[version] = (ring.Derive(version, info), ring.Derive(version, info + "/keyed-hash"));
    }

    /// <summary>What this protector's keys are for.</summary>
    public KeyPurpose Purpose { get; }

    /// <summary>Guards a helper that serves one purpose against another purpose's protector (a bug).</summary>
    public void Require(KeyPurpose purpose)
    {
        if (Purpose != purpose) throw new InvalidOperationException($"This needs the {purpose} protector, not the {Purpose} one.");
    }

    /// <summary>Encrypts <paramref name="plaintext"/> under the current version, bound to <paramref name="context"/> (it must be given again to decrypt).</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, string context)
    {
        var version = _ring.CurrentVersion;
        var output = new byte[HeaderSize + NonceSize + TagSize + plaintext.Length];
        output[0] = Format;
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(1, 4), (uint)version);
        Seal(_keys[version].Encryption, plaintext, context, output);
        return output;
    }

    /// <summary>Decrypts what <see cref="Encrypt"/> (or the release before) made for the same context; throws <see cref="CryptographicException"/> otherwise.</summary>
    public byte[] Decrypt(ReadOnlySpan<byte> protectedData, string context)
    {
        var version = VersionOf(protectedData);
        byte[] key;
        if (protectedData[0] == LegacyFormat)
        {
            key = _ring.LegacyEncryptionKey;
            if (!protectedData.Slice(1, 4).SequenceEqual(_ring.LegacyKeyId))
                throw new CryptographicException("The data was protected under another key-encryption key than version 1 of the ring.");
        }
        else
        {
            key = _keys.TryGetValue(version, out var keys) ? keys.Encryption : throw KeyRing.Missing(version);
        }
        return Open(key, protectedData, context);
    }

    /// <summary>
    /// The same secret under the current version when <paramref name="protectedData"/> is under another (or in the
    /// format of the release before); null when it is current already.
    /// </summary>
    public byte[]? Rewrap(ReadOnlySpan<byte> protectedData, string context)
    {
        if (protectedData.Length >= HeaderSize && protectedData[0] == Format && VersionOf(protectedData) == _ring.CurrentVersion) return null;
        var plaintext = Decrypt(protectedData, context);
        try
        {
            return Encrypt(plaintext, context);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Keyed hash of <paramref name="value"/> in <paramref name="context"/> under the current version: a PIN hash that cannot be brute-forced without the key ring.</summary>
    public byte[] KeyedHash(string context, string value)
    {
        var version = _ring.CurrentVersion;
        var output = new byte[HashSize];
        BinaryPrimitives.WriteUInt32BigEndian(output, (uint)version);
        HMACSHA256.HashData(_keys[version].Hash, Encoding.UTF8.GetBytes($"{context}\n{value}"), output.AsSpan(4));
        return output;
    }

    /// <summary>Compares a candidate with a stored keyed hash in constant time, under the version the stored hash names.</summary>
    public bool KeyedHashEquals(string context, string candidate, byte[] stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var version = HashVersionOf(stored);
        var data = Encoding.UTF8.GetBytes($"{context}\n{candidate}");
        if (stored.Length == LegacyHashSize)
            return CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_ring.LegacyHashKey, data), stored);
        var key = _keys.TryGetValue(version, out var keys) ? keys.Hash : throw KeyRing.Missing(version);
        return CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, data), stored.AsSpan(4));
    }

    /// <summary>The ring version a ciphertext was made under (1 for the format of the release before purposes); throws when it is no ciphertext of ours.</summary>
    public static int VersionOf(ReadOnlySpan<byte> protectedData)
    {
        if (protectedData.Length < HeaderSize + NonceSize + TagSize || protectedData[0] is not (LegacyFormat or Format))
            throw new CryptographicException("The protected data is not in a known format.");
        return protectedData[0] == LegacyFormat ? 1 : (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(protectedData.Slice(1, 4)), int.MaxValue);
    }

    /// <summary>Whether a ciphertext is in the format of the release before purposes (its shared key of version 1).</summary>
    public static bool IsLegacy(ReadOnlySpan<byte> protectedData) => protectedData.Length > 0 && protectedData[0] == LegacyFormat;

    /// <summary>The ring version a keyed hash was made under (1 for the 32-byte form of the release before); throws when it is no hash of ours.</summary>
    public static int HashVersionOf(ReadOnlySpan<byte> hash) => hash.Length switch
    {
        LegacyHashSize => 1,
        HashSize => (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(hash), int.MaxValue),
        _ => throw new CryptographicException("The keyed hash is not in a known format."),
    };

    /// <summary>Whether a keyed hash is in the 32-byte form of the release before purposes.</summary>
    public static bool IsLegacyHash(ReadOnlySpan<byte> hash) => hash.Length == LegacyHashSize;

    /// <summary>GCM-encrypts into <paramref name="output"/> after its header: nonce, tag, ciphertext.</summary>
    internal static void Seal(byte[] key, ReadOnlySpan<byte> plaintext, string context, Span<byte> output)
    {
        var nonce = output.Slice(HeaderSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, output[(HeaderSize + NonceSize + TagSize)..], output.Slice(HeaderSize + NonceSize, TagSize), Encoding.UTF8.GetBytes(context));
    }

    /// <summary>GCM-decrypts what <see cref="Seal"/> made; throws <see cref="CryptographicException"/> when it does not authenticate.</summary>
    internal static byte[] Open(byte[] key, ReadOnlySpan<byte> protectedData, string context)
    {
        if (protectedData.Length < HeaderSize + NonceSize + TagSize) throw new CryptographicException("The protected data is not in a known format.");
        var nonce = protectedData.Slice(HeaderSize, NonceSize);
        var tag = protectedData.Slice(HeaderSize + NonceSize, TagSize);
        var cipher = protectedData[(HeaderSize + NonceSize + TagSize)..];
        var plaintext = new byte[cipher.Length];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(nonce, cipher, tag, plaintext, Encoding.UTF8.GetBytes(context));
        return plaintext;
    }
}
