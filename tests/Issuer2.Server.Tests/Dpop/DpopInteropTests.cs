using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Authorization;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Dpop;

/// <summary>
/// The npm wallet (@openid4vc/openid4vci) with DPoP (RFC 9449) on, pre-authorized grant: it proves its DPoP key at the
/// token endpoint (retrying with the server's DPoP-Nonce when asked), gets token_type DPoP, sends the token with the
/// DPoP scheme and a proof with ath to the credential and notification endpoints; the verifier library checks the
/// credential. The server must have stored the thumbprint of that very key with the token.
/// </summary>
public abstract class DpopInteropTests(ServerFixture fixture)
{
    /// <summary>DPOP_MODE_UNSPECIFIED: the tenant as created without DPoP settings (the default, optional).</summary>
    [Theory]
    [InlineData(DpopMode.Unspecified, false)]
    [InlineData(DpopMode.Required, true)]
    public async Task WalletLibrary_WithDpop_GetsADpopToken_BoundToItsKey_CredentialVerifies(DpopMode mode, bool requireNonce)
    {
        var tenant = await fixture.CreateTenantAsync(t =>
        {
            if (mode != DpopMode.Unspecified) t.Dpop = new DpopSettings { Mode = mode, RequireNonce = requireNonce };
        });
        Assert.Equal(mode == DpopMode.Unspecified ? DpopMode.Optional : mode, tenant.Tenant.Dpop.Mode);
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, WalletSetup.WithOverrides);
        WalletSetup.CatchUpWithRealTime(fixture);

        var result = await NodeWallet.RunAsync(new JsonObject { ["scenario"] = "claimWithDpop", ["offerUrl"] = offer.OfferUrl });

        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        Assert.Equal("DPoP", result.GetProperty("tokenType").GetString());
        AssertOverridesAndDefaults(result);
        var snapshot = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.Equal([DpopKey.ThumbprintOf(result.GetProperty("dpopJwk"))], DpopAssert.BoundKeys(snapshot, tenant.TenantId));
        // The notification, sent with the bound token and a proof, reached the session.
        var credential = Assert.Single(snapshot["issued_credentials"], r => r["tenant_id"] == tenant.TenantId);
        Assert.Equal("credential_accepted", credential["notification_event"]);
        Assert.NotEqual(DpopKey.ThumbprintOf(result.GetProperty("dpopJwk")), credential["holder_key_thumbprint"]);
    }

    [Fact]
    public async Task WalletLibrary_DpopOff_MetadataAdvertisesNoDpop_WalletGetsABearerToken_CredentialVerifies()
    {
        var tenant = await fixture.CreateTenantAsync(t => t.Dpop = new DpopSettings { Mode = DpopMode.Off });
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, WalletSetup.WithOverrides);
        var metadata = await DpopHttp.GetAsync(fixture.Host.HttpUrl, $"{fixture.Host.HttpUrl}/.well-known/oauth-authorization-server/{tenant.TenantId}");
        Assert.False(metadata.Json.TryGetProperty("dpop_signing_alg_values_supported", out _), metadata.Body);
        WalletSetup.CatchUpWithRealTime(fixture);

        // The wallet is willing to use DPoP; the issuer does not take it.
        var result = await NodeWallet.RunAsync(new JsonObject { ["scenario"] = "claimWithDpop", ["offerUrl"] = offer.OfferUrl });

        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        Assert.Equal("Bearer", result.GetProperty("tokenType").GetString());
        AssertOverridesAndDefaults(result);
        var snapshot = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.Equal([null], DpopAssert.BoundKeys(snapshot, tenant.TenantId));
    }

    private static void AssertOverridesAndDefaults(JsonElement result)
    {
        var claims = result.GetProperty("claims");
        Assert.Equal("Max", claims.GetProperty("given_name").GetString());
        Assert.True(claims.GetProperty("is_over_18").GetBoolean());
        Assert.Equal(42, claims.GetProperty("age_in_years").GetInt32());
        Assert.Equal("Berlin", claims.GetProperty("address").GetProperty("locality").GetString());
    }
}

public sealed class DpopInteropTests_Sqlite(SqliteServerFixture fixture)
    : DpopInteropTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class DpopInteropTests_Postgres(PostgresServerFixture fixture)
    : DpopInteropTests(fixture), IClassFixture<PostgresServerFixture>;

/// <summary>
/// The npm wallet with DPoP in the authorization code flow, through the real OpenID Provider: its proof at PAR binds
/// the grant to its DPoP key, the code is redeemed with a proof of that key (with the server's DPoP-Nonce when the
/// tenant requires one), the credential request carries the DPoP-bound token; the verifier library checks the
/// credential, which carries the user's claims from the sign-in.
/// </summary>
public abstract class DpopAuthorizedInteropTests(ServerFixture fixture, OpenIdProviderFixture idp)
{
    [Theory]
    [InlineData(DpopMode.Required, true)]
    [InlineData(DpopMode.Optional, false)]
    public async Task WalletLibrary_AuthorizationCodeWithDpop_TokenBoundToItsKey_CredentialCarriesTheUsersClaims(DpopMode mode, bool requireNonce)
    {
        var t = await AuthorizationWorld.CreateAsync(fixture, idp.Provider, tenant => tenant.Dpop = new DpopSettings { Mode = mode, RequireNonce = requireNonce });
        var offer = await AuthorizationWorld.OfferAsync(t, IssuerStateMode.Include);

        var result = await AuthorizationWorld.ClaimAsync(fixture, new JsonObject
        {
            ["offerUrl"] = offer.OfferUrl, ["login"] = OpenIdProvider.Alice, ["useDpop"] = true,
        });

        AuthorizationWorld.AssertClaimsOf(OpenIdProvider.Alice, result);
        Assert.True(result.GetProperty("pushed").GetBoolean());
        Assert.Equal("DPoP", result.GetProperty("tokenResponse").GetProperty("token_type").GetString());
        var thumbprint = DpopKey.ThumbprintOf(result.GetProperty("dpopJwk"));
        var snapshot = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.Equal([thumbprint], DpopAssert.BoundKeys(snapshot, t.Tenant.TenantId));
        // The proof at PAR bound the grant to the same key (RFC 9449 §10).
        Assert.Equal(thumbprint, Assert.Single(snapshot["authorizations"], r => r["tenant_id"] == t.Tenant.TenantId)["dpop_jkt"]);
        var credential = Assert.Single(snapshot["issued_credentials"], r => r["tenant_id"] == t.Tenant.TenantId);
        Assert.Equal("credential_accepted", credential["notification_event"]);
    }
}

[Collection(nameof(WithOpenIdProvider))]
public sealed class DpopAuthorizedInteropTests_Sqlite(SqliteServerFixture fixture, OpenIdProviderFixture idp)
    : DpopAuthorizedInteropTests(fixture, idp), IClassFixture<SqliteServerFixture>;

[Collection(nameof(WithOpenIdProvider))]
public sealed class DpopAuthorizedInteropTests_Postgres(PostgresServerFixture fixture, OpenIdProviderFixture idp)
    : DpopAuthorizedInteropTests(fixture, idp), IClassFixture<PostgresServerFixture>;
