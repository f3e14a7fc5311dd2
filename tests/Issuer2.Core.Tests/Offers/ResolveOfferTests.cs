using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Offers;

public sealed class ResolveOfferTests
{
    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    private DateTimeOffset Now => _bed.Clock.GetUtcNow();

    private Offer StoredOffer(CreatedOffer offer) => _bed.Db.Offers.Single(o => o.Id == offer.Offer.Id);

    private static JsonNode Grant(string offerJson) => JsonNode.Parse(offerJson)!["grants"]![CredentialOfferDocument.PreAuthorizedGrant]!;

    private Task<Result<string, WalletError>> Resolve(string uriToken, string tenantId = TestBed.TenantId) =>
        _bed.ResolveOffer.ExecuteAsync(tenantId, uriToken, default);

    /// <summary>Resolves <paramref name="uriToken"/> and asserts the answer is not_found and no event was appended.</summary>
    private async Task AssertNotFoundAndNoEventAsync(string uriToken, string tenantId = TestBed.TenantId)
    {
        var before = _bed.CommittedEventTypes();

        var result = await Resolve(uriToken, tenantId);

        Assert.Equal(WalletErrors.NotFound, result.Error?.SpecCode);
        Assert.Equal(before, _bed.CommittedEventTypes());
    }

    // Resolving an active offer

    [Fact]
    public async Task Resolve_ActiveOffer_ReturnsTheOfferWithAFreshCodeStoredOnlyAsItsHash()
    {
        var offer = await _bed.OfferAsync();

        var result = await Resolve(TestBed.UriToken(offer));
        var document = JsonNode.Parse(result.Value)!;
        var code = TestBed.PreAuthorizedCode(result.Value);

        var stored = Assert.Single(_bed.Db.Codes);
        Assert.Equal(TestBed.CredentialIssuer, document["credential_issuer"]!.GetValue<string>());
        Assert.Equal("employee", Assert.Single(document["credential_configuration_ids"]!.AsArray())!.GetValue<string>());
        Assert.Equal(Secrets.Hash(code), stored.CodeHash);
        Assert.Equal(offer.Offer.Id, stored.OfferId);
        Assert.Equal(TestBed.TenantId, stored.TenantId);
        Assert.Equal(Now, stored.CreatedAt);
        Assert.Null(stored.ConsumedAt);
        Assert.DoesNotContain(code, string.Join("\n", _bed.Db.Events.Select(e => e.Detail)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_LongLivedOffer_CodeExpiresAfterTheTenantCodeLifetime()
    {
        _bed.Db.Tenants[0].PreAuthorizedCodeLifetime = TimeSpan.FromMinutes(10);
        var offer = await _bed.OfferAsync();

        await Resolve(TestBed.UriToken(offer));

        Assert.Equal(Now + TimeSpan.FromMinutes(10), Assert.Single(_bed.Db.Codes).ExpiresAt);
    }

    [Fact]
    public async Task Resolve_OfferEndingBeforeTheCodeLifetime_CodeExpiresWithTheOffer()
    {
        var offer = await _bed.OfferAsync(TestBed.Command(lifetime: TimeSpan.FromHours(1)));
        _bed.Clock.Advance(TimeSpan.FromMinutes(58));

        await Resolve(TestBed.UriToken(offer));

        Assert.Equal(offer.Offer.ExpiresAt, Assert.Single(_bed.Db.Codes).ExpiresAt);
        Assert.Equal(Now + TimeSpan.FromMinutes(2), offer.Offer.ExpiresAt);
    }

    [Fact]
    public async Task Resolve_CountsTheResolutionAndAppendsOfferResolved()
    {
        var offer = await _bed.OfferAsync();

        await Resolve(TestBed.UriToken(offer));

        var resolved = _bed.Db.Events[^1];
        Assert.Equal(1, StoredOffer(offer).ResolutionCount);
        Assert.Equal([EventTypes.OfferCreated, EventTypes.OfferResolved], _bed.CommittedEventTypes());
        Assert.Equal(offer.Offer.Id, resolved.OfferId);
        Assert.Equal("employee", resolved.ProfileId);
        Assert.Equal(new EventDetails.OfferResolved(Now + TimeSpan.FromMinutes(5)), TestBed.Detail<EventDetails.OfferResolved>(resolved));
    }

    [Fact]
    public async Task Resolve_Twice_MintsTwoDifferentCodesAndCountsBoth()
    {
        var offer = await _bed.OfferAsync(TestBed.Command(maxUses: 2));

        var first = TestBed.PreAuthorizedCode((await Resolve(TestBed.UriToken(offer))).Value);
        var second = TestBed.PreAuthorizedCode((await Resolve(TestBed.UriToken(offer))).Value);

        Assert.NotEqual(first, second);
        Assert.Equal(2, _bed.Db.Codes.Count);
        Assert.Equal(2, StoredOffer(offer).ResolutionCount);
    }

    [Fact]
    public async Task Resolve_OfferWithPin_DescribesTheTxCodeButNeverCarriesThePin()
    {
        var offer = await _bed.OfferAsync(TestBed.Command(txCode: new TxCodeOptions(TestBed.Pin, 0, null, "Sent to you by SMS")));

        var result = await Resolve(TestBed.UriToken(offer));
        var tx = Grant(result.Value)["tx_code"]!;

        Assert.Equal("numeric", tx["input_mode"]!.GetValue<string>());
        Assert.Equal(TestBed.Pin.Length, tx["length"]!.GetValue<int>());
        Assert.Equal("Sent to you by SMS", tx["description"]!.GetValue<string>());
        Assert.DoesNotContain(TestBed.Pin, result.Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_OfferWithoutPin_HasNoTxCode()
    {
        var offer = await _bed.OfferAsync();

        var result = await Resolve(TestBed.UriToken(offer));

        Assert.False(Grant(result.Value).AsObject().ContainsKey("tx_code"));
    }

    // Offers that cannot be resolved: all look the same and write nothing

    [Fact]
    public async Task Resolve_UnknownToken_IsNotFoundAndWritesNothing()
    {
        await _bed.OfferAsync();
        await AssertNotFoundAndNoEventAsync(Secrets.NewToken());

        Assert.Empty(_bed.Db.Codes);
    }

    [Fact]
    public async Task Resolve_ExpiredOffer_IsNotFoundAndWritesNothing()
    {
        var offer = await _bed.OfferAsync(TestBed.Command(lifetime: TimeSpan.FromHours(1)));
        _bed.Clock.Advance(TimeSpan.FromHours(1));
        await AssertNotFoundAndNoEventAsync(TestBed.UriToken(offer));

        Assert.Empty(_bed.Db.Codes);
        Assert.Equal(0, StoredOffer(offer).ResolutionCount);
    }

    [Fact]
    public async Task Resolve_RevokedOffer_IsNotFoundAndWritesNothing()
    {
        var offer = await _bed.OfferAsync();
        await _bed.Management.RevokeAsync(TestBed.AcmeKey, TestBed.TenantId, offer.Offer.Id, default);
        await AssertNotFoundAndNoEventAsync(TestBed.UriToken(offer));

        Assert.Empty(_bed.Db.Codes);
        Assert.Equal(0, StoredOffer(offer).ResolutionCount);
    }

    [Fact]
    public async Task Resolve_LockedOffer_IsNotFoundAndWritesNothing()
    {
        var offer = await _bed.OfferAsync(TestBed.PinCommand());
        StoredOffer(offer).LockedAt = Now;
        await AssertNotFoundAndNoEventAsync(TestBed.UriToken(offer));

        Assert.Empty(_bed.Db.Codes);
        Assert.Equal(0, StoredOffer(offer).ResolutionCount);
    }

    [Fact]
    public async Task Resolve_UsedUpOffer_IsNotFoundAndWritesNothing()
    {
        var offer = await _bed.OfferAsync();
        await _bed.TokenAsync(offer);
        await AssertNotFoundAndNoEventAsync(TestBed.UriToken(offer));

        Assert.Single(_bed.Db.Codes);
        Assert.Equal(1, StoredOffer(offer).ResolutionCount);
    }

    [Fact]
    public async Task Resolve_TokenOverTheLengthLimit_IsNotFoundEvenWhenAnOfferHasItsHash()
    {
        var longToken = new string('t', 129);
        var offer = SeedOfferWithUriToken(longToken);

        var result = await Resolve(longToken);

        Assert.Equal(WalletErrors.NotFound, result.Error?.SpecCode);
        Assert.Empty(_bed.Db.Codes);
        Assert.Equal(0, offer.ResolutionCount);
        Assert.Empty(_bed.Db.Events);
    }

    [Fact]
    public async Task Resolve_TokenAtTheLengthLimit_IsResolved()
    {
        var token = new string('t', 128);
        SeedOfferWithUriToken(token);

        var result = await Resolve(token);

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public async Task Resolve_EmptyToken_IsNotFoundEvenWhenAnOfferHasItsHash()
    {
        var offer = SeedOfferWithUriToken("");

        var result = await Resolve("");

        Assert.Equal(WalletErrors.NotFound, result.Error?.SpecCode);
        Assert.Equal(0, offer.ResolutionCount);
    }

    [Fact]
    public async Task Resolve_AtAnotherTenantsUrl_IsNotFoundAndWritesNothing()
    {
        var offer = await _bed.OfferAsync();
        await AssertNotFoundAndNoEventAsync(TestBed.UriToken(offer), TestBed.OtherTenantId);

        Assert.Empty(_bed.Db.Codes);
    }

    [Fact]
    public async Task Resolve_OfferOfADeletedTenant_IsNotFoundAndWritesNothing()
    {
        var offer = await _bed.OfferAsync();
        await _bed.Tenants.DeleteAsync(TestBed.Admin, TestBed.TenantId, default);
        await AssertNotFoundAndNoEventAsync(TestBed.UriToken(offer));

        Assert.Empty(_bed.Db.Codes);
    }

    /// <summary>An active offer stored with the hash of <paramref name="uriToken"/>, which the management API would never mint.</summary>
    private Offer SeedOfferWithUriToken(string uriToken)
    {
        var profile = _bed.Db.Profiles[0];
        var offer = new Offer
        {
            Id = "seededoffer",
            TenantId = TestBed.TenantId,
            ProfileId = profile.ProfileId,
            ProfileUid = profile.Uid,
            ProfileVersion = profile.Version,
            Method = AuthenticationMethod.PreAuthorized,
            Delivery = DeliveryMode.ByReference,
            IssuerStateMode = IssuerStateMode.Omit,
            UriTokenHash = Secrets.Hash(uriToken),
            MaxUses = 1,
            CreatedAt = Now,
            ExpiresAt = Now.AddHours(1),
        };
        _bed.Db.Offers.Add(offer);
        return offer;
    }
}
