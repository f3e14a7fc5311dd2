using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// Independent wallet code (@openid4vc/openid4vci, @sd-jwt/sd-jwt-vc; tests/interop/scenarios.mjs) claims credentials
/// from the real server and verifies them as a verifier would; these tests set up the offers over gRPC and check
/// what the wallet saw, and what the server recorded.
/// </summary>
public abstract class InteropTests(ServerFixture fixture)
{
    [Theory]
    [InlineData(DeliveryMode.ByReference, false)]
    [InlineData(DeliveryMode.ByReference, true)]
    [InlineData(DeliveryMode.ByValue, false)]
    [InlineData(DeliveryMode.ByValue, true)]
    public async Task WalletLibrary_ClaimsOffer_AndVerifierAcceptsCredentialWithProfileDisclosuresAndOverrides(DeliveryMode delivery, bool withPin)
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, request =>
        {
            request.DeliveryMode = delivery;
            WalletSetup.WithOverrides(request);
            if (withPin)
            {
                request.TxCode = new TxCodeOptions();
            }
        });
        WalletSetup.CatchUpWithRealTime(fixture);

        var result = await NodeWallet.RunAsync(new JsonObject
        {
            ["scenario"] = "claimOne",
            ["offerUrl"] = offer.OfferUrl,
            ["txCode"] = withPin ? offer.TxCode : null,
            ["notify"] = "credential_accepted",
        });

        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        AssertCredential(result, tenant, profile);

        // The server saw the same: one use, one credential, the notification on the session.
        var stored = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
        Assert.Equal(1, stored.UseCount);
        Assert.Equal(1, stored.IssuedCredentialCount);
        var sessions = (await tenant.Clients.Offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offer.Offer.Name })).Sessions;
        var session = Assert.Single(sessions);
        Assert.Equal(profile.ProfileId, session.CredentialConfigurationId);
        Assert.NotNull(session.CompleteTime);
        var credential = Assert.Single(session.Credentials);
        Assert.Equal("credential_accepted", credential.NotificationEvent);
        Assert.Equal("dc+sd-jwt", credential.Format);
        Assert.Equal(Thumbprint(result.GetProperty("holderJwk")), credential.HolderKeyThumbprint);
    }

    [Fact]
    public async Task WalletLibrary_WrongPinThenRightPin_FirstRefusedWithInvalidGrant_ThenCredentialIssued()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, request =>
        {
            WalletSetup.WithOverrides(request);
            request.TxCode = new TxCodeOptions { Length = 6 };
        });
        var wrong = offer.TxCode == "000000" ? "111111" : "000000";
        WalletSetup.CatchUpWithRealTime(fixture);

        var result = await NodeWallet.RunAsync(new JsonObject
        {
            ["scenario"] = "wrongThenRightPin",
            ["offerUrl"] = offer.OfferUrl,
            ["wrongTxCode"] = wrong,
            ["txCode"] = offer.TxCode,
        });

        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        var wrongPin = result.GetProperty("wrongPin");
        Assert.Equal("token", wrongPin.GetProperty("stage").GetString());
        Assert.Equal(400, wrongPin.GetProperty("status").GetInt32());
        Assert.Equal("invalid_grant", wrongPin.GetProperty("error").GetString());
        AssertCredential(result, tenant, profile);

        var stored = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
        Assert.Equal(1, stored.PinFailedAttempts);
        Assert.Equal(1, stored.UseCount);
        Assert.Equal(1, stored.IssuedCredentialCount);
    }

    [Fact]
    public async Task WalletLibrary_ThreeUseOffer_ClaimedByThreeWallets_FourthIsRefused()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, request =>
        {
            WalletSetup.WithOverrides(request);
            request.MaxUses = 3;
        });
        WalletSetup.CatchUpWithRealTime(fixture);

        var result = await NodeWallet.RunAsync(new JsonObject
        {
            ["scenario"] = "manyWallets",
            ["offerUrl"] = offer.OfferUrl,
            ["wallets"] = 4,
        });

        var claims = result.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(4, claims.Count);
        foreach (var claim in claims.Take(3))
        {
            Assert.True(claim.GetProperty("ok").GetBoolean(), claim.GetRawText());
            AssertCredential(claim, tenant, profile);
        }

        var holderKeys = claims.Take(3).Select(c => c.GetProperty("holderJwk").GetProperty("x").GetString()).ToList();
        Assert.Equal(3, holderKeys.Distinct(StringComparer.Ordinal).Count());

        // The fourth wallet finds the used-up offer gone: 404 at its URI.
        var fourth = claims[3];
        Assert.False(fourth.GetProperty("ok").GetBoolean());
        Assert.Equal("resolve", fourth.GetProperty("refused").GetProperty("stage").GetString());
        Assert.Equal(404, fourth.GetProperty("refused").GetProperty("status").GetInt32());

        var stored = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
        Assert.Equal(OfferState.UsedUp, stored.State);
        Assert.Equal(3, stored.UseCount);
        Assert.Equal(3, stored.IssuedCredentialCount);
        var sessions = (await tenant.Clients.Offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offer.Offer.Name })).Sessions;
        Assert.Equal(3, sessions.Count);
        Assert.All(sessions, s => Assert.Equal("credential_accepted", Assert.Single(s.Credentials).NotificationEvent));
    }

    [Fact]
    public async Task WalletLibrary_Replays_SameOfferSameAccessTokenAndSameNonce_AreRefused()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        var byValue = await ServerFixture.CreateOfferAsync(tenant, profile, request =>
        {
            WalletSetup.WithOverrides(request);
            request.DeliveryMode = DeliveryMode.ByValue;
        });
        var other = await ServerFixture.CreateOfferAsync(tenant, profile, WalletSetup.WithOverrides);
        WalletSetup.CatchUpWithRealTime(fixture);

        var result = await NodeWallet.RunAsync(new JsonObject
        {
            ["scenario"] = "replays",
            ["offerUrl"] = byValue.OfferUrl,
            ["otherOfferUrl"] = other.OfferUrl,
        });

        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        AssertCredential(result.GetProperty("firstCredential"), tenant, profile);
        AssertRefused(result.GetProperty("sameOffer"), "token", 400, "invalid_grant");
        AssertRefused(result.GetProperty("sameToken"), "credential", 400, "credential_request_denied");
        AssertRefused(result.GetProperty("sameNonce"), "credential", 400, "invalid_nonce");

        // One credential in all: the replays issued nothing.
        Assert.Equal(1, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = byValue.Offer.Name })).Offer.IssuedCredentialCount);
        Assert.Equal(0, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = other.Offer.Name })).Offer.IssuedCredentialCount);
    }

    private static void AssertRefused(JsonElement refused, string stage, int status, string error)
    {
        Assert.True(refused.ValueKind == JsonValueKind.Object, $"expected a refusal at {stage}, got {refused.GetRawText()}");
        Assert.Equal(stage, refused.GetProperty("stage").GetString());
        Assert.Equal(status, refused.GetProperty("status").GetInt32());
        Assert.Equal(error, refused.GetProperty("error").GetString());
    }

    /// <summary>What the verifier checked and saw, against the profile and the offer's overrides.</summary>
    private static void AssertCredential(JsonElement result, TestTenant tenant, Profile profile)
    {
        var header = result.GetProperty("header");
        Assert.Equal("dc+sd-jwt", header.GetProperty("typ").GetString());
        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        // The verifier found the signing key through /.well-known/jwt-vc-issuer by kid: the tenant's key.
        Assert.Equal(tenant.Tenant.SigningKeys.Single().Kid, header.GetProperty("kid").GetString());
        Assert.Equal(header.GetProperty("kid").GetString(), result.GetProperty("issuerKid").GetString());

        var signed = result.GetProperty("signedPayload");
        Assert.Equal(tenant.Tenant.CredentialIssuer, signed.GetProperty("iss").GetString());
        Assert.Equal(profile.Vct, signed.GetProperty("vct").GetString());
        Assert.Equal("sha-256", signed.GetProperty("_sd_alg").GetString());
        Assert.True(signed.GetProperty("exp").GetInt64() > signed.GetProperty("iat").GetInt64());
        var holder = result.GetProperty("holderJwk");
        var cnf = signed.GetProperty("cnf").GetProperty("jwk");
        Assert.Equal(holder.GetProperty("x").GetString(), cnf.GetProperty("x").GetString());
        Assert.Equal(holder.GetProperty("y").GetString(), cnf.GetProperty("y").GetString());
        Assert.False(cnf.TryGetProperty("d", out _));

        // Always visible: in the clear. Selectively disclosable: only as disclosures.
        Assert.Equal("Mustermann", signed.GetProperty("family_name").GetString());
        Assert.False(signed.TryGetProperty("given_name", out _));
        Assert.False(signed.TryGetProperty("is_over_18", out _));
        Assert.False(signed.TryGetProperty("age_in_years", out _));
        Assert.False(signed.GetProperty("address").TryGetProperty("locality", out _));
        var disclosed = result.GetProperty("disclosed").EnumerateArray().Select(d => d.GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(WalletSetup.DisclosedClaimNames, disclosed);

        // The claims as the verifier resolved them: overrides over defaults, claims without values absent.
        var claims = result.GetProperty("claims");
        Assert.Equal("Max", claims.GetProperty("given_name").GetString());
        Assert.True(claims.GetProperty("is_over_18").GetBoolean());
        Assert.Equal("Mustermann", claims.GetProperty("family_name").GetString());
        Assert.Equal(42, claims.GetProperty("age_in_years").GetInt32());
        Assert.Equal("Berlin", claims.GetProperty("address").GetProperty("locality").GetString());
        Assert.False(claims.TryGetProperty("birthdate", out _));
        Assert.False(claims.TryGetProperty("score", out _));
    }

    /// <summary>The RFC 7638 thumbprint of an EC JWK, base64url.</summary>
    private static string Thumbprint(JsonElement jwk)
    {
        var canonical = $"{{\"crv\":\"{jwk.GetProperty("crv").GetString()}\",\"kty\":\"EC\",\"x\":\"{jwk.GetProperty("x").GetString()}\",\"y\":\"{jwk.GetProperty("y").GetString()}\"}}";
        return TestEnvironment.Base64Url(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical)));
    }
}

public sealed class InteropTests_Sqlite(SqliteServerFixture fixture)
    : InteropTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class InteropTests_Postgres(PostgresServerFixture fixture)
    : InteropTests(fixture), IClassFixture<PostgresServerFixture>;
