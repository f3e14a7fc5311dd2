using Issuer2.Core.Offers;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Offers;

/// <summary>
/// A create with a request_id keeps a fingerprint of its parameters, a caller-supplied PIN among them. It is keyed
/// under the key-encryption key, so reading the database and hashing every short PIN does not find the PIN.
/// </summary>
public sealed class RequestFingerprintTests
{
    [Fact]
    public async Task Fingerprint_OfTheSameCreate_DependsOnTheKeyEncryptionKey()
    {
        var first = await FingerprintAsync(TestBed.Kek(1));
        var again = await FingerprintAsync(TestBed.Kek(1));
        var otherKey = await FingerprintAsync(TestBed.Kek(2));

        Assert.Equal(first, again);
        Assert.NotEqual(first, otherKey);
    }

    private static async Task<byte[]> FingerprintAsync(byte[] kek)
    {
        var bed = new TestBed(kek);
        bed.SeedTenant();
        bed.SeedProfile();
        var created = await bed.Management.CreateAsync(TestBed.AcmeKey, TestBed.TenantId,
            TestBed.Command(txCode: new TxCodeOptions("4711", 0, TxCodeInputMode.Numeric, null), requestId: "enrolment-4711"), CancellationToken.None);
        Assert.True(created.IsSuccess, created.Error?.Message);
        return Assert.Single(bed.Db.OfferRequests).Fingerprint;
    }
}
