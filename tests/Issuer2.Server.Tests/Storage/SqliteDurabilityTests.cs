using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Storage;

/// <summary>
/// Issuer2:Database:SqliteSynchronous (docs/architecture.md, "SQLite durability"): by default every SQLite connection
/// syncs each commit (synchronous=FULL, 2); with Normal each connection the host opens, pooled or new, syncs at
/// checkpoints only (1), and the host still reads what it wrote.
/// </summary>
public abstract class SqliteDurabilityTests(ServerFixture fixture, long expected)
{
    private async Task<long> SynchronousAsync()
    {
        // A scope per read: its own pooled context and connection, as two requests have.
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        await db.Database.OpenConnectionAsync();
        try
        {
            await using var pragma = db.Database.GetDbConnection().CreateCommand();
            pragma.CommandText = "PRAGMA synchronous";
            return Convert.ToInt64(await pragma.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    [Fact]
    public async Task EveryConnection_HasTheConfiguredSynchronousMode_AndWritesAreRead()
    {
        var modes = new List<long>();
        for (var i = 0; i < 3; i++) modes.Add(await SynchronousAsync());
        // Several at once: the pool hands out more than one native connection.
        modes.AddRange(await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SynchronousAsync())));

        Assert.All(modes, mode => Assert.Equal(expected, mode));
        var tenant = await fixture.CreateTenantAsync();
        var read = await fixture.Admin.Tenants.GetTenantAsync(new Issuer2.Grpc.V1.GetTenantRequest { Name = tenant.Tenant.Name });
        Assert.Equal(tenant.Tenant.TenantId, read.Tenant.TenantId);
    }
}

public sealed class SqliteDurabilityTests_Default(SqliteServerFixture fixture)
    : SqliteDurabilityTests(fixture, expected: 2), IClassFixture<SqliteServerFixture>;

public sealed class SqliteDurabilityTests_Normal(SqliteNormalSyncFixture fixture)
    : SqliteDurabilityTests(fixture, expected: 1), IClassFixture<SqliteNormalSyncFixture>;

/// <summary>A SQLite host with Issuer2:Database:SqliteSynchronous=Normal.</summary>
public sealed class SqliteNormalSyncFixture : SqliteServerFixture
{
    protected override IReadOnlyDictionary<string, string> Configuration { get; } =
        new Dictionary<string, string> { ["Issuer2:Database:SqliteSynchronous"] = "Normal" };
}

/// <summary>The setting is SQLite's: a PostgreSQL host with it does not start, and says why.</summary>
public sealed class SqliteDurabilityRefusalTests
{
    [Fact]
    public async Task PostgresHost_WithSqliteSynchronousNormal_RefusesToStart_NamingTheSetting()
    {
        var dataDirectory = TestEnvironment.NewTempDirectory("sqlite-sync-postgres");
        try
        {
            var (exitCode, output) = await ServerProcess.RunToExitAsync(
                [
                    "--Issuer2:Database:Provider=Postgres", "--Issuer2:Database:ConnectionString=Host=127.0.0.1;Port=1;Username=nobody",
                    "--Issuer2:Database:SqliteSynchronous=Normal", $"--Issuer2:DataDirectory={dataDirectory}",
                ],
                TimeSpan.FromMinutes(2));

            Assert.NotEqual(0, exitCode);
            Assert.Contains("Issuer2:Database:SqliteSynchronous applies to SQLite only", output, StringComparison.Ordinal);
        }
        finally
        {
            TestEnvironment.DeleteDirectory(dataDirectory);
        }
    }
}
