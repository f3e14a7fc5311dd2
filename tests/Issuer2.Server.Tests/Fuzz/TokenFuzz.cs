using System.Text;
using System.Text.Json;
using CsCheck;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>A code the token fuzzer holds, and whether the model says it was redeemed.</summary>
public sealed class KnownCode(FuzzOffer offer)
{
    public FuzzOffer Offer { get; } = offer;

    public bool Used { get; set; }
}

/// <summary>One lane of the token fuzzer: its offer without PIN, its offer with one (renewed once locked), B's offer, its codes.</summary>
public sealed class TokenLane
{
    public required FuzzOffer Plain { get; init; }

    public required FuzzOffer Pin { get; set; }

    public required FuzzOffer OfB { get; init; }

    public Dictionary<string, KnownCode> Codes { get; } = new(StringComparer.Ordinal);

    public List<string> Redeemed { get; } = [];
}

/// <summary>
/// Fuzzes POST {issuer}/token: a valid pre-authorized code request (with and without tx_code, with and without
/// authorization_details) and one mutation of it. The oracle reads the sent bytes with <see cref="FormModel"/> and
/// decides as RFC 6749 §5.2, OID4VCI 1.0 §6 and docs/wallet-endpoints.md say, on the lane's model of its offers.
/// </summary>
public sealed class TokenFuzz(FuzzWorld world) : FuzzTarget<TokenLane>(world)
{
    private const string Grant = TestWallet.PreAuthorizedGrant;

    private static readonly string[] ContentTypes =
    [
        "application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED", "application/x-www-form-urlencoded; charset=utf-8",
        "application/x-www-form-urlencoded; charset=UTF-8", "application/x-www-form-urlencoded; charset=\"utf-8\"", "application/x-www-form-urlencoded; foo=bar",
        "application/x-www-form-urlencoded; charset=latin1", "application/x-www-form-urlencoded; charset=utf-16", "application/x-www-form-urlencoded; charset=iso-8859-1",
        "application/x-www-form-urlencoded; charset=us-ascii", "application/x-www-form-urlencoded; charset=utf8", "application/json", "text/plain",
        "multipart/form-data; boundary=x", "application/x-www-form-urlencoded, text/plain", "application/x-www-form-urlencodedx",
    ];

    private static readonly string[] UnknownParameters = ["client_id=wallet-1", "scope=openid", "state=xyz", "foo=bar", "foo", "redirect_uri=https%3A%2F%2Fw.example%2Fcb", "=v"];

    private static readonly Gen<Mutation> Mutation = Gen.Frequency<Mutation>(
        (6, Mutations.Kind("valid")),
        (6, Mutations.Kind("re-encode", "every byte", "every byte, lower-case hex", "only what must be")),
        (3, Mutations.Kind("reorder")),
        (2, Mutations.Kind("extra separators")),
        (3, Mutations.Kind("unknown parameter")),
        (6, Mutations.Kind("drop")),
        (5, Mutations.Kind("duplicate", "same value", "other value")),
        (6, Mutations.Kind("retype")),
        (5, Mutations.Kind("truncate value")),
        (8, Gen.Select(Gen.OneOf(Mutations.Escapes), Mutations.Any, Mutations.Any, (s, i, j) => new Mutation("inject escape", i, j, s))),
        (5, Gen.Select(Gen.Int[0, Mutations.RawBytes.Length - 1], Mutations.Any, Mutations.Any, (k, i, j) => new Mutation("inject bytes", i, j, Mutations.Hex(Mutations.RawBytes[k])))),
        (3, Mutations.Kind("truncate body")),
        (1, Mutations.Kind("byte order mark")),
        (6, Gen.Select(Gen.OneOf(ContentTypes), Mutations.Any, (s, i) => new Mutation("content type", i, 0, s))),
        (1, Mutations.Kind("no content type")),
        (1, Mutations.Kind("JSON body")),
        (1, Mutations.Kind("oversized body")),
        (1, Mutations.Kind("empty body")),
        (5, Mutations.Kind("code", "tenant B's", "random", "oversized", "already redeemed", "empty", "with a space")),
        (5, Mutations.Kind("tx_code", "wrong", "with a trailing space", "with a leading zero", "added to an offer without PIN", "empty")),
        (3, Mutations.Kind("grant_type", "authorization_code", "upper case", "with a trailing space", "refresh_token", "prefix only")),
        (7, Mutations.Kind("authorization_details",
            "another configuration of A", "B's configuration", "unknown configuration", "type other", "no type", "id a number", "an object",
            "empty array", "16 entries", "17 entries", "not JSON", "lone surrogate", "escaped NUL", "escaped control", "number of 100 digits",
            "array of 150 entries", "nested 20 deep", "nested 40 deep", "nested 100 deep", "spaced JSON", "escaped JSON")),
        (3, Mutations.Kind("method", "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")),
        (3, Mutations.Kind("path", "tenant B", "tenant B with B's code", "unknown tenant", "trailing slash", "query", "tenant %FF", "tenant %00", "escaped tenant")));

    private static readonly Gen<(bool Pin, bool Details, Mutation M)> Plans =
        Gen.Select(Gen.Bool, Gen.Int[0, 3], Mutation, (pin, details, m) => (pin, details == 0, m));

    public override string Endpoint => "token";

    public override IReadOnlySet<string> Errors { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "400 invalid_request", "400 invalid_grant", "400 unsupported_grant_type", "400 invalid_authorization_details", "401 invalid_client", "405 invalid_request",
    };

    public override async Task<TokenLane> NewLaneAsync(int lane) => new()
    {
        Plain = await World.OfferAsync(),
        Pin = await World.OfferAsync(pin: true),
        OfB = await World.OfferAsync("B"),
    };

    public override async Task<FuzzCase> PrepareAsync(PCG random, TokenLane lane)
    {
        var (pin, details, m) = Plans.Generate(random, null, out _);
        if (pin && !lane.Pin.Active)
        {
            lane.Pin = await World.OfferAsync(pin: true);
        }

        var offer = pin ? lane.Pin : lane.Plain;
        var code = await World.CodeAsync(offer);
        lane.Codes[code] = new KnownCode(offer);
        string? codeOfB = null;
        if ((m.Kind == "code" && m.S == "tenant B's") || (m.Kind == "path" && m.S == "tenant B with B's code"))
        {
            codeOfB = await World.CodeAsync(lane.OfB);
            lane.Codes[codeOfB] = new KnownCode(lane.OfB);
        }

        return new FuzzCase
        {
            Class = m.Class,
            Detail = $"{(pin ? "with PIN" : "no PIN")}{(details ? ", authorization_details" : "")}; {m}",
            Build = () => Build(lane, offer, code, codeOfB, details, m),
        };
    }

    /// <summary>Sets the form parameter <paramref name="name"/> to <paramref name="value"/>: in its place, or last when the form has none.</summary>
    private static void SetParameter(List<(string Name, string Value)> parameters, string name, string value)
    {
        var at = parameters.FindIndex(p => p.Name == name);
        if (at >= 0)
        {
            parameters[at] = (name, value);
        }
        else
        {
            parameters.Add((name, value));
        }
    }

    private Built Build(TokenLane lane, FuzzOffer offer, string code, string? codeOfB, bool details, Mutation m)
    {
        var a = World.A.TenantId;
        var parameters = new List<(string Name, string Value)> { ("grant_type", Grant), ("pre-authorized_code", code) };
        if (offer.Pin is not null)
        {
            parameters.Add(("tx_code", offer.Pin));
        }

        if (details)
        {
            parameters.Add(("authorization_details", Details(World.Granted.ProfileId)));
        }

        var i = m.I % parameters.Count;
        Func<string, string> encode = Uri.EscapeDataString;
        var extra = new List<string>();
        string path = $"/{a}/token", method = "POST", pathTenant = "A";
        string? contentType = WireRequest.Form;
        byte[]? body = null;
        switch (m.Kind, m.S)
        {
            case ("valid", _):
                break;
            case ("re-encode", var how):
                encode = how switch
                {
                    "every byte" => t => Mutations.EscapeAll(t, lower: false),
                    "every byte, lower-case hex" => t => Mutations.EscapeAll(t, lower: true),
                    _ => Mutations.EscapeMinimal,
                };
                break;
            case ("reorder", _):
                parameters = [.. parameters.Skip(m.I % parameters.Count), .. parameters.Take(m.I % parameters.Count)];
                if ((m.J & 1) == 1)
                {
                    parameters.Reverse();
                }

                break;
            case ("unknown parameter", _):
                extra.Add(Mutations.Pick(UnknownParameters, m.I));
                break;
            case ("drop", _):
                parameters.RemoveAt(i);
                break;
            case ("duplicate", var how):
                parameters.Insert(m.J % (parameters.Count + 1), (parameters[i].Name, how == "same value" ? parameters[i].Value : parameters[i].Value + "x"));
                break;
            case ("retype", _):
                parameters[i] = (parameters[i].Name, Mutations.Pick(Mutations.RetypeTexts, m.J));
                break;
            case ("truncate value", _):
                parameters[i] = (parameters[i].Name, parameters[i].Value[..(m.J % Math.Max(1, parameters[i].Value.Length))]);
                break;
            case ("code", var how):
                var swapped = how switch
                {
                    "tenant B's" => codeOfB!,
                    "random" => Mutations.Letters(43, m.J),
                    "oversized" => Mutations.Letters(129 + (m.J % 400), m.J),
                    "already redeemed" => lane.Redeemed.Count > 0 ? Mutations.Pick(lane.Redeemed, m.J) : code,
                    "empty" => "",
                    _ => code[..(code.Length / 2)] + " " + code[(code.Length / 2)..],
                };
                parameters[1] = ("pre-authorized_code", swapped);
                break;
            case ("tx_code", var how):
                var value = how switch
                {
                    "wrong" => offer.Pin is null ? "123456" : WrongPin(offer.Pin),
                    "with a trailing space" => (offer.Pin ?? "123456") + " ",
                    "with a leading zero" => "0" + (offer.Pin ?? "123456"),
                    "added to an offer without PIN" => offer.Pin ?? "123456",
                    _ => "",
                };
                SetParameter(parameters, "tx_code", value);
                break;
            case ("grant_type", var how):
                parameters[0] = ("grant_type", how switch
                {
                    "upper case" => Grant.ToUpperInvariant(),
                    "with a trailing space" => Grant + " ",
                    "prefix only" => "urn:ietf:params:oauth:grant-type:",
                    var other => other,
                });
                break;
            case ("authorization_details", var how):
                SetParameter(parameters, "authorization_details", BadDetails(how));
                break;
            case ("method", var verb):
                method = verb;
                break;
            case ("path", var how):
                (path, pathTenant) = how switch
                {
                    "tenant B" => ($"/{World.B.TenantId}/token", "B"),
                    "tenant B with B's code" => ($"/{World.B.TenantId}/token", "B"),
                    "unknown tenant" => ($"/{a}x/token", "?"),
                    "trailing slash" => ($"/{a}/token/", "A"),
                    "query" => ($"/{a}/token?grant_type=x&pre-authorized_code=y", "A"),
                    "tenant %FF" => ($"/{a}%FF/token", "?"),
                    "tenant %00" => ($"/{a}%00/token", "?"),
                    _ => ($"/{Mutations.EscapeSome(a, m.I)}/token", "A"),
                };
                if (how == "tenant B with B's code")
                {
                    parameters[1] = ("pre-authorized_code", codeOfB!);
                    if (parameters.FindIndex(p => p.Name == "tx_code") is var p and >= 0)
                    {
                        parameters.RemoveAt(p);
                    }

                    var d = parameters.FindIndex(p => p.Name == "authorization_details");
                    if (d >= 0)
                    {
                        parameters[d] = ("authorization_details", Details(World.ProfileOfB.ProfileId));
                    }
                }

                break;
        }

        var segments = parameters.Select(p => encode(p.Name) + "=" + encode(p.Value)).Concat(extra).ToList();
        var joined = m.Kind == "extra separators" ? "&" + string.Join("&&", segments) + "&" : string.Join('&', segments);
        body = Encoding.UTF8.GetBytes(joined);
        switch (m.Kind)
        {
            case "inject escape":
            case "inject bytes":
                // Into the encoded value of one parameter, at a position inside it.
                var start = 0;
                for (var k = 0; k < i; k++)
                {
                    start += segments[k].Length + 1;
                }

                var valueStart = start + segments[i].IndexOf('=', StringComparison.Ordinal) + 1;
                var valueLength = segments[i].Length - (valueStart - start);
                var where = valueStart + (m.J % (valueLength + 1));
                var piece = m.Kind == "inject escape" ? Encoding.ASCII.GetBytes(m.S) : Mutations.RawBytes.First(b => Mutations.Hex(b) == m.S);
                body = Mutations.Insert(body, where, piece);
                break;
            case "truncate body":
                body = body[..(m.J % body.Length)];
                break;
            case "byte order mark":
                body = [0xEF, 0xBB, 0xBF, .. body];
                break;
            case "content type":
                contentType = m.S;
                break;
            case "no content type":
                contentType = null;
                break;
            case "JSON body":
                body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(parameters.ToDictionary(p => p.Name, p => p.Value)));
                contentType = WireRequest.Json;
                break;
            case "oversized body":
                body = [.. body, .. "&padding="u8, .. Enumerable.Repeat((byte)'a', FormModel.MaxBody)];
                break;
            case "empty body":
                body = [];
                break;
        }

        var request = new WireRequest(method, path, body, contentType);
        if (method != "POST")
        {
            return new Built(request, Expectation.MethodNotAllowed("POST"));
        }

        if (path.Contains("%00", StringComparison.Ordinal))
        {
            return new Built(request, Expectation.Kestrel);
        }

        var (expect, detailsBack, settle) = Decide(lane, pathTenant, FormModel.ReadForm(body, contentType));
        var configuration = pathTenant == "B" ? World.ProfileOfB.ProfileId : World.Granted.ProfileId;
        return new Built(request, expect, settle, r => CheckToken(r, detailsBack, configuration));
    }

    /// <summary>A token response (RFC 6749 §5.1, OID4VCI 1.0 §6.2): an opaque Bearer token for 300 s, and the details asked for.</summary>
    private static string? CheckToken(WireResponse r, bool detailsBack, string configuration)
    {
        using var json = JsonDocument.Parse(r.Body);
        var root = json.RootElement;
        if (!root.TryGetProperty("access_token", out var token) || token.ValueKind != JsonValueKind.String || token.GetString()!.Length < 32)
        {
            return "no access_token";
        }

        if (!root.TryGetProperty("token_type", out var type) || type.GetString() != "Bearer" || !root.TryGetProperty("expires_in", out var expires) || expires.GetInt32() != 300)
        {
            return "token_type or expires_in wrong";
        }

        if (root.TryGetProperty("authorization_details", out var details) != detailsBack)
        {
            return detailsBack ? "authorization_details missing" : "authorization_details not asked for";
        }

        var expected = $"[{{\"type\":\"openid_credential\",\"credential_configuration_id\":\"{configuration}\",\"credential_identifiers\":[\"{configuration}\"]}}]";
        return detailsBack && details.GetRawText() != expected ? "authorization_details " + details.GetRawText() : null;
    }

    private static string WrongPin(string pin) => pin == "000000" ? "111111" : "000000";

    private static string Details(string configurationId) =>
        JsonText.Write(new JArray(new JObject(("type", JValue.Of("openid_credential")), ("credential_configuration_id", JValue.Of(configurationId)))));

    private string BadDetails(string how)
    {
        JValue Entry(JValue id) => new JObject(("type", JValue.Of("openid_credential")), ("credential_configuration_id", id));
        var granted = World.Granted.ProfileId;
        return how switch
        {
            "another configuration of A" => Details(World.Other.ProfileId),
            "B's configuration" => Details(World.ProfileOfB.ProfileId),
            "unknown configuration" => Details("no-such-configuration"),
            "type other" => JsonText.Write(new JArray(new JObject(("type", JValue.Of("openid_credentials")), ("credential_configuration_id", JValue.Of(granted))))),
            "no type" => JsonText.Write(new JArray(new JObject(("credential_configuration_id", JValue.Of(granted))))),
            "id a number" => JsonText.Write(new JArray(Entry(JValue.Num(1)))),
            "an object" => JsonText.Write(Entry(JValue.Of(granted))),
            "empty array" => "[]",
            "16 entries" => JsonText.Write(new JArray([.. Enumerable.Repeat(Entry(JValue.Of(granted)), 16)])),
            "17 entries" => JsonText.Write(new JArray([.. Enumerable.Repeat(Entry(JValue.Of(granted)), 17)])),
            "not JSON" => "[{\"type\":",
            "lone surrogate" => JsonText.Write(new JArray(Entry(JValue.Of(granted + "\ud800")))),
            "escaped NUL" => JsonText.Write(new JArray(Entry(JValue.Of(granted + "\0")))),
            "escaped control" => JsonText.Write(new JArray(Entry(JValue.Of("\u001b" + granted)))),
            "number of 100 digits" => JsonText.Write(new JArray(Entry(new JNumber("9" + new string('0', 99))))),
            "array of 150 entries" => JsonText.Write(new JArray([.. Enumerable.Repeat(Entry(JValue.Of(granted)), 150)])),
            "nested 20 deep" => JsonText.Write(new JArray(Entry(JValue.Of(granted)), JsonText.Nested(20))),
            "nested 40 deep" => JsonText.Write(new JArray(Entry(JValue.Of(granted)), JsonText.Nested(40))),
            "nested 100 deep" => JsonText.Write(new JArray(Entry(JValue.Of(granted)), JsonText.Nested(100))),
            "spaced JSON" => JsonText.Write(new JArray(Entry(JValue.Of(granted))), JsonStyle.Spaced),
            _ => JsonText.Write(new JArray(Entry(JValue.Of(granted))), JsonStyle.Escaped),
        };
    }

    /// <summary>
    /// The token endpoint's decision on a form the reader accepted (null: refused), in the issuer's documented order:
    /// grant_type, code present, authorization_details, the code, its offer, the PIN, what the details ask for.
    /// </summary>
    private (Expectation Expect, bool DetailsBack, Action? Settle) Decide(TokenLane lane, string pathTenant, Dictionary<string, string>? form)
    {
        static (Expectation, bool, Action?) Say(Expectation e, Action? settle = null) => (e, false, settle);
        if (form is null)
        {
            return Say(Expectation.BadRequest("invalid_request"));
        }

        var grant = form.GetValueOrDefault("grant_type");
        if (string.IsNullOrEmpty(grant))
        {
            return Say(Expectation.BadRequest("invalid_request"));
        }

        if (grant != Grant)
        {
            return Say(Expectation.BadRequest("unsupported_grant_type"));
        }

        var code = form.GetValueOrDefault("pre-authorized_code");
        if (string.IsNullOrEmpty(code))
        {
            return Say(Expectation.BadRequest("invalid_request"));
        }

        IReadOnlyList<string> asked = [];
        if (form.GetValueOrDefault("authorization_details") is { Length: > 0 } details)
        {
            if (FormModel.AuthorizationDetails(details) is not { } ids)
            {
                return Say(Expectation.BadRequest("invalid_authorization_details"));
            }

            asked = ids;
        }

        if (code.Length > 128 || !lane.Codes.TryGetValue(code, out var known) || known.Offer.Tenant != pathTenant)
        {
            return Say(Expectation.BadRequest("invalid_grant"));
        }

        var offer = known.Offer;
        var tenant = offer.Tenant;
        if (known.Used || !offer.Active)
        {
            return Say(Expectation.BadRequest("invalid_grant", Delta.TokenRefused(tenant)));
        }

        var pin = form.GetValueOrDefault("tx_code");
        if (offer.Pin is not null && string.IsNullOrEmpty(pin))
        {
            return Say(Expectation.BadRequest("invalid_request", Delta.TokenRefused(tenant)));
        }

        if (offer.Pin is null && !string.IsNullOrEmpty(pin))
        {
            return Say(Expectation.BadRequest("invalid_request", Delta.TokenRefused(tenant)));
        }

        if (offer.Pin is not null && pin != offer.Pin)
        {
            var locks = offer.WrongPins + 1 >= FuzzWorld.PinAttemptLimit;
            return Say(Expectation.BadRequest("invalid_grant", Delta.WrongPin(tenant, locks)), () =>
            {
                offer.WrongPins++;
                offer.Locked = locks;
            });
        }

        var configuration = tenant == "A" ? World.Granted.ProfileId : World.ProfileOfB.ProfileId;
        if (asked.Any(id => id != configuration))
        {
            return Say(Expectation.BadRequest("invalid_authorization_details", Delta.TokenRefused(tenant)));
        }

        return (Expectation.Ok(Delta.TokenIssued(tenant)), asked.Count > 0, () =>
        {
            known.Used = true;
            offer.Uses++;
            lane.Redeemed.Add(code);
        });
    }
}
