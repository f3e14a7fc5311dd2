namespace Issuer2.Server.Tests.Fuzz;

/// <summary>
/// The change one request may make to the database, as deltas of <see cref="Ledger"/> keys (events by tenant and
/// type, counters of offers, row counts). Anything not named must stay as it was, down to the table's checksum.
/// </summary>
public sealed class Delta
{
    private readonly Dictionary<string, long> _changes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _touched = new(StringComparer.Ordinal);

    public static Delta None => new();

    public IReadOnlyDictionary<string, long> Changes => _changes;

    /// <summary>Every counter a change was allowed on, even where the changes summed to zero (a value set and set back).</summary>
    public IReadOnlySet<string> Touched => _touched;

    public Delta Add(string key, long by = 1)
    {
        _touched.Add(key);
        _changes[key] = _changes.GetValueOrDefault(key) + by;
        if (_changes[key] == 0)
        {
            _changes.Remove(key);
        }

        return this;
    }

    public Delta Add(Delta other)
    {
        foreach (var (key, by) in other._changes)
        {
            Add(key, by);
        }

        _touched.UnionWith(other._touched);
        return this;
    }

    public bool IsEmpty => _changes.Count == 0;

    public override string ToString() =>
        IsEmpty ? "nothing" : string.Join(", ", _changes.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value:+#;-#;0}"));

    // The changes each kind of outcome makes (see docs/wallet-endpoints.md and the stores' SQL).

    /// <summary>An offer resolved: a new code, the offer's resolution count, offer.resolved.</summary>
    public static Delta Resolved(string tenant) =>
        new Delta().Add(Ledger.CodesCount).Add(Ledger.OffersResolutions).Add(Ledger.Event(tenant, "offer.resolved"));

    /// <summary>A code redeemed: the code consumed, one use of the offer, a session, its token, token.issued.</summary>
    public static Delta TokenIssued(string tenant) =>
        new Delta().Add(Ledger.CodesConsumed).Add(Ledger.OffersUses).Add(Ledger.SessionsCount).Add(Ledger.TokensCount).Add(Ledger.Event(tenant, "token.issued"));

    /// <summary>A refused token request that named a known code: one token.refused, and the refusal counted for coalescing.</summary>
    public static Delta TokenRefused(string tenant) => new Delta().Add(Ledger.Event(tenant, "token.refused")).Add(Ledger.RefusalsCounted);

    /// <summary>A wrong PIN: token.refused and the offer's count; the attempt that reaches the limit locks it.</summary>
    public static Delta WrongPin(string tenant, bool locks)
    {
        // Note: a wrong PIN's event is written with its count (never coalesced), so no refusal is counted for coalescing.
        var delta = new Delta().Add(Ledger.Event(tenant, "token.refused")).Add(Ledger.OffersPinFailures);
        return locks ? delta.Add(Ledger.OffersLocked).Add(Ledger.Event(tenant, "offer.locked")) : delta;
    }

    /// <summary>A credential issued: the nonce consumed, the credential, the session completed, the offer's count, two events.</summary>
    public static Delta CredentialIssued(string tenant) =>
        new Delta().Add(Ledger.NoncesCount).Add(Ledger.Credentials(null)).Add(Ledger.SessionsCompleted).Add(Ledger.OffersIssued)
            .Add(Ledger.Event(tenant, "credential.issued")).Add(Ledger.Event(tenant, "session.completed"));

    /// <summary>A refused credential request of a known session: one credential.refused, and the refusal counted for coalescing.</summary>
    public static Delta CredentialRefused(string tenant) => new Delta().Add(Ledger.Event(tenant, "credential.refused")).Add(Ledger.RefusalsCounted);

    /// <summary>A notification that changes the credential's last event.</summary>
    public static Delta Notified(string tenant, string? from, string to) =>
        new Delta().Add(Ledger.Credentials(from), -1).Add(Ledger.Credentials(to)).Add(Ledger.Event(tenant, "notification.received"));
}

/// <summary>What must come of one request: a status, an error code or success, and the change it may make.</summary>
public sealed record Expectation
{
    public required int Status { get; init; }

    /// <summary>The "error" member, or null for a success.</summary>
    public string? Error { get; init; }

    public Delta Delta { get; init; } = Delta.None;

    /// <summary>Refused by Kestrel itself before any endpoint ran (400, no body): what it does with a %00 in the path.</summary>
    public bool ByKestrel { get; init; }

    /// <summary>The method a 405 names in Allow.</summary>
    public string? Allow { get; init; }

    public static Expectation Ok(Delta? delta = null, int status = 200) => new() { Status = status, Delta = delta ?? Delta.None };

    public static Expectation Refused(int status, string error, Delta? delta = null) => new() { Status = status, Error = error, Delta = delta ?? Delta.None };

    public static Expectation BadRequest(string error, Delta? delta = null) => Refused(400, error, delta);

    public static Expectation MethodNotAllowed(string allow) => new() { Status = 405, Error = "invalid_request", Allow = allow };

    public static Expectation NotFound => Refused(404, "not_found");

    public static Expectation InvalidToken => Refused(401, "invalid_token");

    public static Expectation Kestrel => new() { Status = 400, ByKestrel = true };

    public override string ToString() =>
        (ByKestrel ? "400 by Kestrel" : Error is null ? $"{Status} ok" : $"{Status} {Error}") + $" (changes: {Delta})";
}
