using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.IdentityProviders;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Tenants;

/// <summary>
/// A tenant's IdP and authorization-server policy: the rules (<see cref="TenantRules"/>), the secret encrypted once
/// and kept on updates that keep its client, removal, and the metadata stamp every change moves.
/// </summary>
public sealed class TenantAuthorizationSettingsTests
{
    private const string Secret = "s3cret-Value_with.many~chars";
    private static readonly HttpsPolicy Strict = new(allowLoopbackHttp: false);
    private static readonly HttpsPolicy Local = new(allowLoopbackHttp: true);

    private readonly TestBed _bed = new();

    private static IdentityProviderInput Idp(string issuer = "https://idp.example/realms/acme", string clientId = "issuer2", string? secret = Secret, params string[] scopes) =>
        new(issuer, clientId, secret, scopes);

    private static string[] IdpViolations(IdentityProviderInput idp, IdentityProviderSettings? stored = null, HttpsPolicy? https = null)
    {
        var v = new Violations();
        TenantRules.CheckIdentityProvider(v, "tenant.", idp, stored, https ?? Strict);
        return [.. v.Items.Select(i => i.Field)];
    }

    private static string[] ServerViolations(AuthorizationServerSettings settings)
    {
        var v = new Violations();
        TenantRules.CheckAuthorizationServer(v, "tenant.", settings);
        return [.. v.Items.Select(i => i.Field)];
    }

    private static AuthorizationServerSettings Registered(params WalletClient[] clients) =>
        AuthorizationServerSettings.Default with { ClientMode = WalletClientMode.Registered, RegisteredClients = clients };

    private static WalletClient Client(string clientId = "wallet", params string[] redirectUris) =>
        new(clientId, redirectUris.Length == 0 ? ["https://wallet.example/cb"] : redirectUris);

    // Rules: the IdP

    [Theory]
    [InlineData("https://idp.example")]
    [InlineData("https://idp.example/realms/acme")]
    [InlineData("https://idp.example:8443/tenant/v2.0/")]
    public void CheckIdentityProvider_AcceptsHttpsIssuers(string issuer)
    {
        Assert.Empty(IdpViolations(Idp(issuer)));
    }

    [Theory]
    [InlineData("http://127.0.0.1:4000")]
    [InlineData("http://localhost:4000/oidc")]
    [InlineData("http://[::1]:4000")]
    public void CheckIdentityProvider_LoopbackHttp_OnlyWhenTheHostAllowsIt(string issuer)
    {
        Assert.Equal(["tenant.identity_provider.issuer"], IdpViolations(Idp(issuer), https: Strict));
        Assert.Empty(IdpViolations(Idp(issuer), https: Local));
    }

    [Theory]
    [InlineData("")]
    [InlineData("idp.example")]
    [InlineData("/realms/acme")]
    [InlineData("ftp://idp.example")]
    [InlineData("http://idp.example")]
    [InlineData("https://idp.example/?tenant=acme")]
    [InlineData("https://idp.example/#frag")]
    [InlineData("https://user:pw@idp.example")]
    [InlineData("https://idp.example/a b")]
    [InlineData(" https://idp.example")]
    public void CheckIdentityProvider_RefusesBadIssuers(string issuer)
    {
        Assert.Equal(["tenant.identity_provider.issuer"], IdpViolations(Idp(issuer), https: Local));
    }

    [Fact]
    public void CheckIdentityProvider_RefusesAnIssuerOver2048Characters()
    {
        var issuer = "https://idp.example/" + new string('a', 2048 - 20);

        Assert.Empty(IdpViolations(Idp(issuer)));
        Assert.Equal(["tenant.identity_provider.issuer"], IdpViolations(Idp(issuer + "a")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("tab\tid")]
    [InlineData("ünicode")]
    public void CheckIdentityProvider_RefusesBadClientIds(string clientId)
    {
        Assert.Equal(["tenant.identity_provider.client_id"], IdpViolations(Idp(clientId: clientId)));
    }

    [Fact]
    public void CheckIdentityProvider_ClientIdOf255PrintableCharacters_IsAcceptedAnd256IsNot()
    {
        Assert.Empty(IdpViolations(Idp(clientId: new string('c', 254) + " ")));
        Assert.Equal(["tenant.identity_provider.client_id"], IdpViolations(Idp(clientId: new string('c', 256))));
    }

    [Fact]
    public void CheckIdentityProvider_SecretOf1024Characters_IsAcceptedAnd1025IsNot()
    {
        Assert.Empty(IdpViolations(Idp(secret: new string('s', 1024))));
        Assert.Equal(["tenant.identity_provider.client_secret"], IdpViolations(Idp(secret: new string('s', 1025))));
        Assert.Equal(["tenant.identity_provider.client_secret"], IdpViolations(Idp(secret: "line\nbreak")));
    }

    [Fact]
    public void CheckIdentityProvider_WithoutSecret_NeedsAStoredOneOfTheSameClient()
    {
        var stored = new IdentityProviderSettings("https://idp.example/realms/acme", "issuer2", [1, 2, 3], []);

        Assert.Equal(["tenant.identity_provider.client_secret"], IdpViolations(Idp(secret: null)));
        Assert.Empty(IdpViolations(Idp(secret: null), stored));
        Assert.Equal(["tenant.identity_provider.client_secret"], IdpViolations(Idp(issuer: "https://other.example", secret: null), stored));
        Assert.Equal(["tenant.identity_provider.client_secret"], IdpViolations(Idp(clientId: "other", secret: null), stored));
    }

    [Fact]
    public void CheckIdentityProvider_AcceptsSixteenScopesOfTheAllowedCharacters()
    {
        var scopes = Enumerable.Range(0, 15).Select(i => $"scope_{i}").Append("https://api.example/read:all-v1.2").ToArray();

        Assert.Empty(IdpViolations(Idp(scopes: scopes)));
    }

    [Theory]
    [InlineData("tenant.identity_provider.scopes", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q")]
    [InlineData("tenant.identity_provider.scopes[0]", "openid")]
    [InlineData("tenant.identity_provider.scopes[1]", "profile", "profile")]
    [InlineData("tenant.identity_provider.scopes[0]", "")]
    [InlineData("tenant.identity_provider.scopes[0]", "two words")]
    [InlineData("tenant.identity_provider.scopes[0]", "quote\"")]
    [InlineData("tenant.identity_provider.scopes[0]", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void CheckIdentityProvider_RefusesBadScopes(string field, params string[] scopes)
    {
        Assert.Equal([field], IdpViolations(Idp(scopes: scopes)));
    }

    // Rules: the authorization server

    [Fact]
    public void CheckAuthorizationServer_AcceptsTheDefaultAndRegisteredClients()
    {
        Assert.Empty(ServerViolations(AuthorizationServerSettings.Default));
        Assert.Empty(ServerViolations(Registered(
            Client("wallet-a", "https://wallet.example/cb", "com.example.wallet:/callback", "http://127.0.0.1/cb"),
            Client("wallet-b"))));
    }

    [Fact]
    public void CheckAuthorizationServer_RefusesClientsWithoutRegisteredModeAndRegisteredModeWithoutClients()
    {
        Assert.Equal(["tenant.authorization_server.registered_clients"], ServerViolations(AuthorizationServerSettings.Default with { RegisteredClients = [Client()] }));
        Assert.Equal(["tenant.authorization_server.registered_clients"], ServerViolations(Registered()));
    }

    [Fact]
    public void CheckAuthorizationServer_AcceptsAHundredClientsAndRefusesMore()
    {
        var clients = Enumerable.Range(0, 101).Select(i => Client($"wallet-{i}")).ToArray();

        Assert.Empty(ServerViolations(Registered(clients[..100])));
        Assert.Equal(["tenant.authorization_server.registered_clients"], ServerViolations(Registered(clients)));
    }

    [Fact]
    public void CheckAuthorizationServer_RefusesBadAndDuplicateClientIds()
    {
        Assert.Equal(["tenant.authorization_server.registered_clients[1].client_id"], ServerViolations(Registered(Client("w"), Client("w"))));
        Assert.Equal(["tenant.authorization_server.registered_clients[0].client_id"], ServerViolations(Registered(Client(""))));
        Assert.Equal(["tenant.authorization_server.registered_clients[0].client_id"], ServerViolations(Registered(Client(new string('c', 256)))));
    }

    [Theory]
    [InlineData("wallet/cb")]
    [InlineData("/cb")]
    [InlineData("https://wallet.example/cb#frag")]
    [InlineData("https://wallet.example/a b")]
    public void CheckAuthorizationServer_RefusesBadRedirectUris(string uri)
    {
        Assert.Equal(["tenant.authorization_server.registered_clients[0].redirect_uris[0]"], ServerViolations(Registered(Client("w", uri))));
    }

    [Fact]
    public void CheckAuthorizationServer_NeedsOneToEightRedirectUrisOfAtMost2048CharactersEachOnce()
    {
        var uris = Enumerable.Range(0, 9).Select(i => $"https://wallet.example/cb{i}").ToArray();
        var longUri = "https://wallet.example/" + new string('a', 2048 - 23);

        Assert.Empty(ServerViolations(Registered(Client("w", uris[..8]))));
        Assert.Equal(["tenant.authorization_server.registered_clients[0].redirect_uris"], ServerViolations(Registered(Client("w", uris))));
        Assert.Equal(["tenant.authorization_server.registered_clients[0].redirect_uris"], ServerViolations(Registered(new WalletClient("w", []))));
        Assert.Empty(ServerViolations(Registered(Client("w", longUri))));
        Assert.Equal(["tenant.authorization_server.registered_clients[0].redirect_uris[0]"], ServerViolations(Registered(Client("w", longUri + "a"))));
        Assert.Equal(["tenant.authorization_server.registered_clients[0].redirect_uris[1]"], ServerViolations(Registered(Client("w", uris[0], uris[0]))));
    }

    // Management: the IdP's secret

    [Fact]
    public async Task Create_WithIdentityProvider_EncryptsTheSecretBoundToTheTenant()
    {
        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp(scopes: ["profile", "email"])), default);

        var idp = result.Value.Tenant.IdentityProvider!;
        Assert.Equal("https://idp.example/realms/acme", idp.Issuer);
        Assert.Equal("issuer2", idp.ClientId);
        Assert.Equal(["profile", "email"], idp.Scopes);
        Assert.Equal(Secret, IdentityProviderSecrets.Decrypt(_bed.Protector, "acme", idp));
        Assert.ThrowsAny<CryptographicException>(() => IdentityProviderSecrets.Decrypt(_bed.Protector, "globex", idp));
        Assert.DoesNotContain(Secret, JsonSerializer.Serialize(_bed.Db.Tenants[0], CoreJson.Options), StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret)), JsonSerializer.Serialize(idp, CoreJson.Options), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithIdentityProviderWithoutSecret_IsInvalidAndCreatesNothing()
    {
        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp(secret: null)), default);

        Assert.Equal(["tenant.identity_provider.client_secret"], TestBed.Fields(result.Error));
        Assert.Empty(_bed.Db.Tenants);
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    [Fact]
    public async Task Create_WithBadIdentityProviderAndBadLifetime_NamesBoth()
    {
        var result = await _bed.Tenants.CreateAsync(
            TestBed.Admin, "acme", new TenantSettings(PinAttemptLimit: 0, IdentityProvider: Idp(issuer: "http://idp.example")), default);

        Assert.Equal(["tenant.pin_attempt_limit", "tenant.identity_provider.issuer"], TestBed.Fields(result.Error));
    }

    [Fact]
    public async Task Update_IdentityProviderWithoutSecret_KeepsTheStoredSecretAndChangesTheScopes()
    {
        await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp()), default);
        var storedSecret = _bed.Db.Tenants[0].IdentityProvider!.EncryptedClientSecret;

        var result = await _bed.Tenants.UpdateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp(secret: null, scopes: ["email"])), default);

        var idp = result.Value.Tenant.IdentityProvider!;
        Assert.Same(storedSecret, idp.EncryptedClientSecret);
        Assert.Equal(["email"], idp.Scopes);
        Assert.Equal(Secret, IdentityProviderSecrets.Decrypt(_bed.Protector, "acme", idp));
    }

    [Fact]
    public async Task Update_IdentityProviderWithNewSecret_ReplacesIt()
    {
        await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp()), default);

        var result = await _bed.Tenants.UpdateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp(secret: "rotated")), default);

        Assert.Equal("rotated", IdentityProviderSecrets.Decrypt(_bed.Protector, "acme", result.Value.Tenant.IdentityProvider!));
    }

    [Fact]
    public async Task Update_IdentityProviderOfAnotherIssuerWithoutSecret_IsInvalidOnClientSecretAndKeepsTheOldOne()
    {
        await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp()), default);
        var eventsBefore = _bed.Db.AppendedEvents.Count;

        var result = await _bed.Tenants.UpdateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp(issuer: "https://other.example", secret: null)), default);

        Assert.Equal(["tenant.identity_provider.client_secret"], TestBed.Fields(result.Error));
        Assert.Equal("https://idp.example/realms/acme", _bed.Db.Tenants[0].IdentityProvider!.Issuer);
        Assert.Equal(eventsBefore, _bed.Db.AppendedEvents.Count);
    }

    [Fact]
    public async Task Update_RemoveIdentityProvider_RemovesItAndBumpsTheMetadataVersion()
    {
        await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp()), default);

        var result = await _bed.Tenants.UpdateAsync(TestBed.Admin, "acme", new TenantSettings(RemoveIdentityProvider: true), default);

        Assert.Null(result.Value.Tenant.IdentityProvider);
        Assert.Equal(2, result.Value.Tenant.MetadataVersion);
    }

    [Fact]
    public async Task Update_WithoutIdentityProviderSettings_LeavesItAlone()
    {
        await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp()), default);
        var before = _bed.Db.Tenants[0].IdentityProvider;

        var result = await _bed.Tenants.UpdateAsync(TestBed.Admin, "acme", new TenantSettings(RequirePin: true), default);

        Assert.Same(before, result.Value.Tenant.IdentityProvider);
    }

    [Fact]
    public async Task CreateAndUpdate_EventsCarryNoSecret()
    {
        await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp()), default);
        await _bed.Tenants.UpdateAsync(TestBed.Admin, "acme", new TenantSettings(IdentityProvider: Idp(secret: "second-secret")), default);

        var details = string.Join("\n", _bed.Db.AppendedEvents.Select(e => e.Detail));

        Assert.Equal([EventTypes.TenantCreated, EventTypes.TenantUpdated], _bed.CommittedEventTypes());
        Assert.DoesNotContain(Secret, details, StringComparison.Ordinal);
        Assert.DoesNotContain("second-secret", details, StringComparison.Ordinal);
    }

    // Management: the authorization server

    [Fact]
    public async Task Create_WithoutAuthorizationServer_HasTheDefault()
    {
        var result = await _bed.Tenants.CreateAsync(TestBed.Admin, "acme", new TenantSettings(), default);

        Assert.Equal(AuthorizationServerSettings.Default, result.Value.Tenant.AuthorizationServer);
        Assert.Null(result.Value.Tenant.IdentityProvider);
    }

    [Fact]
    public async Task Update_AuthorizationServer_ReplacesItAndBumpsTheMetadataVersion()
    {
        _bed.SeedTenant();
        var settings = Registered(Client("wallet")) with { RequirePushedAuthorizationRequests = false, RequireIssuerState = true };

        var result = await _bed.Tenants.UpdateAsync(TestBed.Admin, "acme", new TenantSettings(AuthorizationServer: settings), default);

        Assert.Same(settings, result.Value.Tenant.AuthorizationServer);
        Assert.Equal(2, result.Value.Tenant.MetadataVersion);
        Assert.Equal([EventTypes.TenantUpdated], _bed.CommittedEventTypes());
    }

    [Fact]
    public async Task Update_WithBadAuthorizationServer_IsInvalidAndAppendsNothing()
    {
        _bed.SeedTenant();

        var result = await _bed.Tenants.UpdateAsync(TestBed.Admin, "acme", new TenantSettings(AuthorizationServer: Registered()), default);

        Assert.Equal(["tenant.authorization_server.registered_clients"], TestBed.Fields(result.Error));
        Assert.Empty(_bed.Db.AppendedEvents);
    }

    // The callback

    [Fact]
    public void RedirectUri_IsTheCallbackUnderTheCredentialIssuer()
    {
        Assert.Equal("https://issuer.example/acme/idp/callback", IdentityProviderCallback.RedirectUri("https://issuer.example/acme"));
    }
}
