using System.Text.Json;
using Issuer2.Core.Authorization;
using Issuer2.Core.Claims;
using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Tests.Shared;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;
using AuthorizationRow = Issuer2.Core.Authorization.Authorization;

namespace Issuer2.Core.Tests.Authorization;

/// <summary>The authorization_code grant on the in-memory stores: what must match, what is consumed, and what a reuse revokes.</summary>
public sealed class RedeemAuthorizationCodeTests
{
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    private const string Redirect = "https://wallet.example/cb";
    private readonly TestBed _bed;

    public RedeemAuthorizationCodeTests()
    {
        _bed = TestBed.WithEmployeeProfile(
            claims: [TestBed.Claim("given_name"), TestBed.Claim("family_name")],
            defaults: [new ClaimValue(["family_name"], JsonDocument.Parse("\"Default\"").RootElement.Clone())]);
        _bed.AllowAuthorized();
    }

    /// <summary>A request at CodeIssued, as the consent page leaves it, with the sign-in's given_name sealed on it.</summary>
    private async Task<(string Code, AuthorizationRow Row, Offer Offer)> CodeIssuedAsync(bool byDetails = false)
    {
        var created = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include, DeliveryMode.ByValue, maxUses: 2));
        var offer = _bed.Db.Offers.Single(o => o.Id == created.Value.Offer.Id);
        var code = Secrets.NewToken();
        var now = _bed.Clock.GetUtcNow();
        var row = new AuthorizationRow
        {
            Id = Issuer2.Core.Common.Ids.New(), TenantId = TestBed.TenantId, Stage = AuthorizationStage.CodeIssued, ClientId = "wallet", RedirectUri = Redirect,
            CodeChallenge = Challenge, ConfigurationId = "employee", ProfileUid = offer.ProfileUid, ProfileVersion = offer.ProfileVersion,
            Scope = byDetails ? null : "employee", UsesAuthorizationDetails = byDetails, OfferId = offer.Id, CreatedAt = now, ExpiresAt = now + AuthorizationLifetimes.Flow,
            CodeHash = Secrets.Hash(code), CodeExpiresAt = now + AuthorizationLifetimes.Code,
        };
        row.EncryptedClaims = ClaimsAtRest.Seal(_bed.Protector, [new ClaimValue(["given_name"], JsonDocument.Parse("\"Signed-In\"").RootElement.Clone())],
            ClaimsAtRest.ForAuthorization(row.TenantId, row.Id));
        await _bed.Authorizations.AddAsync(row, AuthorizationEvents.Create(row, EventTypes.AuthorizationRequested, now), default);
        return (code, row, offer);
    }

    private Task<Issuer2.Core.Common.Result<TokenResponse, WalletError>> RedeemAsync(string code, string verifier = Verifier, string redirect = Redirect, string clientId = "wallet", string? details = null) =>
        _bed.IssueToken.ExecuteAsync(TestBed.TenantId,
            new TokenRequest(AuthorizationGrant.Type, null, null, details, clientId, Code: code, CodeVerifier: verifier, RedirectUri: redirect), default);

    [Fact]
    public async Task Redeemed_OneUseCounted_SessionOfTheOffer_CredentialCarriesTheSignInClaimOverTheDefaults()
    {
        var (code, _, offer) = await CodeIssuedAsync();

        var token = await RedeemAsync(code);

        Assert.True(token.IsSuccess, token.Error?.ToString());
        Assert.Equal("employee", token.Value.Scope);
        Assert.Null(token.Value.AuthorizationDetails);
        Assert.Equal(1, offer.UseCount);
        var session = await _bed.AuthorizeAsync(token.Value);
        Assert.Equal(offer.Id, session.Access.Session.OfferId);
        using var holder = new HolderKey();
        var credential = await _bed.CredentialAsync(session, holder);
        var decoded = Decoded(credential.Credential);
        Assert.Contains("\"Signed-In\"", decoded, StringComparison.Ordinal);
        Assert.Contains("\"Default\"", decoded, StringComparison.Ordinal);
        Assert.Null(_bed.Db.Sessions.Single().EncryptedClaims);
    }

    /// <summary>The issuer JWT's payload and every disclosure of an SD-JWT, decoded to text.</summary>
    private static string Decoded(string sdJwt)
    {
        var parts = sdJwt.Split('~', StringSplitOptions.RemoveEmptyEntries);
        var texts = new List<string> { System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(parts[0].Split('.')[1])) };
        texts.AddRange(parts.Skip(1).Select(d => System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(d))));
        return string.Join('\n', texts);
    }

    [Theory]
    [InlineData("verifier")]
    [InlineData("redirect")]
    [InlineData("client")]
    public async Task Mismatch_InvalidGrant_CodeNotConsumed(string what)
    {
        var (code, _, offer) = await CodeIssuedAsync();

        var refused = what switch
        {
            "verifier" => await RedeemAsync(code, verifier: new string('a', 43)),
            "redirect" => await RedeemAsync(code, redirect: "https://wallet.example/other"),
            _ => await RedeemAsync(code, clientId: "other"),
        };

        Assert.Equal(WalletErrorCode.InvalidGrant, refused.Error?.Code);
        Assert.Equal(0, offer.UseCount);
        Assert.True((await RedeemAsync(code)).IsSuccess);
    }

    [Fact]
    public async Task Reused_InvalidGrant_AndTheFirstTokenIsRevoked()
    {
        var (code, _, _) = await CodeIssuedAsync();
        var first = await RedeemAsync(code);

        var again = await RedeemAsync(code);

        Assert.Equal(WalletErrorCode.InvalidGrant, again.Error?.Code);
        var access = await _bed.AuthorizeAccessToken.ExecuteAsync(TestBed.TenantId, TestBed.Bearer(first.Value.AccessToken), default);
        Assert.Equal(WalletErrorCode.InvalidToken, access.Error?.Code);
    }

    [Fact]
    public async Task Expired_InvalidGrant()
    {
        var (code, _, offer) = await CodeIssuedAsync();
        _bed.Clock.Advance(AuthorizationLifetimes.Code + TimeSpan.FromSeconds(1));

        var late = await RedeemAsync(code);

        Assert.Equal(WalletErrorCode.InvalidGrant, late.Error?.Code);
        Assert.Equal(0, offer.UseCount);
    }

    [Fact]
    public async Task AuthorizationDetails_InThePushedRequestOrTheTokenRequest_GiveCredentialIdentifiers_OnlyForTheGrantedConfiguration()
    {
        var (pushedWithDetails, _, _) = await CodeIssuedAsync(byDetails: true);
        var byPar = await RedeemAsync(pushedWithDetails);
        Assert.Equal("employee", (string?)byPar.Value.AuthorizationDetails![0]!["credential_identifiers"]![0]);

        var (scopeOnly, _, _) = await CodeIssuedAsync();
        var other = await RedeemAsync(scopeOnly, details: TestBed.AuthorizationDetailsFor("badge"));
        Assert.Equal(WalletErrorCode.InvalidAuthorizationDetails, other.Error?.Code);
        var same = await RedeemAsync(scopeOnly, details: TestBed.AuthorizationDetailsFor("employee"));
        Assert.NotNull(same.Value.AuthorizationDetails);
    }

    [Fact]
    public async Task MissingParameters_InvalidRequest_BadResource_InvalidTarget()
    {
        var (code, _, _) = await CodeIssuedAsync();

        Assert.Equal(WalletErrorCode.InvalidRequest, (await RedeemAsync(code, verifier: "")).Error?.Code);
        Assert.Equal(WalletErrorCode.InvalidRequest, (await RedeemAsync(code, redirect: "")).Error?.Code);
        Assert.Equal(WalletErrorCode.InvalidRequest, (await RedeemAsync(code, clientId: "")).Error?.Code);
        var target = await _bed.IssueToken.ExecuteAsync(TestBed.TenantId, new TokenRequest(AuthorizationGrant.Type, null, null, null, "wallet",
            Code: code, CodeVerifier: Verifier, RedirectUri: Redirect, Resource: "https://elsewhere.example"), default);
        Assert.Equal(WalletErrorCode.InvalidTarget, target.Error?.Code);
    }
}
