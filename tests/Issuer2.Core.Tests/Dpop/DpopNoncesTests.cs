using Issuer2.Core.Dpop;
using Issuer2.Core.Security;
using Issuer2.Core.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace Issuer2.Core.Tests.Dpop;

public sealed class DpopNoncesTests
{
    private readonly FakeTimeProvider _clock = new(TestBed.Start);
    private readonly DpopNonces _nonces;

    public DpopNoncesTests()
    {
        _nonces = new DpopNonces(TestBed.NonceKeysOf(1, _clock), _clock);
    }

    [Fact]
    public void IsValid_JustBeforeTheLifetimeEnds_IsTrue_AndAtItsEnd_False()
    {
        var nonce = _nonces.Mint(TestBed.TenantId);

        _clock.Advance(DpopNonces.Lifetime - TimeSpan.FromTicks(10));
        var before = _nonces.IsValid(TestBed.TenantId, nonce);
        _clock.Advance(TimeSpan.FromTicks(10));
        var after = _nonces.IsValid(TestBed.TenantId, nonce);

        Assert.True(before);
        Assert.False(after);
    }

    [Fact]
    public void Lifetime_IsFiveMinutes()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), DpopNonces.Lifetime);
    }

    [Fact]
    public void Mint_Twice_GivesTwoDifferentNonces()
    {
        Assert.NotEqual(_nonces.Mint(TestBed.TenantId), _nonces.Mint(TestBed.TenantId));
    }

    [Fact]
    public void IsValid_NonceOfAnotherHostWithTheSameKek_IsTrue()
    {
        var otherHost = new DpopNonces(TestBed.NonceKeysOf(1, _clock), _clock);

        Assert.True(_nonces.IsValid(TestBed.TenantId, otherHost.Mint(TestBed.TenantId)));
    }

    [Fact]
    public void IsValid_TheSameNonceTwice_IsTrueBothTimes()
    {
        var nonce = _nonces.Mint(TestBed.TenantId);

        Assert.True(_nonces.IsValid(TestBed.TenantId, nonce));
        Assert.True(_nonces.IsValid(TestBed.TenantId, nonce));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64url!")]
    public void IsValid_SomethingThatIsNoNonce_IsFalse(string? nonce)
    {
        Assert.False(_nonces.IsValid(TestBed.TenantId, nonce));
    }

    [Fact]
    public void IsValid_NonceWithWhitespace_IsFalse()
    {
        var nonce = _nonces.Mint(TestBed.TenantId);

        Assert.False(_nonces.IsValid(TestBed.TenantId, nonce[..10] + " " + nonce[10..]));
    }
}
