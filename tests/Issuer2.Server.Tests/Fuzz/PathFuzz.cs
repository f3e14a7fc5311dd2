using System.Text.Json;
using CsCheck;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>What a mangled path segment becomes at the issuer, per docs/wallet-endpoints.md ("Bytes").</summary>
public static class PathSegments
{
    /// <summary>Escapes that leave visible ASCII once Kestrel decoded them: the segment still reads as a name.</summary>
    private static readonly HashSet<string> Visible = new(StringComparer.Ordinal) { "+", "%26", "%3D" };

    /// <summary>
    /// The issuer's answer to a segment with this escape put in: Kestrel refuses %00 itself; an escape that decodes
    /// to visible ASCII only makes the name unknown; anything else (a control, a space, non-ASCII, an escape that
    /// does not decode and so leaves a '%') is no name at all.
    /// </summary>
    public static Expectation AfterEscape(string escape, Expectation unknown, Expectation mangled) =>
        escape == "%00" ? Expectation.Kestrel : Visible.Contains(escape) ? unknown : mangled;

    /// <summary>
    /// The segment with <paramref name="piece"/> put in. An incomplete escape ("%", "%4") goes last, so the
    /// characters after it cannot complete it into another, valid one.
    /// </summary>
    public static string InsertAt(string segment, int position, string piece)
    {
        var incomplete = piece.Length < 3 && piece.StartsWith('%');
        var at = incomplete ? segment.Length : position % (segment.Length + 1);
        return segment[..at] + piece + segment[at..];
    }

    /// <summary>Bodies a GET or the nonce endpoint must ignore, with their Content-Types.</summary>
    public static readonly (byte[] Body, string? ContentType)[] IgnoredBodies =
    [
        ("{}"u8.ToArray(), WireRequest.Json),
        ("grant_type=x"u8.ToArray(), WireRequest.Form),
        ([], WireRequest.Form),
        ([0xFF, 0xFE, 0x00, 0x01, 0xC0, 0xAF], "application/octet-stream"),
        ("{\"a\":\"\\ud800\"}"u8.ToArray(), WireRequest.Json + "; charset=latin1"),
        ([.. Enumerable.Repeat((byte)'[', 5000)], WireRequest.Json),
        ([.. Enumerable.Repeat((byte)'a', 60_000)], "text/plain"),
        ("x"u8.ToArray(), null),
    ];
}

/// <summary>One lane of the offer fuzzer: an offer of A without PIN and one with, an offer of B.</summary>
public sealed record ResolveLane(FuzzOffer Plain, FuzzOffer Pin, FuzzOffer OfB, FuzzOffer Revoked);

/// <summary>
/// Fuzzes GET {issuer}/offers/{uri-token} (OID4VCI 1.0 §4.1.3): each resolution of an active offer mints a code
/// (one code row, the resolution count, offer.resolved); anything else writes nothing.
/// </summary>
public sealed class ResolveFuzz(FuzzWorld world) : FuzzTarget<ResolveLane>(world)
{
    private static readonly Gen<Mutation> Mutation = Gen.Frequency<Mutation>(
        (8, Mutations.Kind("valid")),
        (4, Mutations.Kind("valid, offer with PIN")),
        (4, Mutations.Kind("escaped token characters")),
        (3, Mutations.Kind("escaped tenant characters")),
        (2, Mutations.Kind("trailing slash")),
        (3, Mutations.Kind("query", "?a=b", "?%00", "?%FF&x=%zz", "?credential_offer_uri=x")),
        (3, Mutations.Kind("ignored body")),
        (2, Mutations.Kind("ignored headers")),
        (4, Mutations.Kind("token", "truncated", "extended", "one character changed", "upper case", "oversized", "of another tenant", "of a revoked offer")),
        (3, Mutations.Kind("tenant", "B with A's token", "B with its own token", "unknown", "upper case")),
        (10, Gen.Select(Gen.OneOf(Mutations.Escapes), Mutations.Any, (s, i) => new Mutation("escape in the token", i, 0, s))),
        (5, Gen.Select(Gen.OneOf(Mutations.Escapes), Mutations.Any, (s, i) => new Mutation("escape in the tenant", i, 0, s))),
        (3, Mutations.Kind("method", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")));

    public override string Endpoint => "offer";

    public override IReadOnlySet<string> Errors { get; } = new HashSet<string>(StringComparer.Ordinal) { "400 invalid_request", "404 not_found", "405 invalid_request" };

    public override async Task<ResolveLane> NewLaneAsync(int lane) =>
        new(await World.OfferAsync(), await World.OfferAsync(pin: true), await World.OfferAsync("B"), await World.OfferAsync(revoked: true));

    public override Task<FuzzCase> PrepareAsync(PCG random, ResolveLane lane)
    {
        var m = Mutation.Generate(random, null, out _);
        return Task.FromResult(new FuzzCase { Class = m.Class, Detail = m.ToString(), Build = () => Build(lane, m) });
    }

    private Built Build(ResolveLane lane, Mutation m)
    {
        var (a, b) = (World.A.TenantId, World.B.TenantId);
        var offer = m.Kind == "valid, offer with PIN" ? lane.Pin : lane.Plain;
        var (tenant, token) = (a, offer.UriToken);
        var expect = Expectation.Ok(Delta.Resolved("A"));
        var resolved = offer;
        string method = "GET", suffix = "";
        byte[]? body = null;
        string? contentType = null;
        var headers = new List<KeyValuePair<string, string>>();
        switch (m.Kind, m.S)
        {
            case ("escaped token characters", _):
                token = Mutations.EscapeSome(token, m.I | 1);
                break;
            case ("escaped tenant characters", _):
                tenant = Mutations.EscapeSome(tenant, m.I | 1);
                break;
            case ("trailing slash", _):
                suffix = "/";
                break;
            case ("query", var query):
                suffix = query;
                break;
            case ("ignored body", _):
                (body, contentType) = Mutations.Pick(PathSegments.IgnoredBodies, m.I);
                break;
            case ("ignored headers", _):
                headers.Add(new("Authorization", "Bearer " + Mutations.Letters(43, m.I)));
                headers.Add(new("Accept", "text/html"));
                break;
            case ("token", var how):
                (token, expect) = how switch
                {
                    "truncated" => (token[..(1 + (m.I % (token.Length - 1)))], Expectation.NotFound),
                    "extended" => (token + Mutations.Letters(1 + (m.I % 5), m.I), Expectation.NotFound),
                    "one character changed" => (Changed(token, m.I), Expectation.NotFound),
                    "upper case" => (token.ToUpperInvariant(), Expectation.NotFound),
                    "oversized" => (Mutations.Letters(129 + (m.I % 300), m.I), Expectation.NotFound),
                    "of another tenant" => (lane.OfB.UriToken, Expectation.NotFound),
                    _ => (lane.Revoked.UriToken, Expectation.NotFound),
                };
                break;
            case ("tenant", var how):
                (tenant, token, expect) = how switch
                {
                    "B with A's token" => (b, token, Expectation.NotFound),
                    "B with its own token" => (b, lane.OfB.UriToken, Expectation.Ok(Delta.Resolved("B"))),
                    "unknown" => (a + "x", token, Expectation.NotFound),
                    _ => (a.ToUpperInvariant(), token, Expectation.NotFound),
                };
                resolved = lane.OfB;
                break;
            case ("escape in the token", var escape):
                token = PathSegments.InsertAt(token, m.I, escape);
                expect = PathSegments.AfterEscape(escape, Expectation.NotFound, Expectation.BadRequest("invalid_request"));
                break;
            case ("escape in the tenant", var escape):
                tenant = PathSegments.InsertAt(tenant, m.I, escape);
                expect = PathSegments.AfterEscape(escape, Expectation.NotFound, Expectation.BadRequest("invalid_request"));
                break;
            case ("method", var verb):
                method = verb;
                expect = Expectation.MethodNotAllowed("GET");
                break;
        }

        var request = new WireRequest(method, $"/{tenant}/offers/{token}{suffix}", body, contentType, headers);
        return new Built(request, expect, CheckSuccess: r => CheckOffer(r, resolved));
    }

    private static string Changed(string token, int i)
    {
        var at = i % token.Length;
        return token[..at] + (token[at] == 'A' ? 'B' : 'A') + token[(at + 1)..];
    }

    /// <summary>A Credential Offer (OID4VCI 1.0 §4.1.1): the issuer, the configuration, a fresh code, tx_code when the offer has a PIN.</summary>
    private string? CheckOffer(WireResponse r, FuzzOffer offer)
    {
        using var json = JsonDocument.Parse(r.Body);
        var root = json.RootElement;
        var issuer = offer.Tenant == "A" ? World.IssuerA : World.IssuerB;
        var configuration = offer.Tenant == "A" ? World.Granted.ProfileId : World.ProfileOfB.ProfileId;
        if (root.GetProperty("credential_issuer").GetString() != issuer || root.GetProperty("credential_configuration_ids")[0].GetString() != configuration)
        {
            return "the offer names another issuer or configuration";
        }

        var grant = root.GetProperty("grants").GetProperty(Wallet.TestWallet.PreAuthorizedGrant);
        if (grant.GetProperty("pre-authorized_code").GetString() is not { Length: >= 32 })
        {
            return "no fresh pre-authorized_code";
        }

        return grant.TryGetProperty("tx_code", out _) != (offer.Pin is not null) ? "tx_code does not match the offer's PIN" : null;
    }
}

/// <summary>
/// Fuzzes POST {issuer}/nonce (OID4VCI 1.0 §7): anonymous, write-free, and blind to any body (documented); a live
/// tenant gets a c_nonce, an unknown one 404.
/// </summary>
public sealed class NonceFuzz(FuzzWorld world) : FuzzTarget<object>(world)
{
    private static readonly Gen<Mutation> Mutation = Gen.Frequency<Mutation>(
        (6, Mutations.Kind("valid")),
        (8, Mutations.Kind("ignored body")),
        (2, Mutations.Kind("ignored headers")),
        (2, Mutations.Kind("query")),
        (1, Mutations.Kind("trailing slash")),
        (2, Mutations.Kind("escaped tenant characters")),
        (2, Mutations.Kind("tenant B")),
        (2, Mutations.Kind("unknown tenant")),
        (5, Gen.Select(Gen.OneOf(Mutations.Escapes), Mutations.Any, (s, i) => new Mutation("escape in the tenant", i, 0, s))),
        (3, Mutations.Kind("method", "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")));

    public override string Endpoint => "nonce";

    public override IReadOnlySet<string> Errors { get; } = new HashSet<string>(StringComparer.Ordinal) { "404 not_found", "405 invalid_request" };

    public override Task<object> NewLaneAsync(int lane) => Task.FromResult(new object());

    public override Task<FuzzCase> PrepareAsync(PCG random, object lane)
    {
        var m = Mutation.Generate(random, null, out _);
        return Task.FromResult(new FuzzCase { Class = m.Class, Detail = m.ToString(), Build = () => Build(m) });
    }

    private Built Build(Mutation m)
    {
        var tenant = World.A.TenantId;
        var expect = Expectation.Ok();
        string method = "POST", suffix = "";
        byte[]? body = null;
        string? contentType = null;
        var headers = new List<KeyValuePair<string, string>>();
        switch (m.Kind, m.S)
        {
            case ("ignored body", _):
                (body, contentType) = Mutations.Pick(PathSegments.IgnoredBodies, m.I);
                break;
            case ("ignored headers", _):
                headers.Add(new("Authorization", "Bearer " + Mutations.Letters(43, m.I)));
                headers.Add(new("DPoP", "x.y.z"));
                break;
            case ("query", _):
                suffix = "?c_nonce=x&%FF";
                break;
            case ("trailing slash", _):
                suffix = "/";
                break;
            case ("escaped tenant characters", _):
                tenant = Mutations.EscapeSome(tenant, m.I | 1);
                break;
            case ("tenant B", _):
                tenant = World.B.TenantId;
                break;
            case ("unknown tenant", _):
                tenant += "x";
                expect = Expectation.NotFound;
                break;
            case ("escape in the tenant", var escape):
                // The nonce endpoint reads its tenant as a name: anything mangled names no tenant.
                tenant = PathSegments.InsertAt(tenant, m.I, escape);
                expect = escape == "%00" ? Expectation.Kestrel : Expectation.NotFound;
                break;
            case ("method", var verb):
                method = verb;
                expect = Expectation.MethodNotAllowed("POST");
                break;
        }

        return new Built(new WireRequest(method, $"/{tenant}/nonce{suffix}", body, contentType, headers), expect, CheckSuccess: CheckNonce);
    }

    private static string? CheckNonce(WireResponse r)
    {
        using var json = JsonDocument.Parse(r.Body);
        return json.RootElement.TryGetProperty("c_nonce", out var nonce) && nonce.GetString() is { Length: > 20 } ? null : "no c_nonce";
    }
}

/// <summary>
/// Fuzzes the metadata documents (OID4VCI 1.0 §12.2, RFC 8414 §3, SD-JWT VC issuer metadata) at both well-known
/// placements: a live tenant's document, 404 for any other name, 405 for other methods; nothing written.
/// </summary>
public sealed class MetadataFuzz(FuzzWorld world) : FuzzTarget<object>(world)
{
    private static readonly string[] Routes =
    [
        "/.well-known/openid-credential-issuer/{t}", "/{t}/.well-known/openid-credential-issuer", "/.well-known/oauth-authorization-server/{t}",
        "/{t}/.well-known/oauth-authorization-server", "/.well-known/jwt-vc-issuer/{t}",
    ];

    private static readonly Gen<Mutation> Mutation = Gen.Frequency<Mutation>(
        (6, Mutations.Kind("valid")),
        (3, Mutations.Kind("tenant B")),
        (2, Mutations.Kind("unknown tenant")),
        (2, Mutations.Kind("escaped tenant characters")),
        (5, Gen.Select(Gen.OneOf(Mutations.Escapes), Mutations.Any, Mutations.Any, (s, i, j) => new Mutation("escape in the tenant", i, j, s))),
        (2, Mutations.Kind("query")),
        (1, Mutations.Kind("trailing slash")),
        (2, Mutations.Kind("ignored body")),
        (3, Mutations.Kind("method", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")));

    public override string Endpoint => "metadata";

    public override IReadOnlySet<string> Errors { get; } = new HashSet<string>(StringComparer.Ordinal) { "404 not_found", "405 invalid_request" };

    public override Task<object> NewLaneAsync(int lane) => Task.FromResult(new object());

    public override Task<FuzzCase> PrepareAsync(PCG random, object lane)
    {
        var (m, route) = Gen.Select(Mutation, Gen.Int[0, Routes.Length - 1]).Generate(random, null, out _);
        return Task.FromResult(new FuzzCase { Class = m.Class, Detail = $"{Routes[route]}; {m}", Build = () => Build(m, route) });
    }

    private Built Build(Mutation m, int route)
    {
        var tenant = World.A.TenantId;
        var issuer = World.IssuerA;
        var expect = Expectation.Ok();
        string method = "GET", suffix = "";
        byte[]? body = null;
        string? contentType = null;
        switch (m.Kind, m.S)
        {
            case ("tenant B", _):
                (tenant, issuer) = (World.B.TenantId, World.IssuerB);
                break;
            case ("unknown tenant", _):
                tenant += "x";
                expect = Expectation.NotFound;
                break;
            case ("escaped tenant characters", _):
                tenant = Mutations.EscapeSome(tenant, m.I | 1);
                break;
            case ("escape in the tenant", var escape):
                tenant = PathSegments.InsertAt(tenant, m.J, escape);
                expect = escape == "%00" ? Expectation.Kestrel : Expectation.NotFound;
                break;
            case ("query", _):
                suffix = "?tenant=" + World.B.TenantId;
                break;
            case ("trailing slash", _):
                suffix = "/";
                break;
            case ("ignored body", _):
                (body, contentType) = Mutations.Pick(PathSegments.IgnoredBodies, m.I);
                break;
            case ("method", var verb):
                method = verb;
                expect = Expectation.MethodNotAllowed("GET");
                break;
        }

        var path = Routes[route].Replace("{t}", tenant, StringComparison.Ordinal) + suffix;
        return new Built(new WireRequest(method, path, body, contentType), expect, CheckSuccess: r => CheckDocument(r, route, issuer));
    }

    private static string? CheckDocument(WireResponse r, int route, string issuer)
    {
        using var json = JsonDocument.Parse(r.Body);
        var root = json.RootElement;
        var named = route switch
        {
            0 or 1 => root.GetProperty("credential_issuer").GetString(),
            _ => root.GetProperty("issuer").GetString(),
        };
        if (named != issuer)
        {
            return $"the document names {named}, not {issuer}";
        }

        return route == 4 && root.GetProperty("jwks").GetProperty("keys").GetArrayLength() == 0 ? "no keys in jwks" : null;
    }
}
