using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Issuer2.Server.Hosting;

/// <summary>Applies the provider's migrations; safe when several hosts start at once on one PostgreSQL.</summary>
public static class DatabaseMigrator
{
    // Any fixed number: every Issuer2 host takes the same advisory lock around migrating.
    private const long MigrationLockId = 0x1557_2E12_0001;

    public static async Task MigrateAsync(IssuerDbContext db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (!db.IsPostgres)
        {
            await db.Database.MigrateAsync(ct);
            // Write-ahead logging lets readers run beside the one writer; the setting stays with the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
            return;
        }

        // One host migrates while the others wait; they then find nothing pending.
        await using var lockConnection = new NpgsqlConnection(db.Database.GetConnectionString());
        await lockConnection.OpenAsync(ct);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockId})", lockConnection))
            await take.ExecuteNonQueryAsync(ct);
        try
        {
            // EF's own history table DDL, made first: otherwise EF's first look at it fails on an empty database and
            // logs that expected failure as an error.
            await using (var history = new NpgsqlCommand(
                "CREATE TABLE IF NOT EXISTS \"__EFMigrationsHistory\" (\"MigrationId\" character varying(150) NOT NULL, " +
                "\"ProductVersion\" character varying(32) NOT NULL, CONSTRAINT \"PK___EFMigrationsHistory\" PRIMARY KEY (\"MigrationId\"))", lockConnection))
            {
                await history.ExecuteNonQueryAsync(ct);
            }
            await db.Database.MigrateAsync(ct);
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({MigrationLockId})", lockConnection);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}
