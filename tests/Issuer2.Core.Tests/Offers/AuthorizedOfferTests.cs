using System.Text.Json.Nodes;
using Issuer2.Core.Authorization;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Offers;

/// <summary>
/// AUTHORIZED offers: the tenant's policies (method, IdP, PIN, issuer_state), the rules of wallet-initiated issuance
/// (OMIT), the authorization code grant of the offer document, and the issuer_states created with the offer (BY_VALUE)
/// or minted per resolution (BY_REFERENCE).
/// </summary>
public sealed class AuthorizedOfferTests
{
    private const string ByValuePrefix = "openid-credential-offer://?credential_offer=";

    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    public AuthorizedOfferTests() => _bed.AllowAuthorized();

    private DateTimeOffset Now => _bed.Clock.GetUtcNow();

    private static JsonObject ByValueDocument(string url) => JsonNode.Parse(Uri.UnescapeDataString(url[ByValuePrefix.Length..]))!.AsObject();

    private static JsonObject Grants(JsonNode document) => document["grants"]!.AsObject();

    private static JsonObject AuthorizationCodeGrant(JsonNode document) => Grants(document)[CredentialOfferDocument.AuthorizationCodeGrant]!.AsObject();

    private Task<Result<string, WalletError>> ResolveAsync(CreatedOffer offer) => _bed.ResolveOffer.ExecuteAsync(TestBed.TenantId, TestBed.UriToken(offer), default);

    // Tenant policies

    [Fact]
    public async Task Create_OnTenantRequiringPin_NeedsNoPin()
    {
        _bed.Db.Tenants[0].RequirePin = true;

        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand());

        Assert.False(result.Value.Offer.PinRequired);
        Assert.Null(result.Value.Pin);
    }

    [Fact]
    public async Task Create_WithTxCode_IsInvalidOnTxCode()
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand() with { TxCode = new TxCodeOptions(null, 0, null, null) });

        Assert.Equal(["tx_code"], TestBed.Fields(result.Error));
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_OmitOnTenantRequiringIssuerState_IsIssuerStateRequired()
    {
        _bed.Db.Tenants[0].AuthorizationServer = AuthorizationServerSettings.Default with { RequireIssuerState = true };

        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit));

        Assert.Equal(ErrorKind.FailedPrecondition, result.Error?.Kind);
        Assert.Equal(ErrorReasons.IssuerStateRequired, result.Error?.Reason);
        Assert.Empty(_bed.Db.Offers);
    }

    [Fact]
    public async Task Create_IncludeOnTenantRequiringIssuerState_IsCreated()
    {
        _bed.Db.Tenants[0].AuthorizationServer = AuthorizationServerSettings.Default with { RequireIssuerState = true };

        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include));

        Assert.Equal(IssuerStateMode.Include, result.Value.Offer.IssuerStateMode);
    }

    [Fact]
    public async Task Create_OnTenantNotAllowingAuthorized_IsMethodNotAllowedEvenWithAnIdentityProvider()
    {
        _bed.Db.Tenants[0].AllowAuthorized = false;

        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand());

        Assert.Equal(ErrorReasons.MethodNotAllowed, result.Error?.Reason);
    }

    // Wallet-initiated issuance (OMIT)

    [Fact]
    public async Task Create_Omit_CountsNoUsesAndIsActive()
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit));

        var offer = result.Value.Offer;
        Assert.Equal(AuthenticationMethod.Authorized, offer.Method);
        Assert.Equal(IssuerStateMode.Omit, offer.IssuerStateMode);
        Assert.Equal(OfferRules.CountsNoUses, offer.MaxUses);
        Assert.Equal(OfferState.Active, offer.StateAt(Now));
        Assert.False(OfferRules.Usable.IsMetBy(offer, Now));
        Assert.Equal(0, TestBed.Detail<EventDetails.OfferCreated>(Assert.Single(_bed.Db.Events)).MaxUses);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public async Task Create_OmitWithMaxUses_IsInvalidOnMaxUses(int maxUses)
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit, maxUses: maxUses));

        Assert.Equal(["max_uses"], TestBed.Fields(result.Error));
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_OmitWithOverrides_IsInvalidOnOverrides()
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit, overrides: [new(["given_name"], TestBed.Json("\"Anna\""))]));

        Assert.Equal(["overrides"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_IncludeWithOverridesAndUses_KeepsThem()
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include, maxUses: 3, overrides: [new(["given_name"], TestBed.Json("\"Anna\""))]));

        Assert.Equal(3, result.Value.Offer.MaxUses);
        Assert.Equal("given_name", Assert.Single(result.Value.Offer.Overrides).Path[0]);
    }

    // Mandatory claims

    [Fact]
    public async Task Create_WithMandatoryClaimOnlyMapped_IsAcceptedForAuthorizedAndRefusedForPreAuthorized()
    {
        var bed = new TestBed();
        bed.SeedTenant();
        bed.SeedProfile(claims: [TestBed.Claim("email", mandatory: true)], mappings: [TestBed.Mapping("email", "email")]);
        bed.AllowAuthorized();

        var authorized = await bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit));
        var preAuthorized = await bed.CreateOfferAsync(TestBed.Command());

        Assert.True(authorized.IsSuccess);
        Assert.Equal(["overrides"], TestBed.Fields(preAuthorized.Error));
    }

    [Fact]
    public async Task Create_WithMandatoryClaimNeitherMappedNorDefaulted_IsInvalidOnOverrides()
    {
        var bed = new TestBed();
        bed.SeedTenant();
        bed.SeedProfile(claims: [TestBed.Claim("email", mandatory: true), TestBed.Claim("name")], mappings: [TestBed.Mapping("name", "name")]);
        bed.AllowAuthorized();

        var result = await bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit));

        Assert.Equal(["overrides"], TestBed.Fields(result.Error));
    }

    // BY_VALUE

    [Fact]
    public async Task Create_ByValueInclude_CarriesOneIssuerStateValidForEveryUseStoredOnlyAsItsHash()
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include, DeliveryMode.ByValue, maxUses: 5, lifetime: TimeSpan.FromDays(7)));
        var document = ByValueDocument(result.Value.OfferUrl);
        var issuerState = AuthorizationCodeGrant(document)["issuer_state"]!.GetValue<string>();

        var offer = result.Value.Offer;
        var stored = Assert.Single(_bed.Db.IssuerStates);
        Assert.Equal(Secrets.Hash(issuerState), stored.StateHash);
        Assert.Equal(offer.Id, stored.OfferId);
        Assert.Equal(TestBed.TenantId, stored.TenantId);
        Assert.False(stored.SingleUse);
        Assert.Equal(Now, stored.CreatedAt);
        Assert.Equal(offer.ExpiresAt, stored.ExpiresAt);
        Assert.Null(stored.ConsumedAt);
        Assert.Equal(5, offer.MaxUses);
        Assert.Equal(Now + TimeSpan.FromDays(7), offer.ExpiresAt);
        Assert.Null(offer.UriTokenHash);
        Assert.Empty(_bed.Db.Codes);
        Assert.DoesNotContain(issuerState, string.Join("\n", _bed.Db.Events.Select(e => e.Detail)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ByValue_DocumentHasOnlyTheAuthorizationCodeGrant()
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include, DeliveryMode.ByValue));
        var document = ByValueDocument(result.Value.OfferUrl);

        Assert.Equal(["credential_issuer", "credential_configuration_ids", "grants"], document.Select(p => p.Key));
        Assert.Equal(TestBed.CredentialIssuer, document["credential_issuer"]!.GetValue<string>());
        Assert.Equal("employee", Assert.Single(document["credential_configuration_ids"]!.AsArray())!.GetValue<string>());
        Assert.Equal([CredentialOfferDocument.AuthorizationCodeGrant], Grants(document).Select(p => p.Key));
        Assert.Equal(["issuer_state"], AuthorizationCodeGrant(document).Select(p => p.Key));
    }

    [Fact]
    public async Task Create_ByValueOmit_HasAnEmptyAuthorizationCodeGrantAndStoresNoState()
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit, DeliveryMode.ByValue));
        var document = ByValueDocument(result.Value.OfferUrl);

        Assert.Empty(AuthorizationCodeGrant(document));
        Assert.Equal([CredentialOfferDocument.AuthorizationCodeGrant], Grants(document).Select(p => p.Key));
        Assert.Empty(_bed.Db.IssuerStates);
        Assert.Empty(_bed.Db.Codes);
    }

    [Fact]
    public async Task Create_ByValueWithoutLifetime_LivesTheTenantDefaultLifetime()
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include, DeliveryMode.ByValue));

        Assert.Equal(Now + TenantRules.DefaultOfferLifetime, result.Value.Offer.ExpiresAt);
    }

    [Fact]
    public async Task Create_ByValueBeyondTheTenantMaximum_IsInvalidOnLifetime()
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include, DeliveryMode.ByValue, lifetime: TenantRules.DefaultMaxOfferLifetime + TimeSpan.FromSeconds(1)));

        Assert.Equal(["lifetime"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_ByValueRetriedWithSameRequestId_ReturnsTheSameUrlAndKeepsOneState()
    {
        var command = TestBed.AuthorizedCommand(IssuerStateMode.Include, DeliveryMode.ByValue, requestId: "req-1");
        var first = await _bed.CreateOfferAsync(command);

        var retry = await _bed.CreateOfferAsync(command);

        Assert.Equal(first.Value.OfferUrl, retry.Value.OfferUrl);
        Assert.Equal(first.Value.Offer.Id, retry.Value.Offer.Id);
        Assert.Single(_bed.Db.IssuerStates);
        Assert.Single(_bed.Db.Offers);
    }

    // BY_REFERENCE: created, then resolved

    [Fact]
    public async Task Create_ByReference_StoresNoStateUntilResolved()
    {
        var result = await _bed.CreateOfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include));

        Assert.StartsWith("openid-credential-offer://?credential_offer_uri=", result.Value.OfferUrl, StringComparison.Ordinal);
        Assert.NotNull(result.Value.Offer.UriTokenHash);
        Assert.Empty(_bed.Db.IssuerStates);
        Assert.Empty(_bed.Db.Codes);
    }

    [Fact]
    public async Task Resolve_Include_MintsAFreshSingleUseShortLivedIssuerStateEachTime()
    {
        var offer = await _bed.OfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include, maxUses: 2));

        var first = (await ResolveAsync(offer)).Value;
        var second = (await ResolveAsync(offer)).Value;
        var states = new[] { first, second }.Select(d => AuthorizationCodeGrant(JsonNode.Parse(d)!)["issuer_state"]!.GetValue<string>()).ToArray();

        Assert.NotEqual(states[0], states[1]);
        Assert.Equal(states.Select(Secrets.Hash), _bed.Db.IssuerStates.Select(s => s.StateHash));
        Assert.All(_bed.Db.IssuerStates, s =>
        {
            Assert.True(s.SingleUse);
            Assert.Equal(offer.Offer.Id, s.OfferId);
            Assert.Equal(Now + AuthorizationLifetimes.IssuerStateByReference, s.ExpiresAt);
            Assert.Null(s.ConsumedAt);
        });
        Assert.Empty(_bed.Db.Codes);
        Assert.Equal(2, _bed.Db.Offers.Single().ResolutionCount);
    }

    [Fact]
    public async Task Resolve_Include_DocumentHasOnlyTheAuthorizationCodeGrantAndTheEventNoState()
    {
        var offer = await _bed.OfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include));

        var document = JsonNode.Parse((await ResolveAsync(offer)).Value)!;
        var issuerState = AuthorizationCodeGrant(document)["issuer_state"]!.GetValue<string>();

        Assert.Equal([CredentialOfferDocument.AuthorizationCodeGrant], Grants(document).Select(p => p.Key));
        var resolved = _bed.Db.Events.Single(e => e.Type == EventTypes.OfferResolved);
        Assert.Equal(Now + AuthorizationLifetimes.IssuerStateByReference, TestBed.Detail<EventDetails.OfferResolved>(resolved).CodeExpiresAt);
        Assert.Equal(offer.Offer.Id, resolved.OfferId);
        Assert.DoesNotContain(issuerState, resolved.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_IncludeShortlyBeforeTheOfferExpires_StateExpiresWithTheOffer()
    {
        var offer = await _bed.OfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include, lifetime: TimeSpan.FromHours(1)));
        _bed.Clock.Advance(TimeSpan.FromMinutes(55));

        await ResolveAsync(offer);

        Assert.Equal(offer.Offer.ExpiresAt, Assert.Single(_bed.Db.IssuerStates).ExpiresAt);
    }

    [Fact]
    public async Task Resolve_Omit_ReturnsAnEmptyAuthorizationCodeGrantAndWritesNoState()
    {
        var offer = await _bed.OfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit));

        var document = JsonNode.Parse((await ResolveAsync(offer)).Value)!;

        Assert.Empty(AuthorizationCodeGrant(document));
        Assert.Empty(_bed.Db.IssuerStates);
        Assert.Empty(_bed.Db.Codes);
        Assert.Equal(1, _bed.Db.Offers.Single().ResolutionCount);
        var resolved = _bed.Db.Events.Single(e => e.Type == EventTypes.OfferResolved);
        Assert.Null(TestBed.Detail<EventDetails.OfferResolved>(resolved).CodeExpiresAt);
    }

    [Fact]
    public async Task Resolve_RevokedAuthorizedOffer_IsNotFoundAndWritesNothing()
    {
        var offer = await _bed.OfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include));
        await _bed.Management.RevokeAsync(TestBed.AcmeKey, TestBed.TenantId, offer.Offer.Id, default);
        var before = _bed.CommittedEventTypes();

        var result = await ResolveAsync(offer);

        Assert.Equal(WalletErrors.NotFound, result.Error?.SpecCode);
        Assert.Equal(before, _bed.CommittedEventTypes());
        Assert.Empty(_bed.Db.IssuerStates);
    }

    [Fact]
    public async Task Resolve_ExpiredOmitOffer_IsNotFoundAndWritesNothing()
    {
        var offer = await _bed.OfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Omit, lifetime: TimeSpan.FromHours(1)));
        _bed.Clock.Advance(TimeSpan.FromHours(1));

        var result = await ResolveAsync(offer);

        Assert.Equal(WalletErrors.NotFound, result.Error?.SpecCode);
        Assert.Equal(0, _bed.Db.Offers.Single().ResolutionCount);
    }

    [Fact]
    public async Task Resolve_UsedUpIncludeOffer_IsNotFoundAndWritesNothing()
    {
        var offer = await _bed.OfferAsync(TestBed.AuthorizedCommand(IssuerStateMode.Include, maxUses: 1));
        _bed.Db.Offers.Single().UseCount = 1;

        var result = await ResolveAsync(offer);

        Assert.Equal(WalletErrors.NotFound, result.Error?.SpecCode);
        Assert.Empty(_bed.Db.IssuerStates);
    }
}
