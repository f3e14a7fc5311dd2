using Issuer2.Core.Events;
using Issuer2.Core.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Issuer2.Storage.Wallet;

/// <summary>
/// The one way the wallet adapters write: the step's statements and its events as one <see cref="SqlBatch"/>, all
/// or nothing, then the wake-up for event readers. On PostgreSQL the commit rides in the batch's round trip: a batch
/// alone is one implicit transaction (its statements go with one Sync, and any error rolls back all of them), and
/// the last batch of an explicit transaction ends in <c>COMMIT</c>. On SQLite, in-process, the transaction is EF's.
/// </summary>
internal sealed class WalletWrites(IssuerDbContext db, IEventNotifier notifier)
{
    public IssuerDbContext Db => db;

    /// <summary>Runs <paramref name="build"/>'s batch and commits it.</summary>
    public Task CommitAsync(string tenantId, Action<SqlBatch> build, CancellationToken ct) =>
        CommitAsync(tenantId, build, async sql =>
        {
            await sql.ExecuteAsync(ct);
            return true;
        }, ct);

    /// <summary>
    /// Runs <paramref name="build"/>'s batch, all or nothing, and commits it; returns how many rows each of its
    /// statements that return rows returned (<see cref="SqlBatch.RowsPerStatementAsync"/>).
    /// </summary>
    public Task<int[]> CommitCountingAsync(string tenantId, Action<SqlBatch> build, CancellationToken ct) =>
        CommitAsync(tenantId, build, sql => sql.RowsPerStatementAsync(ct), ct);

    private async Task<T> CommitAsync<T>(string tenantId, Action<SqlBatch> build, Func<SqlBatch, Task<T>> run, CancellationToken ct)
    {
        var result = await RunAsync(build, run, ct);
        notifier.Committed(tenantId);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="build"/>'s batch as one transaction, without waking event readers (for a write that appends
    /// no event): on PostgreSQL the batch alone, its own implicit transaction; on SQLite in a transaction begun at the
    /// write gate (<see cref="WriteGate"/>), so it waits its turn like every other write.
    /// </summary>
    public async Task<T> RunAsync<T>(Action<SqlBatch> build, Func<SqlBatch, Task<T>> run, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(run);
        await using var tx = db.IsPostgres ? null : await BeginAsync(ct);
        T result;
        await using (var sql = new SqlBatch(db))
        {
            build(sql);
            result = await run(sql);
        }
        if (tx is not null) await tx.CommitAsync(ct);
        return result;
    }

    /// <summary>The INSERT of an access token, as a statement or (with <paramref name="onlyIf"/>) a CTE's conditional body.</summary>
    public static string TokenInsert(SqlBatch sql, AccessToken t, string? onlyIf = null)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(t);
        return "INSERT INTO access_tokens (token_hash, tenant_id, session_id, expires_at, dpop_jkt) "
            + SqlBatch.Row($"{sql.P(t.TokenHash)}, {sql.P(t.TenantId)}, {sql.P(t.SessionId)}, {sql.Time(t.ExpiresAt)}, {sql.P(t.DpopJkt)}", onlyIf);
    }

    /// <summary>
    /// Runs the last batch of <paramref name="tx"/> and commits the transaction: on PostgreSQL with <c>COMMIT</c> as
    /// the batch's last statement (one round trip; an error in the batch skips it and the transaction rolls back when
    /// disposed), elsewhere with EF's commit. The caller wakes event readers (<see cref="Committed"/>).
    /// </summary>
    public async Task CommitWithAsync(IDbContextTransaction tx, Action<SqlBatch> build, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(build);
        await using (var sql = new SqlBatch(db))
        {
            build(sql);
            if (db.IsPostgres) sql.Add("COMMIT");
            await sql.ExecuteAsync(ct);
        }
        if (!db.IsPostgres) await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Runs a batch whose first statement is a conditional UPDATE … RETURNING: commits when it took a row, rolls back
    /// everything (the events included) when it did not.
    /// </summary>
    public async Task<bool> CommitIfFirstTookAsync(string tenantId, Action<SqlBatch> build, CancellationToken ct)
    {
        await using var tx = await BeginAsync(ct);
        bool took;
        await using (var sql = new SqlBatch(db))
        {
            build(sql);
            took = await sql.FirstStatementTookAsync(ct);
        }
        if (!took)
        {
            await tx.RollbackAsync(ct);
            return false;
        }
        await tx.CommitAsync(ct);
        notifier.Committed(tenantId);
        return true;
    }

    /// <summary>A transaction without EF's automatic savepoints: each batch inside is all or nothing with the rest anyway.</summary>
    public Task<IDbContextTransaction> BeginAsync(CancellationToken ct)
    {
        db.Database.AutoSavepointsEnabled = false;
        return db.BeginWriteAsync(ct);
    }

    public void Committed(string tenantId) => notifier.Committed(tenantId);
}
