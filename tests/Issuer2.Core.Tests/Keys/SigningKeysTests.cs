using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Issuer2.Core.Keys;
using Issuer2.Core.Security;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Keys;

public sealed class SigningKeysTests
{
    private static readonly byte[] Data = Encoding.UTF8.GetBytes("header.payload");
    private readonly SigningKeys _keys = new(KeyRing.OfOne(TestBed.Kek(1)));

    private static string Member(string publicJwk, string name)
    {
        using var doc = JsonDocument.Parse(publicJwk);
        return doc.RootElement.GetProperty(name).GetString()!;
    }

    private static bool Has(string publicJwk, string name)
    {
        using var doc = JsonDocument.Parse(publicJwk);
        return doc.RootElement.TryGetProperty(name, out _);
    }

    /// <summary>RFC 7638 §3.2: the required members of an EC key, lexicographic order, no whitespace.</summary>
    private static string Rfc7638Thumbprint(string x, string y)
    {
        var canonical = $$"""{"crv":"P-256","kty":"EC","x":"{{x}}","y":"{{y}}"}""";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static ECDsa PublicKey(string publicJwk) => ECDsa.Create(new ECParameters
    {
        Curve = ECCurve.NamedCurves.nistP256,
        Q = new ECPoint
        {
            X = Base64Url.DecodeFromChars(Member(publicJwk, "x")),
            Y = Base64Url.DecodeFromChars(Member(publicJwk, "y")),
        },
    });

    [Fact]
    public void Create_MakesAnActiveEs256KeyForTheTenant()
    {
        var key = _keys.Create("acme", TestBed.Start);

        Assert.Equal("acme", key.TenantId);
        Assert.Equal("ES256", key.Algorithm);
        Assert.Equal(SigningKeyStatus.Active, key.Status);
        Assert.Equal(TestBed.Start, key.CreatedAt);
        Assert.Equal("EC", Member(key.PublicJwk, "kty"));
        Assert.Equal("P-256", Member(key.PublicJwk, "crv"));
        Assert.Equal("ES256", Member(key.PublicJwk, "alg"));
    }

    [Fact]
    public void Create_KidIsTheRfc7638ThumbprintOfThePublicJwk()
    {
        var key = _keys.Create("acme", TestBed.Start);
        var expected = Rfc7638Thumbprint(Member(key.PublicJwk, "x"), Member(key.PublicJwk, "y"));

        Assert.Equal(expected, key.Kid);
        Assert.Equal(expected, Member(key.PublicJwk, "kid"));
    }

    [Fact]
    public void Create_PublicJwkHasNoPrivatePart()
    {
        var key = _keys.Create("acme", TestBed.Start);

        Assert.False(Has(key.PublicJwk, "d"));
    }

    [Fact]
    public void Create_TwiceGivesDifferentKeys()
    {
        var first = _keys.Create("acme", TestBed.Start);
        var second = _keys.Create("acme", TestBed.Start);

        Assert.NotEqual(first.Kid, second.Kid);
    }

    [Fact]
    public void OpenPrivateKey_SignsWhatThePublicJwkVerifies()
    {
        var key = _keys.Create("acme", TestBed.Start);
        using var privateKey = _keys.OpenPrivateKey(key);
        using var publicKey = PublicKey(key.PublicJwk);

        var signature = privateKey.SignData(Data, HashAlgorithmName.SHA256);

        Assert.True(publicKey.VerifyData(Data, signature, HashAlgorithmName.SHA256));
    }

    [Fact]
    public void OpenPrivateKey_UnderAnotherKek_Fails()
    {
        var key = _keys.Create("acme", TestBed.Start);
        var otherKeys = new SigningKeys(KeyRing.OfOne(TestBed.Kek(2)));

        Assert.ThrowsAny<CryptographicException>(() => otherKeys.OpenPrivateKey(key));
    }

    [Fact]
    public void OpenPrivateKey_OfRowCopiedToAnotherTenant_Fails()
    {
        var key = _keys.Create("acme", TestBed.Start);
        var copied = Copy(key, tenantId: "globex", kid: key.Kid);

        Assert.ThrowsAny<CryptographicException>(() => _keys.OpenPrivateKey(copied));
    }

    [Fact]
    public void OpenPrivateKey_OfRowWithAnotherKid_Fails()
    {
        var key = _keys.Create("acme", TestBed.Start);
        var other = _keys.Create("acme", TestBed.Start);
        var swapped = Copy(key, tenantId: "acme", kid: other.Kid);

        Assert.ThrowsAny<CryptographicException>(() => _keys.OpenPrivateKey(swapped));
    }

    private static SigningKey Copy(SigningKey key, string tenantId, string kid) => new()
    {
        Id = key.Id,
        TenantId = tenantId,
        Kid = kid,
        Algorithm = key.Algorithm,
        PublicJwk = key.PublicJwk,
        EncryptedPrivateKey = key.EncryptedPrivateKey,
        Status = key.Status,
        CreatedAt = key.CreatedAt,
    };
}
