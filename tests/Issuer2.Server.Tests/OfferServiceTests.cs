using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests;

/// <summary>OfferService: creating offers (URL shapes, PINs, QR codes, lifetimes, policies), reading, listing, revoking.</summary>
public abstract class OfferServiceTests(ServerFixture fixture)
{
    [Fact]
    public async Task CreateOffer_ByReferenceWithoutPin_ReturnsOfferUriUnderTheIssuer()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile);

        var url = OfferUrl.Parse(response.OfferUrl);
        Assert.Equal(new[] { "credential_offer_uri" }, url.Parameters.Keys);
        var token = url.TokenUnder(tenant.Tenant.CredentialIssuer);
        var offer = response.Offer;
        Assert.NotEqual(offer.OfferId, token);
        Assert.DoesNotContain(token, offer.Name, StringComparison.Ordinal);
        Assert.Equal($"{tenant.Name}/offers/{offer.OfferId}", offer.Name);
        Assert.Equal(profile.Name, offer.Profile);
        Assert.Equal(1, offer.ProfileVersion);
        Assert.Equal(AuthenticationMethod.PreAuthorized, offer.AuthenticationMethod);
        Assert.Equal(DeliveryMode.ByReference, offer.DeliveryMode);
        Assert.Equal(IssuerStateMode.Omit, offer.IssuerStateMode);
        Assert.Equal(OfferState.Active, offer.State);
        Assert.Equal(1, offer.MaxUses);
        Assert.Equal(0, offer.UseCount);
        Assert.False(offer.PinRequired);
        Assert.Equal(0, offer.PinFailedAttempts);
        Assert.Equal(fixture.Now, offer.CreateTime.ToDateTimeOffset());
        Assert.Equal(fixture.Now.AddHours(24), offer.ExpireTime.ToDateTimeOffset());
        Assert.Null(offer.RevokeTime);
        Assert.Null(offer.LockTime);
        Assert.Empty(response.TxCode);
        Assert.True(response.QrCode is null || (response.QrCode.Png.IsEmpty && response.QrCode.Svg.Length == 0), "a QR code nobody asked for");

        var second = await ServerFixture.CreateOfferAsync(tenant, profile);
        Assert.NotEqual(token, OfferUrl.Parse(second.OfferUrl).TokenUnder(tenant.Tenant.CredentialIssuer));
        Assert.NotEqual(offer.OfferId, second.Offer.OfferId);
    }

    [Fact]
    public async Task CreateOffer_ByValueWithGeneratedPin_CarriesTheOfferJsonWithTxCode()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r =>
        {
            r.DeliveryMode = DeliveryMode.ByValue;
            r.TxCode = new TxCodeOptions { Description = "Enter the PIN from the letter" };
        });

        Assert.Matches("^[0-9]{6}$", response.TxCode);
        var url = OfferUrl.Parse(response.OfferUrl);
        Assert.Equal(new[] { "credential_offer" }, url.Parameters.Keys);
        using var json = JsonDocument.Parse(url.CredentialOfferJson!);
        var root = json.RootElement;
        Assert.Equal(tenant.Tenant.CredentialIssuer, root.GetProperty("credential_issuer").GetString());
        Assert.Equal(new[] { profile.ProfileId }, root.GetProperty("credential_configuration_ids").EnumerateArray().Select(e => e.GetString()));
        var grants = root.GetProperty("grants");
        Assert.Equal(new[] { OfferUrl.PreAuthorizedGrant }, grants.EnumerateObject().Select(p => p.Name));
        var grant = grants.GetProperty(OfferUrl.PreAuthorizedGrant);
        Assert.False(string.IsNullOrEmpty(grant.GetProperty("pre-authorized_code").GetString()));
        var txCode = grant.GetProperty("tx_code");
        Assert.Equal("numeric", txCode.GetProperty("input_mode").GetString());
        Assert.Equal(6, txCode.GetProperty("length").GetInt32());
        Assert.Equal("Enter the PIN from the letter", txCode.GetProperty("description").GetString());
        Assert.Equal(
            new[] { "description", "input_mode", "length" },
            txCode.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        var offer = response.Offer;
        Assert.Equal(DeliveryMode.ByValue, offer.DeliveryMode);
        Assert.True(offer.PinRequired);
        Assert.Equal(TxCodeInputMode.Numeric, offer.PinInputMode);
        Assert.Equal(6, offer.PinLength);
        Assert.Equal("Enter the PIN from the letter", offer.PinDescription);
        Assert.Equal(1, offer.MaxUses);
        // A BY_VALUE offer lives as long as its one pre-authorized code: the tenant's 5 minutes.
        Assert.Equal(fixture.Now.AddMinutes(5), offer.ExpireTime.ToDateTimeOffset());
    }

    [Fact]
    public async Task CreateOffer_ByValueWithoutPin_HasNoTxCode()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.DeliveryMode = DeliveryMode.ByValue);

        Assert.Empty(response.TxCode);
        Assert.False(response.Offer.PinRequired);
        using var json = JsonDocument.Parse(OfferUrl.Parse(response.OfferUrl).CredentialOfferJson!);
        var grant = json.RootElement.GetProperty("grants").GetProperty(OfferUrl.PreAuthorizedGrant);
        Assert.False(grant.TryGetProperty("tx_code", out _), "tx_code in an offer without a PIN");
        Assert.False(string.IsNullOrEmpty(grant.GetProperty("pre-authorized_code").GetString()));
    }

    [Fact]
    public async Task CreateOffer_ByValueWithSuppliedTextPin_ReturnsItAndDescribesItsShape()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        const string pin = "correct horse battery";

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r =>
        {
            r.DeliveryMode = DeliveryMode.ByValue;
            r.TxCode = new TxCodeOptions { Value = pin, InputMode = TxCodeInputMode.Text };
        });

        Assert.Equal(pin, response.TxCode);
        Assert.Equal(TxCodeInputMode.Text, response.Offer.PinInputMode);
        Assert.Equal(pin.Length, response.Offer.PinLength);
        var json = OfferUrl.Parse(response.OfferUrl).CredentialOfferJson!;
        using var doc = JsonDocument.Parse(json);
        var txCode = doc.RootElement.GetProperty("grants").GetProperty(OfferUrl.PreAuthorizedGrant).GetProperty("tx_code");
        Assert.Equal("text", txCode.GetProperty("input_mode").GetString());
        Assert.Equal(pin.Length, txCode.GetProperty("length").GetInt32());
        Assert.DoesNotContain(pin, json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateOffer_ByReferenceWithSuppliedNumericPin_ReturnsIt()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.TxCode = new TxCodeOptions { Value = "908172635" });

        Assert.Equal("908172635", response.TxCode);
        Assert.True(response.Offer.PinRequired);
        Assert.Equal(TxCodeInputMode.Numeric, response.Offer.PinInputMode);
        Assert.Equal(9, response.Offer.PinLength);
        Assert.DoesNotContain("908172635", response.OfferUrl, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(12)]
    public async Task CreateOffer_WithGeneratedPinOfLength_ReturnsThatManyDigits(int length)
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.TxCode = new TxCodeOptions { Length = length });

        Assert.Matches($"^[0-9]{{{length}}}$", response.TxCode);
        Assert.Equal(length, response.Offer.PinLength);
        Assert.Equal(TxCodeInputMode.Numeric, response.Offer.PinInputMode);
    }

    [Fact]
    public async Task CreateOffer_WithQrCode_ReturnsPngAndSvgOfTheUrl()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.IncludeQrCode = true);

        Assert.NotNull(response.QrCode);
        var png = response.QrCode.Png.ToByteArray();
        Assert.True(png.Length > 100, $"PNG of {png.Length} bytes");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Contains("<svg", response.QrCode.Svg, StringComparison.Ordinal);
        Assert.Contains("</svg>", response.QrCode.Svg, StringComparison.Ordinal);
        OfferUrl.Parse(response.OfferUrl).TokenUnder(tenant.Tenant.CredentialIssuer);
    }

    [Fact]
    public async Task CreateOffer_WithLifetime_ExpiresThen()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Lifetime = Samples.Hours(2));

        Assert.Equal(fixture.Now.AddHours(2), response.Offer.ExpireTime.ToDateTimeOffset());
    }

    [Fact]
    public async Task CreateOffer_WithExpireTime_ExpiresThen()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var expire = fixture.Now.AddDays(29);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.ExpireTime = Timestamp.FromDateTimeOffset(expire));

        Assert.Equal(expire, response.Offer.ExpireTime.ToDateTimeOffset());
    }

    [Fact]
    public async Task CreateOffer_UsesTheTenantsLifetimes()
    {
        var tenant = await fixture.CreateTenantAsync(t =>
        {
            t.DefaultOfferLifetime = Samples.Hours(3);
            t.MaxOfferLifetime = Samples.Days(2);
            t.PreAuthorizedCodeLifetime = Samples.Minutes(15);
        });
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var byReference = await ServerFixture.CreateOfferAsync(tenant, profile);
        var byValue = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.DeliveryMode = DeliveryMode.ByValue);

        Assert.Equal(fixture.Now.AddHours(3), byReference.Offer.ExpireTime.ToDateTimeOffset());
        Assert.Equal(fixture.Now.AddMinutes(15), byValue.Offer.ExpireTime.ToDateTimeOffset());
        await RpcAssert.InvalidAsync(
            async () => await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Lifetime = Samples.Days(3)),
            "lifetime");
    }

    [Fact]
    public async Task CreateOffer_WithOverridesAndUses_KeepsThem()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r =>
        {
            r.MaxUses = 25;
            r.Overrides.Add(Samples.StringValue("Anna", "given_name"));
            r.Overrides.Add(Samples.StringValue("1990-01-31", "birthdate"));
            r.Overrides.Add(Samples.NumberValue(34, "age_in_years"));
            r.Overrides.Add(Samples.BoolValue(true, "is_over_18"));
            r.Overrides.Add(Samples.StringValue("Berlin", "address", "locality"));
            r.Overrides.Add(Samples.NumberValue(9.75, "score"));
        });

        Assert.Equal(25, response.Offer.MaxUses);
        Assert.Equal(6, response.Offer.Overrides.Count);
        var read = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = response.Offer.Name })).Offer;
        Assert.Equal(response.Offer, read);
        Assert.Equal("Berlin", read.Overrides.Single(o => o.Path.Count == 2).Value.StringValue);
        Assert.Equal(9.75, read.Overrides.Single(o => o.Path[0] == "score").Value.NumberValue);
    }

    [Fact]
    public async Task CreateOffer_OnTenantRequiringPin_WithoutPin_IsFailedPreconditionPinRequired()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.RequirePin = true);
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, "PIN_REQUIRED", async () =>
            await ServerFixture.CreateOfferAsync(tenant, profile));
        Assert.Empty((await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name })).Offers);

        var withPin = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.TxCode = new TxCodeOptions());
        Assert.True(withPin.Offer.PinRequired);
        Assert.Matches("^[0-9]{6}$", withPin.TxCode);
    }

    [Fact]
    public async Task CreateOffer_Authorized_OnTenantNotAllowingIt_IsFailedPreconditionMethodNotAllowed()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, "METHOD_NOT_ALLOWED", async () =>
            await ServerFixture.CreateOfferAsync(tenant, profile, r => r.AuthenticationMethod = AuthenticationMethod.Authorized));
    }

    [Fact]
    public async Task CreateOffer_Authorized_OnTenantWithoutIdentityProvider_IsFailedPreconditionIdentityProviderMissing()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync(withIdentityProvider: false);
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var ex = await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, "IDENTITY_PROVIDER_MISSING", async () =>
            await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Authorized(IssuerStateMode.Include)));
        Assert.False(string.IsNullOrWhiteSpace(ex.Status.Detail), "FAILED_PRECONDITION without a message");
        Assert.Empty((await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name })).Offers);
    }

    [Fact]
    public async Task CreateOffer_AuthorizedIncludeByValue_CarriesOnlyTheAuthorizationCodeGrantWithItsIssuerState()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r =>
        {
            r.Authorized(IssuerStateMode.Include, DeliveryMode.ByValue);
            r.MaxUses = 3;
            r.Lifetime = Samples.Days(2);
        });

        using var json = JsonDocument.Parse(OfferUrl.Parse(response.OfferUrl).CredentialOfferJson!);
        var root = json.RootElement;
        Assert.Equal(tenant.Tenant.CredentialIssuer, root.GetProperty("credential_issuer").GetString());
        Assert.Equal([profile.ProfileId], root.GetProperty("credential_configuration_ids").EnumerateArray().Select(e => e.GetString()));
        var grants = root.GetProperty("grants");
        Assert.Equal(["authorization_code"], grants.EnumerateObject().Select(p => p.Name));
        var grant = grants.GetProperty("authorization_code");
        Assert.Equal(["issuer_state"], grant.EnumerateObject().Select(p => p.Name));
        var issuerState = grant.GetProperty("issuer_state").GetString()!;
        Assert.Matches("^[A-Za-z0-9_-]{43}$", issuerState);
        var offer = response.Offer;
        Assert.Equal(AuthenticationMethod.Authorized, offer.AuthenticationMethod);
        Assert.Equal(IssuerStateMode.Include, offer.IssuerStateMode);
        Assert.Equal(3, offer.MaxUses);
        Assert.Equal(fixture.Now.AddDays(2), offer.ExpireTime.ToDateTimeOffset());
        Assert.Empty(response.TxCode);
        var state = Assert.Single(await IssuerStatesAsync(offer.OfferId));
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(issuerState)), state.StateHash);
        Assert.False(state.SingleUse);
        Assert.Equal(offer.ExpireTime.ToDateTimeOffset(), state.ExpiresAt);
    }

    [Fact]
    public async Task CreateOffer_AuthorizedOmitByValue_HasAnEmptyGrant_CountsNoUses_AndStoresNoState()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Authorized(IssuerStateMode.Omit, DeliveryMode.ByValue));

        using var json = JsonDocument.Parse(OfferUrl.Parse(response.OfferUrl).CredentialOfferJson!);
        var grants = json.RootElement.GetProperty("grants");
        Assert.Equal(["authorization_code"], grants.EnumerateObject().Select(p => p.Name));
        Assert.Empty(grants.GetProperty("authorization_code").EnumerateObject());
        Assert.Equal(0, response.Offer.MaxUses);
        Assert.Equal(OfferState.Active, response.Offer.State);
        Assert.Equal(IssuerStateMode.Omit, response.Offer.IssuerStateMode);
        Assert.Empty(await IssuerStatesAsync(response.Offer.OfferId));
        Assert.Equal(response.Offer, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = response.Offer.Name })).Offer);
        var active = await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name, State = OfferState.Active });
        Assert.Contains(active.Offers, o => o.OfferId == response.Offer.OfferId);
    }

    [Fact]
    public async Task CreateOffer_AuthorizedOmit_OnTenantRequiringIssuerState_IsFailedPreconditionIssuerStateRequired()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync(configure: t => t.AuthorizationServer = new AuthorizationServerSettings { RequireIssuerState = true });
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, "ISSUER_STATE_REQUIRED", async () =>
            await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Authorized(IssuerStateMode.Omit)));
        var include = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Authorized(IssuerStateMode.Include));

        Assert.Equal(IssuerStateMode.Include, include.Offer.IssuerStateMode);
    }

    [Fact]
    public async Task CreateOffer_Authorized_OnTenantRequiringPin_NeedsNoPin()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync(configure: t => t.RequirePin = true);
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        var response = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Authorized(IssuerStateMode.Include));

        Assert.False(response.Offer.PinRequired);
        Assert.Empty(response.TxCode);
    }

    [Fact]
    public async Task CreateOffer_AuthorizedWithMandatoryClaimFromAMapping_NeedsNoOverride()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, p =>
        {
            p.Claims[2].Mandatory = true; // birthdate, no default
            p.ClaimMappings.Add(new ClaimMapping { Path = { "birthdate" }, SourcePath = { "birthdate" } });
        });

        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Authorized(IssuerStateMode.Omit));

        Assert.Equal(OfferState.Active, offer.Offer.State);
        await RpcAssert.InvalidAsync(async () => await ServerFixture.CreateOfferAsync(tenant, profile), "overrides");
    }

    [Fact]
    public async Task CreateOffer_AuthorizedByValueRetriedWithSameRequestId_ReturnsTheIdenticalUrl()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var request = new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name, RequestId = "authorized-" + Guid.NewGuid().ToString("N") };
        request.Authorized(IssuerStateMode.Include, DeliveryMode.ByValue);

        var first = await tenant.Clients.Offers.CreateOfferAsync(request);
        var retry = await tenant.Clients.Offers.CreateOfferAsync(request);

        Assert.Equal(first.OfferUrl, retry.OfferUrl);
        Assert.Equal(first.Offer.OfferId, retry.Offer.OfferId);
        Assert.Single(await IssuerStatesAsync(first.Offer.OfferId));
        Assert.Single((await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name })).Offers);
    }

    [Fact]
    public async Task ResolveOffer_AuthorizedIncludeByReference_MintsAFreshShortLivedIssuerStateEachTime()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var created = await ServerFixture.CreateOfferAsync(tenant, profile, r => { r.Authorized(IssuerStateMode.Include); r.MaxUses = 2; });
        using var wallet = new Wallet.TestWallet(fixture.Host.HttpUrl);
        var offerUri = wallet.OnThisHost(OfferUrl.Parse(created.OfferUrl).CredentialOfferUri!);

        var first = await wallet.GetAsync(offerUri);
        var second = await wallet.GetAsync(offerUri);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        var states = new[] { first, second }.Select(reply =>
        {
            var grants = reply.Json.GetProperty("grants");
            Assert.Equal(["authorization_code"], grants.EnumerateObject().Select(p => p.Name));
            return grants.GetProperty("authorization_code").GetProperty("issuer_state").GetString()!;
        }).ToArray();
        Assert.NotEqual(states[0], states[1]);
        var stored = await IssuerStatesAsync(created.Offer.OfferId);
        Assert.Equal(states.Select(x => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(x)))).Order(), stored.Select(x => Convert.ToHexString(x.StateHash)).Order());
        Assert.All(stored, x =>
        {
            Assert.True(x.SingleUse);
            Assert.Equal(fixture.Now.AddMinutes(10), x.ExpiresAt);
        });
        Assert.Equal(2, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = created.Offer.Name })).Offer.ResolutionCount);
    }

    [Fact]
    public async Task ResolveOffer_AuthorizedOmitByReference_ReturnsAnEmptyGrantAndWritesNoState()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var created = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Authorized(IssuerStateMode.Omit));
        using var wallet = new Wallet.TestWallet(fixture.Host.HttpUrl);

        var reply = await wallet.GetAsync(wallet.OnThisHost(OfferUrl.Parse(created.OfferUrl).CredentialOfferUri!));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("{}", reply.Json.GetProperty("grants").GetProperty("authorization_code").GetRawText());
        Assert.Empty(await IssuerStatesAsync(created.Offer.OfferId));
        var events = await fixture.ReadEventsUntilAsync(tenant.TenantId, e => e.Type == "offer.resolved");
        Assert.Single(events, e => e.Type == "offer.resolved" && e.OfferId == created.Offer.OfferId);
    }

    [Fact]
    public async Task ResolveOffer_RevokedAuthorizedOffer_IsNotFoundAndWritesNoState()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var created = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Authorized(IssuerStateMode.Include));
        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = created.Offer.Name });
        using var wallet = new Wallet.TestWallet(fixture.Host.HttpUrl);

        var reply = await wallet.GetAsync(wallet.OnThisHost(OfferUrl.Parse(created.OfferUrl).CredentialOfferUri!));

        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Empty(await IssuerStatesAsync(created.Offer.OfferId));
    }

    [Fact]
    public async Task IssuerStates_OnceExpired_ArePurgedByTheWalletRetention()
    {
        var tenant = await fixture.CreateAuthorizedTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var byValue = await ServerFixture.CreateOfferAsync(tenant, profile, r => { r.Authorized(IssuerStateMode.Include, DeliveryMode.ByValue); r.Lifetime = Samples.Hours(1); });
        var byReference = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Authorized(IssuerStateMode.Include));
        using var wallet = new Wallet.TestWallet(fixture.Host.HttpUrl);
        Assert.Equal(HttpStatusCode.OK, (await wallet.GetAsync(wallet.OnThisHost(OfferUrl.Parse(byReference.OfferUrl).CredentialOfferUri!))).Status);

        // Kept for one flow's lifetime after it expired: a flow that began just before may still redeem it.
        fixture.Time.Advance(TimeSpan.FromMinutes(11));
        await PurgeAsync();
        Assert.Single(await IssuerStatesAsync(byReference.Offer.OfferId));
        fixture.Time.Advance(TimeSpan.FromMinutes(10));
        await PurgeAsync();
        Assert.Empty(await IssuerStatesAsync(byReference.Offer.OfferId));
        Assert.Single(await IssuerStatesAsync(byValue.Offer.OfferId));

        fixture.Time.Advance(TimeSpan.FromMinutes(50));
        await PurgeAsync();
        Assert.Empty(await IssuerStatesAsync(byValue.Offer.OfferId));
    }

    private async Task<List<Core.Offers.IssuerState>> IssuerStatesAsync(string offerId)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        return await db.IssuerStates.AsNoTracking().Where(s => s.OfferId == offerId).ToListAsync();
    }

    private async Task PurgeAsync()
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var retention = scope.ServiceProvider.GetRequiredService<Core.Wallet.IWalletRetention>();
        while (await retention.PurgeExpiredAsync(fixture.Now, 50, CancellationToken.None) > 0)
        {
            // Until nothing expired is left.
        }
    }

    [Fact]
    public async Task CreateOffer_PreAuthorized_OnTenantAllowingOnlyAuthorized_IsFailedPreconditionMethodNotAllowed()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.AllowedAuthenticationMethods.Add(AuthenticationMethod.Authorized));
        var profile = await ServerFixture.CreateProfileAsync(tenant);

        await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, "METHOD_NOT_ALLOWED", async () =>
            await ServerFixture.CreateOfferAsync(tenant, profile));
    }

    [Fact]
    public async Task GetOffer_ReturnsTheCreatedOfferAndNoSecret()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var created = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.TxCode = new TxCodeOptions { Length = 10 });
        var token = OfferUrl.Parse(created.OfferUrl).TokenUnder(tenant.Tenant.CredentialIssuer);

        var read = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = created.Offer.Name })).Offer;

        Assert.Equal(created.Offer, read);
        var text = read.ToString();
        Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        Assert.DoesNotContain(created.TxCode, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOffer_Unknown_IsNotFound()
    {
        var tenant = await fixture.CreateTenantAsync();

        await RpcAssert.NotFoundAsync(async () =>
            await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = tenant.Name + "/offers/nope" }));
    }

    [Fact]
    public async Task ListOffers_PagesNewestFirst_AndFiltersByProfileAndState()
    {
        var tenant = await fixture.CreateTenantAsync();
        var p1 = await ServerFixture.CreateProfileAsync(tenant);
        var p2 = await ServerFixture.CreateProfileAsync(tenant);
        var made = new List<Offer>();
        foreach (var profile in new[] { p1, p1, p2, p1, p2 })
        {
            fixture.Time.Advance(TimeSpan.FromSeconds(1));
            made.Add((await ServerFixture.CreateOfferAsync(tenant, profile)).Offer);
        }

        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = made[1].Name });

        var all = await ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name, PageSize = 2 });
        Assert.Equal(made.Select(o => o.Name).Reverse(), all.Select(o => o.Name));

        var ofP2 = await ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name, PageSize = 1, Profile = p2.Name });
        Assert.Equal(new[] { made[4].Name, made[2].Name }, ofP2.Select(o => o.Name));

        var revoked = await ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name, State = OfferState.Revoked });
        Assert.Equal(made[1].Name, Assert.Single(revoked).Name);

        var activeOfP1 = await ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name, PageSize = 1, State = OfferState.Active, Profile = p1.Name });
        Assert.Equal(new[] { made[3].Name, made[0].Name }, activeOfP1.Select(o => o.Name));
        Assert.All(activeOfP1, o => Assert.Equal(OfferState.Active, o.State));
    }

    [Fact]
    public async Task RevokeOffer_MakesItRevoked_AndASecondRevokeIsFailedPreconditionOfferNotActive()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var created = await ServerFixture.CreateOfferAsync(tenant, profile);
        fixture.Time.Advance(TimeSpan.FromMinutes(3));

        var revoked = (await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = created.Offer.Name })).Offer;

        Assert.Equal(OfferState.Revoked, revoked.State);
        Assert.Equal(fixture.Now, revoked.RevokeTime.ToDateTimeOffset());
        var read = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = created.Offer.Name })).Offer;
        Assert.Equal(revoked, read);

        await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, "OFFER_NOT_ACTIVE", async () =>
            await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = created.Offer.Name }));
    }

    [Fact]
    public async Task RevokeOffer_Unknown_IsNotFound()
    {
        var tenant = await fixture.CreateTenantAsync();

        await RpcAssert.NotFoundAsync(async () =>
            await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = tenant.Name + "/offers/nope" }));
    }

    [Fact]
    public async Task Offer_PastItsExpireTime_IsExpired_AndTheStateFilterAgrees()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var shortLived = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Lifetime = Samples.Hours(1));
        var longLived = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Lifetime = Samples.Hours(3));

        fixture.Time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(OfferState.Active, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = shortLived.Offer.Name })).Offer.State);

        fixture.Time.Advance(TimeSpan.FromMinutes(2));
        var expired = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = shortLived.Offer.Name })).Offer;
        Assert.Equal(OfferState.Expired, expired.State);
        Assert.Equal(OfferState.Active, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = longLived.Offer.Name })).Offer.State);

        var listedExpired = await ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name, State = OfferState.Expired });
        Assert.Equal(shortLived.Offer.Name, Assert.Single(listedExpired).Name);
        var listedActive = await ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name, State = OfferState.Active });
        Assert.Equal(longLived.Offer.Name, Assert.Single(listedActive).Name);
        var all = await ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name });
        Assert.Equal(OfferState.Expired, all.Single(o => o.Name == shortLived.Offer.Name).State);
    }

    [Fact]
    public async Task Offer_RevokedAndExpired_IsRevoked()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var created = await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Lifetime = Samples.Hours(1));
        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = created.Offer.Name });

        fixture.Time.Advance(TimeSpan.FromHours(2));

        Assert.Equal(OfferState.Revoked, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = created.Offer.Name })).Offer.State);
        Assert.Single(await ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name, State = OfferState.Revoked }));
        Assert.Empty(await ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name, State = OfferState.Expired }));
    }

    internal static async Task<List<Offer>> ListAllAsync(TestTenant tenant, ListOffersRequest request)
    {
        var offers = new List<Offer>();
        var token = "";
        do
        {
            var page = await tenant.Clients.Offers.ListOffersAsync(new ListOffersRequest(request) { PageToken = token });
            if (request.PageSize > 0)
            {
                Assert.True(page.Offers.Count <= request.PageSize, $"page of {page.Offers.Count} with page_size {request.PageSize}");
            }

            offers.AddRange(page.Offers);
            token = page.NextPageToken;
            Assert.True(offers.Count < 1000, "the page tokens never end");
        }
        while (token.Length > 0);
        return offers;
    }
}

public sealed class OfferServiceTests_Sqlite(SqliteServerFixture fixture)
    : OfferServiceTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class OfferServiceTests_Postgres(PostgresServerFixture fixture)
    : OfferServiceTests(fixture), IClassFixture<PostgresServerFixture>;
