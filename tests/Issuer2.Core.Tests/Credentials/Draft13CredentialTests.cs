using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Events;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Credentials;

/// <summary>
/// Draft-13 credential requests through the same use case as 1.0's: format and vct name the session's configuration,
/// the answer carries the next c_nonce, refusals come in draft 13's codes (invalid_proof with a fresh c_nonce), and
/// the typ follows the identifier the wallet named.
/// </summary>
public sealed class Draft13CredentialTests : IDisposable
{
    private readonly TestBed _bed = TestBed.WithEmployeeProfile();
    private readonly HolderKey _holder = new();

    public Draft13CredentialTests()
    {
        _bed.SeedProfile("badge");
    }

    public void Dispose() => _holder.Dispose();

    private static string Vct(string profileId = "employee") => $"https://credentials.example/{profileId}";

    private CredentialRequest Request(string? format = CredentialFormats.LegacySdJwtVc, string? vct = null, string? nonce = null, string? identifier = null) =>
        new(null, identifier, [_holder.Proof(TestBed.CredentialIssuer, nonce ?? _bed.Nonces.Mint(TestBed.TenantId), _bed.Clock.GetUtcNow())])
        {
            Version = Oid4vciVersion.Draft13,
            Type = format is null ? null : new RequestedCredentialType(format, vct ?? Vct()),
        };

    private async Task<Result<CredentialResponse, WalletError>> IssueAsync(CredentialRequest request) =>
        await _bed.IssueCredential.ExecuteAsync(await _bed.SessionAsync(), request, default);

    private EventDetails.CredentialRefused LastRefusal() =>
        TestBed.Detail<EventDetails.CredentialRefused>(_bed.Db.Events.Last(e => e.Type == EventTypes.CredentialRefused));

    [Theory]
    [InlineData(CredentialFormats.LegacySdJwtVc, "vc+sd-jwt")]
    [InlineData(CredentialFormats.SdJwtVc, "dc+sd-jwt")]
    public async Task FormatAndVct_NameTheSessionsConfiguration_TypFollowsTheNamedIdentifier(string format, string typ)
    {
        var result = await IssueAsync(Request(format));

        Assert.True(result.IsSuccess, result.IsSuccess ? "" : result.Error.ToString());
        Assert.Equal(typ, new SdJwtReader(result.Value.Credential).Header["typ"]!.GetValue<string>());
        // The next c_nonce travels in the answer, one the nonce service opens.
        Assert.NotNull(_bed.Nonces.Verify(TestBed.TenantId, result.Value.CNonce!.Value));
        var issued = TestBed.Detail<EventDetails.CredentialIssued>(_bed.Db.Events.Single(e => e.Type == EventTypes.CredentialIssued));
        Assert.Equal(Oid4vciVersion.Draft13, issued.Version);
        Assert.Equal(CredentialFormats.SdJwtVc, issued.Format);
        Assert.Equal(CredentialFormats.SdJwtVc, Assert.Single(_bed.Db.IssuedCredentials).Format);
    }

    [Fact]
    public async Task V1Request_GetsNoCNonce_AndDcSdJwt()
    {
        var session = await _bed.SessionAsync();
        var result = await _bed.IssueCredential.ExecuteAsync(session, _bed.CredentialRequestFor(_holder), default);

        Assert.Null(result.Value.CNonce);
        Assert.Equal("dc+sd-jwt", new SdJwtReader(result.Value.Credential).Header["typ"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("mso_mdoc", "https://credentials.example/employee", WalletErrors.UnsupportedCredentialFormat)]
    [InlineData("vc+sd-jwt", "https://nobody.example/type", WalletErrors.UnsupportedCredentialType)]
    [InlineData("vc+sd-jwt", "https://credentials.example/badge", WalletErrors.InsufficientScope)]
    [InlineData("vc+sd-jwt", "", WalletErrors.InvalidCredentialRequest)]
    public async Task FormatOrVctNotGranted_IsRefusedInDraft13Codes_AndNothingIssued(string format, string vct, string error)
    {
        var result = await IssueAsync(Request(format, vct));

        Assert.Equal(error, result.Error?.SpecCode);
        Assert.Null(result.Error!.CNonce);
        Assert.Equal(new EventDetails.CredentialRefused(error, Oid4vciVersion.Draft13), LastRefusal());
        Assert.Empty(_bed.Db.IssuedCredentials);
    }

    [Fact]
    public async Task UsedNonce_IsInvalidProofWithAFreshCNonce_NotInvalidNonce()
    {
        var nonce = _bed.Nonces.Mint(TestBed.TenantId);
        Assert.True((await IssueAsync(Request(nonce: nonce))).IsSuccess);

        var result = await IssueAsync(Request(nonce: nonce));

        Assert.Equal(WalletErrors.InvalidProof, result.Error?.SpecCode);
        Assert.NotNull(_bed.Nonces.Verify(TestBed.TenantId, result.Error!.CNonce!.Value));
        Assert.Equal(300, result.Error.CNonce.ExpiresIn);
        Assert.Equal(new EventDetails.CredentialRefused(WalletErrors.InvalidProof, Oid4vciVersion.Draft13), LastRefusal());
    }

    [Fact]
    public async Task CredentialIdentifierWithoutIdentifiersOnTheToken_IsInvalidCredentialRequest()
    {
        var result = await IssueAsync(Request(format: null, identifier: "employee"));

        Assert.Equal(WalletErrors.InvalidCredentialRequest, result.Error?.SpecCode);
    }

    [Fact]
    public async Task TokenResponse_CarriesACNonceOfTheNonceEndpointsKind_AndWritesNothingForIt()
    {
        var offer = await _bed.OfferAsync();
        var token = await _bed.TokenAsync(offer);

        Assert.NotNull(token.CNonce);
        Assert.Equal(300, token.CNonce.ExpiresIn);
        Assert.NotNull(_bed.Nonces.Verify(TestBed.TenantId, token.CNonce.Value));
        Assert.Empty(_bed.Db.ConsumedNonces);
        // A draft-13 wallet proves with it.
        var result = await _bed.IssueCredential.ExecuteAsync(await _bed.AuthorizeAsync(token), Request(nonce: token.CNonce.Value), default);
        Assert.True(result.IsSuccess);
    }

    [Fact]
    public void Translation_KeepsSharedCodes_AndMapsOnlyWhatDraft13NamesOtherwise()
    {
        var fresh = new Issuer2.Core.Nonces.FreshCNonce("n", 300);
        Assert.Equal(WalletErrorCode.InvalidProof, Draft13Errors.Of(WalletError.InvalidNonce("x"), () => fresh).Code);
        Assert.Same(fresh, Draft13Errors.Of(WalletError.InvalidProof("x"), () => fresh).CNonce);
        Assert.Equal(WalletErrorCode.InsufficientScope, Draft13Errors.Of(WalletError.Denied("x"), () => fresh).Code);
        Assert.Equal(WalletErrorCode.InvalidCredentialRequest,
            Draft13Errors.Of(new WalletError(WalletErrorCode.UnknownCredentialIdentifier, "x"), () => fresh).Code);
        var shared = new WalletError(WalletErrorCode.InvalidEncryptionParameters, "x");
        Assert.Same(shared, Draft13Errors.Of(shared, () => throw new InvalidOperationException("no nonce for this code")));
    }
}
