using Google.Protobuf.WellKnownTypes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>One invalid request: how to spoil a valid one, and the field(s) the refusal must name.</summary>
public sealed record InvalidCase<T>(Action<T, DateTimeOffset> Spoil, params string[] Fields);

/// <summary>The tables of invalid requests (docs/management-api.md), by case name.</summary>
public static class ValidationCases
{
    private static readonly string[] _reservedTenantIds =
    [
        "health", "healthz", "ready", "metrics", "console", "admin", "api", "grpc", "static", "assets", "docs",
        "tenants", "oauth", "oauth2", "login", "logout", "callback", "status", "version", "www", "issuer2",
    ];

    private static readonly string[] _reservedClaimNames =
    [
        "iss", "nbf", "exp", "iat", "cnf", "vct", "vct#integrity", "status", "jti", "aud", "_sd", "_sd_alg", "...",
    ];

    // ---- CreateTenant ------------------------------------------------------------------------------------

    public static readonly IReadOnlyDictionary<string, InvalidCase<Tenant>> TenantCases = BuildTenantCases();

    public static TheoryData<string> TenantCaseNames => Names(TenantCases.Keys);

    private static Dictionary<string, InvalidCase<Tenant>> BuildTenantCases()
    {
        const string id = "tenant.tenant_id";
        var cases = new Dictionary<string, InvalidCase<Tenant>>
        {
            ["tenant_id missing"] = new((t, _) => t.TenantId = "", id),
            ["tenant_id of 2 characters"] = new((t, _) => t.TenantId = "ab", id),
            ["tenant_id of 64 characters"] = new((t, _) => t.TenantId = "t" + new string('a', 63), id),
            ["tenant_id with uppercase"] = new((t, _) => t.TenantId = "Acme" + Suffix(), id),
            ["tenant_id starting with a digit"] = new((t, _) => t.TenantId = "1acme" + Suffix(), id),
            ["tenant_id starting with a hyphen"] = new((t, _) => t.TenantId = "-acme" + Suffix(), id),
            ["tenant_id ending with a hyphen"] = new((t, _) => t.TenantId = "acme" + Suffix() + "-", id),
            ["tenant_id with underscore"] = new((t, _) => t.TenantId = "acme_" + Suffix(), id),
            ["tenant_id with a dot"] = new((t, _) => t.TenantId = "acme." + Suffix(), id),
            ["tenant_id .well-known"] = new((t, _) => t.TenantId = ".well-known", id),
            ["default offer lifetime above the maximum"] = new(
                (t, _) => { t.DefaultOfferLifetime = Samples.Days(10); t.MaxOfferLifetime = Samples.Days(5); },
                "tenant.default_offer_lifetime", "tenant.max_offer_lifetime"),
            ["max offer lifetime above 365 days"] = new((t, _) => t.MaxOfferLifetime = Samples.Days(366), "tenant.max_offer_lifetime"),
            ["negative default offer lifetime"] = new((t, _) => t.DefaultOfferLifetime = Samples.Hours(-1), "tenant.default_offer_lifetime"),
            ["pre-authorized code lifetime under 30 s"] = new((t, _) => t.PreAuthorizedCodeLifetime = Samples.Seconds(29), "tenant.pre_authorized_code_lifetime"),
            ["pre-authorized code lifetime over 1 h"] = new((t, _) => t.PreAuthorizedCodeLifetime = Samples.Minutes(61), "tenant.pre_authorized_code_lifetime"),
            ["pin attempt limit over 100"] = new((t, _) => t.PinAttemptLimit = 101, "tenant.pin_attempt_limit"),
            ["negative pin attempt limit"] = new((t, _) => t.PinAttemptLimit = -1, "tenant.pin_attempt_limit"),
        };
        foreach (var word in _reservedTenantIds)
        {
            cases[$"tenant_id reserved word {word}"] = new((t, _) => t.TenantId = word, id);
        }

        foreach (var (name, spoil, field) in IdentityProviderCases())
        {
            cases[name] = new((t, _) => { t.IdentityProvider = AuthorizedSamples.IdentityProvider(); spoil(t.IdentityProvider); }, field);
        }

        foreach (var (name, spoil, field) in AuthorizationServerCases())
        {
            cases[name] = new((t, _) => { t.AuthorizationServer = new AuthorizationServerSettings(); spoil(t.AuthorizationServer); }, field);
        }

        return cases;
    }

    /// <summary>Ways to spoil a valid IdP (the test host allows http on loopback only), with the field each names.</summary>
    private static IEnumerable<(string Name, Action<IdentityProvider> Spoil, string Field)> IdentityProviderCases()
    {
        const string f = "tenant.identity_provider.";
        yield return ("identity_provider issuer over http on a public host", i => i.Issuer = "http://idp.example", f + "issuer");
        yield return ("identity_provider issuer without scheme", i => i.Issuer = "idp.example/realms/acme", f + "issuer");
        yield return ("identity_provider issuer missing", i => i.Issuer = "", f + "issuer");
        yield return ("identity_provider issuer with a query", i => i.Issuer = "https://idp.example/?realm=acme", f + "issuer");
        yield return ("identity_provider issuer with a fragment", i => i.Issuer = "https://idp.example/#acme", f + "issuer");
        yield return ("identity_provider issuer of 2049 characters", i => i.Issuer = "https://idp.example/" + new string('a', 2029), f + "issuer");
        yield return ("identity_provider client_id missing", i => i.ClientId = "", f + "client_id");
        yield return ("identity_provider client_id of 256 characters", i => i.ClientId = new string('c', 256), f + "client_id");
        yield return ("identity_provider client_id with a control character", i => i.ClientId = "issuer\u00012", f + "client_id");
        yield return ("identity_provider client_secret missing when first set", i => i.ClientSecret = "", f + "client_secret");
        yield return ("identity_provider client_secret of 1025 characters", i => i.ClientSecret = new string('s', 1025), f + "client_secret");
        yield return ("identity_provider with 17 scopes", i => i.Scopes.AddRange(Enumerable.Range(0, 17).Select(n => $"scope{n}")), f + "scopes");
        yield return ("identity_provider scope openid", i => i.Scopes.Add("openid"), f + "scopes[0]");
        yield return ("identity_provider scope twice", i => i.Scopes.AddRange(["email", "email"]), f + "scopes[1]");
        yield return ("identity_provider scope with a space", i => i.Scopes.Add("two words"), f + "scopes[0]");
        yield return ("identity_provider scope of 65 characters", i => i.Scopes.Add(new string('s', 65)), f + "scopes[0]");
    }

    /// <summary>Ways to spoil a valid authorization-server policy, with the field each names.</summary>
    private static IEnumerable<(string Name, Action<AuthorizationServerSettings> Spoil, string Field)> AuthorizationServerCases()
    {
        const string f = "tenant.authorization_server.";
        static WalletClient Client(string id, params string[] uris)
        {
            var client = new WalletClient { ClientId = id };
            client.RedirectUris.AddRange(uris.Length == 0 ? ["https://wallet.example/cb"] : uris);
            return client;
        }

        static void Registered(AuthorizationServerSettings a, params WalletClient[] clients)
        {
            a.ClientMode = WalletClientMode.Registered;
            a.RegisteredClients.AddRange(clients);
        }

        yield return ("authorization_server clients without REGISTERED", a => a.RegisteredClients.Add(Client("wallet")), f + "registered_clients");
        yield return ("authorization_server REGISTERED without clients", a => a.ClientMode = WalletClientMode.Registered, f + "registered_clients");
        yield return ("authorization_server 101 clients", a => Registered(a, [.. Enumerable.Range(0, 101).Select(n => Client($"wallet-{n}"))]), f + "registered_clients");
        yield return ("authorization_server client_id twice", a => Registered(a, Client("wallet"), Client("wallet")), f + "registered_clients[1].client_id");
        yield return ("authorization_server client_id missing", a => Registered(a, Client("")), f + "registered_clients[0].client_id");
        yield return ("authorization_server client_id of 256 characters", a => Registered(a, Client(new string('w', 256))), f + "registered_clients[0].client_id");
        yield return ("authorization_server client without redirect URIs", a => Registered(a, new WalletClient { ClientId = "wallet" }), f + "registered_clients[0].redirect_uris");
        yield return ("authorization_server client with 9 redirect URIs",
            a => Registered(a, Client("wallet", [.. Enumerable.Range(0, 9).Select(n => $"https://wallet.example/cb{n}")])), f + "registered_clients[0].redirect_uris");
        yield return ("authorization_server relative redirect URI", a => Registered(a, Client("wallet", "/cb")), f + "registered_clients[0].redirect_uris[0]");
        yield return ("authorization_server redirect URI with a fragment", a => Registered(a, Client("wallet", "https://wallet.example/cb#x")), f + "registered_clients[0].redirect_uris[0]");
        yield return ("authorization_server redirect URI of 2049 characters",
            a => Registered(a, Client("wallet", "https://wallet.example/" + new string('a', 2026))), f + "registered_clients[0].redirect_uris[0]");
        yield return ("authorization_server unknown client mode", a => a.ClientMode = (WalletClientMode)9, f + "client_mode");
    }

    // ---- CreateProfile -----------------------------------------------------------------------------------
    // The sample profile's claims: [0] given_name, [1] family_name, [2] birthdate (date), [3] age_in_years
    // (integer), [4] is_over_18 (boolean), [5] address.locality, [6] score (number); defaults [0] given_name,
    // [1] family_name.

    public static readonly IReadOnlyDictionary<string, InvalidCase<Profile>> ProfileCases = BuildProfileCases();

    public static TheoryData<string> ProfileCaseNames => Names(ProfileCases.Keys);

    /// <summary>The profile cases that an update can reach (profile_id is immutable and not in any mask).</summary>
    public static TheoryData<string> ProfileUpdateCaseNames =>
        Names(ProfileCases.Where(c => !c.Value.Fields.Any(f => f.StartsWith("profile.profile_id", StringComparison.Ordinal))).Select(c => c.Key));

    private static Dictionary<string, InvalidCase<Profile>> BuildProfileCases()
    {
        var cases = new Dictionary<string, InvalidCase<Profile>>
        {
            ["profile_id missing"] = new((p, _) => p.ProfileId = "", "profile.profile_id"),
            ["profile_id with a space"] = new((p, _) => p.ProfileId = "bad id", "profile.profile_id"),
            ["profile_id with a slash"] = new((p, _) => p.ProfileId = "a/b", "profile.profile_id"),
            ["profile_id of 65 characters"] = new((p, _) => p.ProfileId = new string('p', 65), "profile.profile_id"),
            ["scope with a space"] = new((p, _) => p.Scope = "two words", "profile.scope"),
            ["scope with a double quote"] = new((p, _) => p.Scope = "a\"b", "profile.scope"),
            ["scope of 129 characters"] = new((p, _) => p.Scope = new string('s', 129), "profile.scope"),
            ["vct missing"] = new((p, _) => p.Vct = "", "profile.vct"),
            ["vct of 2049 characters"] = new((p, _) => p.Vct = "https://example.com/" + new string('v', 2029), "profile.vct"),
            ["101 claims"] = new(
                (p, _) =>
                {
                    p.Claims.Clear();
                    p.DefaultValues.Clear();
                    for (var i = 0; i < 101; i++)
                    {
                        p.Claims.Add(Samples.Claim(ClaimValueType.String, $"claim_{i}"));
                    }
                },
                "profile.claims"),
            ["claim with an empty path"] = new((p, _) => p.Claims[6].Path.Clear(), "profile.claims[6].path"),
            ["claim path of 9 segments"] = new(
                (p, _) => { p.Claims[6].Path.Clear(); p.Claims[6].Path.AddRange(["a", "b", "c", "d", "e", "f", "g", "h", "i"]); },
                "profile.claims[6].path"),
            ["claim path segment of 101 characters"] = new((p, _) => p.Claims[5].Path[1] = new string('l', 101), "profile.claims[5].path"),
            ["claim path with an empty segment"] = new((p, _) => p.Claims[5].Path[1] = "", "profile.claims[5].path"),
            ["duplicate claim path"] = new((p, _) => p.Claims.Add(Samples.Claim(ClaimValueType.String, "given_name")), "profile.claims[7].path", "profile.claims[0].path"),
            ["claim path prefix of another"] = new(
                (p, _) => p.Claims.Add(Samples.Claim(ClaimValueType.Object, "address")),
                "profile.claims[7].path", "profile.claims[5].path"),
            ["nested _sd segment"] = new((p, _) => p.Claims[5].Path[1] = "_sd", "profile.claims[5].path"),
            ["nested ... segment"] = new((p, _) => p.Claims[5].Path[1] = "...", "profile.claims[5].path"),
            ["default for an undeclared claim"] = new((p, _) => p.DefaultValues.Add(Samples.StringValue("Eri", "nickname")), "profile.default_values[2].path"),
            ["default for a claim's parent object"] = new((p, _) => p.DefaultValues.Add(Samples.StringValue("x", "address")), "profile.default_values[2].path"),
            ["default twice for one claim"] = new((p, _) => p.DefaultValues.Add(Samples.StringValue("Max", "given_name")), "profile.default_values[2].path"),
            ["string default for an integer claim"] = new((p, _) => p.DefaultValues.Add(Samples.StringValue("ten", "age_in_years")), "profile.default_values[2].value"),
            ["fractional default for an integer claim"] = new((p, _) => p.DefaultValues.Add(Samples.NumberValue(1.5, "age_in_years")), "profile.default_values[2].value"),
            ["invalid date default"] = new((p, _) => p.DefaultValues.Add(Samples.StringValue("2024-13-40", "birthdate")), "profile.default_values[2].value"),
            ["date-time default for a date claim"] = new((p, _) => p.DefaultValues.Add(Samples.StringValue("2024-01-01T00:00:00Z", "birthdate")), "profile.default_values[2].value"),
            ["string default for a boolean claim"] = new((p, _) => p.DefaultValues.Add(Samples.StringValue("true", "is_over_18")), "profile.default_values[2].value"),
            ["number default for a string claim"] = new((p, _) => p.DefaultValues.Add(Samples.NumberValue(5, "address", "locality")), "profile.default_values[2].value"),
            ["default without a value"] = new((p, _) => p.DefaultValues.Add(new ClaimValue { Path = { "score" } }), "profile.default_values[2].value"),
            ["credential validity under a minute"] = new((p, _) => p.CredentialValidity = Samples.Seconds(30), "profile.credential_validity"),
            ["credential validity over ten years"] = new((p, _) => p.CredentialValidity = Samples.Days(3660), "profile.credential_validity"),
            ["negative credential validity"] = new((p, _) => p.CredentialValidity = Samples.Days(-1), "profile.credential_validity"),
            ["display without a name"] = new((p, _) => p.Display[0].Name = "", "profile.display[0].name"),
            ["claim mapping of an undeclared claim"] = new((p, _) => p.ClaimMappings.Add(Mapping(["nickname"], ["nickname"])), "profile.claim_mappings[0].path"),
            ["claim mapping of a claim's parent object"] = new((p, _) => p.ClaimMappings.Add(Mapping(["address"], ["address"])), "profile.claim_mappings[0].path"),
            ["claim mapped twice"] = new(
                (p, _) => { p.ClaimMappings.Add(Mapping(["given_name"], ["given_name"])); p.ClaimMappings.Add(Mapping(["given_name"], ["name"])); },
                "profile.claim_mappings[1].path"),
            ["claim mapping without source_path"] = new((p, _) => p.ClaimMappings.Add(Mapping(["given_name"], [])), "profile.claim_mappings[0].source_path"),
            ["claim mapping source_path of 9 segments"] = new(
                (p, _) => p.ClaimMappings.Add(Mapping(["given_name"], ["a", "b", "c", "d", "e", "f", "g", "h", "i"])), "profile.claim_mappings[0].source_path"),
            ["claim mapping source_path segment of 129 characters"] = new(
                (p, _) => p.ClaimMappings.Add(Mapping(["given_name"], [new string('s', 129)])), "profile.claim_mappings[0].source_path"),
            ["claim mapping source_path with an empty segment"] = new(
                (p, _) => p.ClaimMappings.Add(Mapping(["address", "locality"], ["address", ""])), "profile.claim_mappings[0].source_path"),
            ["claim mapping of an unknown source"] = new(
                (p, _) => p.ClaimMappings.Add(Mapping(["given_name"], ["given_name"], (ClaimSource)9)), "profile.claim_mappings[0].source"),
            ["65 claim mappings"] = new(
                (p, _) =>
                {
                    p.Claims.Clear();
                    p.DefaultValues.Clear();
                    for (var i = 0; i < 65; i++)
                    {
                        p.Claims.Add(Samples.Claim(ClaimValueType.String, $"claim_{i}"));
                        p.ClaimMappings.Add(Mapping([$"claim_{i}"], [$"idp_{i}"]));
                    }
                },
                "profile.claim_mappings"),
        };
        foreach (var name in _reservedClaimNames)
        {
            cases[$"reserved claim name {name}"] = new((p, _) => p.Claims[6].Path[0] = name, "profile.claims[6].path");
            cases[$"reserved claim name {name} as an object"] = new(
                (p, _) => { p.Claims[6].Path.Clear(); p.Claims[6].Path.AddRange([name, "inner"]); },
                "profile.claims[6].path");
        }

        return cases;
    }

    private static ClaimMapping Mapping(string[] path, string[] sourcePath, ClaimSource source = ClaimSource.IdToken)
    {
        var mapping = new ClaimMapping { Source = source };
        mapping.Path.AddRange(path);
        mapping.SourcePath.AddRange(sourcePath);
        return mapping;
    }

    // ---- CreateOffer (tenant defaults: default lifetime 24 h, max 30 d, code lifetime 5 min) -----------

    public static readonly IReadOnlyDictionary<string, InvalidCase<CreateOfferRequest>> OfferCases = BuildOfferCases();

    public static TheoryData<string> OfferCaseNames => Names(OfferCases.Keys);

    private static Dictionary<string, InvalidCase<CreateOfferRequest>> BuildOfferCases() => new()
    {
        ["profile missing"] = new((r, _) => r.Profile = "", "profile"),
        ["profile not a resource name"] = new((r, _) => r.Profile = "not a profile name", "profile"),
        ["lifetime and expire_time both"] = new(
            (r, now) => { r.Lifetime = Samples.Hours(1); r.ExpireTime = Timestamp.FromDateTimeOffset(now.AddHours(1)); },
            "lifetime", "expire_time"),
        ["lifetime beyond the tenant maximum"] = new((r, _) => r.Lifetime = Samples.Days(31), "lifetime"),
        ["negative lifetime"] = new((r, _) => r.Lifetime = Samples.Hours(-1), "lifetime"),
        ["expire_time beyond the tenant maximum"] = new((r, now) => r.ExpireTime = Timestamp.FromDateTimeOffset(now.AddDays(31)), "expire_time"),
        ["expire_time in the past"] = new((r, now) => r.ExpireTime = Timestamp.FromDateTimeOffset(now.AddMinutes(-1)), "expire_time"),
        ["expire_time now"] = new((r, now) => r.ExpireTime = Timestamp.FromDateTimeOffset(now), "expire_time"),
        ["max_uses over 10000"] = new((r, _) => r.MaxUses = 10001, "max_uses"),
        ["negative max_uses"] = new((r, _) => r.MaxUses = -1, "max_uses"),
        ["by value with max_uses 2"] = new((r, _) => { r.DeliveryMode = DeliveryMode.ByValue; r.MaxUses = 2; }, "max_uses"),
        ["by value living longer than a pre-authorized code"] = new(
            (r, _) => { r.DeliveryMode = DeliveryMode.ByValue; r.Lifetime = Samples.Minutes(6); }, "lifetime"),
        ["by value expiring after a pre-authorized code"] = new(
            (r, now) => { r.DeliveryMode = DeliveryMode.ByValue; r.ExpireTime = Timestamp.FromDateTimeOffset(now.AddHours(1)); }, "expire_time"),
        ["generated pin of 3 digits"] = new((r, _) => r.TxCode = new TxCodeOptions { Length = 3 }, "tx_code.length"),
        ["generated pin of 13 digits"] = new((r, _) => r.TxCode = new TxCodeOptions { Length = 13 }, "tx_code.length"),
        ["negative pin length"] = new((r, _) => r.TxCode = new TxCodeOptions { Length = -1 }, "tx_code.length"),
        ["supplied pin of 3 characters"] = new((r, _) => r.TxCode = new TxCodeOptions { Value = "123" }, "tx_code.value"),
        ["supplied pin of 65 characters"] = new(
            (r, _) => r.TxCode = new TxCodeOptions { Value = new string('x', 65), InputMode = TxCodeInputMode.Text }, "tx_code.value"),
        ["numeric pin with letters"] = new(
            (r, _) => r.TxCode = new TxCodeOptions { Value = "12ab34", InputMode = TxCodeInputMode.Numeric }, "tx_code.value"),
        ["pin with value and length"] = new(
            (r, _) => r.TxCode = new TxCodeOptions { Value = "123456", Length = 6 }, "tx_code.length", "tx_code.value"),
        ["pin description of 301 characters"] = new(
            (r, _) => r.TxCode = new TxCodeOptions { Description = new string('d', 301) }, "tx_code.description"),
        ["issuer_state INCLUDE with pre-authorized"] = new(
            (r, _) => { r.AuthenticationMethod = AuthenticationMethod.PreAuthorized; r.IssuerStateMode = IssuerStateMode.Include; }, "issuer_state_mode"),
        ["override of an undeclared claim"] = new((r, _) => r.Overrides.Add(Samples.StringValue("Eri", "nickname")), "overrides[0].path"),
        ["override of a claim's parent object"] = new((r, _) => r.Overrides.Add(Samples.StringValue("x", "address")), "overrides[0].path"),
        ["override with an empty path"] = new((r, _) => r.Overrides.Add(Samples.StringValue("x")), "overrides[0].path"),
        ["number override for a string claim"] = new((r, _) => r.Overrides.Add(Samples.NumberValue(3, "given_name")), "overrides[0].value"),
        ["fractional override for an integer claim"] = new((r, _) => r.Overrides.Add(Samples.NumberValue(17.5, "age_in_years")), "overrides[0].value"),
        ["invalid date override"] = new((r, _) => r.Overrides.Add(Samples.StringValue("31.12.1990", "birthdate")), "overrides[0].value"),
        ["string override for a boolean claim"] = new((r, _) => r.Overrides.Add(Samples.StringValue("yes", "is_over_18")), "overrides[0].value"),
        ["override without a value"] = new((r, _) => r.Overrides.Add(new ClaimValue { Path = { "score" } }), "overrides[0].value"),
        ["override of one path twice"] = new(
            (r, _) => { r.Overrides.Add(Samples.StringValue("Anna", "given_name")); r.Overrides.Add(Samples.StringValue("Berta", "given_name")); },
            "overrides[1].path"),
        ["request_id of 129 characters"] = new((r, _) => r.RequestId = new string('r', 129), "request_id"),
        ["authorized OMIT with max_uses 1"] = new((r, _) => { r.Authorized(IssuerStateMode.Omit); r.MaxUses = 1; }, "max_uses"),
        ["authorized OMIT with overrides"] = new((r, _) => { r.Authorized(IssuerStateMode.Omit); r.Overrides.Add(Samples.StringValue("Anna", "given_name")); }, "overrides"),
        ["authorized with tx_code"] = new((r, _) => { r.Authorized(IssuerStateMode.Include); r.TxCode = new TxCodeOptions(); }, "tx_code"),
        ["authorized by value beyond the tenant maximum"] = new(
            (r, _) => { r.Authorized(IssuerStateMode.Include, DeliveryMode.ByValue); r.Lifetime = Samples.Days(31); }, "lifetime"),
        ["authorized over 10000 uses"] = new((r, _) => { r.Authorized(IssuerStateMode.Include); r.MaxUses = 10001; }, "max_uses"),
    };

    // ---- UpdateTenant (mask and values) ------------------------------------------------------------------

    public static readonly IReadOnlyDictionary<string, InvalidCase<UpdateTenantRequest>> TenantUpdateCases = new Dictionary<string, InvalidCase<UpdateTenantRequest>>
    {
        ["no update_mask"] = new((r, _) => { r.Tenant.RequirePin = true; r.UpdateMask = null; }, "update_mask"),
        ["tenant_id in the mask"] = new((r, _) => { r.Tenant.TenantId = "other"; r.UpdateMask = Mask("tenant_id"); }, "update_mask"),
        ["credential_issuer in the mask"] = new((r, _) => { r.Tenant.CredentialIssuer = "https://evil.example"; r.UpdateMask = Mask("credential_issuer"); }, "update_mask"),
        ["signing_keys in the mask"] = new((r, _) => r.UpdateMask = Mask("signing_keys"), "update_mask"),
        ["unknown field in the mask"] = new((r, _) => r.UpdateMask = Mask("no_such_field"), "update_mask"),
        ["max offer lifetime above 365 days"] = new((r, _) => { r.Tenant.MaxOfferLifetime = Samples.Days(400); r.UpdateMask = Mask("max_offer_lifetime"); }, "tenant.max_offer_lifetime"),
        ["default offer lifetime above the kept maximum"] = new(
            (r, _) => { r.Tenant.DefaultOfferLifetime = Samples.Days(31); r.UpdateMask = Mask("default_offer_lifetime"); },
            "tenant.default_offer_lifetime", "tenant.max_offer_lifetime"),
        ["pin attempt limit over 100"] = new((r, _) => { r.Tenant.PinAttemptLimit = 101; r.UpdateMask = Mask("pin_attempt_limit"); }, "tenant.pin_attempt_limit"),
        ["pre-authorized code lifetime over 1 h"] = new(
            (r, _) => { r.Tenant.PreAuthorizedCodeLifetime = Samples.Hours(2); r.UpdateMask = Mask("pre_authorized_code_lifetime"); },
            "tenant.pre_authorized_code_lifetime"),
        ["identity_provider first set without client_secret"] = new(
            (r, _) => { r.Tenant.IdentityProvider = AuthorizedSamples.IdentityProvider(secret: null); r.UpdateMask = Mask("identity_provider"); },
            "tenant.identity_provider.client_secret"),
        ["identity_provider issuer over http on a public host"] = new(
            (r, _) => { r.Tenant.IdentityProvider = AuthorizedSamples.IdentityProvider("http://idp.example"); r.UpdateMask = Mask("identity_provider"); },
            "tenant.identity_provider.issuer"),
        ["authorization_server REGISTERED without clients"] = new(
            (r, _) => { r.Tenant.AuthorizationServer = new AuthorizationServerSettings { ClientMode = WalletClientMode.Registered }; r.UpdateMask = Mask("authorization_server"); },
            "tenant.authorization_server.registered_clients"),
        ["identity_provider in a mask with a bad field beside"] = new(
            (r, _) =>
            {
                r.Tenant.IdentityProvider = AuthorizedSamples.IdentityProvider();
                r.Tenant.PinAttemptLimit = 0;
                r.UpdateMask = Mask("identity_provider", "pin_attempt_limit");
            },
            "tenant.pin_attempt_limit"),
    };

    public static TheoryData<string> TenantUpdateCaseNames => Names(TenantUpdateCases.Keys);

    // ---- CreateApiKey ------------------------------------------------------------------------------------

    public static readonly IReadOnlyDictionary<string, InvalidCase<CreateApiKeyRequest>> ApiKeyCases = new Dictionary<string, InvalidCase<CreateApiKeyRequest>>
    {
        ["display_name of 101 characters"] = new((r, _) => r.DisplayName = new string('n', 101), "display_name"),
        ["expire_time in the past"] = new((r, now) => r.ExpireTime = Timestamp.FromDateTimeOffset(now.AddMinutes(-1)), "expire_time"),
        ["parent missing"] = new((r, _) => r.Parent = "", "parent"),
    };

    public static TheoryData<string> ApiKeyCaseNames => Names(ApiKeyCases.Keys);

    public static FieldMask Mask(params string[] paths)
    {
        var mask = new FieldMask();
        mask.Paths.AddRange(paths);
        return mask;
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];

    private static TheoryData<string> Names(IEnumerable<string> names)
    {
        var data = new TheoryData<string>();
        foreach (var name in names)
        {
            data.Add(name);
        }

        return data;
    }
}
