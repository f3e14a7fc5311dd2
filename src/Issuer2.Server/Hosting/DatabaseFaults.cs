using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Issuer2.Server.Hosting;

/// <summary>
/// Decides which exceptions mean "the database is unavailable for now": it restarts, fails over, is out of reach,
/// out of connections or busy, so the same request may well succeed a few seconds later. Wallets then get 503 with
/// <c>Retry-After</c> and gRPC callers <c>UNAVAILABLE</c>; every other exception is a bug and stays 500 / INTERNAL.
/// </summary>
/// <remarks>
/// What counts, and why (docs/faults.md says the same for operators):
/// <list type="bullet">
/// <item>Npgsql's own failures to reach or keep a connection: <see cref="NpgsqlException"/> (not a server error)
/// that Npgsql calls transient — a socket error (connection refused, reset, unreachable), a lost stream, a
/// timeout, and "the connection pool has been exhausted" (a timeout waiting for a pooled connection).</item>
/// <item>Server errors that say the server cannot serve now: SQLSTATE class 08 (connection exception), 57P01
/// admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, in recovery), 57P05
/// idle_session_timeout, class 53 (insufficient resources: too many connections, disk full, out of memory),
/// 58000 / 58030 (system and I/O errors outside PostgreSQL) and 25006 read_only_sql_transaction (a write reached
/// a standby: a failover is under way).</item>
/// <item>SQLite's <c>SQLITE_BUSY</c> and <c>SQLITE_LOCKED</c>, which Microsoft.Data.Sqlite throws only once its
/// busy timeout has passed: another writer held the file that long.</item>
/// <item>EF Core's <see cref="RetryLimitExceededException"/> (an execution strategy gave up on transient
/// failures), and a <see cref="TimeoutException"/> thrown by the providers themselves.</item>
/// </list>
/// Wrappers are looked through (EF's <c>DbUpdateException</c> and its "likely due to a transient failure"
/// <see cref="InvalidOperationException"/>, <see cref="AggregateException"/>). Deliberately not counted, although
/// Npgsql calls some of them transient: serialization failures and deadlocks (40001, 40P01: Issuer2 runs READ
/// COMMITTED and takes rows in one order, so either is a bug to see), lock_not_available and object_in_use (55P03,
/// 55006: only NOWAIT or DDL cause them), query_canceled (57014), authentication and configuration errors, a
/// timeout not thrown by a provider, and anything else.
/// </remarks>
public static class DatabaseFaults
{
    private const string PoolExhausted = "The connection pool has been exhausted";
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int MaxDepth = 10;

    /// <summary>True when <paramref name="exception"/> means the database is unavailable for now.</summary>
    public static bool IsUnavailable(Exception exception) => Reason(exception) is not null;

    /// <summary>
    /// Why the database is unavailable, in a few words fit for a log line or a health report (no connection
    /// string, statement or parameter), or null when <paramref name="exception"/> is not such a fault.
    /// </summary>
    public static string? Reason(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return Find(exception, 0);
    }

    private static string? Find(Exception? e, int depth)
    {
        if (e is null || depth > MaxDepth) return null;
        switch (e)
        {
            case PostgresException pg:
                // A definite answer of the server: nothing inside it can change the verdict.
                return ServerUnavailable(pg.SqlState) ? $"PostgreSQL {pg.SqlState}: {pg.MessageText}" : null;
            case NpgsqlException npgsql when npgsql.InnerException is PostgresException:
                return Find(npgsql.InnerException, depth + 1);
            case NpgsqlException npgsql:
                return npgsql.IsTransient ? ConnectionReason(npgsql) : null;
            case SqliteException lite:
                return lite.SqliteErrorCode switch
                {
                    SqliteBusy => "SQLite is busy (SQLITE_BUSY): another writer held the database past the busy timeout",
                    SqliteLocked => "SQLite is locked (SQLITE_LOCKED): a table stayed locked past the busy timeout",
                    _ => null,
                };
            case RetryLimitExceededException retry:
                return "retries of transient database failures ran out" + (Find(retry.InnerException, depth + 1) is { } why ? $" ({why})" : "");
            case TimeoutException when FromProvider(e):
                return "the database did not answer in time";
            case AggregateException aggregate:
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (Find(inner, depth + 1) is { } reason) return reason;
                }
                return null;
            default:
                return Find(e.InnerException, depth + 1);
        }
    }

    /// <summary>The SQLSTATEs that say the server cannot serve now (see the remarks above).</summary>
    private static bool ServerUnavailable(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal)
        || sqlState.StartsWith("53", StringComparison.Ordinal)
        || sqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
            or PostgresErrorCodes.IdleSessionTimeout or PostgresErrorCodes.SystemError or PostgresErrorCodes.IoError
            or PostgresErrorCodes.ReadOnlySqlTransaction;

    private static string ConnectionReason(NpgsqlException e)
    {
        if (e.Message.StartsWith(PoolExhausted, StringComparison.Ordinal)) return "the connection pool is exhausted (no connection became free in time)";
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case SocketException socket:
                    return $"the database connection failed ({socket.SocketErrorCode})";
                case TimeoutException:
                    return "the database did not answer in time";
                case IOException:
                    return "the database connection was lost";
            }
        }
        return "the database connection failed";
    }

    private static bool FromProvider(Exception e) =>
        e.Source is { } source
        && (source.StartsWith("Npgsql", StringComparison.Ordinal) || source.StartsWith("Microsoft.Data.Sqlite", StringComparison.Ordinal)
            || source.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal));
}
