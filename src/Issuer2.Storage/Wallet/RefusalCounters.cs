using Issuer2.Core.Events;
using Issuer2.Core.Wallet;

namespace Issuer2.Storage.Wallet;

/// <summary>
/// The refusals of one key (<see cref="Refusal"/>) in one window of <see cref="RefusalCoalescing"/>: how many arrived
/// and how many were written as events. Enough of the refusal to write the event that reports the rest.
/// </summary>
internal sealed class RefusalCounter
{
    public required string TenantId { get; init; }
    public required string Subject { get; init; }
    public required string EventType { get; init; }
    public required string Reason { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public string? OfferId { get; init; }
    public string? SessionId { get; init; }
    public string? ProfileId { get; init; }
    public long Refusals { get; init; }
    public long Emitted { get; init; }
}

/// <summary>
/// Refusals, coalesced: the counter row of the refusal's key and window is upserted (the database counts, so N hosts
/// agree on the ordinal), Core's rule decides with the ordinal, and the event, the emitted count and the claim of
/// closed windows' unwritten repeats (deleted with their count) commit in the same transaction.
/// </summary>
internal sealed class EventJournal(WalletWrites writes, RefusalCoalescing rule) : IEventJournal
{
    private const string Columns = "tenant_id, subject, event_type, reason, window_start";

    public async Task RecordRefusalAsync(Refusal refusal, DateTimeOffset at, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        var window = rule.WindowStart(at);
        await using var tx = await writes.BeginAsync(ct);
        long ordinal, carried;
        await using (var count = new SqlBatch(writes.Db))
        {
            count.Add($"INSERT INTO refusal_counters ({Columns}, offer_id, session_id, profile_id, refusals, emitted) VALUES ({count.P(refusal.TenantId)}, {count.P(refusal.Subject)}, {count.P(refusal.Type)}, {count.P(refusal.Reason)}, {count.Time(window)}, {count.P(refusal.OfferId)}, {count.P(refusal.SessionId)}, {count.P(refusal.ProfileId)}, 1, 0) ON CONFLICT ({Columns}) DO UPDATE SET refusals = refusal_counters.refusals + 1 RETURNING refusals");
            // The key's closed windows: their unwritten repeats are claimed here (or by maintenance's flush, never both).
            count.Add($"DELETE FROM refusal_counters WHERE {Key(count, refusal)} AND window_start < {count.Time(window)} RETURNING refusals - emitted");
            var values = await count.ValuesPerStatementAsync(ct);
            (ordinal, carried) = (values[0].Single(), values[1].Sum());
        }

        var emits = rule.Emits(ordinal);
        if (emits || carried > 0)
        {
            await using var write = new SqlBatch(writes.Db);
            if (emits)
            {
                write.Add($"UPDATE refusal_counters SET emitted = emitted + 1 WHERE {Key(write, refusal)} AND window_start = {write.Time(window)}");
                write.AddEvent(RefusalCoalescing.Written(refusal, at, carried));
            }
            else
            {
                // Note: only when another host's refusal filled this window between our count and our claim: the claimed
                // repeats join this window's unwritten ones, for the next written event or the flush.
                write.Add($"UPDATE refusal_counters SET refusals = refusals + {write.P(carried)} WHERE {Key(write, refusal)} AND window_start = {write.Time(window)}");
            }
            await write.ExecuteAsync(ct);
        }
        await tx.CommitAsync(ct);
        if (emits) writes.Committed(refusal.TenantId);
    }

    public async Task<int> FlushClosedWindowsAsync(DateTimeOffset now, int batchSize, CancellationToken ct)
    {
        var window = rule.WindowStart(now);
        await using var tx = await writes.BeginAsync(ct);
        IReadOnlyList<(Refusal Refusal, long Suppressed)> closed;
        await using (var take = new SqlBatch(writes.Db))
        {
            take.Add($"DELETE FROM refusal_counters WHERE ({Columns}) IN (SELECT {Columns} FROM refusal_counters WHERE window_start < {take.Time(window)} ORDER BY window_start LIMIT {take.P(batchSize)}) RETURNING tenant_id, event_type, reason, offer_id, session_id, profile_id, refusals - emitted, subject");
            closed = await take.ReadAsync(
                r => (Refusal.FromStored(r.GetString(0), r.GetString(1), r.GetString(2), Text(r, 3), Text(r, 4), Text(r, 5), r.GetString(7)), r.GetInt64(6)), ct);
        }
        var flushed = closed.Select(c => RefusalCoalescing.Flushed(c.Refusal, now, c.Suppressed)).OfType<IssuerEvent>().ToList();
        if (flushed.Count > 0)
        {
            await using var write = new SqlBatch(writes.Db);
            foreach (var e in flushed) write.AddEvent(e);
            await write.ExecuteAsync(ct);
        }
        await tx.CommitAsync(ct);
        foreach (var tenant in flushed.Select(e => e.TenantId).Distinct(StringComparer.Ordinal)) writes.Committed(tenant);
        return closed.Count;
    }

    private static string Key(SqlBatch sql, Refusal r) =>
        $"tenant_id = {sql.P(r.TenantId)} AND subject = {sql.P(r.Subject)} AND event_type = {sql.P(r.Type)} AND reason = {sql.P(r.Reason)}";

    private static string? Text(System.Data.Common.DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
