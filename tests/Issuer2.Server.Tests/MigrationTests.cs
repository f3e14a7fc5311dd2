using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;

namespace Issuer2.Server.Tests;

/// <summary>Each provider's migrations build its model from an empty database, with no model change left unmigrated.</summary>
public sealed class MigrationTests
{
    [Fact]
    public async Task Sqlite_MigrationsApplyToAnEmptyDatabase_AndTheModelHasNoPendingChanges()
    {
        var dir = TestEnvironment.NewTempDirectory("migrations-sqlite");
        try
        {
            await using var context = IssuerDbContextFactory.Create("Sqlite", $"Data Source={Path.Combine(dir, "issuer2.db")}");

            await context.Database.MigrateAsync();

            Assert.NotEmpty(context.Database.GetMigrations());
            Assert.Empty(await context.Database.GetPendingMigrationsAsync());
            Assert.False(context.Database.HasPendingModelChanges(), "the SQLite model has changes without a migration (dotnet ef migrations add)");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestEnvironment.DeleteDirectory(dir);
        }
    }

    [Fact]
    public async Task Postgres_MigrationsApplyToAnEmptyDatabase_AndTheModelHasNoPendingChanges()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var context = IssuerDbContextFactory.Create("Postgres", database.ConnectionString);

        await context.Database.MigrateAsync();

        Assert.NotEmpty(context.Database.GetMigrations());
        Assert.Empty(await context.Database.GetPendingMigrationsAsync());
        Assert.False(context.Database.HasPendingModelChanges(), "the PostgreSQL model has changes without a migration (dotnet ef migrations add)");
    }
}
