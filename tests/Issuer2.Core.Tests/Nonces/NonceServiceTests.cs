using Issuer2.Core.Nonces;
using Issuer2.Core.Security;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Nonces;

public sealed class NonceServiceTests
{
    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    private NonceService Nonces => _bed.Nonces;

    [Fact]
    public void Verify_NonceJustMinted_ReturnsItsExpiryFiveMinutesAhead()
    {
        var nonce = Nonces.Mint(TestBed.TenantId);

        var expiresAt = Nonces.Verify(TestBed.TenantId, nonce);

        Assert.Equal(TestBed.Start + TimeSpan.FromMinutes(5), expiresAt?.ExpiresAt);
    }

    [Fact]
    public void Mint_Twice_GivesTwoDifferentNonces()
    {
        var first = Nonces.Mint(TestBed.TenantId);
        var second = Nonces.Mint(TestBed.TenantId);

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Mint_WritesNothing()
    {
        Nonces.Mint(TestBed.TenantId);

        Assert.Empty(_bed.Db.ConsumedNonces);
        Assert.Empty(_bed.Db.Events);
    }

    [Fact]
    public void Verify_AnotherTenantsNonce_IsRefused()
    {
        var nonce = Nonces.Mint(TestBed.OtherTenantId);

        var expiresAt = Nonces.Verify(TestBed.TenantId, nonce);

        Assert.Null(expiresAt);
    }

    [Fact]
    public void Verify_JustBeforeFiveMinutes_IsAccepted()
    {
        var nonce = Nonces.Mint(TestBed.TenantId);
        _bed.Clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));

        var expiresAt = Nonces.Verify(TestBed.TenantId, nonce);

        Assert.NotNull(expiresAt);
    }

    [Fact]
    public void Verify_AfterFiveMinutes_IsRefused()
    {
        var nonce = Nonces.Mint(TestBed.TenantId);
        _bed.Clock.Advance(TimeSpan.FromMinutes(5));

        var expiresAt = Nonces.Verify(TestBed.TenantId, nonce);

        Assert.Null(expiresAt);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(30)]
    public void Verify_TamperedNonce_IsRefused(int position)
    {
        var nonce = Nonces.Mint(TestBed.TenantId).ToCharArray();
        nonce[position] = nonce[position] == 'A' ? 'B' : 'A';

        var expiresAt = Nonces.Verify(TestBed.TenantId, new string(nonce));

        Assert.Null(expiresAt);
    }

    [Fact]
    public void Verify_NonceOfAHostWithAnotherKek_IsRefused()
    {
        var otherHost = new NonceService(TestBed.NonceKeysOf(2, _bed.Clock), _bed.Clock);
        var nonce = otherHost.Mint(TestBed.TenantId);

        var expiresAt = Nonces.Verify(TestBed.TenantId, nonce);

        Assert.Null(expiresAt);
    }

    [Fact]
    public void Verify_NonceOfAnotherHostWithTheSameKek_IsAccepted()
    {
        var otherHost = new NonceService(TestBed.NonceKeysOf(1, _bed.Clock), _bed.Clock);
        var nonce = otherHost.Mint(TestBed.TenantId);

        var expiresAt = Nonces.Verify(TestBed.TenantId, nonce);

        Assert.NotNull(expiresAt);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64url!")]
    [InlineData("AAAA")]
    public void Verify_SomethingThatIsNoNonce_IsRefused(string? nonce)
    {
        var expiresAt = Nonces.Verify(TestBed.TenantId, nonce);

        Assert.Null(expiresAt);
    }

    [Fact]
    public void ConsumedKey_IsTheSameForTheSameNonce_AndDiffersBetweenNonces()
    {
        var nonce = Nonces.Mint(TestBed.TenantId);

        var key = Nonces.Verify(TestBed.TenantId, nonce)!.ConsumedKey;

        Assert.Equal(key, Nonces.Verify(TestBed.TenantId, nonce)!.ConsumedKey);
        Assert.NotEqual(key, Nonces.Verify(TestBed.TenantId, Nonces.Mint(TestBed.TenantId))!.ConsumedKey);
        Assert.NotEqual(Secrets.Hash(nonce), key);
    }

    [Theory]
    [InlineData(" ", "")]
    [InlineData("", " ")]
    [InlineData("\n", "")]
    [InlineData("", "=")]
    public void Verify_ANonceSpelledOtherwise_IsRefused(string before, string after)
    {
        var nonce = Nonces.Mint(TestBed.TenantId);

        Assert.Null(Nonces.Verify(TestBed.TenantId, before + nonce + after));
    }

    // The nonce endpoint

    [Fact]
    public async Task IssueNonce_ForALiveTenant_ReturnsANonceOfThatTenant()
    {
        var result = await _bed.IssueNonce.ExecuteAsync(TestBed.TenantId, default);

        Assert.NotNull(Nonces.Verify(TestBed.TenantId, result.Value.CNonce));
        Assert.Null(Nonces.Verify(TestBed.OtherTenantId, result.Value.CNonce));
        Assert.Null(result.Value.DpopNonce);
    }

    [Theory]
    [InlineData("nobody")]
    [InlineData("")]
    public async Task IssueNonce_ForAnUnknownTenant_IsNotFound(string tenantId)
    {
        var result = await _bed.IssueNonce.ExecuteAsync(tenantId, default);

        Assert.Equal(WalletErrors.NotFound, result.Error?.SpecCode);
    }

    [Fact]
    public async Task IssueNonce_ForADeletedTenant_IsNotFound()
    {
        await _bed.Tenants.DeleteAsync(TestBed.Admin, TestBed.TenantId, default);

        var result = await _bed.IssueNonce.ExecuteAsync(TestBed.TenantId, default);

        Assert.Equal(WalletErrors.NotFound, result.Error?.SpecCode);
    }

    [Fact]
    public async Task IssueNonce_ForATenantDeletedSecondsAfterItWasSeen_StillMintsWithinTheExistenceCacheTime()
    {
        // Documented: a nonce is useless without an access token of the tenant, so a recent positive answer is trusted.
        await _bed.IssueNonce.ExecuteAsync(TestBed.TenantId, default);
        await _bed.Tenants.DeleteAsync(TestBed.Admin, TestBed.TenantId, default);
        _bed.Clock.Advance(TimeSpan.FromSeconds(4));
        var cached = await _bed.IssueNonce.ExecuteAsync(TestBed.TenantId, default);
        _bed.Clock.Advance(TimeSpan.FromSeconds(1));

        var afterwards = await _bed.IssueNonce.ExecuteAsync(TestBed.TenantId, default);

        Assert.True(cached.IsSuccess);
        Assert.Equal(WalletErrors.NotFound, afterwards.Error?.SpecCode);
    }
}
