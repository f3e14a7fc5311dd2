using CsCheck;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>An issued credential the notification fuzzer notifies about, with the last event its model recorded.</summary>
public sealed class NotifiedCredential(string token, string notificationId)
{
    public string Token { get; } = token;

    public string NotificationId { get; } = notificationId;

    public string? LastEvent { get; set; }
}

/// <summary>One lane: its credential (the lane's cases notify it in turn), a second one of A, one of B.</summary>
public sealed record NotificationLane(NotifiedCredential Credential, NotifiedCredential Second, NotifiedCredential OfB);

/// <summary>
/// Fuzzes POST {issuer}/notification (OID4VCI 1.0 §11): a valid notification for the lane's credential and one
/// mutation of it. A notification that changes the credential's last event records it (one notification.received);
/// repeating the last event, and every refusal, writes nothing.
/// </summary>
public sealed class NotificationFuzz(FuzzWorld world) : FuzzTarget<NotificationLane>(world)
{
    private static readonly string[] Events = ["credential_accepted", "credential_failure", "credential_deleted"];

    private static readonly Gen<Mutation> Mutation = Gen.Frequency<Mutation>(
        (12, Mutations.Kind("valid")),
        (5, Mutations.Kind("valid, with event_description")),
        (25, JsonBodies.Generic),
        (8, Mutations.Kind("event_description",
            "1000 characters", "1001 characters", "empty", "non-ASCII", "a newline", "a tab", "a DEL", "NUL", "a lone surrogate", "a number", "null", "an object")),
        (8, Mutations.Kind("event", "unknown", "upper case", "empty", "with a space", "a number", "null", "an array", "missing", "two events")),
        (10, Mutations.Kind("notification_id",
            "unknown", "truncated", "of the lane's other credential", "of tenant B", "64 characters", "65 characters", "empty", "a number", "null",
            "missing", "an object", "with a lone surrogate", "with NUL", "upper case")),
        (6, Mutations.Kind("access token", "missing", "Basic", "unknown", "of tenant B", "of the other credential", "lower-case scheme", "truncated", "twice")),
        (2, Mutations.Kind("method", "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")),
        (1, Mutations.Kind("path", "tenant B")));

    public override string Endpoint => "notification";

    public override bool Resource => true;

    public override IReadOnlySet<string> Errors { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "401 invalid_token", "400 invalid_notification_request", "400 invalid_notification_id", "405 invalid_request",
    };

    public override async Task<NotificationLane> NewLaneAsync(int lane)
    {
        using var keys = new ProofKeys();
        var (offer, offerOfB) = (await World.OfferAsync(), await World.OfferAsync("B"));
        NotifiedCredential Of((string Token, string Id) issued) => new(issued.Token, issued.Id);
        return new NotificationLane(Of(await World.IssuedAsync(offer, keys)), Of(await World.IssuedAsync(offer, keys)), Of(await World.IssuedAsync(offerOfB, keys)));
    }

    public override Task<FuzzCase> PrepareAsync(PCG random, NotificationLane lane)
    {
        var (m, e) = Gen.Select(Mutation, Gen.Int[0, Events.Length - 1]).Generate(random, null, out _);
        return Task.FromResult(new FuzzCase { Class = m.Class, Detail = $"event {Events[e]}; {m}", Build = () => Build(lane, m, Events[e]) });
    }

    private Built Build(NotificationLane lane, Mutation m, string kind)
    {
        var credential = lane.Credential;
        var id = credential.NotificationId;
        var body = new JObject(("notification_id", JValue.Of(id)), ("event", JValue.Of(kind)));
        var headers = new List<KeyValuePair<string, string>> { new("Authorization", "Bearer " + credential.Token) };
        var (method, path, authorized) = BearerRequests.Target(World, Endpoint, m);
        var token = credential.Token;
        JsonBody sent;
        if (JsonBodies.Kinds.Contains(m.Kind))
        {
            sent = JsonBodies.Apply(body, m, "notification_id");
        }
        else
        {
            sent = JsonBodies.Plain(m.Kind switch
            {
                "valid, with event_description" => body.Plus("event_description", JValue.Of(Printable(1 + (m.I % 200), m.I))),
                "event_description" => body.Plus("event_description", m.S switch
                {
                    "1000 characters" => JValue.Of(Printable(1000, m.I)),
                    "1001 characters" => JValue.Of(Printable(1001, m.I)),
                    "empty" => JValue.Of(""),
                    "non-ASCII" => JValue.Of("gelöscht"),
                    "a newline" => JValue.Of("line\nbreak"),
                    "a tab" => JValue.Of("a\tb"),
                    "a DEL" => JValue.Of("a\u007fb"),
                    "NUL" => JValue.Of("a\0b"),
                    "a lone surrogate" => JValue.Of("a\udc00"),
                    "a number" => JValue.Num(1),
                    "null" => new JLiteral("null"),
                    _ => new JObject(),
                }),
                "event" => m.S switch
                {
                    "missing" => body.Without("event"),
                    var how => body.With("event", how switch
                    {
                        "unknown" => JValue.Of("credential_stolen"),
                        "upper case" => JValue.Of(kind.ToUpperInvariant()),
                        "empty" => JValue.Of(""),
                        "with a space" => JValue.Of(kind + " "),
                        "a number" => JValue.Num(0),
                        "null" => new JLiteral("null"),
                        "an array" => new JArray(JValue.Of(kind)),
                        _ => JValue.Of(string.Join(' ', Events)),
                    }),
                },
                "notification_id" => m.S switch
                {
                    "missing" => body.Without("notification_id"),
                    var how => body.With("notification_id", how switch
                    {
                        "unknown" => JValue.Of(Mutations.Letters(22, m.I)),
                        "truncated" => JValue.Of(id[..(m.I % id.Length)]),
                        "of the lane's other credential" => JValue.Of(lane.Second.NotificationId),
                        "of tenant B" => JValue.Of(lane.OfB.NotificationId),
                        "64 characters" => JValue.Of(Mutations.Letters(64, m.I)),
                        "65 characters" => JValue.Of(id + Mutations.Letters(65 - id.Length, m.I)),
                        "empty" => JValue.Of(""),
                        "a number" => JValue.Num(7),
                        "null" => new JLiteral("null"),
                        "an object" => new JObject(("id", JValue.Of(id))),
                        "with a lone surrogate" => JValue.Of(id + "\ud800"),
                        "with NUL" => JValue.Of(id + "\0"),
                        _ => JValue.Of(id.ToUpperInvariant()),
                    }),
                },
                _ => body,
            });
        }

        if (m.Kind == "access token")
        {
            authorized = BearerRequests.Accepted(m.S) || m.S == "of the other credential";
            token = m.S == "of the other credential" ? lane.Second.Token : token;
            headers = BearerRequests.Headers(m.S, token, lane.OfB.Token, m.I);
        }

        var request = new WireRequest(method, path, sent.Bytes, sent.ContentType, headers);
        if (BearerRequests.Refusal(request, authorized, sent, "invalid_notification_request") is { } refused)
        {
            return refused;
        }

        // The session the token opens, and the credential the notification_id names in it.
        var session = token == lane.Second.Token ? lane.Second : credential;
        return Decide(request, sent.Value, session);
    }

    /// <summary>OID4VCI 1.0 §11.1 and docs/wallet-endpoints.md: the shape, then the id within the session, then the event.</summary>
    private static Built Decide(WireRequest request, JValue value, NotifiedCredential session)
    {
        var invalid = Expectation.BadRequest("invalid_notification_request");
        if (value is not JObject body || body["notification_id"] is not JString id || body["event"] is not JString kind || !Events.Contains(kind.Value))
        {
            return new Built(request, invalid);
        }

        if (body.Has("event_description")
            && (body["event_description"] is not JString description || description.Value.Length > 1000 || description.Value.Any(c => c is < ' ' or > '~')))
        {
            return new Built(request, invalid);
        }

        if (id.Value != session.NotificationId)
        {
            return new Built(request, Expectation.BadRequest("invalid_notification_id"));
        }

        if (kind.Value == session.LastEvent)
        {
            return new Built(request, Expectation.Ok(status: 204), CheckSuccess: NoContent);
        }

        var from = session.LastEvent;
        return new Built(request, Expectation.Ok(Delta.Notified("A", from, kind.Value), 204), () => session.LastEvent = kind.Value, NoContent);
    }

    private static string? NoContent(WireResponse r) => r.Body.Length == 0 ? null : "a 204 with a body";

    /// <summary>Printable ASCII of a given length.</summary>
    private static string Printable(int length, int seed)
    {
        var random = new Random(seed);
        return new string([.. Enumerable.Range(0, length).Select(_ => (char)random.Next(' ', '~' + 1))]);
    }
}
