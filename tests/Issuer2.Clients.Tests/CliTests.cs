using System.Text.Json;
using Issuer2.Clients.Tests.Infrastructure;

namespace Issuer2.Clients.Tests;

/// <summary>The built issuer2 against a real server: each command group's success and error paths, JSON output, exit codes.</summary>
[Collection(SharedServerGroup.Name)]
public sealed class CliTests(SharedServer shared)
{
    private ServerHost Host => shared.Host;

    [Fact]
    public async Task Quickstart_MakesATenantKeyProfileAndOffer_ThatTheIndependentWalletClaims()
    {
        var admin = new CliRunner(Host, Host.AdminKey, null);
        var tenantId = TestEnvironment.NewTenantId();

        var quickstart = await admin.RunAsync("quickstart", "--tenant-id", tenantId, "--save", "-o", "json");
        Assert.True(quickstart.ExitCode == 0, quickstart.ToString());
        var result = quickstart.Json();
        var wallet = await InteropWallet.ClaimAsync(result.GetProperty("offerUrl").GetString()!, result.GetProperty("txCode").GetString());

        Assert.True(wallet.GetProperty("ok").GetBoolean(), wallet.ToString());
        Assert.Equal("Ada", wallet.GetProperty("claims").GetProperty("given_name").GetString());
        // --save stored the tenant key and tenant: a command with no key or tenant given now works as the tenant.
        var saved = new CliRunner(Host, null, null);
        var offer = await saved.RunAsync("--config", admin.ConfigPath, "offers", "get", result.GetProperty("offer").GetString()!, "-o", "json");
        Assert.True(offer.ExitCode == 0, offer.ToString());
        Assert.Equal(1, offer.Json().GetProperty("useCount").GetInt32());
        var sessions = await saved.RunAsync("--config", admin.ConfigPath, "sessions", "list", "--offer", result.GetProperty("offer").GetString()!, "-o", "json");
        Assert.True(sessions.ExitCode == 0, sessions.ToString());
        Assert.Single(Assert.Single(sessions.Json().GetProperty("sessions").EnumerateArray()).GetProperty("credentials").EnumerateArray());
    }

    [Fact]
    public async Task OffersCreate_DrawsAQrCodeInTheTerminal_ThatDecodesToTheOfferUrl_AndWritesPngAndSvg()
    {
        var tenant = await DemoTenant.CreateAsync(Host);
        var cli = new CliRunner(Host, tenant.ApiKey, tenant.TenantId);
        var dir = TestEnvironment.NewTempDirectory("qr");
        var png = Path.Combine(dir, "offer.png");
        var svg = Path.Combine(dir, "offer.svg");

        var text = await cli.RunAsync("offers", "create", "--profile", "diploma", "--pin", "--set", "given_name=Grace", "--qr-png", png, "--qr-svg", svg);
        Assert.True(text.ExitCode == 0, text.ToString());
        var lines = text.Stdout.Split('\n');
        var url = lines.Single(l => l.StartsWith("url ", StringComparison.Ordinal))["url".Length..].Trim();
        var pin = lines.Single(l => l.StartsWith("pin ", StringComparison.Ordinal))["pin".Length..].Trim().Split(' ')[0];
        var qrRows = lines.Where(l => l.Length > 20 && l.All(c => c is '█' or '▀' or '▄' or ' ')).ToList();

        Assert.StartsWith("openid-credential-offer://?credential_offer_uri=", url, StringComparison.Ordinal);
        Assert.Matches("^[0-9]{6}$", pin);
        Assert.Equal(url, TerminalQrReader.Decode(qrRows));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await File.ReadAllBytesAsync(png))[..4]);
        Assert.Contains("<svg", await File.ReadAllTextAsync(svg), StringComparison.Ordinal);
        var wallet = await InteropWallet.ClaimAsync(url, pin);
        Assert.Equal("Grace", wallet.GetProperty("claims").GetProperty("given_name").GetString());
        TestEnvironment.DeleteDirectory(dir);
    }

    [Fact]
    public async Task TenantsAndApiKeys_CreateGetListUpdateRevokeDelete_WithJsonOutput()
    {
        var admin = new CliRunner(Host, Host.AdminKey, null);
        var id = TestEnvironment.NewTenantId();

        var created = await Ok(admin, "tenants", "create", id, "--display-name", "Test University", "-o", "json");
        Assert.Equal($"tenants/{id}", created.GetProperty("name").GetString());
        var got = await Ok(admin, "tenants", "get", id, "-o", "json");
        Assert.Equal("Test University", got.GetProperty("display")[0].GetProperty("name").GetString());
        var list = await Ok(admin, "tenants", "list", "--all", "-o", "json");
        Assert.Contains(list.GetProperty("tenants").EnumerateArray(), t => t.GetProperty("tenantId").GetString() == id);
        var updated = await Ok(admin, "tenants", "update", id, "--require-pin", "true", "-o", "json");
        Assert.True(updated.GetProperty("requirePin").GetBoolean());

        var key = await Ok(admin, "api-keys", "create", "--tenant", id, "--display-name", "portal", "-o", "json");
        var keyName = key.GetProperty("apiKey").GetProperty("name").GetString()!;
        var asTenant = new CliRunner(Host, key.GetProperty("key").GetString(), id);
        await Ok(asTenant, "profiles", "list", "-o", "json");
        var keys = await Ok(admin, "api-keys", "list", "--tenant", id, "-o", "json");
        Assert.Contains(keys.GetProperty("apiKeys").EnumerateArray(), k => k.GetProperty("name").GetString() == keyName);
        await Ok(admin, "api-keys", "revoke", keyName, "--tenant", id, "-o", "json");
        var denied = await asTenant.RunAsync("profiles", "list", "-o", "json");
        Assert.Equal(5, denied.ExitCode);
        Assert.Equal("UNAUTHENTICATED", denied.ErrorJson().GetProperty("code").GetString());

        await Ok(admin, "tenants", "delete", id, "-o", "json");
        var gone = await admin.RunAsync("tenants", "get", id);
        Assert.Equal(4, gone.ExitCode);
        Assert.StartsWith("error: NOT_FOUND", gone.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProfilesOffersSessionsEvents_FromYamlAndJsonFiles_WithUpdateMaskAndFilters()
    {
        var tenant = await DemoTenant.CreateAsync(Host);
        var cli = new CliRunner(Host, tenant.ApiKey, tenant.TenantId);
        var dir = TestEnvironment.NewTempDirectory("files");
        var yaml = Path.Combine(dir, "badge.yaml");
        await File.WriteAllTextAsync(yaml, """
            profile_id: badge
            vct: https://acme.example/credentials/badge
            display:
              - locale: en
                name: Badge
            claims:
              - path: [member_since]
                value_type: CLAIM_VALUE_TYPE_INTEGER
            default_values:
              - path: [member_since]
                value: 2020
            """);
        var profile = await Ok(cli, "profiles", "create", "--file", yaml, "-o", "json");
        Assert.Equal(2020, profile.GetProperty("defaultValues")[0].GetProperty("value").GetInt32());
        var display = Path.Combine(dir, "display.json");
        await File.WriteAllTextAsync(display, """{"display":[{"locale":"en","name":"Member badge"}]}""");
        var updated = await Ok(cli, "profiles", "update", "badge", "--file", display, "-o", "json");
        Assert.Equal(2, updated.GetProperty("version").GetInt32());
        Assert.Equal("Member badge", (await Ok(cli, "profiles", "get", "badge", "-o", "json")).GetProperty("display")[0].GetProperty("name").GetString());
        Assert.Equal(2, (await Ok(cli, "profiles", "list", "-o", "json")).GetProperty("profiles").GetArrayLength());

        var request = Path.Combine(dir, "offer.json");
        await File.WriteAllTextAsync(request, """{"profile":"tenants/TENANT/profiles/badge","max_uses":3,"request_id":"file-1"}""".Replace("TENANT", tenant.TenantId, StringComparison.Ordinal));
        var offer = await Ok(cli, "offers", "create", "--file", request, "-o", "json");
        var again = await Ok(cli, "offers", "create", "--file", request, "-o", "json");
        Assert.Equal(offer.GetProperty("offerUrl").GetString(), again.GetProperty("offerUrl").GetString());
        var offerId = offer.GetProperty("offer").GetProperty("offerId").GetString()!;
        Assert.Equal(3, offer.GetProperty("offer").GetProperty("maxUses").GetInt32());
        var active = await Ok(cli, "offers", "list", "--state", "active", "--profile", "badge", "-o", "json");
        Assert.Equal(offerId, Assert.Single(active.GetProperty("offers").EnumerateArray()).GetProperty("offerId").GetString());
        await InteropWallet.ClaimAsync(offer.GetProperty("offerUrl").GetString()!, null);
        var sessions = await Ok(cli, "sessions", "list", "--offer", offerId, "-o", "json");
        Assert.Single(sessions.GetProperty("sessions").EnumerateArray());
        var revoked = await Ok(cli, "offers", "revoke", offerId, "-o", "json");
        Assert.Equal("OFFER_STATE_REVOKED", revoked.GetProperty("state").GetString());
        var events = await Ok(cli, "events", "list", "--offer", offerId, "--type", "token_issued", "--type", "offer_revoked", "--all", "-o", "json");
        Assert.Equal(["EVENT_TYPE_TOKEN_ISSUED", "EVENT_TYPE_OFFER_REVOKED"], events.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        var deleted = await Ok(cli, "profiles", "delete", "badge", "-o", "json");
        Assert.Equal(JsonValueKind.Object, deleted.ValueKind);
        TestEnvironment.DeleteDirectory(dir);
    }

    [Fact]
    public async Task Errors_ShowTheStatusAndEveryBadField_AndEndWithTheDocumentedExitCode()
    {
        var tenant = await DemoTenant.CreateAsync(Host);
        var cli = new CliRunner(Host, tenant.ApiKey, tenant.TenantId);

        var invalid = await cli.RunAsync("offers", "create", "--profile", "diploma", "--pin-length", "3", "--max-uses", "0", "--lifetime", "400d", "-o", "json");
        Assert.Equal(3, invalid.ExitCode);
        var error = invalid.ErrorJson();
        Assert.Equal("INVALID_ARGUMENT", error.GetProperty("code").GetString());
        var fields = error.GetProperty("fieldViolations").EnumerateArray().Select(v => v.GetProperty("field").GetString()).ToList();
        Assert.Contains("tx_code.length", fields);
        var text = await cli.RunAsync("offers", "create", "--profile", "diploma", "--pin-length", "3");
        Assert.StartsWith("error: INVALID_ARGUMENT", text.Stderr, StringComparison.Ordinal);
        Assert.Contains("  tx_code.length: ", text.Stderr, StringComparison.Ordinal);

        Assert.Equal(4, (await cli.RunAsync("offers", "get", "nope")).ExitCode);
        Assert.Equal(6, (await cli.RunAsync("profiles", "create", "diploma", "--vct", "https://x.example/v")).ExitCode);
        Assert.Equal(5, (await cli.As(TestEnvironment.NewAdminKey()).RunAsync("profiles", "list")).ExitCode);
        var noKey = await cli.As(null).RunAsync("profiles", "list");
        Assert.Equal(2, noKey.ExitCode);
        Assert.Contains("No API key", noKey.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, (await cli.RunAsync("profiles", "create", "--file", "/nonexistent/profile.yaml")).ExitCode);
        Assert.Equal(2, (await cli.RunAsync("offers", "list", "--state", "sleeping")).ExitCode);
        Assert.Equal(1, (await cli.RunAsync("offers", "create", "--no-such-flag")).ExitCode);
        var unreachable = await cli.RunAsync("--address", $"http://127.0.0.1:{TestEnvironment.FreePort()}", "offers", "revoke", "x");
        Assert.Equal(8, unreachable.ExitCode);
        Assert.StartsWith("error: UNAVAILABLE", unreachable.Stderr, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> Ok(CliRunner cli, params string[] args)
    {
        var result = await cli.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"issuer2 {string.Join(' ', args)}: {result}");
        return result.Json();
    }
}
