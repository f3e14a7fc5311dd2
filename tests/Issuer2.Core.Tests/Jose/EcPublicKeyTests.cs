using System.Security.Cryptography;
using Issuer2.Core.Jose;

namespace Issuer2.Core.Tests.Jose;

/// <summary>The wallet key as OpenSSL builds it must verify exactly what the portable ECDsa verifies, and no point off the curve.</summary>
public sealed class EcPublicKeyTests
{
    private static readonly byte[] Data = "eyJhbGciOiJFUzI1NiJ9.eyJub25jZSI6Im4ifQ"u8.ToArray();

    [Fact]
    public void KeyFromCoordinates_VerifiesTheHoldersSignature_AndNoOther()
    {
        using var holder = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = holder.ExportParameters(false).Q;
        var signature = holder.SignData(Data, HashAlgorithmName.SHA256);
        using var key = EcPublicKey.P256(q.X, q.Y);

        Assert.True(key.VerifyData(Data, signature, HashAlgorithmName.SHA256));
        Assert.Equal(q.X, key.ExportParameters(false).Q.X);
        Assert.Equal(q.Y, key.ExportParameters(false).Q.Y);
        // On Linux the fast path must be the one that ran: a missing libcrypto would silently fall back.
        Assert.Equal(OperatingSystem.IsLinux(), EcPublicKey.BuildsWithOpenSsl);
        signature[10] ^= 1;
        Assert.False(key.VerifyData(Data, signature, HashAlgorithmName.SHA256));
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.False(key.VerifyData(Data, other.SignData(Data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void PointOffTheCurve_IsRefused()
    {
        using var holder = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = holder.ExportParameters(false).Q;
        var y = (byte[])q.Y!.Clone();
        y[31] ^= 1;

        Assert.ThrowsAny<CryptographicException>(() => EcPublicKey.P256(q.X, y).Dispose());
        Assert.ThrowsAny<CryptographicException>(() => EcPublicKey.P256(new byte[32], new byte[32]).Dispose());
        Assert.ThrowsAny<CryptographicException>(() => EcPublicKey.P256(q.X.AsSpan(1), q.Y).Dispose());
    }

    [Fact]
    public void ManyKeys_AreEachTheirOwn()
    {
        // Each call builds a fresh key: nothing of one wallet's key carries over to the next.
        for (var i = 0; i < 50; i++)
        {
            using var holder = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var q = holder.ExportParameters(false).Q;
            using var key = EcPublicKey.P256(q.X, q.Y);
            Assert.True(key.VerifyData(Data, holder.SignData(Data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
        }
    }
}
