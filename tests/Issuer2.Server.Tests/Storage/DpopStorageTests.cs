using System.Security.Cryptography;
using Issuer2.Core.Dpop;
using Issuer2.Core.Wallet;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Storage;

/// <summary>DPoP's rows on a real database: a jti recorded once whichever context asks, purged when it expired.</summary>
public abstract class DpopReplayStoreTests(ServerFixture fixture)
{
    private async Task<bool> RecordAsync(byte[] key, DateTimeOffset expiresAt)
    {
        // A scope per call: its own context and connection, as two requests (or two hosts) have.
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IDpopReplayStore>().TryRecordAsync(key, expiresAt, CancellationToken.None);
    }

    [Fact]
    public async Task TryRecord_SameKeyTwice_IsTrueThenFalse_AndAnotherKeyIsTrue()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var expiresAt = fixture.Now + DpopProofValidator.RecordLifetime;

        var first = await RecordAsync(key, expiresAt);
        var second = await RecordAsync(key, expiresAt);
        var other = await RecordAsync(RandomNumberGenerator.GetBytes(32), expiresAt);

        Assert.True(first);
        Assert.False(second);
        Assert.True(other);
    }

    [Fact]
    public async Task Retention_PurgesExpiredProofs_AndKeepsLiveOnes()
    {
        var expired = RandomNumberGenerator.GetBytes(32);
        var live = RandomNumberGenerator.GetBytes(32);
        await RecordAsync(expired, fixture.Now - TimeSpan.FromSeconds(1));
        await RecordAsync(live, fixture.Now + TimeSpan.FromMinutes(1));

        await using (var scope = fixture.Host.App.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IWalletRetention>().PurgeExpiredAsync(fixture.Now, 1000, CancellationToken.None);
        }

        Assert.True(await RecordAsync(expired, fixture.Now + TimeSpan.FromMinutes(1)));
        Assert.False(await RecordAsync(live, fixture.Now + TimeSpan.FromMinutes(1)));
    }
}

public sealed class DpopReplayStoreTests_Sqlite(SqliteServerFixture fixture)
    : DpopReplayStoreTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class DpopReplayStoreTests_Postgres(PostgresServerFixture fixture)
    : DpopReplayStoreTests(fixture), IClassFixture<PostgresServerFixture>;

/// <summary>The Dpop migration gives tenants that existed before it the default DPoP settings.</summary>
public sealed class DpopMigrationTests
{
    private const string BeforeDpop = "AuthorizationCodeFlow";

    /// <summary>A tenant row as the schema before the Dpop migration has it, with the provider's literals.</summary>
    private static string OldTenant(string yes, string no, string lifetime, string time) =>
        "INSERT INTO tenants (id, credential_issuer, display, allow_pre_authorized, allow_authorized, require_pin, default_offer_lifetime, max_offer_lifetime, pre_authorized_code_lifetime, pin_attempt_limit, authorization_server, metadata_version, created_at, updated_at) " +
        $"VALUES ('old', 'https://issuer.example/old', '[]', {yes}, {no}, {no}, {lifetime}, {lifetime}, {lifetime}, 5, '{{\"clientMode\":\"any\",\"registeredClients\":[],\"requirePushedAuthorizationRequests\":true,\"requireIssuerState\":false}}', 1, {time}, {time})";

    private static async Task AssertOldTenantGetsTheDefaultAsync(IssuerDbContext context, string insert)
    {
        var migrator = context.GetService<IMigrator>();
        var before = context.Database.GetMigrations().Single(m => m.EndsWith("_" + BeforeDpop, StringComparison.Ordinal));
        await migrator.MigrateAsync(before);
        // Plain ADO.NET: the row's JSON has braces, which EF's raw SQL would read as placeholders.
        var connection = context.Database.GetDbConnection();
        await connection.OpenAsync();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = insert;
            await command.ExecuteNonQueryAsync();
        }

        await context.Database.MigrateAsync();

        var tenant = await context.Tenants.AsNoTracking().SingleAsync(t => t.Id == "old");
        Assert.Equal(DpopSettings.Default, tenant.Dpop);
    }

    [Fact]
    public async Task Sqlite_TenantFromBeforeDpop_GetsTheDefaultSettings()
    {
        var dir = TestEnvironment.NewTempDirectory("migrations-dpop");
        try
        {
            await using var context = IssuerDbContextFactory.Create("Sqlite", $"Data Source={Path.Combine(dir, "issuer2.db")}");
            await AssertOldTenantGetsTheDefaultAsync(context, OldTenant("1", "0", "'00:10:00'", "0"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestEnvironment.DeleteDirectory(dir);
        }
    }

    [Fact]
    public async Task Postgres_TenantFromBeforeDpop_GetsTheDefaultSettings()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var context = IssuerDbContextFactory.Create("Postgres", database.ConnectionString);
        await AssertOldTenantGetsTheDefaultAsync(context, OldTenant("true", "false", "interval '10 minutes'", "now()"));
    }
}
