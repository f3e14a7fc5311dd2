using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Offers;

public sealed class OfferManagementTests
{
    private const string ByValuePrefix = "openid-credential-offer://?credential_offer=";
    private const string ByReferencePrefix = "openid-credential-offer://?credential_offer_uri=";
    private const string Grant = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

    private readonly TestBed _bed = TestBed.WithEmployeeProfile();

    private static JsonNode ByValueOffer(string url) => JsonNode.Parse(Uri.UnescapeDataString(url[ByValuePrefix.Length..]))!;

    private void ConfigureTenant(Action<Tenant> configure) => configure(_bed.Db.Tenants[0]);

    // Delivery and expiry

    [Fact]
    public async Task Create_WithDefaults_IsByReferenceSingleUseAndLivesTheTenantDefaultLifetime()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command());

        var offer = result.Value.Offer;
        Assert.Equal(DeliveryMode.ByReference, offer.Delivery);
        Assert.Equal(AuthenticationMethod.PreAuthorized, offer.Method);
        Assert.Equal(1, offer.MaxUses);
        Assert.Equal(TestBed.Start + TimeSpan.FromHours(24), offer.ExpiresAt);
        Assert.Equal(OfferState.Active, offer.StateAt(_bed.Clock.GetUtcNow()));
        Assert.Null(result.Value.Pin);
        Assert.Same(offer, Assert.Single(_bed.Db.Offers));
    }

    [Fact]
    public async Task Create_ByReference_UrlPointsUnderTheIssuerAndOnlyTheTokenHashIsStored()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByReference));
        var offerUri = Uri.UnescapeDataString(result.Value.OfferUrl[ByReferencePrefix.Length..]);
        var token = offerUri["https://issuer.example/acme/offers/".Length..];

        Assert.StartsWith(ByReferencePrefix, result.Value.OfferUrl, StringComparison.Ordinal);
        Assert.StartsWith("https://issuer.example/acme/offers/", offerUri, StringComparison.Ordinal);
        Assert.Equal(43, token.Length);
        Assert.Equal(Secrets.Hash(token), result.Value.Offer.UriTokenHash);
        Assert.Empty(_bed.Db.Codes);
    }

    [Fact]
    public async Task Create_ByValue_CarriesOneCodeStoredOnlyAsItsHash()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByValue));
        var document = ByValueOffer(result.Value.OfferUrl);
        var code = document["grants"]![Grant]!["pre-authorized_code"]!.GetValue<string>();

        var stored = Assert.Single(_bed.Db.Codes);
        Assert.Equal("https://issuer.example/acme", document["credential_issuer"]!.GetValue<string>());
        Assert.Equal("employee", document["credential_configuration_ids"]![0]!.GetValue<string>());
        Assert.Equal(Secrets.Hash(code), stored.CodeHash);
        Assert.Equal(result.Value.Offer.Id, stored.OfferId);
        Assert.Equal(result.Value.Offer.ExpiresAt, stored.ExpiresAt);
        Assert.Null(result.Value.Offer.UriTokenHash);
    }

    [Fact]
    public async Task Create_ByValueWithoutLifetime_ExpiresAfterTheCodeLifetime()
    {
        ConfigureTenant(t => t.PreAuthorizedCodeLifetime = TimeSpan.FromMinutes(10));

        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByValue));

        Assert.Equal(TestBed.Start + TimeSpan.FromMinutes(10), result.Value.Offer.ExpiresAt);
    }

    [Fact]
    public async Task Create_ByValueWithMaxUses3_IsInvalidOnMaxUses()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByValue, maxUses: 3));

        Assert.Equal(ErrorReasons.InvalidArgument, result.Error?.Reason);
        Assert.Equal(["max_uses"], TestBed.Fields(result.Error));
        Assert.Empty(_bed.Db.Offers);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_ByReferenceWithMaxUses3_IsAccepted()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByReference, maxUses: 3));

        Assert.Equal(3, result.Value.Offer.MaxUses);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10_001)]
    public async Task Create_WithMaxUsesOutOfRange_IsInvalidOnMaxUses(int maxUses)
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(maxUses: maxUses));

        Assert.Equal(["max_uses"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_ByValueWithLifetimeAboveTheCodeLifetime_IsInvalidOnLifetime()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByValue, lifetime: TimeSpan.FromMinutes(6)));

        Assert.Equal(["lifetime"], TestBed.Fields(result.Error));
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_ByValueWithExpireTimeAboveTheCodeLifetime_IsInvalidOnExpireTime()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByValue, expireTime: TestBed.Start.AddHours(1)));

        Assert.Equal(["expire_time"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_ByReferenceWithLifetimeAboveTheCodeLifetime_IsAccepted()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(lifetime: TimeSpan.FromDays(7)));

        Assert.Equal(TestBed.Start + TimeSpan.FromDays(7), result.Value.Offer.ExpiresAt);
    }

    [Fact]
    public async Task Create_WithLifetimeAboveTheTenantMaximum_IsInvalidOnLifetime()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(lifetime: TimeSpan.FromDays(31)));

        Assert.Equal(["lifetime"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithLifetimeOfExactlyTheTenantMaximum_IsAccepted()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(lifetime: TimeSpan.FromDays(30)));

        Assert.Equal(TestBed.Start + TimeSpan.FromDays(30), result.Value.Offer.ExpiresAt);
    }

    [Fact]
    public async Task Create_WithExpireTime_ExpiresThen()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(expireTime: TestBed.Start.AddDays(2)));

        Assert.Equal(TestBed.Start.AddDays(2), result.Value.Offer.ExpiresAt);
    }

    [Fact]
    public async Task Create_WithLifetimeAndExpireTime_IsInvalidOnExpireTime()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(lifetime: TimeSpan.FromHours(1), expireTime: TestBed.Start.AddHours(1)));

        Assert.Equal(["expire_time"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithExpireTimeInThePast_IsInvalidOnExpireTime()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(expireTime: TestBed.Start.AddSeconds(-1)));

        Assert.Equal(["expire_time"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithNegativeLifetime_IsInvalidOnLifetime()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(lifetime: TimeSpan.FromMinutes(-1)));

        Assert.Equal(["lifetime"], TestBed.Fields(result.Error));
    }

    // Authentication method and tenant policy

    [Fact]
    public async Task Create_AuthorizedOnTenantNotAllowingIt_IsMethodNotAllowed()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(method: AuthenticationMethod.Authorized));

        Assert.Equal(ErrorKind.FailedPrecondition, result.Error?.Kind);
        Assert.Equal(ErrorReasons.MethodNotAllowed, result.Error?.Reason);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_AuthorizedOnTenantAllowingItWithoutIdentityProvider_IsIdentityProviderMissing()
    {
        _bed.AllowAuthorized(withIdentityProvider: false);

        var result = await _bed.CreateOfferAsync(TestBed.Command(method: AuthenticationMethod.Authorized));

        Assert.Equal(ErrorKind.FailedPrecondition, result.Error?.Kind);
        Assert.Equal(ErrorReasons.IdentityProviderMissing, result.Error?.Reason);
        Assert.Empty(_bed.Db.Offers);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_PreAuthorizedOnTenantAllowingOnlyAuthorized_IsMethodNotAllowed()
    {
        ConfigureTenant(t =>
        {
            t.AllowPreAuthorized = false;
            t.AllowAuthorized = true;
        });

        var result = await _bed.CreateOfferAsync(TestBed.Command());

        Assert.Equal(ErrorReasons.MethodNotAllowed, result.Error?.Reason);
    }

    [Fact]
    public async Task Create_PreAuthorizedWithIssuerStateInclude_IsInvalidOnIssuerStateMode()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(issuerStateMode: IssuerStateMode.Include));

        Assert.Equal(["issuer_state_mode"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_OnTenantRequiringPinWithoutTxCode_IsPinRequired()
    {
        ConfigureTenant(t => t.RequirePin = true);

        var result = await _bed.CreateOfferAsync(TestBed.Command());

        Assert.Equal(ErrorKind.FailedPrecondition, result.Error?.Kind);
        Assert.Equal(ErrorReasons.PinRequired, result.Error?.Reason);
        Assert.Empty(_bed.Db.Offers);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_OnTenantRequiringPinWithTxCode_IsAccepted()
    {
        ConfigureTenant(t => t.RequirePin = true);

        var result = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions(null, 0, null, null)));

        Assert.True(result.Value.Offer.PinRequired);
    }

    // PIN

    [Fact]
    public async Task Create_WithSuppliedPin_StoresOnlyItsKeyedHash()
    {
        const string pin = "90210417";

        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByValue, txCode: new TxCodeOptions(pin, 0, TxCodeInputMode.Numeric, "Sent by SMS")));
        var offer = result.Value.Offer;
        var expectedHash = _bed.Pins.KeyedHash(Offer.PinContext(TestBed.TenantId, offer.Id), pin);
        var storedOffer = JsonSerializer.Serialize(offer, CoreJson.Options);
        var eventDetails = string.Join("\n", _bed.Db.AppendedEvents.Select(e => e.Detail));

        Assert.Equal(pin, result.Value.Pin);
        Assert.Equal(expectedHash, offer.PinHash);
        Assert.DoesNotContain(pin, storedOffer, StringComparison.Ordinal);
        Assert.DoesNotContain(pin, eventDetails, StringComparison.Ordinal);
        Assert.DoesNotContain(pin, result.Value.OfferUrl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithSuppliedPin_DescribesItInTheByValueOffer()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByValue, txCode: new TxCodeOptions("90210417", 0, null, "Sent by SMS")));
        var tx = ByValueOffer(result.Value.OfferUrl)["grants"]![Grant]!["tx_code"]!;

        Assert.Equal("numeric", tx["input_mode"]!.GetValue<string>());
        Assert.Equal(8, tx["length"]!.GetValue<int>());
        Assert.Equal("Sent by SMS", tx["description"]!.GetValue<string>());
        Assert.Equal(TxCodeInputMode.Numeric, result.Value.Offer.PinInputMode);
        Assert.Equal(8, result.Value.Offer.PinLength);
        Assert.Equal("Sent by SMS", result.Value.Offer.PinDescription);
    }

    [Fact]
    public async Task Create_WithGeneratedPin_HasSixDigitsByDefault()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByValue, txCode: new TxCodeOptions(null, 0, null, null)));
        var pin = result.Value.Pin!;
        var tx = ByValueOffer(result.Value.OfferUrl)["grants"]![Grant]!["tx_code"]!;

        Assert.Matches(@"\A[0-9]{6}\z", pin);
        Assert.Equal(6, result.Value.Offer.PinLength);
        Assert.Equal(6, tx["length"]!.GetValue<int>());
        Assert.False(tx.AsObject().ContainsKey("description"));
        Assert.True(_bed.Pins.KeyedHashEquals(Offer.PinContext(TestBed.TenantId, result.Value.Offer.Id), pin, result.Value.Offer.PinHash!));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(12)]
    public async Task Create_WithGeneratedPinOfAskedLength_HasThatManyDigits(int length)
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions(null, length, TxCodeInputMode.Numeric, null)));

        Assert.Matches($@"\A[0-9]{{{length}}}\z", result.Value.Pin!);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(13)]
    public async Task Create_WithGeneratedPinLengthOutside4To12_IsInvalidOnLength(int length)
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions(null, length, null, null)));

        Assert.Equal(["tx_code.length"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithTextPinInNumericInputMode_IsInvalidOnTxCodeValue()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions("abc-123", 0, TxCodeInputMode.Numeric, null)));

        Assert.Equal(["tx_code.value"], TestBed.Fields(result.Error));
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_WithTextPinWithoutInputMode_IsInvalidOnTxCodeValue()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions("abc-123", 0, null, null)));

        Assert.Equal(["tx_code.value"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithTextPinInTextInputMode_IsAccepted()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByValue, txCode: new TxCodeOptions("abc-123", 0, TxCodeInputMode.Text, null)));
        var tx = ByValueOffer(result.Value.OfferUrl)["grants"]![Grant]!["tx_code"]!;

        Assert.Equal("abc-123", result.Value.Pin);
        Assert.Equal("text", tx["input_mode"]!.GetValue<string>());
        Assert.Equal(7, tx["length"]!.GetValue<int>());
    }

    [Fact]
    public async Task Create_WithGeneratedPinInTextInputMode_IsInvalidOnInputMode()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions(null, 6, TxCodeInputMode.Text, null)));

        Assert.Equal(["tx_code.input_mode"], TestBed.Fields(result.Error));
    }

    [Theory]
    [InlineData("123")]
    [InlineData("1")]
    public async Task Create_WithSuppliedPinShorterThan4_IsInvalidOnTxCodeValue(string pin)
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions(pin, 0, null, null)));

        Assert.Equal(["tx_code.value"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithSuppliedPinLongerThan64_IsInvalidOnTxCodeValue()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions(new string('7', 65), 0, null, null)));

        Assert.Equal(["tx_code.value"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithSuppliedPinAndLength_IsInvalidOnLength()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions("123456", 6, null, null)));

        Assert.Equal(["tx_code.length"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithPinDescriptionLongerThan300_IsInvalidOnDescription()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions(null, 0, null, new string('d', 301))));

        Assert.Equal(["tx_code.description"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_PinsOfTwoOffersAreKeyedApart()
    {
        var first = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions("123456", 0, null, null)));
        var second = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions("123456", 0, null, null)));

        Assert.NotEqual(first.Value.Offer.PinHash, second.Value.Offer.PinHash);
    }

    // Overrides

    [Fact]
    public async Task Create_WithOverrideOfUnknownClaim_IsInvalidOnOverridePath()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(overrides: [new ClaimValue(["nickname"], TestBed.Json("\"Eri\""))]));

        Assert.Equal(["overrides[0].path"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithOverrideOfWrongType_IsInvalidOnOverrideValue()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(overrides: [new ClaimValue(["given_name"], TestBed.Json("42"))]));

        Assert.Equal(["overrides[0].value"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithOverrideWithoutValue_IsInvalidOnOverrideValue()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(overrides: [new ClaimValue(["given_name"], default)]));

        Assert.Equal(["overrides[0].value"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithTheSamePathOverriddenTwice_IsInvalidOnOverridePath()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(overrides:
        [
            new ClaimValue(["given_name"], TestBed.Json("\"Erika\"")),
            new ClaimValue(["given_name"], TestBed.Json("\"Max\"")),
        ]));

        Assert.Equal(["overrides[1].path"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithMandatoryClaimWithoutDefaultOrOverride_IsInvalidOnOverrides()
    {
        _bed.SeedProfile("badge", claims: [TestBed.Claim("given_name", mandatory: true)]);

        var result = await _bed.CreateOfferAsync(TestBed.Command(profileId: "badge"));

        Assert.Equal(["overrides"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_WithMandatoryClaimSuppliedByOverride_KeepsTheOverride()
    {
        _bed.SeedProfile("badge", claims: [TestBed.Claim("given_name", mandatory: true)]);

        var result = await _bed.CreateOfferAsync(TestBed.Command(profileId: "badge", overrides: [new ClaimValue(["given_name"], TestBed.Json("\"Erika\""))]));

        var kept = Assert.Single(result.Value.Offer.Overrides);
        Assert.Equal("Erika", kept.Value.GetString());
    }

    [Fact]
    public async Task Create_WithMandatoryClaimSuppliedByDefault_IsAccepted()
    {
        _bed.SeedProfile("badge", claims: [TestBed.Claim("given_name", mandatory: true)], defaults: [new ClaimValue(["given_name"], TestBed.Json("\"Erika\""))]);

        var result = await _bed.CreateOfferAsync(TestBed.Command(profileId: "badge"));

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public async Task Create_OfUnknownProfile_IsInvalidOnProfile()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(profileId: "nothing"));

        Assert.Equal(["profile"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_KeepsTheProfileVersionItWasMadeFrom()
    {
        _bed.Db.Profiles[0].Version = 4;

        var result = await _bed.CreateOfferAsync(TestBed.Command());

        Assert.Equal(4, result.Value.Offer.ProfileVersion);
        Assert.Equal(_bed.Db.Profiles[0].Uid, result.Value.Offer.ProfileUid);
    }

    // request_id

    [Fact]
    public async Task Create_RetriedWithSameRequestId_ReturnsSameOfferUrlAndPinAndWritesNothing()
    {
        var command = TestBed.Command(delivery: DeliveryMode.ByValue, txCode: new TxCodeOptions(null, 0, null, null), requestId: "req-1");
        var first = await _bed.CreateOfferAsync(command);
        _bed.Clock.Advance(TimeSpan.FromHours(1));

        var retry = await _bed.CreateOfferAsync(command);

        Assert.Equal(first.Value.Offer.Id, retry.Value.Offer.Id);
        Assert.Equal(first.Value.OfferUrl, retry.Value.OfferUrl);
        Assert.Equal(first.Value.Pin, retry.Value.Pin);
        Assert.Single(_bed.Db.Offers);
        Assert.Single(_bed.Db.Codes);
        Assert.Single(_bed.Db.OfferRequests);
        Assert.Equal([EventTypes.OfferCreated], _bed.CommittedEventTypes());
        Assert.Single(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_RequestRecordKeepsTheReplayEncrypted()
    {
        var first = await _bed.CreateOfferAsync(TestBed.Command(txCode: new TxCodeOptions("90210417", 0, null, null), requestId: "req-1"));

        var request = Assert.Single(_bed.Db.OfferRequests);
        var stored = System.Text.Encoding.UTF8.GetString(request.EncryptedReplay);
        Assert.Equal(first.Value.Offer.Id, request.OfferId);
        Assert.Equal(TestBed.Start + TimeSpan.FromHours(24), request.ExpiresAt);
        Assert.DoesNotContain("90210417", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("openid-credential-offer", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_RetriedWithSameRequestIdAndOtherParameters_IsRequestIdConflict()
    {
        await _bed.CreateOfferAsync(TestBed.Command(lifetime: TimeSpan.FromHours(1), requestId: "req-1"));

        var retry = await _bed.CreateOfferAsync(TestBed.Command(lifetime: TimeSpan.FromHours(2), requestId: "req-1"));

        Assert.Equal(ErrorKind.AlreadyExists, retry.Error?.Kind);
        Assert.Equal(ErrorReasons.RequestIdConflict, retry.Error?.Reason);
        Assert.Single(_bed.Db.Offers);
        Assert.Single(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_WithSameRequestIdInAnotherTenant_IsIndependent()
    {
        _bed.SeedProfile(tenantId: TestBed.OtherTenantId);
        var acme = await _bed.CreateOfferAsync(TestBed.Command(requestId: "req-1"));

        var globex = await _bed.Management.CreateAsync(TestBed.GlobexKey, TestBed.OtherTenantId, TestBed.Command(requestId: "req-1"), default);

        Assert.NotEqual(acme.Value.Offer.Id, globex.Value.Offer.Id);
        Assert.Equal(TestBed.OtherTenantId, globex.Value.Offer.TenantId);
        Assert.Equal(2, _bed.Db.Offers.Count);
    }

    [Fact]
    public async Task Create_RetriedAfter24Hours_CreatesANewOffer()
    {
        var command = TestBed.Command(requestId: "req-1");
        var first = await _bed.CreateOfferAsync(command);
        _bed.Clock.Advance(TimeSpan.FromHours(24));

        var later = await _bed.CreateOfferAsync(command);

        Assert.NotEqual(first.Value.Offer.Id, later.Value.Offer.Id);
        Assert.NotEqual(first.Value.OfferUrl, later.Value.OfferUrl);
        Assert.Equal(2, _bed.Db.Offers.Count);
        Assert.Equal(later.Value.Offer.Id, Assert.Single(_bed.Db.OfferRequests).OfferId);
    }

    [Fact]
    public async Task Create_WithRequestIdLongerThan128_IsInvalidOnRequestId()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(requestId: new string('r', 129)));

        Assert.Equal(["request_id"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Create_LosingARaceForTheRequestId_AnswersAsTheWinnersRetry()
    {
        // Another host, sharing the database and the KEK, commits the same request first.
        var command = TestBed.Command(txCode: new TxCodeOptions(null, 0, null, null), requestId: "req-1");
        var otherHost = TestBed.WithEmployeeProfile();
        var winner = (await otherHost.Management.CreateAsync(TestBed.AcmeKey, TestBed.TenantId, command, default)).Value;
        _bed.Db.BeforeNextSave = () =>
        {
            _bed.Db.Offers.Add(otherHost.Db.Offers[0]);
            _bed.Db.OfferRequests.Add(otherHost.Db.OfferRequests[0]);
            throw new UniqueConflictException();
        };

        var result = await _bed.CreateOfferAsync(command);

        Assert.Equal(winner.Offer.Id, result.Value.Offer.Id);
        Assert.Equal(winner.OfferUrl, result.Value.OfferUrl);
        Assert.Equal(winner.Pin, result.Value.Pin);
        Assert.Single(_bed.Db.Offers);
        Assert.Empty(_bed.Db.Events);
    }

    // Events and access

    [Fact]
    public async Task Create_AppendsOneOfferCreatedEventNamingTheOffer()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command());

        var e = Assert.Single(_bed.Db.Events);
        Assert.Equal(EventTypes.OfferCreated, e.Type);
        Assert.Equal(TestBed.TenantId, e.TenantId);
        Assert.Equal(result.Value.Offer.Id, e.OfferId);
        Assert.Equal(TestBed.Start, e.OccurredAt);
        Assert.Equal(1, _bed.Db.SaveCount);
    }

    [Fact]
    public async Task Create_EventDetailCarriesNoSecret()
    {
        var result = await _bed.CreateOfferAsync(TestBed.Command(delivery: DeliveryMode.ByValue));
        var code = ByValueOffer(result.Value.OfferUrl)["grants"]![Grant]!["pre-authorized_code"]!.GetValue<string>();

        var detail = Assert.Single(_bed.Db.Events).Detail;

        Assert.DoesNotContain(code, detail, StringComparison.Ordinal);
        Assert.DoesNotContain("credential_offer", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ByAdmin_IsPermissionDenied()
    {
        var result = await _bed.Management.CreateAsync(TestBed.Admin, TestBed.TenantId, TestBed.Command(), default);

        Assert.Equal(ErrorKind.PermissionDenied, result.Error?.Kind);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_ByAnotherTenantsKey_IsNotFound()
    {
        var result = await _bed.Management.CreateAsync(TestBed.GlobexKey, TestBed.TenantId, TestBed.Command(), default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
        Assert.Empty(_bed.Db.Offers);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_OnDeletedTenant_IsNotFound()
    {
        ConfigureTenant(t => t.DeletedAt = TestBed.Start);

        var result = await _bed.CreateOfferAsync(TestBed.Command());

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
    }

    [Fact]
    public async Task Get_ByAnotherTenantsKey_IsNotFound()
    {
        var created = await _bed.CreateOfferAsync(TestBed.Command());

        var result = await _bed.Management.GetAsync(TestBed.GlobexKey, TestBed.TenantId, created.Value.Offer.Id, default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
    }

    [Fact]
    public async Task Get_ByAdmin_IsPermissionDenied()
    {
        var created = await _bed.CreateOfferAsync(TestBed.Command());

        var result = await _bed.Management.GetAsync(TestBed.Admin, TestBed.TenantId, created.Value.Offer.Id, default);

        Assert.Equal(ErrorKind.PermissionDenied, result.Error?.Kind);
    }

    [Fact]
    public async Task Revoke_MarksRevokedAndAppendsOfferRevoked()
    {
        var created = await _bed.CreateOfferAsync(TestBed.Command());
        _bed.Clock.Advance(TimeSpan.FromMinutes(3));

        var result = await _bed.Management.RevokeAsync(TestBed.AcmeKey, TestBed.TenantId, created.Value.Offer.Id, default);

        Assert.Equal(OfferState.Revoked, result.Value.StateAt(_bed.Clock.GetUtcNow()));
        Assert.Equal(TestBed.Start.AddMinutes(3), result.Value.RevokedAt);
        Assert.Equal([EventTypes.OfferCreated, EventTypes.OfferRevoked], _bed.CommittedEventTypes());
        Assert.Equal(created.Value.Offer.Id, _bed.Db.Events[1].OfferId);
    }

    [Fact]
    public async Task Revoke_Twice_IsOfferNotActiveAndAppendsNothingMore()
    {
        var created = await _bed.CreateOfferAsync(TestBed.Command());
        await _bed.Management.RevokeAsync(TestBed.AcmeKey, TestBed.TenantId, created.Value.Offer.Id, default);

        var again = await _bed.Management.RevokeAsync(TestBed.AcmeKey, TestBed.TenantId, created.Value.Offer.Id, default);

        Assert.Equal(ErrorKind.FailedPrecondition, again.Error?.Kind);
        Assert.Equal(ErrorReasons.OfferNotActive, again.Error?.Reason);
        Assert.Equal(2, _bed.Db.AppendedEvents.Count);
    }

    [Fact]
    public async Task Revoke_ByAnotherTenantsKey_IsNotFoundAndLeavesTheOffer()
    {
        var created = await _bed.CreateOfferAsync(TestBed.Command());

        var result = await _bed.Management.RevokeAsync(TestBed.GlobexKey, TestBed.TenantId, created.Value.Offer.Id, default);

        Assert.Equal(ErrorKind.NotFound, result.Error?.Kind);
        Assert.Null(created.Value.Offer.RevokedAt);
    }

    // Lists

    [Fact]
    public async Task List_PagesNewestFirst()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await _bed.CreateOfferAsync(TestBed.Command())).Value.Offer.Id);
            _bed.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var first = await _bed.Management.ListAsync(TestBed.AcmeKey, TestBed.TenantId, null, null, 2, null, PageBudget.Unlimited<Offer>(), default);
        var second = await _bed.Management.ListAsync(TestBed.AcmeKey, TestBed.TenantId, null, null, 2, first.Value.NextPageToken, PageBudget.Unlimited<Offer>(), default);
        var firstIds = first.Value.Items.Select(o => o.Id).ToArray();
        var secondIds = second.Value.Items.Select(o => o.Id).ToArray();

        Assert.Equal([ids[2], ids[1]], firstIds);
        Assert.Equal([ids[0]], secondIds);
        Assert.Equal("", second.Value.NextPageToken);
    }

    [Fact]
    public async Task List_WithTokenMadeForOtherFilters_IsInvalidOnPageToken()
    {
        for (var i = 0; i < 3; i++) await _bed.CreateOfferAsync(TestBed.Command());
        var first = await _bed.Management.ListAsync(TestBed.AcmeKey, TestBed.TenantId, null, null, 2, null, PageBudget.Unlimited<Offer>(), default);

        var filtered = await _bed.Management.ListAsync(TestBed.AcmeKey, TestBed.TenantId, OfferState.Active, null, 2, first.Value.NextPageToken, PageBudget.Unlimited<Offer>(), default);

        Assert.Equal(["page_token"], TestBed.Fields(filtered.Error));
    }

    [Fact]
    public async Task List_WithTokenOfAnotherTenant_IsInvalidOnPageToken()
    {
        var token = PageTokens.Encode($"offers/{TestBed.OtherTenantId}//", "638000000000000000 abc");

        var result = await _bed.Management.ListAsync(TestBed.AcmeKey, TestBed.TenantId, null, null, 2, token, PageBudget.Unlimited<Offer>(), default);

        Assert.Equal(["page_token"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task List_WithTokenOfThisListButNoPosition_IsInvalidOnPageToken()
    {
        var token = PageTokens.Encode($"offers/{TestBed.TenantId}//", "not-a-position");

        var result = await _bed.Management.ListAsync(TestBed.AcmeKey, TestBed.TenantId, null, null, 2, token, PageBudget.Unlimited<Offer>(), default);

        Assert.Equal(["page_token"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task List_FiltersByState()
    {
        var revoked = await _bed.CreateOfferAsync(TestBed.Command());
        var active = await _bed.CreateOfferAsync(TestBed.Command());
        await _bed.Management.RevokeAsync(TestBed.AcmeKey, TestBed.TenantId, revoked.Value.Offer.Id, default);

        var result = await _bed.Management.ListAsync(TestBed.AcmeKey, TestBed.TenantId, OfferState.Active, null, 10, null, PageBudget.Unlimited<Offer>(), default);

        Assert.Equal(active.Value.Offer.Id, Assert.Single(result.Value.Items).Id);
    }
}
