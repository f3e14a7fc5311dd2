using System.Security.Cryptography;
using System.Text;

namespace Issuer2.Core.Security;

/// <summary>
/// Everything keyed by the key-encryption key (KEK), which never lives in the database: AES-256-GCM
/// encryption of private keys and replay copies, and keyed hashes of low-entropy secrets (PINs).
/// Sub-keys are derived per purpose with HKDF, so no two uses share a key.
/// </summary>
public sealed class SecretProtector
{
    private const byte FormatVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int KeyIdSize = 4;

    private readonly byte[] _encryptionKey;
    private readonly byte[] _hashKey;
    private readonly byte[] _keyId;

    public SecretProtector(ReadOnlySpan<byte> keyEncryptionKey)
    {
        if (keyEncryptionKey.Length != 32)
            throw new ArgumentException("The key-encryption key must be 32 bytes (256 bits).", nameof(keyEncryptionKey));
        var kek = keyEncryptionKey.ToArray();
        _encryptionKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, kek, 32, info: "issuer2/v1/encryption"u8.ToArray());
        _hashKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, kek, 32, info: "issuer2/v1/keyed-hash"u8.ToArray());
        _keyId = SHA256.HashData(_encryptionKey)[..KeyIdSize];
        CryptographicOperations.ZeroMemory(kek);
    }

    /// <summary>Encrypts <paramref name="plaintext"/>, bound to <paramref name="context"/> (it must be given again to decrypt).</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, string context)
    {
        var output = new byte[1 + KeyIdSize + NonceSize + TagSize + plaintext.Length];
        output[0] = FormatVersion;
        _keyId.CopyTo(output, 1);
        var nonce = output.AsSpan(1 + KeyIdSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        var tag = output.AsSpan(1 + KeyIdSize + NonceSize, TagSize);
        var cipher = output.AsSpan(1 + KeyIdSize + NonceSize + TagSize);
        using var aes = new AesGcm(_encryptionKey, TagSize);
        aes.Encrypt(nonce, plaintext, cipher, tag, Encoding.UTF8.GetBytes(context));
        return output;
    }

    /// <summary>Decrypts what <see cref="Encrypt"/> made for the same context; throws <see cref="CryptographicException"/> otherwise.</summary>
    public byte[] Decrypt(ReadOnlySpan<byte> protectedData, string context)
    {
        if (protectedData.Length < 1 + KeyIdSize + NonceSize + TagSize || protectedData[0] != FormatVersion)
            throw new CryptographicException("The protected data is not in a known format.");
        if (!protectedData.Slice(1, KeyIdSize).SequenceEqual(_keyId))
            throw new CryptographicException("The data was protected under another key-encryption key.");
        var nonce = protectedData.Slice(1 + KeyIdSize, NonceSize);
        var tag = protectedData.Slice(1 + KeyIdSize + NonceSize, TagSize);
        var cipher = protectedData[(1 + KeyIdSize + NonceSize + TagSize)..];
        var plaintext = new byte[cipher.Length];
        using var aes = new AesGcm(_encryptionKey, TagSize);
        aes.Decrypt(nonce, cipher, tag, plaintext, Encoding.UTF8.GetBytes(context));
        return plaintext;
    }

    /// <summary>HMAC-SHA-256 of <paramref name="value"/> in <paramref name="context"/>: a PIN hash that cannot be brute-forced without the KEK.</summary>
    public byte[] KeyedHash(string context, string value) =>
        HMACSHA256.HashData(_hashKey, Encoding.UTF8.GetBytes($"{context}\n{value}"));

    /// <summary>Compares a candidate with a stored keyed hash in constant time.</summary>
    public bool KeyedHashEquals(string context, string candidate, byte[] stored) =>
        CryptographicOperations.FixedTimeEquals(KeyedHash(context, candidate), stored);
}
