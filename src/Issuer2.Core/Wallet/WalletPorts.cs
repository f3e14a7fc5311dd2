using Issuer2.Core.Events;

namespace Issuer2.Core.Wallet;

/// <summary>Appends one event in a transaction of its own: a refusal, which changes nothing else.</summary>
public interface IEventJournal
{
    Task AppendAsync(IssuerEvent e, CancellationToken ct);
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
