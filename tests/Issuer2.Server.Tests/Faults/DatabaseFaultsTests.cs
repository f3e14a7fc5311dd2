using System.Net.Sockets;
using Google.Rpc;
using Grpc.Core;
using Issuer2.Server.Grpc;
using Issuer2.Server.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Issuer2.Server.Tests.Faults;

/// <summary>Which exceptions count as "the database is unavailable" (503 / UNAVAILABLE) and which stay bugs (500 / INTERNAL).</summary>
public sealed class DatabaseFaultsTests
{
    private const string PoolExhausted =
        "The connection pool has been exhausted, either raise 'Max Pool Size' (currently 100) or 'Timeout' (currently 15 seconds) in your connection string.";

    public static TheoryData<string, Exception> Unavailable() => new()
    {
        { "connection refused", new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused)) },
        { "connection reset", new NpgsqlException("Exception while reading from stream", new IOException("reset", new SocketException((int)SocketError.ConnectionReset))) },
        { "stream ended", new NpgsqlException("Exception while reading from stream", new EndOfStreamException()) },
        { "read timeout", new NpgsqlException("Exception while reading from stream", new TimeoutException("Timeout during reading attempt")) },
        { "pool exhausted", new NpgsqlException(PoolExhausted, new TimeoutException()) },
        { "admin shutdown", Postgres(PostgresErrorCodes.AdminShutdown) },
        { "crash shutdown", Postgres(PostgresErrorCodes.CrashShutdown) },
        { "starting up / in recovery", Postgres(PostgresErrorCodes.CannotConnectNow) },
        { "idle session timeout", Postgres(PostgresErrorCodes.IdleSessionTimeout) },
        { "connection failure", Postgres(PostgresErrorCodes.ConnectionFailure) },
        { "too many connections", Postgres(PostgresErrorCodes.TooManyConnections) },
        { "disk full", Postgres(PostgresErrorCodes.DiskFull) },
        { "I/O error", Postgres(PostgresErrorCodes.IoError) },
        { "a standby after failover", Postgres(PostgresErrorCodes.ReadOnlySqlTransaction) },
        { "wrapped by SaveChanges", new DbUpdateException("An error occurred while saving the entity changes.", new NpgsqlException("x", new SocketException((int)SocketError.ConnectionRefused))) },
        { "wrapped by EF's execution strategy", new InvalidOperationException("An exception has been raised that is likely due to a transient failure.", Postgres(PostgresErrorCodes.AdminShutdown)) },
        { "retries ran out", new RetryLimitExceededException("The maximum number of retries (6) was exceeded.", new NpgsqlException("x", new TimeoutException())) },
        { "one of several", new AggregateException(new InvalidOperationException("other"), new NpgsqlException("x", new IOException())) },
        { "SQLite busy", new SqliteException("database is locked", 5) },
        { "SQLite locked", new SqliteException("database table is locked", 6) },
        { "a provider's timeout", new TimeoutException("The operation has timed out.") { Source = "Npgsql" } },
    };

    public static TheoryData<string, Exception> Bugs() => new()
    {
        { "unique violation", Postgres(PostgresErrorCodes.UniqueViolation) },
        { "serialization failure", Postgres(PostgresErrorCodes.SerializationFailure) },
        { "deadlock", Postgres(PostgresErrorCodes.DeadlockDetected) },
        { "lock not available", Postgres(PostgresErrorCodes.LockNotAvailable) },
        { "object in use", Postgres(PostgresErrorCodes.ObjectInUse) },
        { "query canceled", Postgres(PostgresErrorCodes.QueryCanceled) },
        { "undefined table", Postgres(PostgresErrorCodes.UndefinedTable) },
        { "syntax error", Postgres(PostgresErrorCodes.SyntaxError) },
        { "authentication failed", Postgres(PostgresErrorCodes.InvalidPassword) },
        { "Npgsql around no transient error", new NpgsqlException("x", new AggregateException(Postgres(PostgresErrorCodes.UniqueViolation))) },
        { "Npgsql, not transient", new NpgsqlException("The connection is already in state 'Open'") },
        { "SQLite constraint", new SqliteException("UNIQUE constraint failed", 19) },
        { "SQLite error", new SqliteException("no such table", 1) },
        { "a timeout of our own", new TimeoutException("ours") },
        { "a bug", new ArgumentOutOfRangeException("index") },
        { "an invalid operation", new InvalidOperationException("Sequence contains no elements") },
        { "SaveChanges, not transient", new DbUpdateException("x", Postgres(PostgresErrorCodes.ForeignKeyViolation)) },
    };

    [Theory]
    [MemberData(nameof(Unavailable))]
    public void Unavailable_Counts_WithAReason(string what, Exception exception)
    {
        var reason = DatabaseFaults.Reason(exception);

        Assert.True(reason is not null, what);
        Assert.True(DatabaseFaults.IsUnavailable(exception), what);
        Assert.DoesNotContain("5432", reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Bugs))]
    public void Bugs_DoNotCount(string what, Exception exception) =>
        Assert.True(DatabaseFaults.Reason(exception) is null, $"{what}: {DatabaseFaults.Reason(exception)}");

    [Fact]
    public void Reason_NamesTheSocketErrorThePoolAndTheSqlState()
    {
        Assert.Equal("the database connection failed (ConnectionRefused)",
            DatabaseFaults.Reason(new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.StartsWith("the connection pool is exhausted", DatabaseFaults.Reason(new NpgsqlException(PoolExhausted, new TimeoutException())), StringComparison.Ordinal);
        Assert.StartsWith("PostgreSQL 57P01: ", DatabaseFaults.Reason(Postgres(PostgresErrorCodes.AdminShutdown)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5.0, "5")]
    [InlineData(1.2, "2")]
    [InlineData(0.0, "1")]
    [InlineData(-3.0, "1")]
    public void RetryAfter_IsWholeSecondsRoundedUp_AtLeastOne(double seconds, string header) =>
        Assert.Equal(header, DatabaseUnavailableMiddleware.RetryAfterSeconds(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void GrpcUnavailable_CarriesErrorInfoAndRetryInfo()
    {
        var status = ErrorInterceptor.Unavailable(TimeSpan.FromSeconds(5)).GetRpcStatus()!;

        Assert.Equal((int)StatusCode.Unavailable, status.Code);
        Assert.Equal("DATABASE_UNAVAILABLE", status.GetDetail<ErrorInfo>()!.Reason);
        Assert.Equal("issuer2", status.GetDetail<ErrorInfo>()!.Domain);
        Assert.Equal(TimeSpan.FromSeconds(5), status.GetDetail<RetryInfo>()!.RetryDelay.ToTimeSpan());
    }

    private static PostgresException Postgres(string sqlState) => new("message", "FATAL", "FATAL", sqlState);
}
