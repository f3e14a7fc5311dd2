using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Issuer2.Core.Security;

/// <summary>High-entropy bearer secrets (API keys, offer URI tokens, codes, access tokens) and their stored form.</summary>
public static class Secrets
{
    /// <summary>A new secret of <paramref name="bytes"/> random bytes, base64url without padding.</summary>
    public static string NewToken(int bytes = 32) => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>
    /// The stored form of a high-entropy secret: its SHA-256. A plain hash is enough here because the secret
    /// has 256 random bits; low-entropy secrets (PINs) use <see cref="SecretProtector.KeyedHash"/> instead.
    /// </summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>A uniformly random string of decimal digits.</summary>
    public static string NewNumericPin(int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++) chars[i] = (char)('0' + RandomNumberGenerator.GetInt32(10));
        return new string(chars);
    }
}
