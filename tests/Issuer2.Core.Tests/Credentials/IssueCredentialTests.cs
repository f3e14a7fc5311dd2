using System.Text.Json.Nodes;
using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Events;
using Issuer2.Core.Nonces;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Credentials;

/// <summary>
/// The credential endpoint with real ES256 key proofs and the SD-JWT VC it issues, checked as a verifier checks
/// it: the issuer signature against the tenant's published key, the disclosures against their digests.
/// </summary>
public sealed class IssueCredentialTests : IDisposable
{
    private static readonly ClaimValue[] Defaults =
    [
        new(["given_name"], TestBed.Json("\"Erika\"")),
        new(["family_name"], TestBed.Json("\"Mustermann\"")),
        new(["department"], TestBed.Json("\"R&D\"")),
        new(["address", "locality"], TestBed.Json("\"Berlin\"")),
    ];

    private readonly TestBed _bed = TestBed.WithEmployeeProfile(
        [
            TestBed.Claim("given_name"),
            TestBed.Claim("family_name"),
            TestBed.Claim("department", selectivelyDisclosable: false),
            TestBed.Claim("address.locality"),
            TestBed.Claim("nickname"),
        ],
        Defaults);

    private readonly HolderKey _holder = new();

    public IssueCredentialTests()
    {
        _bed.SeedProfile("badge");
    }

    public void Dispose() => _holder.Dispose();

    private DateTimeOffset Now => _bed.Clock.GetUtcNow();

    private static CreateOfferCommand OfferForMax(int maxUses = 0) =>
        TestBed.Command(maxUses: maxUses, overrides: [new ClaimValue(["given_name"], TestBed.Json("\"Max\""))]);

    private Task<Result<CredentialResponse, WalletError>> Issue(AuthorizedSession session, CredentialRequest request) =>
        _bed.IssueCredential.ExecuteAsync(session, request, default);

    private string Proof(string? nonce = null) => _holder.Proof(TestBed.CredentialIssuer, nonce ?? _bed.Nonces.Mint(TestBed.TenantId), Now);

    private IssuerEvent LastRefusalEvent() => _bed.Db.Events.Last(e => e.Type == EventTypes.CredentialRefused);

    private EventDetails.CredentialRefused LastRefusal() => TestBed.Detail<EventDetails.CredentialRefused>(LastRefusalEvent());

    /// <summary>The request was refused with <paramref name="error"/>, and the last credential.refused event says so.</summary>
    private void AssertRefused(Result<CredentialResponse, WalletError> result, string error)
    {
        Assert.Equal(error, result.Error?.SpecCode);
        Assert.Equal(new EventDetails.CredentialRefused(error, Oid4vciVersion.V1), LastRefusal());
    }

    private async Task UpdateVct(string vct)
    {
        var updated = await _bed.Profiles.UpdateAsync(TestBed.AcmeKey, TestBed.TenantId, "employee", new ProfileInput(Vct: vct), default);
        Assert.True(updated.IsSuccess);
    }

    private async Task<SdJwtReader> IssuedCredentialAsync()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));
        var response = await _bed.CredentialAsync(session, _holder);
        return new SdJwtReader(response.Credential);
    }

    // The credential

    [Fact]
    public async Task Credential_IsAnSdJwtVcSignedByTheTenantsActiveKey()
    {
        var key = Assert.Single(_bed.Db.SigningKeys, k => k.TenantId == TestBed.TenantId);

        var credential = await IssuedCredentialAsync();

        Assert.Equal("dc+sd-jwt", credential.Header["typ"]!.GetValue<string>());
        Assert.Equal("ES256", credential.Header["alg"]!.GetValue<string>());
        Assert.Equal(key.Kid, credential.Header["kid"]!.GetValue<string>());
        Assert.True(credential.SignatureVerifiesWith(key.PublicJwk));
        Assert.True(credential.EndsWithTilde);
    }

    [Fact]
    public async Task Credential_SignatureDoesNotVerifyWithAnotherTenantsKey()
    {
        var otherKey = Assert.Single(_bed.Db.SigningKeys, k => k.TenantId == TestBed.OtherTenantId);

        var credential = await IssuedCredentialAsync();

        Assert.False(credential.SignatureVerifiesWith(otherKey.PublicJwk));
    }

    [Fact]
    public async Task Credential_SessionsTenantSnapshotPublishesTheSigningKey()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        var response = await _bed.CredentialAsync(session, _holder);

        Assert.True(new SdJwtReader(response.Credential).SignatureVerifiesWith(Assert.Single(session.Tenant.Keys).PublicJwk));
    }

    [Fact]
    public async Task Credential_CarriesIssuerTypeTimesAndTheProofKeyAsCnf()
    {
        var credential = await IssuedCredentialAsync();

        var payload = credential.Payload;
        Assert.Equal(TestBed.CredentialIssuer, payload["iss"]!.GetValue<string>());
        Assert.Equal("https://credentials.example/employee", payload["vct"]!.GetValue<string>());
        Assert.Equal(Now.ToUnixTimeSeconds(), payload["iat"]!.GetValue<long>());
        Assert.Equal((Now + ProfileRules.DefaultValidity).ToUnixTimeSeconds(), payload["exp"]!.GetValue<long>());
        Assert.True(JsonNode.DeepEquals(_holder.PublicJwk(), payload["cnf"]!["jwk"]), payload["cnf"]!.ToJsonString());
    }

    [Fact]
    public async Task Credential_DisclosesTheSelectivelyDisclosableClaimsByDigest()
    {
        var credential = await IssuedCredentialAsync();

        var names = credential.Disclosures.Select(d => d.Name).Order(StringComparer.Ordinal).ToArray();
        var topLevel = SdJwtReader.Digests(credential.Payload).Order(StringComparer.Ordinal).ToArray();
        var disclosedAtTopLevel = new[] { credential.DisclosureOf("family_name")!.Digest, credential.DisclosureOf("given_name")!.Digest }.Order(StringComparer.Ordinal).ToArray();
        var inAddress = SdJwtReader.Digests(credential.Payload["address"]);
        Assert.Equal(["family_name", "given_name", "locality"], names);
        Assert.Equal(disclosedAtTopLevel, topLevel);
        Assert.Equal([credential.DisclosureOf("locality")!.Digest], inAddress);
        Assert.Equal("sha-256", credential.Payload["_sd_alg"]!.GetValue<string>());
        Assert.False(credential.Payload.ContainsKey("given_name"));
        Assert.False(credential.Payload["address"]!.AsObject().ContainsKey("locality"));
    }

    [Fact]
    public async Task Credential_ListsDigestsSorted()
    {
        var credential = await IssuedCredentialAsync();

        var digests = SdJwtReader.Digests(credential.Payload);
        var sorted = digests.Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(sorted, digests);
    }

    [Fact]
    public async Task Credential_DisclosuresHaveFresh128BitSalts()
    {
        var credential = await IssuedCredentialAsync();

        var saltLengths = credential.Disclosures.Select(d => d.Salt.Length).Distinct().ToArray();
        var distinctSalts = credential.Disclosures.Select(d => d.Salt).Distinct(StringComparer.Ordinal).Count();

        Assert.Equal([22], saltLengths);
        Assert.Equal(credential.Disclosures.Count, distinctSalts);
    }

    [Fact]
    public async Task Credential_ShowsPlainClaimsInTheClear()
    {
        var credential = await IssuedCredentialAsync();

        Assert.Equal("R&D", credential.Payload["department"]!.GetValue<string>());
        Assert.Null(credential.DisclosureOf("department"));
    }

    [Fact]
    public async Task Credential_OfferOverrideReplacesTheProfileDefault()
    {
        var credential = await IssuedCredentialAsync();

        Assert.Equal("Max", credential.DisclosureOf("given_name")!.Value!.GetValue<string>());
        Assert.Equal("Mustermann", credential.DisclosureOf("family_name")!.Value!.GetValue<string>());
        Assert.Equal("Berlin", credential.DisclosureOf("locality")!.Value!.GetValue<string>());
        Assert.DoesNotContain(credential.Disclosures, d => d.Value?.ToJsonString() == "\"Erika\"");
    }

    [Fact]
    public async Task Credential_LeavesOutAClaimWithoutValue()
    {
        var credential = await IssuedCredentialAsync();

        Assert.Null(credential.DisclosureOf("nickname"));
        Assert.False(credential.Payload.ContainsKey("nickname"));
    }

    [Fact]
    public async Task Credential_OfAnOfferMadeBeforeAProfileUpdate_IsIssuedFromTheOffersProfileVersion()
    {
        var token = await _bed.TokenAsync(await _bed.OfferAsync(OfferForMax()));
        await UpdateVct("https://credentials.example/employee/v2");
        var session = await _bed.AuthorizeAsync(token);

        var credential = new SdJwtReader((await _bed.CredentialAsync(session, _holder)).Credential);

        Assert.Equal(2, session.Tenant.Profiles["employee"].Version);
        Assert.Equal("https://credentials.example/employee", credential.Payload["vct"]!.GetValue<string>());
    }

    [Fact]
    public async Task Credential_OfAnOfferMadeAfterAProfileUpdate_IsIssuedFromTheNewVersion()
    {
        await UpdateVct("https://credentials.example/employee/v2");
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        var credential = new SdJwtReader((await _bed.CredentialAsync(session, _holder)).Credential);

        Assert.Equal("https://credentials.example/employee/v2", credential.Payload["vct"]!.GetValue<string>());
    }

    // What issuing records

    [Fact]
    public async Task Credential_RecordsItsMetadataAndCompletesTheSession()
    {
        var offer = await _bed.OfferAsync(OfferForMax());
        var session = await _bed.SessionAsync(offer);

        var response = await _bed.CredentialAsync(session, _holder);

        var record = Assert.Single(_bed.Db.IssuedCredentials);
        Assert.Equal(session.Access.Session.Id, record.SessionId);
        Assert.Equal(offer.Offer.Id, record.OfferId);
        Assert.Equal("employee", record.ConfigurationId);
        Assert.Equal(CredentialFormats.SdJwtVc, record.Format);
        Assert.Equal(_holder.Thumbprint(), record.HolderKeyThumbprint);
        Assert.Equal(Now, record.IssuedAt);
        Assert.Equal(Now + ProfileRules.DefaultValidity, record.ExpiresAt);
        Assert.Equal(response.NotificationId, record.NotificationId);
        Assert.Null(record.NotificationEvent);
        Assert.Equal(Now, Assert.Single(_bed.Db.Sessions).CompletedAt);
        Assert.Equal(1, _bed.Db.Offers.Single(o => o.Id == offer.Offer.Id).IssuedCount);
    }

    [Fact]
    public async Task Credential_ConsumesTheProofsNonceUntilItWouldHaveExpired()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));
        var nonce = _bed.Nonces.Mint(TestBed.TenantId);

        await Issue(session, new CredentialRequest("employee", null, [Proof(nonce)]));

        var consumed = Assert.Single(_bed.Db.ConsumedNonces);
        Assert.Equal(_bed.Nonces.Verify(TestBed.TenantId, nonce)!.ConsumedKey, consumed.NonceHash);
        Assert.Equal(Now + NonceService.Lifetime, consumed.ExpiresAt);
    }

    [Fact]
    public async Task Credential_AppendsCredentialIssuedThenSessionCompleted()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        await _bed.CredentialAsync(session, _holder);

        var (issued, completed) = (_bed.Db.Events[^2], _bed.Db.Events[^1]);
        Assert.Equal([EventTypes.CredentialIssued, EventTypes.SessionCompleted], _bed.CommittedEventTypes()[^2..]);
        Assert.Equal(new EventDetails.CredentialIssued("employee", CredentialFormats.SdJwtVc, _bed.Db.IssuedCredentials[0].Id, Oid4vciVersion.V1), TestBed.Detail<EventDetails.CredentialIssued>(issued));
        Assert.Equal(new EventDetails.SessionCompleted(1), TestBed.Detail<EventDetails.SessionCompleted>(completed));
        Assert.Equal(session.Access.Session.Id, issued.SessionId);
        Assert.Equal(session.Access.Session.Id, completed.SessionId);
    }

    [Fact]
    public async Task Credential_EventsCarryNoClaimValue()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        await _bed.CredentialAsync(session, _holder);

        var details = string.Join("\n", _bed.Db.Events.Skip(1).Select(e => e.Detail));
        Assert.DoesNotContain("Max", details, StringComparison.Ordinal);
        Assert.DoesNotContain("Mustermann", details, StringComparison.Ordinal);
    }

    // Single use: of the nonce, of the session

    [Fact]
    public async Task Credential_WithANonceUsedBefore_IsInvalidNonce()
    {
        var offer = await _bed.OfferAsync(OfferForMax(maxUses: 2));
        var first = await _bed.SessionAsync(offer);
        var second = await _bed.SessionAsync(offer);
        var nonce = _bed.Nonces.Mint(TestBed.TenantId);
        await Issue(first, new CredentialRequest("employee", null, [Proof(nonce)]));

        var result = await Issue(second, new CredentialRequest("employee", null, [Proof(nonce)]));

        AssertRefused(result, WalletErrors.InvalidNonce);
        Assert.Equal(second.Access.Session.Id, LastRefusalEvent().SessionId);
        Assert.Single(_bed.Db.IssuedCredentials);
        Assert.Null(_bed.Db.Sessions.Single(s => s.Id == second.Access.Session.Id).CompletedAt);
    }

    [Fact]
    public async Task Credential_RetriedAfterALostResponse_IsCredentialRequestDeniedNotInvalidNonce()
    {
        // The wallet sends the very same request again: it learns the credential was issued, not to fetch a nonce.
        var token = await _bed.TokenAsync(await _bed.OfferAsync(OfferForMax()));
        var request = _bed.CredentialRequestFor(_holder);
        await Issue(await _bed.AuthorizeAsync(token), request);
        var again = await _bed.AuthorizeAsync(token);

        var result = await Issue(again, request);

        Assert.True(again.Access.AlreadyIssued);
        AssertRefused(result, WalletErrors.CredentialRequestDenied);
        Assert.Single(_bed.Db.IssuedCredentials);
        Assert.Single(_bed.Db.ConsumedNonces);
    }

    [Fact]
    public async Task Credential_ConcurrentSecondRequestOfTheSession_IsDeniedByTheOneCredentialPerSessionKey()
    {
        // Both requests authorized before either issued: the unique key decides, and the loser's nonce stays unused.
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));
        await _bed.CredentialAsync(session, _holder);

        var result = await Issue(session, _bed.CredentialRequestFor(_holder));

        AssertRefused(result, WalletErrors.CredentialRequestDenied);
        Assert.Single(_bed.Db.IssuedCredentials);
        Assert.Single(_bed.Db.ConsumedNonces);
        Assert.Equal(1, _bed.Db.Offers[0].IssuedCount);
    }

    // What the request names

    [Fact]
    public async Task Credential_WithTheCredentialIdentifierTheTokenReturned_IsIssued()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()), TestBed.AuthorizationDetailsFor("employee"));

        var result = await Issue(session, new CredentialRequest(null, "employee", [Proof()]));

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public async Task Credential_ByConfigurationWhenTheTokenReturnedIdentifiers_IsInvalidCredentialRequest()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()), TestBed.AuthorizationDetailsFor("employee"));

        var result = await Issue(session, new CredentialRequest("employee", null, [Proof()]));

        AssertRefused(result, WalletErrors.InvalidCredentialRequest);
        Assert.Empty(_bed.Db.IssuedCredentials);
    }

    [Fact]
    public async Task Credential_WithAnUnknownCredentialIdentifier_IsUnknownCredentialIdentifier()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()), TestBed.AuthorizationDetailsFor("employee"));

        var result = await Issue(session, new CredentialRequest(null, "badge", [Proof()]));

        AssertRefused(result, WalletErrors.UnknownCredentialIdentifier);
        Assert.Empty(_bed.Db.IssuedCredentials);
    }

    [Fact]
    public async Task Credential_WithAnIdentifierWhenTheTokenReturnedNone_IsUnknownCredentialIdentifier()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        var result = await Issue(session, new CredentialRequest(null, "employee", [Proof()]));

        AssertRefused(result, WalletErrors.UnknownCredentialIdentifier);
        Assert.Empty(_bed.Db.IssuedCredentials);
    }

    [Fact]
    public async Task Credential_ForAnotherConfigurationOfTheTenant_IsCredentialRequestDenied()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        var result = await Issue(session, new CredentialRequest("badge", null, [Proof()]));

        AssertRefused(result, WalletErrors.CredentialRequestDenied);
        Assert.Empty(_bed.Db.IssuedCredentials);
    }

    [Fact]
    public async Task Credential_ForAnUnknownConfiguration_IsUnknownCredentialConfiguration()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        var result = await Issue(session, new CredentialRequest("passport", null, [Proof()]));

        AssertRefused(result, WalletErrors.UnknownCredentialConfiguration);
        Assert.Empty(_bed.Db.IssuedCredentials);
    }

    [Fact]
    public async Task Credential_WithTwoProofs_IsInvalidCredentialRequest()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        var result = await Issue(session, new CredentialRequest("employee", null, [Proof(), Proof()]));

        AssertRefused(result, WalletErrors.InvalidCredentialRequest);
        Assert.Empty(_bed.Db.IssuedCredentials);
        Assert.Empty(_bed.Db.ConsumedNonces);
    }

    // The proof and its nonce

    [Fact]
    public async Task Credential_WithAProofForAnotherAudience_IsInvalidProofAndLeavesTheNonceUnused()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));
        var proof = _holder.Proof("https://issuer.example/globex", _bed.Nonces.Mint(TestBed.TenantId), Now);

        var result = await Issue(session, new CredentialRequest("employee", null, [proof]));

        AssertRefused(result, WalletErrors.InvalidProof);
        Assert.Empty(_bed.Db.IssuedCredentials);
        Assert.Empty(_bed.Db.ConsumedNonces);
    }

    [Fact]
    public async Task Credential_WithAnotherTenantsNonce_IsInvalidNonce()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        var result = await Issue(session, new CredentialRequest("employee", null, [Proof(_bed.Nonces.Mint(TestBed.OtherTenantId))]));

        AssertRefused(result, WalletErrors.InvalidNonce);
        Assert.Empty(_bed.Db.IssuedCredentials);
    }

    [Fact]
    public async Task Credential_WithAnExpiredNonce_IsInvalidNonce()
    {
        var nonce = _bed.Nonces.Mint(TestBed.TenantId);
        _bed.Clock.Advance(NonceService.Lifetime);
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        var result = await Issue(session, new CredentialRequest("employee", null, [Proof(nonce)]));

        AssertRefused(result, WalletErrors.InvalidNonce);
        Assert.Empty(_bed.Db.IssuedCredentials);
    }

    [Fact]
    public async Task RecordRefusal_AppendsCredentialRefusedOnTheSession()
    {
        var session = await _bed.SessionAsync(await _bed.OfferAsync(OfferForMax()));

        await _bed.IssueCredential.RecordRefusalAsync(session, WalletError.InvalidProof("proofs is required."), default);

        // A refusal recorded without a version names none.
        Assert.Equal(new EventDetails.CredentialRefused(WalletErrors.InvalidProof), LastRefusal());
        Assert.Equal(session.Access.Session.Id, LastRefusalEvent().SessionId);
        Assert.Equal(session.Access.Offer!.Id, LastRefusalEvent().OfferId);
        Assert.Equal("employee", LastRefusalEvent().ProfileId);
    }
}
