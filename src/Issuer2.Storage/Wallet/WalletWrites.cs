using Issuer2.Core.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Issuer2.Storage.Wallet;

/// <summary>
/// The one way the wallet adapters write: a transaction without EF's savepoints, the step's statements and its
/// events as one <see cref="SqlBatch"/> (one round trip), the commit, then the wake-up for event readers.
/// </summary>
internal sealed class WalletWrites(IssuerDbContext db, IEventNotifier notifier)
{
    public IssuerDbContext Db => db;

    /// <summary>Runs <paramref name="build"/>'s batch and commits it.</summary>
    public async Task CommitAsync(string tenantId, Action<SqlBatch> build, CancellationToken ct)
    {
        await using var tx = await BeginAsync(ct);
        await using (var sql = new SqlBatch(db))
        {
            build(sql);
            await sql.ExecuteAsync(ct);
        }
        await tx.CommitAsync(ct);
        notifier.Committed(tenantId);
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
        return db.Database.BeginTransactionAsync(ct);
    }

    public void Committed(string tenantId) => notifier.Committed(tenantId);
}
