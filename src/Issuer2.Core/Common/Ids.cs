using System.Security.Cryptography;

namespace Issuer2.Core.Common;

/// <summary>Random resource ids: lowercase base32, so they read well in resource names and URLs.</summary>
public static class Ids
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>A new id of <paramref name="length"/> characters (5 random bits each).</summary>
    public static string New(int length = 16)
    {
        Span<char> chars = stackalloc char[length];
        for (var i = 0; i < length; i++) chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        return new string(chars);
    }
}
