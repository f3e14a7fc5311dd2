using Issuer2.Core.Common;
using Issuer2.Core.Security;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Sessions;

public sealed class AuthorizeAccessTokenTests
{
    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    private Task<Result<AuthorizedSession, WalletError>> Authorize(string? accessToken, string tenantId = TestBed.TenantId) =>
        _bed.AuthorizeAccessToken.ExecuteAsync(tenantId, TestBed.Bearer(accessToken), default);

    /// <summary>Stores a live access token of the first session whose plain form is <paramref name="plain"/>, which no grant would mint.</summary>
    private void SeedTokenFor(string plain) => _bed.Db.AccessTokens.Add(new AccessToken
    {
        TokenHash = Secrets.Hash(plain), TenantId = TestBed.TenantId, SessionId = _bed.Db.Sessions[0].Id, ExpiresAt = _bed.Clock.GetUtcNow().AddMinutes(5),
    });

    [Fact]
    public async Task Authorize_ValidToken_OpensItsSessionWithTheTenant()
    {
        var offer = await _bed.OfferAsync();
        var token = await _bed.TokenAsync(offer);

        var result = await Authorize(token.AccessToken);

        var access = result.Value.Access;
        Assert.Equal(Assert.Single(_bed.Db.Sessions).Id, access.Session.Id);
        Assert.Equal(offer.Offer.Id, access.Offer!.Id);
        Assert.Equal(_bed.Clock.GetUtcNow() + TimeSpan.FromMinutes(5), access.TokenExpiresAt);
        Assert.False(access.AlreadyIssued);
        Assert.Equal(TestBed.TenantId, result.Value.Tenant.Tenant.Id);
        Assert.True(result.Value.Tenant.Profiles.ContainsKey("employee"));
    }

    [Fact]
    public async Task Authorize_JustBeforeTheTokenExpires_OpensTheSession()
    {
        var token = await _bed.TokenAsync(await _bed.OfferAsync());
        _bed.Clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));

        var result = await Authorize(token.AccessToken);

        Assert.True(result.IsSuccess);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Authorize_WithoutToken_IsInvalidTokenEvenWhenATokenHasTheEmptyHash(string? accessToken)
    {
        await _bed.TokenAsync(await _bed.OfferAsync());
        SeedTokenFor("");

        var result = await Authorize(accessToken);

        Assert.Equal(WalletErrors.InvalidToken, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Authorize_UnknownToken_IsInvalidToken()
    {
        await _bed.TokenAsync(await _bed.OfferAsync());

        var result = await Authorize(Secrets.NewToken());

        Assert.Equal(WalletErrors.InvalidToken, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Authorize_TokenOverTheLengthLimit_IsInvalidTokenEvenWhenATokenHasItsHash()
    {
        await _bed.TokenAsync(await _bed.OfferAsync());
        var longToken = new string('a', 129);
        SeedTokenFor(longToken);

        var result = await Authorize(longToken);

        Assert.Equal(WalletErrors.InvalidToken, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Authorize_ExpiredToken_IsInvalidToken()
    {
        var token = await _bed.TokenAsync(await _bed.OfferAsync());
        _bed.Clock.Advance(TimeSpan.FromMinutes(5));

        var result = await Authorize(token.AccessToken);

        Assert.Equal(WalletErrors.InvalidToken, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Authorize_TokenOfARevokedOffer_IsInvalidToken()
    {
        var offer = await _bed.OfferAsync();
        var token = await _bed.TokenAsync(offer);
        await _bed.Management.RevokeAsync(TestBed.AcmeKey, TestBed.TenantId, offer.Offer.Id, default);

        var result = await Authorize(token.AccessToken);

        Assert.Equal(WalletErrors.InvalidToken, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Authorize_TokenOfADeletedTenant_IsInvalidToken()
    {
        var token = await _bed.TokenAsync(await _bed.OfferAsync());
        await _bed.AuthorizeAsync(token);
        await _bed.Tenants.DeleteAsync(TestBed.Admin, TestBed.TenantId, default);

        var result = await Authorize(token.AccessToken);

        Assert.Equal(WalletErrors.InvalidToken, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Authorize_TokenAtAnotherTenantsUrl_IsInvalidToken()
    {
        var token = await _bed.TokenAsync(await _bed.OfferAsync());

        var result = await Authorize(token.AccessToken, TestBed.OtherTenantId);

        Assert.Equal(WalletErrors.InvalidToken, result.Error?.SpecCode);
    }

    [Fact]
    public async Task Authorize_TokenOfAnExpiredOffer_StillOpensTheSession()
    {
        // The offer ending ends its codes, not the sessions it already opened: only revocation takes those back.
        var offer = await _bed.OfferAsync(TestBed.Command(lifetime: TimeSpan.FromMinutes(3)));
        var token = await _bed.TokenAsync(offer);
        _bed.Clock.Advance(TimeSpan.FromMinutes(4));

        var result = await Authorize(token.AccessToken);

        Assert.True(result.IsSuccess);
    }
}
