using Issuer2.Core.Events;

namespace Issuer2.Core.Wallet;

/// <summary>
/// Records refusals of wallet requests, which change nothing else, each in a transaction of its own, coalesced by
/// <see cref="RefusalCoalescing"/>: the store counts the refusal in its key's window and decides with Core's rule, in
/// the same transaction, whether its event is written (carrying the count of closed windows' unwritten repeats).
/// </summary>
public interface IEventJournal
{
    /// <summary>Counts <paramref name="refusal"/> at <paramref name="at"/>, and writes its event when the rule lets it.</summary>
    Task RecordRefusalAsync(Refusal refusal, DateTimeOffset at, CancellationToken ct);

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> counters of windows closed by <paramref name="now"/> (the oldest first)
    /// and, in the same transaction, writes one event for each that counted refusals it did not write; returns how
    /// many counters.
    /// </summary>
    Task<int> FlushClosedWindowsAsync(DateTimeOffset now, int batchSize, CancellationToken ct);
}

/// <summary>Retention of the wallet flow's one-time rows.</summary>
public interface IWalletRetention
{
    /// <summary>Deletes up to <paramref name="batchSize"/> expired codes, issuer_states, access tokens and consumed nonces of each kind; returns how many.</summary>
    Task<int> PurgeExpiredAsync(DateTimeOffset now, int batchSize, CancellationToken ct);

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> issuance sessions past <paramref name="retention"/> (the oldest
    /// first), with their issued-credential records and expired access tokens, in one transaction; never a session
    /// with a live access token. Returns how many sessions.
    /// </summary>
    Task<int> PurgeEndedSessionsAsync(Sessions.SessionRetention retention, DateTimeOffset now, int batchSize, CancellationToken ct);
}
