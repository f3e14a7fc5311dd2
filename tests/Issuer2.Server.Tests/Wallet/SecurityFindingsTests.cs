using Google.Protobuf.WellKnownTypes;
using Issuer2.Core.Events;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// Findings of issue 9's security review, each reproduced as a user of a running host would: a lowered PIN limit,
/// PIN guesses racing the lock, and a proof bound to the client_id its token was issued to.
/// </summary>
public abstract class SecurityFindingsTests(ServerFixture fixture)
{
    [Fact]
    public async Task LoweringThePinLimit_LocksOffersAtOrOverIt_AndNoFurtherGuessIsCounted()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.PinAttemptLimit = 10);
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        using var wallet = WalletSetup.WalletOn(fixture);
        var guessed = await PinOfferAsync(tenant, profile, maxUses: 3);
        var fresh = await PinOfferAsync(tenant, profile, maxUses: 3);
        var wrong = WrongPin(guessed);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("invalid_grant", (await wallet.RedeemCodeAsync(tenant.TenantId, await wallet.ResolveCodeAsync(guessed.OfferUrl), wrong)).Error);
        }

        await LowerLimitAsync(tenant, 3);
        var replies = new List<WalletReply>();
        for (var i = 0; i < 50; i++)
        {
            replies.Add(await wallet.RedeemCodeAsync(tenant.TenantId, await ResolveCodeOrNullAsync(wallet, guessed) ?? "gone", wrong));
        }
        var right = await wallet.RedeemCodeAsync(tenant.TenantId, await ResolveCodeOrNullAsync(wallet, guessed) ?? "gone", guessed.TxCode);

        var after = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = guessed.Offer.Name })).Offer;
        Assert.Equal(OfferState.Locked, after.State);
        Assert.Equal(6, after.PinFailedAttempts);
        Assert.All(replies, r => Assert.NotEqual(200, r.StatusCode));
        Assert.NotEqual(200, right.StatusCode);
        Assert.Equal(OfferState.Active, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = fresh.Offer.Name })).Offer.State);
        // Note: on PostgreSQL an event shows once every older transaction ended; the locks commit together with the limit.
        var locked = (await fixture.ReadEventsUntilAsync(tenant.TenantId, e => e.Type == EventTypes.OfferLocked)).Where(e => e.Type == EventTypes.OfferLocked).ToList();
        Assert.Equal(guessed.Offer.OfferId, Assert.Single(locked).OfferId);
    }

    [Fact]
    public async Task RaisingThePinLimit_NeverUnlocks()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.PinAttemptLimit = 2);
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        using var wallet = WalletSetup.WalletOn(fixture);
        var offer = await PinOfferAsync(tenant, profile, maxUses: 3);
        var wrong = WrongPin(offer);
        var codes = await ResolveCodesAsync(wallet, offer, 3);
        for (var i = 0; i < 2; i++) await wallet.RedeemCodeAsync(tenant.TenantId, codes[i], wrong);
        var code = codes[2];

        await LowerLimitAsync(tenant, 20);

        Assert.Equal(OfferState.Locked, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.State);
        Assert.NotEqual(200, (await wallet.RedeemCodeAsync(tenant.TenantId, code, offer.TxCode)).StatusCode);
    }

    [Fact]
    public async Task AfterTheLock_TheRightPinAndAWrongPin_GetTheSameAnswer()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.PinAttemptLimit = 2);
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        using var wallet = WalletSetup.WalletOn(fixture);
        var offer = await PinOfferAsync(tenant, profile, maxUses: 5);
        var wrong = WrongPin(offer);
        var codes = await ResolveCodesAsync(wallet, offer, 4);
        await wallet.RedeemCodeAsync(tenant.TenantId, codes[0], wrong);
        Assert.Contains("now locked", (await wallet.RedeemCodeAsync(tenant.TenantId, codes[1], wrong)).ErrorDescription, StringComparison.Ordinal);

        var rightPin = await wallet.RedeemCodeAsync(tenant.TenantId, codes[2], offer.TxCode);
        var wrongPin = await wallet.RedeemCodeAsync(tenant.TenantId, codes[3], wrong);

        Assert.Equal(400, rightPin.StatusCode);
        Assert.Equal((wrongPin.StatusCode, wrongPin.Body), (rightPin.StatusCode, rightPin.Body));
    }

    [Fact]
    public async Task RacingGuesses_OnceLocked_NoRequestIsToldAnythingButLocked_AndOnlyTheLimitIsCounted()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.PinAttemptLimit = 3);
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        using var wallet = WalletSetup.WalletOn(fixture);
        var offer = await PinOfferAsync(tenant, profile, maxUses: 1);
        var wrong = WrongPin(offer);
        // Eleven codes: one use plus the slack of ten is as many live codes as the offer may hold.
        var codes = await ResolveCodesAsync(wallet, offer, 11);

        // Nine wrong guesses and two right ones at once.
        var replies = await Task.WhenAll(codes.Select((code, i) => wallet.RedeemCodeAsync(tenant.TenantId, code, i % 4 == 3 ? offer.TxCode : wrong)));

        var state = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
        var tokens = replies.Count(r => r.StatusCode == 200);
        var rightPins = replies.Where((_, i) => i % 4 == 3).ToList();
        Assert.True(state.PinFailedAttempts <= 3, $"{state.PinFailedAttempts} wrong PINs were counted");
        Assert.InRange(tokens, 0, 1);
        Assert.True(state.State == OfferState.Locked || tokens == 1, $"neither locked nor redeemed: {state.State}");
        // A right PIN is never told it is wrong, and, unless it won the one use before the lock, hears what the rest hear.
        Assert.All(rightPins, r => Assert.DoesNotContain("tx_code is wrong", r.Body, StringComparison.Ordinal));
        if (tokens == 0)
        {
            var ended = replies.Where(r => !r.ErrorDescription!.StartsWith("The tx_code is wrong", StringComparison.Ordinal)).ToList();
            Assert.All(ended, r => Assert.Equal("The offer is locked after too many wrong PINs.", r.ErrorDescription));
        }
    }

    [Fact]
    public async Task ProofIss_WhenTheTokenWasIssuedToAClientId_MayBeThatClientId()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        using var wallet = WalletSetup.WalletOn(fixture);
        using var key = new HolderKey();
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);
        var token = await wallet.TokenAsync(tenant.TenantId,
            ("grant_type", TestWallet.PreAuthorizedGrant), ("pre-authorized_code", await wallet.ResolveCodeAsync(offer.OfferUrl)), ("client_id", "wallet-a"));
        var payload = HolderKey.ProofPayload(tenant.Tenant.CredentialIssuer, await wallet.FreshNonceAsync(tenant.TenantId), fixture.Now);
        payload["iss"] = "wallet-a";

        var credential = await wallet.CredentialAsync(tenant.TenantId, token.Text("access_token"),
            TestWallet.CredentialRequest(profile.ProfileId, key.Sign(key.ProofHeader(), payload)));

        Assert.Equal(200, credential.StatusCode);
    }

    /// <summary>An offer of the profile with a 6-digit PIN (tx_code), usable <paramref name="maxUses"/> times.</summary>
    private static Task<CreateOfferResponse> PinOfferAsync(TestTenant tenant, Profile profile, int maxUses) =>
        ServerFixture.CreateOfferAsync(tenant, profile, r =>
        {
            r.TxCode = new TxCodeOptions { Length = 6 };
            r.MaxUses = maxUses;
        });

    /// <summary>A 6-digit PIN that is not the offer's.</summary>
    private static string WrongPin(CreateOfferResponse offer) => offer.TxCode == "000000" ? "111111" : "000000";

    /// <summary><paramref name="count"/> pre-authorized codes of the offer, resolved one after another.</summary>
    private static async Task<List<string>> ResolveCodesAsync(TestWallet wallet, CreateOfferResponse offer, int count)
    {
        var codes = new List<string>();
        for (var i = 0; i < count; i++) codes.Add(await wallet.ResolveCodeAsync(offer.OfferUrl));
        return codes;
    }

    private async Task LowerLimitAsync(TestTenant tenant, int limit) =>
        await fixture.Admin.Tenants.UpdateTenantAsync(new UpdateTenantRequest
        {
            Tenant = new Tenant { Name = tenant.Name, PinAttemptLimit = limit },
            UpdateMask = new FieldMask { Paths = { "pin_attempt_limit" } },
        });

    private static async Task<string?> ResolveCodeOrNullAsync(TestWallet wallet, CreateOfferResponse offer)
    {
        var uri = OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri!;
        var reply = await wallet.GetAsync(wallet.OnThisHost(uri));
        return reply.StatusCode == 200 ? TestWallet.CodeOf(reply.Json) : null;
    }
}

public sealed class SecurityFindingsTests_Sqlite(SqliteServerFixture fixture)
    : SecurityFindingsTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class SecurityFindingsTests_Postgres(PostgresServerFixture fixture)
    : SecurityFindingsTests(fixture), IClassFixture<PostgresServerFixture>;
