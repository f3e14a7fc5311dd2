using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Tokens;

/// <summary>The token endpoint: IssueToken's grant dispatch and the pre-authorized code grant behind it.</summary>
public sealed class IssueTokenTests
{
    private const string WrongPin = "000000";

    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    private DateTimeOffset Now => _bed.Clock.GetUtcNow();

    private Task<Result<TokenResponse, WalletError>> Token(TokenRequest request, string tenantId = TestBed.TenantId) =>
        _bed.IssueToken.ExecuteAsync(tenantId, request, default);

    /// <summary>Sends <paramref name="request"/> and asserts it is refused with <paramref name="error"/> and no event was appended.</summary>
    private async Task AssertRefusedAndNoEventAsync(string error, TokenRequest request, string tenantId = TestBed.TenantId)
    {
        var before = _bed.CommittedEventTypes();

        var result = await Token(request, tenantId);

        Assert.Equal(error, result.Error?.SpecCode);
        Assert.Equal(before, _bed.CommittedEventTypes());
    }

    private PreAuthorizedCode StoredCode(string code) => _bed.Db.Codes.Single(c => c.CodeHash.AsSpan().SequenceEqual(Secrets.Hash(code)));

    private Offer StoredOffer(CreatedOffer offer) => _bed.Db.Offers.Single(o => o.Id == offer.Offer.Id);

    private EventDetails.TokenRefused LastRefusal() => TestBed.Detail<EventDetails.TokenRefused>(_bed.Db.Events.Last(e => e.Type == EventTypes.TokenRefused));

    /// <summary>The request was refused with <paramref name="error"/>, and the last token.refused event gives <paramref name="reason"/>.</summary>
    private void AssertRefused(Result<TokenResponse, WalletError> result, string error, string reason)
    {
        Assert.Equal(error, result.Error?.SpecCode);
        Assert.Equal(new EventDetails.TokenRefused(reason), LastRefusal());
    }

    private EventDetails.TokenRefused[] Refusals() =>
        [.. _bed.Db.Events.Where(e => e.Type == EventTypes.TokenRefused).Select(TestBed.Detail<EventDetails.TokenRefused>)];

    // The grant type

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Token_WithoutGrantType_IsInvalidRequestAndWritesNothing(string? grantType)
    {
        var code = await _bed.ResolveCodeAsync(await _bed.OfferAsync());
        await AssertRefusedAndNoEventAsync(WalletErrors.InvalidRequest, new TokenRequest(grantType, code, null, null));

        Assert.Null(StoredCode(code).ConsumedAt);
    }

    [Theory]
    [InlineData("authorization_code")]
    [InlineData("client_credentials")]
    [InlineData("urn:ietf:params:oauth:grant-type:pre-authorized_code ")]
    public async Task Token_WithAnotherGrantType_IsUnsupportedGrantTypeAndWritesNothing(string grantType)
    {
        var code = await _bed.ResolveCodeAsync(await _bed.OfferAsync());
        await AssertRefusedAndNoEventAsync(WalletErrors.UnsupportedGrantType, new TokenRequest(grantType, code, null, null));

        Assert.Null(StoredCode(code).ConsumedAt);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Token_WithoutPreAuthorizedCode_IsInvalidRequest(string? code)
    {
        var result = await Token(new TokenRequest(CredentialOfferDocument.PreAuthorizedGrant, code, null, null));

        Assert.Equal(WalletErrors.InvalidRequest, result.Error?.SpecCode);
        Assert.Empty(_bed.Db.Events);
    }

    // Redeeming a code

    [Fact]
    public async Task Token_WithValidCode_OpensASessionWithAFiveMinuteToken()
    {
        var offer = await _bed.OfferAsync();
        var code = await _bed.ResolveCodeAsync(offer);

        var result = await Token(TestBed.PreAuthorized(code));

        var session = Assert.Single(_bed.Db.Sessions);
        var token = Assert.Single(_bed.Db.AccessTokens);
        Assert.Equal(300, result.Value.ExpiresIn);
        Assert.Null(result.Value.AuthorizationDetails);
        Assert.Equal(offer.Offer.Id, session.OfferId);
        Assert.Equal("employee", session.ConfigurationId);
        Assert.Equal(offer.Offer.ProfileUid, session.ProfileUid);
        Assert.Equal(offer.Offer.ProfileVersion, session.ProfileVersion);
        Assert.Null(session.CredentialIdentifier);
        Assert.Equal(Now, session.CreatedAt);
        Assert.Equal(Secrets.Hash(result.Value.AccessToken), token.TokenHash);
        Assert.Equal(session.Id, token.SessionId);
        Assert.Equal(Now + TimeSpan.FromMinutes(5), token.ExpiresAt);
    }

    [Fact]
    public async Task Token_WithValidCode_ConsumesTheCodeAndOneUse()
    {
        var offer = await _bed.OfferAsync(TestBed.Command(maxUses: 3));
        var code = await _bed.ResolveCodeAsync(offer);

        await Token(TestBed.PreAuthorized(code));

        Assert.Equal(Now, StoredCode(code).ConsumedAt);
        Assert.Equal(1, StoredOffer(offer).UseCount);
        Assert.Equal(OfferState.Active, StoredOffer(offer).StateAt(Now));
    }

    [Fact]
    public async Task Token_WithValidCode_AppendsTokenIssuedWithTheUseAndMaxUses()
    {
        var offer = await _bed.OfferAsync(TestBed.Command(maxUses: 3));
        await _bed.TokenAsync(offer);
        var code = await _bed.ResolveCodeAsync(offer);

        await Token(TestBed.PreAuthorized(code));

        var issued = _bed.Db.Events[^1];
        Assert.Equal(EventTypes.TokenIssued, issued.Type);
        Assert.Equal(new EventDetails.TokenIssued(2, 3, CredentialOfferDocument.PreAuthorizedGrant), TestBed.Detail<EventDetails.TokenIssued>(issued));
        Assert.Equal(offer.Offer.Id, issued.OfferId);
        Assert.Equal(_bed.Db.Sessions[^1].Id, issued.SessionId);
        Assert.Equal("employee", issued.ProfileId);
    }

    [Fact]
    public async Task Token_WithUsedCode_IsInvalidGrantRefusedAsCodeUsed()
    {
        var offer = await _bed.OfferAsync(TestBed.Command(maxUses: 2));
        var code = await _bed.ResolveCodeAsync(offer);
        await Token(TestBed.PreAuthorized(code));

        var result = await Token(TestBed.PreAuthorized(code));

        AssertRefused(result, WalletErrors.InvalidGrant, TokenRefusalReasons.CodeUsed);
        Assert.Equal(1, StoredOffer(offer).UseCount);
        Assert.Single(_bed.Db.Sessions);
    }

    [Fact]
    public async Task Token_WithExpiredCode_IsInvalidGrantRefusedAsCodeExpired()
    {
        var offer = await _bed.OfferAsync();
        var code = await _bed.ResolveCodeAsync(offer);
        _bed.Clock.Advance(TimeSpan.FromMinutes(5));

        var result = await Token(TestBed.PreAuthorized(code));

        AssertRefused(result, WalletErrors.InvalidGrant, TokenRefusalReasons.CodeExpired);
        Assert.Null(StoredCode(code).ConsumedAt);
        Assert.Equal(0, StoredOffer(offer).UseCount);
        Assert.Empty(_bed.Db.Sessions);
    }

    [Fact]
    public async Task Token_JustBeforeTheCodeExpires_IsIssued()
    {
        var code = await _bed.ResolveCodeAsync(await _bed.OfferAsync());
        _bed.Clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));

        var result = await Token(TestBed.PreAuthorized(code));

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public async Task Token_ForRevokedOffer_IsInvalidGrantRefusedAsOfferRevoked()
    {
        var offer = await _bed.OfferAsync();
        var code = await _bed.ResolveCodeAsync(offer);
        await _bed.Management.RevokeAsync(TestBed.AcmeKey, TestBed.TenantId, offer.Offer.Id, default);

        var result = await Token(TestBed.PreAuthorized(code));

        AssertRefused(result, WalletErrors.InvalidGrant, TokenRefusalReasons.OfferRevoked);
        Assert.Null(StoredCode(code).ConsumedAt);
        Assert.Empty(_bed.Db.Sessions);
    }

    [Fact]
    public async Task Token_ForLockedOffer_IsInvalidGrantRefusedAsOfferLocked()
    {
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);
        StoredOffer(offer).LockedAt = Now;

        var result = await Token(TestBed.PreAuthorized(code, TestBed.Pin));

        AssertRefused(result, WalletErrors.InvalidGrant, TokenRefusalReasons.OfferLocked);
        Assert.Null(StoredCode(code).ConsumedAt);
        Assert.Empty(_bed.Db.Sessions);
    }

    [Fact]
    public async Task Token_ForUsedUpOffer_IsInvalidGrantRefusedAsOfferUsedUp()
    {
        var offer = await _bed.OfferAsync();
        var first = await _bed.ResolveCodeAsync(offer);
        var second = await _bed.ResolveCodeAsync(offer);
        await Token(TestBed.PreAuthorized(first));

        var result = await Token(TestBed.PreAuthorized(second));

        AssertRefused(result, WalletErrors.InvalidGrant, TokenRefusalReasons.OfferUsedUp);
        Assert.Null(StoredCode(second).ConsumedAt);
        Assert.Equal(1, StoredOffer(offer).UseCount);
        Assert.Single(_bed.Db.Sessions);
    }

    [Fact]
    public async Task Token_ForExpiredOfferWithAnUnexpiredCode_IsInvalidGrantRefusedAsOfferExpired()
    {
        // Resolution never mints a code outliving its offer; a code stored so checks the offer's own expiry.
        var offer = await _bed.OfferAsync(TestBed.Command(lifetime: TimeSpan.FromHours(1)));
        const string code = "a-code-that-outlives-its-offer";
        _bed.Db.Codes.Add(new PreAuthorizedCode
        {
            CodeHash = Secrets.Hash(code), TenantId = TestBed.TenantId, OfferId = offer.Offer.Id, CreatedAt = Now, ExpiresAt = Now.AddHours(2),
        });
        _bed.Clock.Advance(TimeSpan.FromHours(1));

        var result = await Token(TestBed.PreAuthorized(code));

        AssertRefused(result, WalletErrors.InvalidGrant, TokenRefusalReasons.OfferExpired);
        Assert.Null(StoredCode(code).ConsumedAt);
    }

    [Fact]
    public async Task Token_WithUnknownCode_IsInvalidGrantAndWritesNothing()
    {
        await _bed.ResolveCodeAsync(await _bed.OfferAsync());
        await AssertRefusedAndNoEventAsync(WalletErrors.InvalidGrant, TestBed.PreAuthorized(Secrets.NewToken()));

        Assert.Empty(_bed.Db.Sessions);
    }

    [Fact]
    public async Task Token_WithCodeOverTheLengthLimit_IsInvalidGrantEvenWhenACodeHasItsHash()
    {
        var offer = await _bed.OfferAsync();
        var longCode = new string('c', 129);
        _bed.Db.Codes.Add(new PreAuthorizedCode
        {
            CodeHash = Secrets.Hash(longCode), TenantId = TestBed.TenantId, OfferId = offer.Offer.Id, CreatedAt = Now, ExpiresAt = Now.AddMinutes(5),
        });
        await AssertRefusedAndNoEventAsync(WalletErrors.InvalidGrant, TestBed.PreAuthorized(longCode));

        Assert.Null(StoredCode(longCode).ConsumedAt);
    }

    [Fact]
    public async Task Token_WithAnotherTenantsCode_IsInvalidGrantAndWritesNothing()
    {
        var code = await _bed.ResolveCodeAsync(await _bed.OfferAsync());
        await AssertRefusedAndNoEventAsync(WalletErrors.InvalidGrant, TestBed.PreAuthorized(code), TestBed.OtherTenantId);

        Assert.Null(StoredCode(code).ConsumedAt);
    }

    // tx_code

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Token_WithoutTxCodeForOfferWithPin_IsInvalidRequestAndKeepsTheCode(string? txCode)
    {
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);

        var result = await Token(TestBed.PreAuthorized(code, txCode));

        AssertRefused(result, WalletErrors.InvalidRequest, TokenRefusalReasons.TxCodeMissing);
        Assert.Null(StoredCode(code).ConsumedAt);
        Assert.Equal(0, StoredOffer(offer).PinFailedAttempts);
    }

    [Fact]
    public async Task Token_WithTxCodeForOfferWithoutPin_IsInvalidRequestAndKeepsTheCode()
    {
        var offer = await _bed.OfferAsync();
        var code = await _bed.ResolveCodeAsync(offer);

        var result = await Token(TestBed.PreAuthorized(code, TestBed.Pin));

        AssertRefused(result, WalletErrors.InvalidRequest, TokenRefusalReasons.TxCodeUnexpected);
        Assert.Null(StoredCode(code).ConsumedAt);
        Assert.Empty(_bed.Db.Sessions);
    }

    [Fact]
    public async Task Token_WithRightPin_IsIssued()
    {
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);

        var result = await Token(TestBed.PreAuthorized(code, TestBed.Pin));

        Assert.True(result.IsSuccess);
        Assert.Equal(0, StoredOffer(offer).PinFailedAttempts);
    }

    [Fact]
    public async Task Token_WithWrongPin_KeepsCodeAndCountsAttempt()
    {
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);

        var result = await Token(TestBed.PreAuthorized(code, WrongPin));

        Assert.Equal(WalletErrors.InvalidGrant, result.Error?.SpecCode);
        Assert.Equal(1, StoredOffer(offer).PinFailedAttempts);
        Assert.Null(StoredOffer(offer).LockedAt);
        Assert.Null(StoredCode(code).ConsumedAt);
        Assert.Equal(new EventDetails.TokenRefused(TokenRefusalReasons.WrongPin, 4), LastRefusal());
        Assert.Empty(_bed.Db.Sessions);
    }

    [Fact]
    public async Task Token_WithRightPinAfterAWrongOne_IsIssuedWithTheSameCode()
    {
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);
        await Token(TestBed.PreAuthorized(code, WrongPin));

        var result = await Token(TestBed.PreAuthorized(code, TestBed.Pin));

        Assert.True(result.IsSuccess);
        Assert.Equal(1, StoredOffer(offer).PinFailedAttempts);
    }

    [Fact]
    public async Task Token_WithWrongPins_CountsDownTheAttemptsLeft()
    {
        var code = await _bed.ResolveCodeAsync(await _bed.OfferAsync(TestBed.PinCommand()));

        for (var i = 0; i < 3; i++) await Token(TestBed.PreAuthorized(code, WrongPin));

        Assert.Equal(
            [new(TokenRefusalReasons.WrongPin, 4), new(TokenRefusalReasons.WrongPin, 3), new EventDetails.TokenRefused(TokenRefusalReasons.WrongPin, 2)],
            Refusals());
    }

    [Fact]
    public async Task Token_WrongPinReachingTheTenantLimit_LocksTheOffer()
    {
        _bed.Db.Tenants[0].PinAttemptLimit = 3;
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);
        await Token(TestBed.PreAuthorized(code, WrongPin));
        await Token(TestBed.PreAuthorized(code, WrongPin));

        var result = await Token(TestBed.PreAuthorized(code, WrongPin));

        Assert.Equal(WalletErrors.InvalidGrant, result.Error?.SpecCode);
        Assert.Equal(3, StoredOffer(offer).PinFailedAttempts);
        Assert.Equal(Now, StoredOffer(offer).LockedAt);
        Assert.Equal(OfferState.Locked, StoredOffer(offer).StateAt(Now));
        Assert.Equal([EventTypes.TokenRefused, EventTypes.OfferLocked], _bed.CommittedEventTypes()[^2..]);
        Assert.Equal(new EventDetails.TokenRefused(TokenRefusalReasons.WrongPin, 0), LastRefusal());
        Assert.Equal(new EventDetails.OfferLocked(3), TestBed.Detail<EventDetails.OfferLocked>(_bed.Db.Events[^1]));
    }

    [Fact]
    public async Task Token_WrongPinBelowTheTenantLimit_DoesNotLock()
    {
        _bed.Db.Tenants[0].PinAttemptLimit = 3;
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);

        await Token(TestBed.PreAuthorized(code, WrongPin));
        await Token(TestBed.PreAuthorized(code, WrongPin));

        Assert.Null(StoredOffer(offer).LockedAt);
        Assert.DoesNotContain(EventTypes.OfferLocked, _bed.CommittedEventTypes());
    }

    [Fact]
    public async Task Token_WithRightPinAfterTheOfferLocked_IsInvalidGrantRefusedAsOfferLocked()
    {
        _bed.Db.Tenants[0].PinAttemptLimit = 1;
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);
        await Token(TestBed.PreAuthorized(code, WrongPin));

        var result = await Token(TestBed.PreAuthorized(code, TestBed.Pin));

        AssertRefused(result, WalletErrors.InvalidGrant, TokenRefusalReasons.OfferLocked);
        Assert.Null(StoredCode(code).ConsumedAt);
        Assert.Equal(1, StoredOffer(offer).PinFailedAttempts);
        Assert.Empty(_bed.Db.Sessions);
    }

    [Fact]
    public async Task Token_WithWrongPinWhileAnotherRequestCountsFirst_RetriesAndCountsItOnce()
    {
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);
        // Another request's wrong PIN commits between this request's read and its count.
        _bed.Db.BeforeNextSave = () => StoredOffer(offer).PinFailedAttempts++;

        var result = await Token(TestBed.PreAuthorized(code, WrongPin));

        Assert.Equal(WalletErrors.InvalidGrant, result.Error?.SpecCode);
        Assert.Equal(2, StoredOffer(offer).PinFailedAttempts);
        Assert.Equal([new EventDetails.TokenRefused(TokenRefusalReasons.WrongPin, 3)], Refusals());
        Assert.Null(StoredCode(code).ConsumedAt);
    }

    [Fact]
    public async Task Token_WithWrongPinWhileAnotherRequestLocksTheOfferFirst_IsRefusedAsLockedWithoutCounting()
    {
        _bed.Db.Tenants[0].PinAttemptLimit = 2;
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        var code = await _bed.ResolveCodeAsync(offer);
        await Token(TestBed.PreAuthorized(code, WrongPin));
        _bed.Db.BeforeNextSave = () =>
        {
            StoredOffer(offer).PinFailedAttempts = 2;
            StoredOffer(offer).LockedAt = Now;
        };

        var result = await Token(TestBed.PreAuthorized(code, WrongPin));

        Assert.Equal(WalletErrors.InvalidGrant, result.Error?.SpecCode);
        Assert.Equal(2, StoredOffer(offer).PinFailedAttempts);
        Assert.Equal(new EventDetails.TokenRefused(TokenRefusalReasons.OfferLocked), LastRefusal());
        Assert.DoesNotContain(EventTypes.OfferLocked, _bed.CommittedEventTypes());
    }

    // authorization_details

    [Fact]
    public async Task Token_WithAuthorizationDetailsForTheOffersConfiguration_ReturnsItsCredentialIdentifier()
    {
        var code = await _bed.ResolveCodeAsync(await _bed.OfferAsync());

        var result = await Token(TestBed.PreAuthorized(code, authorizationDetails: TestBed.AuthorizationDetailsFor("employee")));

        var detail = Assert.Single(result.Value.AuthorizationDetails!)!;
        Assert.Equal(Oid4vci.AuthorizationDetailsType, detail["type"]!.GetValue<string>());
        Assert.Equal("employee", detail["credential_configuration_id"]!.GetValue<string>());
        Assert.Equal("employee", Assert.Single(detail["credential_identifiers"]!.AsArray())!.GetValue<string>());
        Assert.Equal("employee", Assert.Single(_bed.Db.Sessions).CredentialIdentifier);
    }

    [Fact]
    public async Task Token_WithAuthorizationDetailsForAnotherConfiguration_IsInvalidAuthorizationDetailsAndKeepsTheCode()
    {
        _bed.SeedProfile("badge");
        var code = await _bed.ResolveCodeAsync(await _bed.OfferAsync());

        var result = await Token(TestBed.PreAuthorized(code, authorizationDetails: TestBed.AuthorizationDetailsFor("badge")));

        AssertRefused(result, WalletErrors.InvalidAuthorizationDetails, TokenRefusalReasons.AuthorizationDetailsNotGranted);
        Assert.Null(StoredCode(code).ConsumedAt);
        Assert.Empty(_bed.Db.Sessions);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("""[{"type":"openid_credential"}]""")]
    [InlineData("""[{"type":"other","credential_configuration_id":"employee"}]""")]
    [InlineData("""[{"type":"openid_credential","credential_configuration_id":7}]""")]
    public async Task Token_WithMalformedAuthorizationDetails_IsInvalidAuthorizationDetailsAndWritesNothing(string authorizationDetails)
    {
        var code = await _bed.ResolveCodeAsync(await _bed.OfferAsync());
        await AssertRefusedAndNoEventAsync(WalletErrors.InvalidAuthorizationDetails, TestBed.PreAuthorized(code, authorizationDetails: authorizationDetails));

        Assert.Null(StoredCode(code).ConsumedAt);
    }

    // Races the database decides

    [Fact]
    public async Task Token_LosingTheRedemptionRaceForTheCode_IsInvalidGrantRefusedAsRedeemedConcurrently()
    {
        var offer = await _bed.OfferAsync(TestBed.Command(maxUses: 2));
        var code = await _bed.ResolveCodeAsync(offer);
        // Another request redeems the same code between this request's read and its redemption.
        _bed.Db.BeforeNextSave = () =>
        {
            StoredCode(code).ConsumedAt = Now;
            StoredOffer(offer).UseCount++;
        };

        var result = await Token(TestBed.PreAuthorized(code));

        AssertRefused(result, WalletErrors.InvalidGrant, TokenRefusalReasons.RedeemedConcurrently);
        Assert.Equal(1, StoredOffer(offer).UseCount);
        Assert.Empty(_bed.Db.Sessions);
        Assert.Empty(_bed.Db.AccessTokens);
        Assert.DoesNotContain(EventTypes.TokenIssued, _bed.CommittedEventTypes());
    }

    [Fact]
    public async Task Token_WhenAnotherCodeTakesTheOffersLastUseFirst_IsRefusedAsUsedUpAndLeavesThisCodeUnused()
    {
        var offer = await _bed.OfferAsync();
        var code = await _bed.ResolveCodeAsync(offer);
        _bed.Db.BeforeNextSave = () => StoredOffer(offer).UseCount++;

        var result = await Token(TestBed.PreAuthorized(code));

        // Answered as a request arriving now would be: the offer is used up.
        AssertRefused(result, WalletErrors.InvalidGrant, TokenRefusalReasons.OfferUsedUp);
        Assert.Null(StoredCode(code).ConsumedAt);
        Assert.Empty(_bed.Db.Sessions);
    }
}
