using System.Text.Json;
using CsCheck;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>One lane of the credential fuzzer: an offer of A and one of B, its keys, and what its model saw issued.</summary>
public sealed class CredentialLane : IDisposable
{
    public required FuzzOffer Plain { get; init; }

    public required FuzzOffer OfB { get; init; }

    public ProofKeys Keys { get; } = new();

    /// <summary>Access tokens whose session got its credential, and whether the session has a credential_identifier.</summary>
    public List<(string Token, bool WithIdentifier)> Issued { get; } = [];

    public List<string> ConsumedNonces { get; } = [];

    public void Dispose() => Keys.Dispose();
}

/// <summary>What a credential case was prepared with, before the batch's first ledger.</summary>
public sealed record CredentialSetup(string Token, bool WithIdentifier, string Nonce, string? TokenOfB, string? NonceOfB);

/// <summary>
/// Fuzzes POST {issuer}/credential (OID4VCI 1.0 §8): a new session's valid request with an ES256 proof over a
/// fresh nonce, and one mutation of it — of the access token, the body's bytes and JSON, its members, the proof
/// (re-signed with other keys and algorithms, every header and claim) or the nonce. Refusals once the token opened
/// a session and the reader read the body append one credential.refused; a success issues one credential.
/// </summary>
public sealed class CredentialFuzz(FuzzWorld world) : FuzzTarget<CredentialLane>(world)
{
    private static readonly Gen<Mutation> Mutation = Gen.Frequency<Mutation>(
        (10, Mutations.Kind("valid")),
        (30, JsonBodies.Generic),
        (25, Gen.Select(Gen.Int[0, ProofPlans.All.Length - 1], Mutations.Any, (k, i) => new Mutation("proof", i, k, ProofPlans.All[k].Kind))),
        (6, Mutations.Kind("nonce", "of tenant B", "random", "truncated", "one character changed", "already used", "300 characters", "empty string")),
        (5, Mutations.Kind("drop member", "the configuration", "proofs", "proofs.jwt")),
        (3, Mutations.Kind("repeat member", "the configuration", "proofs.jwt")),
        (8, Gen.Select(Gen.OneOf("the configuration", "proofs", "proofs.jwt", "the proof"), Mutations.Any, (s, i) => new Mutation("retype", i, 0, s))),
        (6, Mutations.Kind("names",
            "another configuration of A", "unknown configuration", "B's configuration", "upper case", "empty", "configuration instead of identifier",
            "identifier instead of configuration", "both", "unknown identifier")),
        (4, Mutations.Kind("members", "pre-1.0 proof", "credential_response_encryption", "proofs of another type too", "proofs of another type", "proofs.JWT",
            "proofs.jwt empty", "two proofs", "100 proofs", "101 proofs", "proofs.jwt null")),
        (2, Mutations.Kind("already issued")),
        (7, Mutations.Kind("access token", "missing", "Basic", "unknown", "of tenant B", "truncated", "oversized", "lower-case scheme", "extra spaces",
            "twice", "DPoP scheme", "empty", "in the query")),
        (2, Mutations.Kind("method", "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")),
        (1, Mutations.Kind("path", "tenant B")));

    private static readonly Gen<(bool WithIdentifier, Mutation M)> Plans = Gen.Select(Gen.Int[0, 2], Mutation, (i, m) => (i == 0, m));

    public override string Endpoint => "credential";

    public override bool Resource => true;

    public override IReadOnlySet<string> Errors { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "401 invalid_token", "400 invalid_credential_request", "400 unknown_credential_configuration", "400 unknown_credential_identifier",
        "400 invalid_proof", "400 invalid_nonce", "400 invalid_encryption_parameters", "400 credential_request_denied", "405 invalid_request",
    };

    public override async Task<CredentialLane> NewLaneAsync(int lane) => new() { Plain = await World.OfferAsync(), OfB = await World.OfferAsync("B") };

    public override async Task<FuzzCase> PrepareAsync(PCG random, CredentialLane lane)
    {
        var (withIdentifier, m) = Plans.Generate(random, null, out _);
        if (m.Kind == "already issued" && lane.Issued.Count == 0)
        {
            // Nothing issued in this lane yet: the case is a valid request.
            m = m with { Kind = "valid" };
        }

        var token = await World.SessionAsync(lane.Plain, withIdentifier);
        var nonce = await World.NonceAsync();
        var tokenOfB = m.S == "of tenant B" && m.Kind == "access token" ? await World.SessionAsync(lane.OfB) : null;
        var nonceOfB = m.S == "of tenant B" && m.Kind == "nonce" ? await World.NonceAsync("B") : null;
        var setup = new CredentialSetup(token, withIdentifier, nonce, tokenOfB, nonceOfB);
        return new FuzzCase
        {
            Class = m.Class,
            Detail = $"{(withIdentifier ? "session with credential_identifier" : "session without")}; {m}",
            Build = () => Build(lane, setup, m),
        };
    }

    private Built Build(CredentialLane lane, CredentialSetup setup, Mutation m)
    {
        var granted = World.Granted.ProfileId;
        var (token, withIdentifier) = (setup.Token, setup.WithIdentifier);
        if (m.Kind == "already issued")
        {
            (token, withIdentifier) = Mutations.Pick(lane.Issued, m.I);
        }

        var idMember = withIdentifier ? "credential_identifier" : "credential_configuration_id";

        // The proof: the valid one, or the plan's; over the fresh nonce, or the nonce mutation's.
        var plan = m.Kind == "proof" ? ProofPlans.All[m.J] : ProofPlans.All[0];
        var nonce = setup.Nonce;
        var nonceValid = true;
        if (m.Kind == "nonce")
        {
            nonceValid = false;
            nonce = m.S switch
            {
                "of tenant B" => setup.NonceOfB!,
                "random" => Mutations.Letters(40, m.I),
                "truncated" => nonce[..(1 + (m.I % (nonce.Length - 1)))],
                "one character changed" => nonce[..^3] + (nonce[^3] == 'A' ? 'B' : 'A') + nonce[^2..],
                "already used" => lane.ConsumedNonces.Count > 0 ? Mutations.Pick(lane.ConsumedNonces, m.I) : Mutations.Letters(40, m.I),
                "300 characters" => Mutations.Letters(300, m.I),
                _ => "",
            };
        }

        var proof = plan.Make(lane.Keys, new ProofContext(World.IssuerA, nonce, World.Now, World.IssuerB));
        // An empty nonce claim is the proof's fault (no nonce), not the nonce's.
        var proofValid = plan.Verdict == ProofVerdict.Valid && nonce.Length > 0;

        var body = new JObject((idMember, JValue.Of(granted)), ("proofs", new JObject(("jwt", new JArray(JValue.Of(proof))))));
        var headers = new List<KeyValuePair<string, string>> { new("Authorization", "Bearer " + token) };
        var (method, path, authorized) = BearerRequests.Target(World, Endpoint, m);
        JsonBody sent;
        if (JsonBodies.Kinds.Contains(m.Kind))
        {
            sent = JsonBodies.Apply(body, m, idMember);
        }
        else
        {
            sent = JsonBodies.Plain(m.Kind switch
            {
                "drop member" => m.S switch
                {
                    "the configuration" => body.Without(idMember),
                    "proofs" => body.Without("proofs"),
                    _ => body.With("proofs", new JObject()),
                },
                "repeat member" => m.S == "the configuration"
                    ? body.Plus(idMember, JValue.Of(granted))
                    : body.With("proofs", new JObject(("jwt", new JArray(JValue.Of(proof))), ("jwt", new JArray(JValue.Of(proof))))),
                "retype" => Retype(body, m, idMember),
                "names" => Names(body, m.S, idMember, withIdentifier),
                "members" => Members(body, m.S, proof),
                _ => body,
            });
        }

        if (m.Kind == "access token")
        {
            authorized = BearerRequests.Accepted(m.S);
            headers = BearerRequests.Headers(m.S, token, setup.TokenOfB, m.I);
            if (m.S == "in the query")
            {
                path += "?access_token=" + Uri.EscapeDataString(token);
            }
        }

        var request = new WireRequest(method, path, sent.Bytes, sent.ContentType, headers);
        if (BearerRequests.Refusal(request, authorized, sent, "invalid_credential_request") is { } refused)
        {
            return refused;
        }

        var alreadyIssued = lane.Issued.Any(i => i.Token == token);
        var (error, ok) = Decide(sent.Value, withIdentifier, alreadyIssued, proof, proofValid, nonceValid);
        if (!ok)
        {
            return new Built(request, Expectation.BadRequest(error!, Delta.CredentialRefused("A")));
        }

        return new Built(request, Expectation.Ok(Delta.CredentialIssued("A")), () =>
        {
            lane.Issued.Add((token, withIdentifier));
            lane.ConsumedNonces.Add(nonce);
        }, r => CheckCredential(r));
    }

    private static JObject Retype(JObject body, Mutation m, string idMember)
    {
        var to = Mutations.Pick(Mutations.Retypes, m.I);
        return m.S switch
        {
            "the configuration" => body.With(idMember, to),
            "proofs" => body.With("proofs", to),
            "proofs.jwt" => body.With("proofs", new JObject(("jwt", to))),
            _ => body.With("proofs", new JObject(("jwt", new JArray(to)))),
        };
    }

    private JObject Names(JObject body, string how, string idMember, bool withIdentifier)
    {
        var granted = World.Granted.ProfileId;
        return how switch
        {
            "another configuration of A" => body.With(idMember, JValue.Of(World.Other.ProfileId)),
            "unknown configuration" => body.With(idMember, JValue.Of("no-such-configuration")),
            "B's configuration" => body.With(idMember, JValue.Of(World.ProfileOfB.ProfileId)),
            "upper case" => body.With(idMember, JValue.Of(granted.ToUpperInvariant())),
            "empty" => body.With(idMember, JValue.Of("")),
            "configuration instead of identifier" => Renamed(body, idMember, "credential_configuration_id"),
            "identifier instead of configuration" => Renamed(body, idMember, "credential_identifier"),
            "both" => body.Plus(withIdentifier ? "credential_configuration_id" : "credential_identifier", JValue.Of(granted)),
            _ => body.Without(idMember).Plus("credential_identifier", JValue.Of("no-such-identifier")),
        };
    }

    private static JObject Renamed(JObject body, string from, string to) =>
        from == to ? body : new JObject([.. body.Members.Select(m => m.Key == from ? new KeyValuePair<string, JValue>(to, m.Value) : m)]);

    private static JObject Members(JObject body, string how, string proof) => how switch
    {
        "pre-1.0 proof" => body.Plus("proof", new JObject(("proof_type", JValue.Of("jwt")), ("jwt", JValue.Of(proof)))),
        "credential_response_encryption" => body.Plus("credential_response_encryption", new JObject(("enc", JValue.Of("A128GCM")))),
        "proofs of another type too" => body.With("proofs", new JObject(("jwt", new JArray(JValue.Of(proof))), ("ldp_vp", new JArray(new JObject())))),
        "proofs of another type" => body.With("proofs", new JObject(("ldp_vp", new JArray(new JObject())))),
        "proofs.JWT" => body.With("proofs", new JObject(("JWT", new JArray(JValue.Of(proof))))),
        "proofs.jwt empty" => body.With("proofs", new JObject(("jwt", new JArray()))),
        "two proofs" => body.With("proofs", new JObject(("jwt", new JArray(JValue.Of(proof), JValue.Of(proof))))),
        "100 proofs" => body.With("proofs", new JObject(("jwt", new JArray([.. Enumerable.Repeat(JValue.Of(proof), 100)])))),
        "101 proofs" => body.With("proofs", new JObject(("jwt", new JArray([.. Enumerable.Repeat(JValue.Of(proof), 101)])))),
        _ => body.With("proofs", new JObject(("jwt", new JLiteral("null")))),
    };

    /// <summary>
    /// The credential endpoint's decision on a body the reader accepted, in its documented order: the body's shape
    /// (§8.2), what it names against what the session grants, batch, one credential per session, the proof, the nonce.
    /// </summary>
    private (string? Error, bool Ok) Decide(JValue value, bool withIdentifier, bool alreadyIssued, string proof, bool proofValid, bool nonceValid)
    {
        const string Icr = "invalid_credential_request";
        if (value is not JObject body)
        {
            return (Icr, false);
        }

        static (string? Value, bool WrongType) Optional(JObject o, string name) =>
            !o.Has(name) ? (null, false) : o[name] is JString s ? (s.Value, false) : (null, true);
        var (configuration, badConfiguration) = Optional(body, "credential_configuration_id");
        var (identifier, badIdentifier) = Optional(body, "credential_identifier");
        if (badConfiguration || badIdentifier || (configuration is null) == (identifier is null) || body.Has("proof"))
        {
            return (Icr, false);
        }

        if (body.Has("credential_response_encryption"))
        {
            return ("invalid_encryption_parameters", false);
        }

        if (!body.Has("proofs"))
        {
            return ("invalid_proof", false);
        }

        if (body["proofs"] is not JObject proofs)
        {
            return (Icr, false);
        }

        if (proofs.Members.Count != 1 || proofs.Members[0].Key != "jwt" || proofs.Members[0].Value is not JArray { Items.Count: > 0 } jwts
            || jwts.Items.Any(j => j is not JString))
        {
            return ("invalid_proof", false);
        }

        var granted = World.Granted.ProfileId;
        if (withIdentifier)
        {
            if (identifier is null)
            {
                return (Icr, false);
            }

            if (identifier != granted)
            {
                return ("unknown_credential_identifier", false);
            }
        }
        else
        {
            if (identifier is not null)
            {
                return ("unknown_credential_identifier", false);
            }

            if (configuration != granted)
            {
                return (configuration == World.Other.ProfileId ? "credential_request_denied" : "unknown_credential_configuration", false);
            }
        }

        if (jwts.Items.Count > 1)
        {
            return (Icr, false);
        }

        if (alreadyIssued)
        {
            return ("credential_request_denied", false);
        }

        if (((JString)jwts.Items[0]).Value != proof || !proofValid)
        {
            return ("invalid_proof", false);
        }

        return nonceValid ? (null, true) : ("invalid_nonce", false);
    }

    /// <summary>A credential response (OID4VCI 1.0 §8.3): one SD-JWT VC and a notification_id.</summary>
    private static string? CheckCredential(WireResponse r)
    {
        using var json = JsonDocument.Parse(r.Body);
        var root = json.RootElement;
        var credentials = root.GetProperty("credentials");
        if (credentials.GetArrayLength() != 1 || credentials[0].GetProperty("credential").GetString() is not { } sdJwt || sdJwt.Split('~')[0].Split('.').Length != 3)
        {
            return "no SD-JWT VC in credentials";
        }

        return root.GetProperty("notification_id").GetString() is { Length: > 0 } ? null : "no notification_id";
    }
}
