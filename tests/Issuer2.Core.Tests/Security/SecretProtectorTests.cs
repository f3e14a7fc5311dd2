using System.Security.Cryptography;
using System.Text;
using Issuer2.Core.Security;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Security;

public sealed class SecretProtectorTests
{
    private static readonly byte[] Plaintext = Encoding.UTF8.GetBytes("a private key, or a replayed offer URL and PIN");
    private readonly SecretProtector _protector = Of(TestBed.Kek(1));

    private static SecretProtector Of(byte[] kek) => KeyRing.OfOne(kek).Protector(KeyPurpose.SecretsAtRest);

    [Fact]
    public void Decrypt_WithSameContext_ReturnsPlaintext()
    {
        var sealedData = _protector.Encrypt(Plaintext, "signing-key/acme/kid-1");

        var opened = _protector.Decrypt(sealedData, "signing-key/acme/kid-1");

        Assert.Equal(Plaintext, opened);
    }

    [Fact]
    public void Decrypt_OfEmptyPlaintext_ReturnsEmpty()
    {
        var sealedData = _protector.Encrypt([], "ctx");

        var opened = _protector.Decrypt(sealedData, "ctx");

        Assert.Empty(opened);
    }

    [Fact]
    public void Encrypt_DoesNotContainThePlaintext()
    {
        var sealedData = _protector.Encrypt(Plaintext, "ctx");

        var text = Encoding.UTF8.GetString(sealedData);

        Assert.DoesNotContain("private key", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Decrypt_WithOtherContext_Fails()
    {
        var sealedData = _protector.Encrypt(Plaintext, "signing-key/acme/kid-1");

        Assert.ThrowsAny<CryptographicException>(() => _protector.Decrypt(sealedData, "signing-key/globex/kid-1"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(40)]
    [InlineData(-1)]
    public void Decrypt_WithOneFlippedByte_Fails(int index)
    {
        var sealedData = _protector.Encrypt(Plaintext, "ctx");
        var at = index < 0 ? sealedData.Length - 1 : index;
        sealedData[at] ^= 0x01;

        Assert.ThrowsAny<CryptographicException>(() => _protector.Decrypt(sealedData, "ctx"));
    }

    [Fact]
    public void Decrypt_Truncated_Fails()
    {
        var sealedData = _protector.Encrypt(Plaintext, "ctx");

        Assert.ThrowsAny<CryptographicException>(() => _protector.Decrypt(sealedData.AsSpan(0, 20), "ctx"));
    }

    [Fact]
    public void Decrypt_UnderOtherKek_Fails()
    {
        var sealedData = _protector.Encrypt(Plaintext, "ctx");
        var other = Of(TestBed.Kek(2));

        Assert.ThrowsAny<CryptographicException>(() => other.Decrypt(sealedData, "ctx"));
    }

    [Fact]
    public void Decrypt_UnderSameKekInAnotherInstance_ReturnsPlaintext()
    {
        var sealedData = _protector.Encrypt(Plaintext, "ctx");
        var restarted = Of(TestBed.Kek(1));

        var opened = restarted.Decrypt(sealedData, "ctx");

        Assert.Equal(Plaintext, opened);
    }

    [Fact]
    public void Encrypt_SamePlaintextTwice_GivesDifferentCiphertexts()
    {
        var first = _protector.Encrypt(Plaintext, "ctx");
        var second = _protector.Encrypt(Plaintext, "ctx");

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void KeyedHash_IsDeterministicPerContextAndValue()
    {
        var first = _protector.KeyedHash("pin/acme/offer1", "123456");
        var second = Of(TestBed.Kek(1)).KeyedHash("pin/acme/offer1", "123456");

        Assert.Equal(first, second);
    }

    [Fact]
    public void KeyedHash_DiffersAcrossContexts()
    {
        var first = _protector.KeyedHash("pin/acme/offer1", "123456");
        var second = _protector.KeyedHash("pin/acme/offer2", "123456");

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void KeyedHash_DiffersAcrossValues()
    {
        var first = _protector.KeyedHash("pin/acme/offer1", "123456");
        var second = _protector.KeyedHash("pin/acme/offer1", "123457");

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void KeyedHash_DiffersAcrossKeks()
    {
        var first = _protector.KeyedHash("pin/acme/offer1", "123456");
        var second = Of(TestBed.Kek(2)).KeyedHash("pin/acme/offer1", "123456");

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void KeyedHash_IsNotThePlainSha256OfTheValue()
    {
        var plainHash = SHA256.HashData(Encoding.UTF8.GetBytes("123456"));
        var plainHashWithContext = SHA256.HashData(Encoding.UTF8.GetBytes("pin/acme/offer1\n123456"));

        var keyed = _protector.KeyedHash("pin/acme/offer1", "123456");

        Assert.NotEqual(plainHash, keyed);
        Assert.NotEqual(plainHashWithContext, keyed);
        Assert.Equal(36, keyed.Length);
    }

    [Fact]
    public void KeyedHashEquals_AcceptsTheValueAndRefusesAnother()
    {
        var stored = _protector.KeyedHash("pin/acme/offer1", "123456");

        Assert.True(_protector.KeyedHashEquals("pin/acme/offer1", "123456", stored));
        Assert.False(_protector.KeyedHashEquals("pin/acme/offer1", "654321", stored));
        Assert.False(_protector.KeyedHashEquals("pin/acme/offer2", "123456", stored));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void Constructor_WithKekNot32Bytes_IsRefused(int length)
    {
        var kek = new byte[length];

        Assert.Throws<ArgumentException>(() => KeyRing.OfOne(kek));
    }
}
