using Issuer2.Core.Dpop;

namespace Issuer2.Storage.Wallet;

/// <summary>A DPoP proof seen (RFC 9449 §11.1): the hash of its key's thumbprint and its jti, kept until the proof could no longer be accepted.</summary>
internal sealed class DpopProof
{
    public required byte[] JtiKey { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>
/// The jti's single use, decided by the primary key of dpop_proofs on every host. <c>ON CONFLICT DO NOTHING</c> makes
/// a replay an insert of no row rather than an error: no exception per replayed proof, no aborted transaction, no
/// error line in the PostgreSQL log for every replay an attacker sends.
/// </summary>
internal sealed class DpopReplayStore(WalletWrites writes) : IDpopReplayStore
{
    // The write waits its turn like every other (on SQLite at the write gate, not in SQLite's sleeping busy handler); it
    // appends no event, so no event reader is woken.
    public Task<bool> TryRecordAsync(byte[] jtiKey, DateTimeOffset expiresAt, CancellationToken ct) =>
        writes.RunAsync(
            sql => sql.Add($"INSERT INTO dpop_proofs (jti_key, expires_at) VALUES ({sql.P(jtiKey)}, {sql.Time(expiresAt)}) ON CONFLICT (jti_key) DO NOTHING RETURNING 1"),
            sql => sql.FirstStatementTookAsync(ct), ct);
}
