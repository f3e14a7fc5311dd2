using System.Text.Json;
using Grpc.Core;
using Issuer2.Console.Tests.Infrastructure;
using Issuer2.Grpc.V1;
using Microsoft.Playwright;

namespace Issuer2.Console.Tests;

/// <summary>The console in headless Chromium against the real server: sign-in, forms, offers, the live timeline.</summary>
[Collection(BrowserTests.Name)]
public sealed class ConsoleTests(ConsoleFixture fixture)
{
    private IssuerServer Server => fixture.Server;

    [Fact]
    public async Task A_wrong_api_key_is_refused_and_nothing_is_kept()
    {
        var (context, page, _) = await fixture.Chromium.NewPageAsync();
        await using var _c = context;
        await page.GotoAsync(Server.ConsoleUrl);
        await page.GetByLabel("API key").FillAsync(Repo.NewAdminKey());
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        var alert = page.GetByRole(AriaRole.Alert);
        await Assertions.Expect(alert).ToContainTextAsync("UNAUTHENTICATED");
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('issuer2.apiKey')"));
        Assert.EndsWith("/console/", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation)).ToHaveCountAsync(0);
        await ConsoleFixture.ScreenshotAsync(page, "console-wrong-key");
    }

    [Fact]
    public async Task The_admin_creates_a_tenant_and_an_api_key_and_that_key_signs_in_under_a_strict_csp()
    {
        var (context, page, problems) = await fixture.Chromium.NewPageAsync();
        await using var _c = context;
        var response = await page.GotoAsync(Server.ConsoleUrl);
        var csp = response!.Headers["content-security-policy"];
        Assert.Contains("script-src 'self' 'wasm-unsafe-eval'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);

        await ConsoleFixture.SignInAsync(page, Server, Server.AdminKey, null);
        // The key is in this tab's session storage only.
        Assert.Equal(Server.AdminKey, await page.EvaluateAsync<string?>("() => sessionStorage.getItem('issuer2.apiKey')"));
        Assert.Null(await page.EvaluateAsync<string?>("() => localStorage.getItem('issuer2.apiKey')"));

        var tenantId = Repo.RandomId("t-");
        await page.GetByLabel("Tenant id").FillAsync(tenantId);
        await page.GetByLabel("Display name (en)").FillAsync("ACME University");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = tenantId });
        await Assertions.Expect(row).ToContainTextAsync("ACME University");

        await row.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"API keys of {tenantId}");
        await page.GetByLabel("Display name").FillAsync("registrar portal");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create API key" }).ClickAsync();
        var key = (await page.Locator("#new-api-key").TextContentAsync())!.Trim();
        Assert.StartsWith("i2_", key, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "registrar portal" })).ToHaveCountAsync(1);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('issuer2.apiKey')"));
        await ConsoleFixture.SignInAsync(page, Server, key, tenantId);
        await Assertions.Expect(page.Locator(".who")).ToHaveTextAsync(tenantId);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Profiles" })).ToBeVisibleAsync();
        Assert.DoesNotContain(problems, p => p.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Bad_input_on_the_profile_form_shows_the_servers_field_messages_next_to_the_fields()
    {
        using var management = new Management(Server);
        var (tenantId, key) = await management.NewTenantAsync();
        var (context, page, _) = await fixture.Chromium.NewPageAsync();
        await using var _c = context;
        await ConsoleFixture.SignInAsync(page, Server, key, tenantId);

        await page.GotoAsync(Server.ConsoleUrl + "profiles/new");
        await page.GetByLabel("Profile id", new() { Exact = true }).FillAsync("not a valid id!");
        await page.GetByLabel("Credential type (vct)").FillAsync("https://example.test/credentials/member");
        await page.Locator("#c0-path").FillAsync("vct");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create profile" }).ClickAsync();

        var idError = page.Locator(".field-error[data-field='profile.profile_id']");
        await Assertions.Expect(idError).ToContainTextAsync("must be 1 to 64 letters, digits");
        var pathError = page.Locator(".field-error[data-field='profile.claims[0].path']");
        await Assertions.Expect(pathError).ToContainTextAsync("reserved");
        // Each message is tied to its input for assistive technology, and sits in the input's own field.
        Assert.Equal(await idError.GetAttributeAsync("id"), await page.GetByLabel("Profile id", new() { Exact = true }).GetAttributeAsync("aria-describedby"));
        Assert.Equal(1, await page.Locator(".field:has(#p-id) .field-error").CountAsync());
        Assert.Equal(1, await page.Locator(".field:has(#c0-path) .field-error").CountAsync());
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("INVALID_ARGUMENT");
        await ConsoleFixture.ScreenshotAsync(page, "console-profile-field-errors");

        // Refused means nothing was created.
        var list = await management.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = "tenants/" + tenantId }, Management.Bearer(key));
        Assert.Empty(list.Profiles);
    }

    [Fact]
    public async Task An_offer_shows_a_qr_code_of_its_url_and_the_timeline_follows_the_wallet_live_and_in_order()
    {
        using var management = new Management(Server);
        var (tenantId, key) = await management.NewTenantAsync();
        var (context, page, problems) = await fixture.Chromium.NewPageAsync();
        await using var _c = context;
        await ConsoleFixture.SignInAsync(page, Server, key, tenantId);

        // A profile through the form: display, two claims, a default value.
        var profileId = Repo.RandomId("diploma-");
        await page.GetByRole(AriaRole.Link, new() { Name = "Profiles" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "New profile" }).ClickAsync();
        await page.GetByLabel("Profile id", new() { Exact = true }).FillAsync(profileId);
        await page.GetByLabel("Credential type (vct)").FillAsync("https://acme.example/credentials/diploma");
        await page.Locator("#d0-name").FillAsync("Diploma");
        await page.Locator("#d0-bg").FillAsync("#12107c");
        await page.Locator("#d0-fg").FillAsync("#ffffff");
        await page.Locator("#c0-path").FillAsync("given_name");
        await page.Locator("#c0-label").FillAsync("Given name");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add a claim", Exact = true }).ClickAsync();
        await page.Locator("#c1-path").FillAsync("degree");
        await page.Locator("#c1-type").SelectOptionAsync("String");
        await page.GetByRole(AriaRole.Group, new() { Name = "Claim 2" }).GetByLabel("Mandatory").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add a default value" }).ClickAsync();
        await page.Locator("#v0-path").FillAsync("degree");
        await page.Locator("#v0-value").FillAsync("BSc Computer Science");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create profile" }).ClickAsync();
        await page.WaitForURLAsync($"**/console/profiles/{profileId}");

        // An offer with a generated PIN and this person's value.
        await page.GetByRole(AriaRole.Link, new() { Name = "Create an offer from it" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Profile", new() { Exact = true })).ToHaveValueAsync(profileId);
        await page.GetByLabel("Generated numeric PIN").CheckAsync();
        await page.GetByLabel("Description for the wallet").FillAsync("The PIN from your e-mail");
        await page.GetByLabel("Lifetime").FillAsync("30m");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add a value" }).ClickAsync();
        await page.Locator("#ov0-path").FillAsync("given_name");
        await page.Locator("#ov0-value").FillAsync("Ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create offer" }).ClickAsync();
        await page.WaitForURLAsync(OfferPage);
        var offerId = page.Url[(page.Url.LastIndexOf('/') + 1)..];

        // The QR code and the same-device link side by side; the QR decodes to the offer URL.
        var qr = page.Locator("#offer-qr");
        await Assertions.Expect(qr).ToBeVisibleAsync();
        var offerUrl = await page.Locator("#offer-url").InputValueAsync();
        Assert.StartsWith("openid-credential-offer://?credential_offer_uri=", offerUrl, StringComparison.Ordinal);
        Assert.Equal(offerUrl, await page.Locator("#offer-link").GetAttributeAsync("href"));
        var decoded = await QrDecoder.DecodeAsync(fixture.Chromium.Browser, await qr.ScreenshotAsync());
        Assert.Equal(offerUrl, decoded);
        var qrBox = (await qr.BoundingBoxAsync())!;
        var linkBox = (await page.Locator("#offer-link").BoundingBoxAsync())!;
        Assert.True(linkBox.X > qrBox.X + qrBox.Width, "on a desktop the link sits beside the QR code");
        var pin = (await page.Locator("#offer-pin").TextContentAsync())!.Trim();
        Assert.Matches("^[0-9]{6}$", pin);

        var timeline = page.Locator("#timeline-offer").Locator("xpath=..");
        await Assertions.Expect(page.Locator(".stream-state")).ToHaveAttributeAsync("data-state", "live");
        await Assertions.Expect(timeline.Locator("li.event")).ToHaveCountAsync(1);
        await Assertions.Expect(timeline.Locator("li.event").First).ToHaveAttributeAsync("data-type", "OFFER_CREATED");
        // Whatever follows must arrive without a reload.
        await page.EvaluateAsync("() => { window.__issuer2TestMarker = 'same page'; }");

        var claimed = await NodeWallet(offerUrl, pin);
        Assert.Equal("Ada", claimed.GetProperty("claims").GetProperty("given_name").GetString());

        string[] expected = ["OFFER_CREATED", "OFFER_RESOLVED", "TOKEN_ISSUED", "CREDENTIAL_ISSUED", "SESSION_COMPLETED", "NOTIFICATION_RECEIVED"];
        await Assertions.Expect(timeline.Locator("li.event")).ToHaveCountAsync(expected.Length);
        var types = await timeline.Locator("li.event").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.type)");
        Assert.Equal(expected, types);
        Assert.Equal("same page", await page.EvaluateAsync<string?>("() => window.__issuer2TestMarker"));

        // The same events, in the same order, as the server's log lists them.
        var shownCursors = await timeline.Locator("li.event").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.cursor)");
        var offerName = $"tenants/{tenantId}/offers/{offerId}";
        var logged = new List<string>();
        var token = "";
        do
        {
            var page1 = await management.Events.ListEventsAsync(
                new ListEventsRequest { Parent = "tenants/" + tenantId, Filter = new EventFilter { Offer = offerName }, PageToken = token }, Management.Bearer(key));
            logged.AddRange(page1.Events.Select(e => e.Cursor));
            token = page1.NextPageToken;
        }
        while (token.Length > 0 && logged.Count < expected.Length);
        Assert.Equal(logged, shownCursors);

        // The offer's state and sessions follow.
        await Assertions.Expect(page.Locator("#offer-uses")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#offer-state")).ToHaveTextAsync("USED_UP");
        await Assertions.Expect(page.Locator("#offer-sessions tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#offer-sessions")).ToContainTextAsync("credential_accepted");
        await ConsoleFixture.ScreenshotAsync(page, "console-offer");
        Assert.DoesNotContain(problems, p => p.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task The_tenant_timeline_shows_events_of_every_offer_live()
    {
        using var management = new Management(Server);
        var (tenantId, key) = await management.NewTenantAsync();
        var profileId = await management.NewProfileAsync(tenantId, key);
        var (context, page, _) = await fixture.Chromium.NewPageAsync();
        await using var _c = context;
        await ConsoleFixture.SignInAsync(page, Server, key, tenantId);
        await page.GetByRole(AriaRole.Link, new() { Name = "Events" }).ClickAsync();
        await Assertions.Expect(page.Locator(".stream-state")).ToHaveAttributeAsync("data-state", "live");

        var created = await management.Offers.CreateOfferAsync(new CreateOfferRequest
        {
            Parent = "tenants/" + tenantId,
            Profile = $"tenants/{tenantId}/profiles/{profileId}",
        }, Management.Bearer(key));
        await Assertions.Expect(page.Locator("li.event[data-type=OFFER_CREATED]")).ToHaveCountAsync(1);
        await NodeWallet(created.OfferUrl, null);
        await Assertions.Expect(page.Locator("li.event[data-type=NOTIFICATION_RECEIVED]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("li.event").First.GetByRole(AriaRole.Link)).ToHaveTextAsync("offer " + created.Offer.OfferId);
    }

    [Fact]
    public async Task On_a_phone_sized_screen_the_console_fits_and_works_by_keyboard()
    {
        using var management = new Management(Server);
        var (tenantId, key) = await management.NewTenantAsync();
        var profileId = await management.NewProfileAsync(tenantId, key);
        var (context, page, _) = await fixture.Chromium.NewPageAsync(new ViewportSize { Width = 390, Height = 844 }, isMobile: true);
        await using var _c = context;
        await page.GotoAsync(Server.ConsoleUrl);

        // Sign in with the keyboard alone: the page's heading has the focus (as after every navigation), Tab reaches
        // the key, type, Tab, type, Enter.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(page.GetByLabel("API key")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(key);
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync(tenantId);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync("**/console/offers");

        await page.GotoAsync(Server.ConsoleUrl + "offers/new?profile=" + profileId);
        await Assertions.Expect(page.GetByLabel("Profile", new() { Exact = true })).ToHaveValueAsync(profileId);
        await AssertFitsAsync(page);
        // Every control has a label.
        var unlabelled = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('input, select, textarea')].filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.id || e.outerHTML)");
        Assert.Empty(unlabelled);
        await ConsoleFixture.ScreenshotAsync(page, "console-phone-offer-form");

        await page.GetByRole(AriaRole.Button, new() { Name = "Create offer" }).ClickAsync();
        await page.WaitForURLAsync(OfferPage);
        var qr = page.Locator("#offer-qr");
        await Assertions.Expect(qr).ToBeVisibleAsync();
        var qrBox = (await qr.BoundingBoxAsync())!;
        Assert.True(qrBox.Width <= 390, $"the QR code fits the screen ({qrBox.Width} px)");
        Assert.Equal(await page.Locator("#offer-url").InputValueAsync(), await QrDecoder.DecodeAsync(fixture.Chromium.Browser, await qr.ScreenshotAsync()));
        await AssertFitsAsync(page);
        await ConsoleFixture.ScreenshotAsync(page, "console-phone-offer");
    }

    /// <summary>An offer's own page (not offers/new).</summary>
    private static readonly System.Text.RegularExpressions.Regex OfferPage = new("/console/offers/(?!new)[A-Za-z0-9_-]+$");

    private static async Task AssertFitsAsync(IPage page)
    {
        var (scroll, width) = (await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"), await page.EvaluateAsync<int>("() => window.innerWidth"));
        Assert.True(scroll <= width, $"no sideways scrolling: the page is {scroll} px wide on a {width} px screen");
    }

    private static Task<JsonElement> NodeWallet(string offerUrl, string? pin) => NodeScripts.ClaimAsync(offerUrl, pin);
}
