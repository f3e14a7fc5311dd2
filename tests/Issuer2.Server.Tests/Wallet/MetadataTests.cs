using System.Net;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// The metadata documents at their exact URLs (wallet libraries fall back silently between locations, so only a
/// plain HttpClient proves where they are): OID4VCI 1.0 §12.2, RFC 8414 §3, SD-JWT VC issuer metadata.
/// </summary>
public abstract class MetadataTests(ServerFixture fixture)
{
    [Fact]
    public async Task CredentialIssuerMetadata_AtPathInsertionUrl_DescribesTheTenantAndEachProfile()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant, p => p.Scope = "identity_scope");
        using var wallet = WalletSetup.WalletOn(fixture);
        var issuer = tenant.Tenant.CredentialIssuer;

        var reply = await wallet.GetAsync($"/.well-known/openid-credential-issuer/{tenant.TenantId}");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("application/json", reply.ContentType);
        var document = reply.Json;
        Assert.Equal($"{fixture.Host.PublicBaseUrl}/{tenant.TenantId}", issuer);
        Assert.Equal(issuer, document.GetProperty("credential_issuer").GetString());
        Assert.Equal($"{issuer}/credential", document.GetProperty("credential_endpoint").GetString());
        Assert.Equal($"{issuer}/nonce", document.GetProperty("nonce_endpoint").GetString());
        Assert.Equal($"{issuer}/notification", document.GetProperty("notification_endpoint").GetString());
        var display = Assert.Single(document.GetProperty("display").EnumerateArray());
        Assert.Equal(tenant.Tenant.Display[0].Name, display.GetProperty("name").GetString());
        Assert.Equal("en-US", display.GetProperty("locale").GetString());

        var configurations = document.GetProperty("credential_configurations_supported");
        Assert.Equal([profile.ProfileId], configurations.EnumerateObject().Select(c => c.Name));
        var configuration = configurations.GetProperty(profile.ProfileId);
        Assert.Equal("dc+sd-jwt", configuration.GetProperty("format").GetString());
        Assert.Equal(profile.Vct, configuration.GetProperty("vct").GetString());
        Assert.Equal("identity_scope", configuration.GetProperty("scope").GetString());
        Assert.Equal(["jwk"], Strings(configuration.GetProperty("cryptographic_binding_methods_supported")));
        Assert.Equal(["ES256"], Strings(configuration.GetProperty("credential_signing_alg_values_supported")));
        Assert.Equal(["ES256"], Strings(configuration.GetProperty("proof_types_supported").GetProperty("jwt").GetProperty("proof_signing_alg_values_supported")));

        var metadata = configuration.GetProperty("credential_metadata");
        var credentialDisplay = Assert.Single(metadata.GetProperty("display").EnumerateArray());
        Assert.Equal("Identity credential", credentialDisplay.GetProperty("name").GetString());
        Assert.Equal("en-US", credentialDisplay.GetProperty("locale").GetString());
        Assert.Equal("A test credential", credentialDisplay.GetProperty("description").GetString());
        Assert.Equal("#12107c", credentialDisplay.GetProperty("background_color").GetString());
        Assert.Equal("#ffffff", credentialDisplay.GetProperty("text_color").GetString());
        var claims = metadata.GetProperty("claims").EnumerateArray().ToList();
        Assert.Equal(
            profile.Claims.Select(c => string.Join('/', c.Path)),
            claims.Select(c => string.Join('/', Strings(c.GetProperty("path")))));
        var locality = claims.Single(c => Strings(c.GetProperty("path")).SequenceEqual(["address", "locality"]));
        Assert.Equal("address locality", Assert.Single(locality.GetProperty("display").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task CredentialIssuerMetadata_AtAppendedUrl_IsTheSameDocument()
    {
        var tenant = await fixture.CreateTenantAsync();
        await ServerFixture.CreateProfileAsync(tenant);
        using var wallet = WalletSetup.WalletOn(fixture);

        var inserted = await wallet.GetAsync($"/.well-known/openid-credential-issuer/{tenant.TenantId}");
        var appended = await wallet.GetAsync($"/{tenant.TenantId}/.well-known/openid-credential-issuer");

        Assert.Equal(HttpStatusCode.OK, appended.Status);
        Assert.Equal(inserted.Body, appended.Body);
    }

    [Fact]
    public async Task AuthorizationServerMetadata_AtPathInsertionUrl_OffersThePreAuthorizedGrantAnonymously()
    {
        var tenant = await fixture.CreateTenantAsync();
        using var wallet = WalletSetup.WalletOn(fixture);
        var issuer = tenant.Tenant.CredentialIssuer;

        var reply = await wallet.GetAsync($"/.well-known/oauth-authorization-server/{tenant.TenantId}");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var document = reply.Json;
        Assert.Equal(issuer, document.GetProperty("issuer").GetString());
        Assert.Equal($"{issuer}/token", document.GetProperty("token_endpoint").GetString());
        Assert.Contains(OfferUrl.PreAuthorizedGrant, Strings(document.GetProperty("grant_types_supported")));
        Assert.True(document.GetProperty("pre-authorized_grant_anonymous_access_supported").GetBoolean());
        // Only the pre-authorized grant is allowed for this tenant: no authorization endpoint, no response types.
        Assert.False(document.TryGetProperty("response_types_supported", out _));
    }

    [Fact]
    public async Task JwtVcIssuerMetadata_ListsTheTenantsPublicSigningKeyByKid()
    {
        var tenant = await fixture.CreateTenantAsync();
        using var wallet = WalletSetup.WalletOn(fixture);

        var reply = await wallet.GetAsync($"/.well-known/jwt-vc-issuer/{tenant.TenantId}");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(tenant.Tenant.CredentialIssuer, reply.Json.GetProperty("issuer").GetString());
        var key = Assert.Single(reply.Json.GetProperty("jwks").GetProperty("keys").EnumerateArray());
        Assert.Equal(tenant.Tenant.SigningKeys.Single().Kid, key.GetProperty("kid").GetString());
        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.Equal("P-256", key.GetProperty("crv").GetString());
        Assert.False(key.TryGetProperty("d", out _));
    }

    [Theory]
    [InlineData("/.well-known/openid-credential-issuer/{0}")]
    [InlineData("/{0}/.well-known/openid-credential-issuer")]
    [InlineData("/.well-known/oauth-authorization-server/{0}")]
    [InlineData("/.well-known/jwt-vc-issuer/{0}")]
    public async Task Metadata_OfUnknownOrDeletedTenant_Is404WithJsonError(string pathFormat)
    {
        var deleted = await fixture.CreateTenantAsync();
        await fixture.Admin.Tenants.DeleteTenantAsync(new DeleteTenantRequest { Name = deleted.Name });
        using var wallet = WalletSetup.WalletOn(fixture);

        foreach (var tenantId in new[] { ServerFixture.NewTenantId(), deleted.TenantId })
        {
            var reply = await wallet.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, pathFormat, tenantId));

            Assert.Equal(HttpStatusCode.NotFound, reply.Status);
            Assert.False(string.IsNullOrEmpty(reply.Error), reply.ToString());
        }
    }

    [Fact]
    public async Task Metadata_ReflectsProfileCreateUpdateAndDelete_AtOnce()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        using var wallet = WalletSetup.WalletOn(fixture);
        var path = $"/.well-known/openid-credential-issuer/{tenant.TenantId}";
        Assert.Equal(profile.Vct, (await wallet.GetAsync(path)).Json.GetProperty("credential_configurations_supported").GetProperty(profile.ProfileId).GetProperty("vct").GetString());

        await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
        {
            Profile = new Profile { Name = profile.Name, Vct = "https://credentials.example.com/v2" },
            UpdateMask = new FieldMask { Paths = { "vct" } },
        });
        var afterUpdate = (await wallet.GetAsync(path)).Json.GetProperty("credential_configurations_supported");
        Assert.Equal("https://credentials.example.com/v2", afterUpdate.GetProperty(profile.ProfileId).GetProperty("vct").GetString());

        var second = await ServerFixture.CreateProfileAsync(tenant, p => p.Vct = "https://credentials.example.com/second");
        var afterCreate = (await wallet.GetAsync(path)).Json.GetProperty("credential_configurations_supported");
        Assert.Equal("https://credentials.example.com/second", afterCreate.GetProperty(second.ProfileId).GetProperty("vct").GetString());

        await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name });
        var afterDelete = (await wallet.GetAsync(path)).Json.GetProperty("credential_configurations_supported");
        Assert.Equal([second.ProfileId], afterDelete.EnumerateObject().Select(c => c.Name));
    }

    [Fact]
    public async Task Metadata_ReflectsTenantDisplayUpdate_AtOnce()
    {
        var tenant = await fixture.CreateTenantAsync();
        using var wallet = WalletSetup.WalletOn(fixture);
        var path = $"/.well-known/openid-credential-issuer/{tenant.TenantId}";
        Assert.Equal(tenant.Tenant.Display[0].Name, (await wallet.GetAsync(path)).Json.GetProperty("display")[0].GetProperty("name").GetString());

        var change = new Tenant { Name = tenant.Name };
        change.Display.Add(new IssuerDisplay { Locale = "de-DE", Name = "Neuer Name" });
        await fixture.Admin.Tenants.UpdateTenantAsync(new UpdateTenantRequest { Tenant = change, UpdateMask = new FieldMask { Paths = { "display" } } });

        var display = Assert.Single((await wallet.GetAsync(path)).Json.GetProperty("display").EnumerateArray());
        Assert.Equal("Neuer Name", display.GetProperty("name").GetString());
        Assert.Equal("de-DE", display.GetProperty("locale").GetString());
    }

    internal static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}

public sealed class MetadataTests_Sqlite(SqliteServerFixture fixture)
    : MetadataTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class MetadataTests_Postgres(PostgresServerFixture fixture)
    : MetadataTests(fixture), IClassFixture<PostgresServerFixture>;
