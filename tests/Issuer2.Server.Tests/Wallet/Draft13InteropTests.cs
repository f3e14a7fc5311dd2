using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Events;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// A wallet written from OID4VCI draft 13 alone (tests/interop/draft13-wallet.mjs: fetch, node:crypto, and
/// @sd-jwt/sd-jwt-vc to verify) claims from the same offers 1.0 wallets claim from: its c_nonce from the token
/// response, draft 13's request and answer shapes, the credential verified as a verifier would, the session's
/// events naming draft 13.
/// </summary>
public abstract class Draft13InteropTests(ServerFixture fixture)
{
    private const string Script = "draft13-wallet.mjs";

    [Theory]
    [InlineData(DeliveryMode.ByReference, false)]
    [InlineData(DeliveryMode.ByReference, true)]
    [InlineData(DeliveryMode.ByValue, false)]
    [InlineData(DeliveryMode.ByValue, true)]
    public async Task Draft13Wallet_ClaimsOffer_InDraft13Shapes_AndVerifierAcceptsCredential(DeliveryMode delivery, bool withPin)
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
            ["offerUrl"] = offer.OfferUrl,
            ["txCode"] = withPin ? offer.TxCode : null,
            ["requestAgain"] = true,
        }, Script);

        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        // §6.2: the token response brought the nonce the proof used; 1.0's members are there too.
        var token = result.GetProperty("tokenResponse");
        Assert.False(string.IsNullOrEmpty(token.GetProperty("c_nonce").GetString()));
        Assert.Equal(300, token.GetProperty("c_nonce_expires_in").GetInt32());
        // §7.3: credential (singular), the next c_nonce and notification_id; no 1.0 credentials array.
        Assert.Equal(["c_nonce", "c_nonce_expires_in", "credential", "notification_id"],
            result.GetProperty("credentialResponseMembers").EnumerateArray().Select(m => m.GetString()!));
        var next = result.GetProperty("credentialResponse").GetProperty("c_nonce").GetString();
        Assert.False(string.IsNullOrEmpty(next));
        Assert.NotEqual(token.GetProperty("c_nonce").GetString(), next);
        // The wallet named vc+sd-jwt, as draft 13 does: its credential is typed as SD-JWT VC then typed it.
        AssertCredential(result, tenant, profile, "vc+sd-jwt");
        Assert.Equal(204, result.GetProperty("notificationStatus").GetInt32());

        // A second request with the next c_nonce: the session's credential was issued, so the token no longer enables one
        // (draft 13 §7.3.1.1, RFC 6750 insufficient_scope), and nothing more is issued.
        var again = result.GetProperty("again");
        Assert.Equal(403, again.GetProperty("status").GetInt32());
        Assert.Equal("insufficient_scope", again.GetProperty("body").GetProperty("error").GetString());

        var stored = (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
        Assert.Equal(1, stored.UseCount);
        Assert.Equal(1, stored.IssuedCredentialCount);
        var session = Assert.Single((await tenant.Clients.Offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offer.Offer.Name })).Sessions);
        var credential = Assert.Single(session.Credentials);
        Assert.Equal("credential_accepted", credential.NotificationEvent);
        Assert.Equal("dc+sd-jwt", credential.Format);

        // The events name the version the session spoke.
        var events = await EventsUntilAsync(tenant, e => e.Type == EventType.CredentialRefused);
        var issued = Assert.Single(events, e => e.Type == EventType.CredentialIssued);
        Assert.Equal(ProtocolVersion.Oid4VciDraft13, issued.CredentialIssued.ProtocolVersion);
        var refused = Assert.Single(events, e => e.Type == EventType.CredentialRefused);
        Assert.Equal(ProtocolVersion.Oid4VciDraft13, refused.CredentialRefused.ProtocolVersion);
        Assert.Equal("insufficient_scope", refused.CredentialRefused.Error);
    }

    [Fact]
    public async Task Draft13Wallet_WithCredentialIdentifier_GetsItsCredential()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, WalletSetup.WithOverrides);
        WalletSetup.CatchUpWithRealTime(fixture);

        var result = await NodeWallet.RunAsync(new JsonObject { ["offerUrl"] = offer.OfferUrl, ["byIdentifier"] = true }, Script);

        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        Assert.Equal(profile.ProfileId, result.GetProperty("usedIdentifier").GetString());
        // No format named: draft 13's own identifier, vc+sd-jwt.
        AssertCredential(result, tenant, profile, "vc+sd-jwt");
    }

    [Fact]
    public async Task Draft13Wallet_NamingDcSdJwt_GetsDcSdJwtTypedCredential()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, WalletSetup.WithOverrides);
        WalletSetup.CatchUpWithRealTime(fixture);

        var result = await NodeWallet.RunAsync(new JsonObject { ["offerUrl"] = offer.OfferUrl, ["format"] = "dc+sd-jwt" }, Script);

        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        AssertCredential(result, tenant, profile, "dc+sd-jwt");
    }

    [Fact]
    public async Task Draft13Wallet_ProofWithoutIssuersNonce_GetsInvalidProofWithFreshNonce_ThenItsCredential()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, WalletSetup.WithOverrides);
        WalletSetup.CatchUpWithRealTime(fixture);

        var result = await NodeWallet.RunAsync(new JsonObject { ["offerUrl"] = offer.OfferUrl, ["nonceFrom"] = "error" }, Script);

        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        // §7.3.2: invalid_proof (not 1.0's invalid_nonce) with a c_nonce to prove with, which then works.
        var refusal = result.GetProperty("nonceRefusal");
        Assert.Equal(400, refusal.GetProperty("status").GetInt32());
        var body = refusal.GetProperty("body");
        Assert.Equal("invalid_proof", body.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("c_nonce").GetString()));
        Assert.Equal(300, body.GetProperty("c_nonce_expires_in").GetInt32());
        AssertCredential(result, tenant, profile, "vc+sd-jwt");
        Assert.Equal(1, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.IssuedCredentialCount);
    }

    [Fact]
    public async Task Metadata_CarriesDraft13DisplayAndClaimsObject_BesideCredentialMetadata()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, WalletSetup.WithOverrides);
        WalletSetup.CatchUpWithRealTime(fixture);

        // What the draft-13 wallet read from the appended well-known URL.
        var result = await NodeWallet.RunAsync(new JsonObject { ["offerUrl"] = offer.OfferUrl, ["notify"] = null }, Script);

        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        var configuration = result.GetProperty("configuration");
        Assert.Equal(profile.Vct, configuration.GetProperty("vct").GetString());
        // display at the top, as under credential_metadata.
        Assert.Equal(configuration.GetProperty("credential_metadata").GetProperty("display").GetRawText(), configuration.GetProperty("display").GetRawText());
        // claims keyed by name, nested by path, with their display; the 1.0 array stays under credential_metadata.
        var claims = configuration.GetProperty("claims");
        Assert.Equal(JsonValueKind.Object, claims.ValueKind);
        Assert.Equal(JsonValueKind.Array, configuration.GetProperty("credential_metadata").GetProperty("claims").ValueKind);
        var oneDotZero = configuration.GetProperty("credential_metadata").GetProperty("claims").EnumerateArray().ToList();
        foreach (var claim in oneDotZero)
        {
            var node = claims;
            foreach (var segment in claim.GetProperty("path").EnumerateArray())
            {
                node = node.GetProperty(segment.GetString()!);
            }

            Assert.Equal(claim.TryGetProperty("mandatory", out var m) && m.GetBoolean(), node.TryGetProperty("mandatory", out var m13) && m13.GetBoolean());
            if (claim.TryGetProperty("display", out var display))
            {
                Assert.Equal(display.GetRawText(), node.GetProperty("display").GetRawText());
            }
        }

        Assert.True(claims.GetProperty("address").TryGetProperty("locality", out _));
    }

    /// <summary>The tenant's events once one matches (on PostgreSQL another test's open transaction may hold them back for a moment).</summary>
    private async Task<IReadOnlyList<Event>> EventsUntilAsync(TestTenant tenant, Func<Event, bool> any)
    {
        var client = EventClients.For(fixture.Host.Channel, tenant.ApiKey);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var events = await EventClients.ListAllAsync(client, tenant.Tenant.Name);
            if (events.Any(any) || DateTime.UtcNow > deadline) return events;
            await Task.Delay(50);
        }
    }

    /// <summary>What the verifier checked, against the profile and the offer's overrides, with the typ the request called for.</summary>
    private static void AssertCredential(JsonElement result, TestTenant tenant, Profile profile, string typ)
    {
        var header = result.GetProperty("header");
        Assert.Equal(typ, header.GetProperty("typ").GetString());
        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        Assert.Equal(tenant.Tenant.SigningKeys.Single().Kid, header.GetProperty("kid").GetString());
        var signed = result.GetProperty("signedPayload");
        Assert.Equal(tenant.Tenant.CredentialIssuer, signed.GetProperty("iss").GetString());
        Assert.Equal(profile.Vct, signed.GetProperty("vct").GetString());
        var holder = result.GetProperty("holderJwk");
        Assert.Equal(holder.GetProperty("x").GetString(), signed.GetProperty("cnf").GetProperty("jwk").GetProperty("x").GetString());
        Assert.Equal("Mustermann", signed.GetProperty("family_name").GetString());
        Assert.False(signed.TryGetProperty("given_name", out _));
        var disclosed = result.GetProperty("disclosed").EnumerateArray().Select(d => d.GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(WalletSetup.DisclosedClaimNames, disclosed);
        var claims = result.GetProperty("claims");
        Assert.Equal("Max", claims.GetProperty("given_name").GetString());
        Assert.True(claims.GetProperty("is_over_18").GetBoolean());
        Assert.Equal(42, claims.GetProperty("age_in_years").GetInt32());
        Assert.Equal("Berlin", claims.GetProperty("address").GetProperty("locality").GetString());
    }
}

public sealed class Draft13InteropTests_Sqlite(SqliteServerFixture fixture)
    : Draft13InteropTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class Draft13InteropTests_Postgres(PostgresServerFixture fixture)
    : Draft13InteropTests(fixture), IClassFixture<PostgresServerFixture>;
