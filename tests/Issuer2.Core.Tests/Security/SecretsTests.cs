using System.Text.RegularExpressions;
using Issuer2.Core.Security;

namespace Issuer2.Core.Tests.Security;

public sealed partial class SecretsTests
{
    [GeneratedRegex(@"\A[A-Za-z0-9_-]+\z")]
    private static partial Regex Base64UrlAlphabet();

    [GeneratedRegex(@"\A[0-9]+\z")]
    private static partial Regex Digits();

    [Fact]
    public void NewToken_Of32Bytes_Is43Base64UrlCharacters()
    {
        var token = Secrets.NewToken();

        Assert.Equal(43, token.Length);
        Assert.Matches(Base64UrlAlphabet(), token);
    }

    [Theory]
    [InlineData(16, 22)]
    [InlineData(32, 43)]
    [InlineData(48, 64)]
    public void NewToken_HasUnpaddedBase64UrlLength(int bytes, int expectedLength)
    {
        var token = Secrets.NewToken(bytes);

        Assert.Equal(expectedLength, token.Length);
        Assert.Matches(Base64UrlAlphabet(), token);
    }

    [Fact]
    public void NewToken_ManyTimes_NeverRepeats()
    {
        var tokens = Enumerable.Range(0, 10_000).Select(_ => Secrets.NewToken()).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(10_000, tokens.Count);
    }

    [Fact]
    public void Hash_IsSha256OfUtf8()
    {
        var hash = Secrets.Hash("i2_example");

        Assert.Equal(System.Security.Cryptography.SHA256.HashData("i2_example"u8), hash);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(12)]
    public void NewNumericPin_IsDigitsOfTheAskedLength(int length)
    {
        var pin = Secrets.NewNumericPin(length);

        Assert.Equal(length, pin.Length);
        Assert.Matches(Digits(), pin);
    }

    [Fact]
    public void NewNumericPin_UsesEveryDigit()
    {
        var digits = string.Concat(Enumerable.Range(0, 200).Select(_ => Secrets.NewNumericPin(12))).ToHashSet();

        Assert.Equal(10, digits.Count);
    }
}
