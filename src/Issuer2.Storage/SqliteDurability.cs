using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Issuer2.Storage;

/// <summary>
/// SQLite's <c>synchronous</c> setting in WAL mode (docs/architecture.md, "SQLite durability"). <see cref="Full"/>, the
/// default, syncs the write-ahead log at every commit: a commit the wallet was told about survives a power loss.
/// <see cref="Normal"/> syncs it only at checkpoints: the database stays consistent after a power loss or an operating
/// system crash, but the last commits before it may be rolled back (a redeemed code redeemable again, a use or an
/// issued-credential record uncounted); a crash of Issuer2 alone loses nothing.
/// </summary>
public enum SqliteSynchronous
{
    Full,
    Normal,
}

/// <summary>
/// Sets <c>PRAGMA synchronous=NORMAL</c> on each SQLite connection once (the setting belongs to the connection, not to
/// the file, and Microsoft.Data.Sqlite's connection string has no key for it). Pooled connections keep their native
/// handle, so a handle that has it is not told again.
/// </summary>
internal sealed class SqliteNormalSyncInterceptor : DbConnectionInterceptor
{
    private static readonly object Set = new();
    private readonly ConditionalWeakTable<object, object> _done = [];

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        if (connection is not SqliteConnection sqlite || sqlite.Handle is not { } handle) return;
        if (_done.TryGetValue(handle, out _)) return;
        using var pragma = sqlite.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous=NORMAL";
        pragma.ExecuteNonQuery();
        _done.AddOrUpdate(handle, Set);
    }
}
