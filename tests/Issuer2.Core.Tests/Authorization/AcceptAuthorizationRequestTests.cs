using System.Text.Json.Nodes;
using Issuer2.Core.Authorization;
using Issuer2.Core.Offers;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Authorization;

/// <summary>The one validator of authorization requests, pushed or direct, on the in-memory stores.</summary>
public sealed class AcceptAuthorizationRequestTests
{
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    private readonly TestBed _bed;

    public AcceptAuthorizationRequestTests()
    {
        _bed = TestBed.WithEmployeeProfile();
        _bed.AllowAuthorized();
    }

    private static AuthorizationParameters Request(
        string? clientId = "wallet", string? responseType = "code", string? redirectUri = "https://wallet.example/cb", string? challenge = Challenge,
        string? method = "S256", string? scope = "employee", string? details = null, string? issuerState = null, string? state = "s1",
        string? resource = null, string? requestUri = null) =>
        new(clientId, responseType, redirectUri, challenge, method, scope, details, issuerState, state, resource, requestUri);

    private async Task<(AcceptedAuthorization? Accepted, AuthorizationRefusal? Refusal)> AcceptAsync(AuthorizationParameters p, bool pushed = true)
    {
        var snapshot = (await _bed.Directory.FindAsync(TestBed.TenantId, default))!;
        var result = await new AcceptAuthorizationRequest(_bed.Authorizations, _bed.Clock).ExecuteAsync(snapshot, p, pushed, default);
        return result.IsSuccess ? (result.Value, null) : (null, result.Error);
    }

    private async Task<string> IssuerStateOfAsync(IssuerStateMode mode = IssuerStateMode.Include)
    {
        var created = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(mode, DeliveryMode.ByValue, maxUses: 2));
        var json = Uri.UnescapeDataString(created.Value.OfferUrl[(created.Value.OfferUrl.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        return (string)JsonNode.Parse(json)!["grants"]!["authorization_code"]!["issuer_state"]!;
    }

    public static TheoryData<string, AuthorizationParameters, WalletErrorCode, bool> Refusals => new()
    {
        { "no client_id", Request(clientId: null), WalletErrorCode.InvalidRequest, false },
        { "no redirect_uri", Request(redirectUri: null), WalletErrorCode.InvalidRequest, false },
        { "http redirect_uri", Request(redirectUri: "http://wallet.example/cb"), WalletErrorCode.InvalidRequest, false },
        { "state too long", Request(state: new string('s', 1025)), WalletErrorCode.InvalidRequest, false },
        { "response_type token", Request(responseType: "token"), WalletErrorCode.UnsupportedResponseType, true },
        { "no challenge", Request(challenge: null), WalletErrorCode.InvalidRequest, true },
        { "plain", Request(method: "plain"), WalletErrorCode.InvalidRequest, true },
        { "short challenge", Request(challenge: "abc"), WalletErrorCode.InvalidRequest, true },
        { "other resource", Request(resource: "https://elsewhere.example"), WalletErrorCode.InvalidTarget, true },
        { "unknown scope", Request(scope: "nothing"), WalletErrorCode.InvalidScope, true },
        { "nothing asked", Request(scope: null), WalletErrorCode.InvalidRequest, true },
        { "details unknown configuration", Request(scope: null, details: "[{\"type\":\"openid_credential\",\"credential_configuration_id\":\"x\"}]"), WalletErrorCode.InvalidAuthorizationDetails, true },
        { "details malformed", Request(scope: null, details: "{"), WalletErrorCode.InvalidAuthorizationDetails, true },
        { "unknown issuer_state", Request(issuerState: "nope"), WalletErrorCode.InvalidRequest, true },
        { "no open door", Request(), WalletErrorCode.InvalidScope, true },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Refused_WithTheSpecCode_RedirectableOnlyOnceClientAndRedirectCheckedOut(string why, AuthorizationParameters p, WalletErrorCode code, bool redirectable)
    {
        var (accepted, refusal) = await AcceptAsync(p);

        Assert.True(accepted is null, why);
        Assert.Equal(code, refusal!.Error.Code);
        Assert.Equal(redirectable, refusal.Target is not null);
    }

    [Fact]
    public async Task IssuerState_TiesTheRequestToItsOffer_AndItsProfileVersion()
    {
        var state = await IssuerStateOfAsync();
        var offer = _bed.Db.Offers.Single();

        var (accepted, refusal) = await AcceptAsync(Request(issuerState: state));

        Assert.Null(refusal);
        Assert.Equal(offer.Id, accepted!.Authorization.OfferId);
        Assert.Equal((offer.ProfileUid, offer.ProfileVersion), (accepted.Authorization.ProfileUid, accepted.Authorization.ProfileVersion));
        Assert.Equal("employee", accepted.Authorization.Scope);
        Assert.False(accepted.Authorization.UsesAuthorizationDetails);
    }

    [Fact]
    public async Task IssuerState_OfARevokedOrExpiredOffer_IsInvalidRequest()
    {
        var state = await IssuerStateOfAsync();
        _bed.Db.Offers.Single().RevokedAt = _bed.Clock.GetUtcNow();

        var (_, refusal) = await AcceptAsync(Request(issuerState: state));

        Assert.Equal(WalletErrorCode.InvalidRequest, refusal!.Error.Code);
    }

    [Fact]
    public async Task WalletInitiated_AcceptedWhileAnOmitOfferIsActive_ClosedByRequireIssuerStateOrExpiry()
    {
        await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit, lifetime: TimeSpan.FromHours(1)));

        var (open, _) = await AcceptAsync(Request());
        Assert.NotNull(open);
        Assert.Null(open.Authorization.OfferId);

        _bed.Clock.Advance(TimeSpan.FromHours(2));
        var (_, closed) = await AcceptAsync(Request());
        Assert.Equal(WalletErrorCode.InvalidScope, closed!.Error.Code);
    }

    [Fact]
    public async Task DetailsWinOverTheSameScope_TwoConfigurationsAreRefused()
    {
        _bed.SeedProfile("badge");
        await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit));
        await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit, profileId: "badge"));
        var details = "[{\"type\":\"openid_credential\",\"credential_configuration_id\":\"employee\"}]";

        var (same, _) = await AcceptAsync(Request(scope: "employee unknown-extra", details: details));
        Assert.True(same!.Authorization.UsesAuthorizationDetails);
        Assert.Equal("employee", same.Authorization.ConfigurationId);

        var (_, two) = await AcceptAsync(Request(scope: "employee badge"));
        Assert.Equal(WalletErrorCode.InvalidScope, two!.Error.Code);
        var (_, mixed) = await AcceptAsync(Request(scope: "badge", details: details));
        Assert.Equal(WalletErrorCode.InvalidRequest, mixed!.Error.Code);
    }

    [Fact]
    public async Task TenantWithoutTheFlow_UnsupportedResponseType_ANestedRequestUriIsRefused()
    {
        var bed = TestBed.WithEmployeeProfile();
        var snapshot = (await bed.Directory.FindAsync(TestBed.TenantId, default))!;
        var off = await new AcceptAuthorizationRequest(bed.Authorizations, bed.Clock).ExecuteAsync(snapshot, Request(), pushed: true, default);
        Assert.Equal(WalletErrorCode.UnsupportedResponseType, off.Error!.Error.Code);

        var (_, nested) = await AcceptAsync(Request(requestUri: "urn:ietf:params:oauth:request_uri:x"));
        Assert.Equal(WalletErrorCode.InvalidRequest, nested!.Error.Code);
        Assert.Null(nested.Target);
    }
}
