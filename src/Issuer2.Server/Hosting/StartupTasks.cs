using Issuer2.Core.ApiKeys;
using Issuer2.Core.Common;
using Issuer2.Storage;
using Microsoft.Extensions.Options;

namespace Issuer2.Server.Hosting;

/// <summary>Runs before the listeners open: migrates the database, then makes sure an admin key exists.</summary>
internal sealed partial class StartupTasks(
    IServiceScopeFactory scopes, IOptions<IssuerOptions> options, ConfiguredAdminKeys admin, TimeProvider clock, ILogger<StartupTasks> log)
    : IHostedService
{
    /// <summary>The fixed id of the generated admin key, so two hosts starting at once cannot both make one.</summary>
    public const string GeneratedAdminKeyId = "admin";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        await DatabaseMigrator.MigrateAsync(db, cancellationToken);
        LogMigrated(log, options.Value.Database.Provider);

        if (admin.Any) return;
        var keys = scope.ServiceProvider.GetRequiredService<IApiKeyStore>();
        if (await keys.AnyAdminKeyAsync(cancellationToken)) return;

        var key = ApiKeyManagement.NewKey();
        keys.Add(ApiKeyManagement.NewRecord(null, "generated admin key", key, clock.UtcNow(), null, GeneratedAdminKeyId));
        try
        {
            await scope.ServiceProvider.GetRequiredService<IUnitOfWork>().SaveChangesAsync(cancellationToken);
        }
        catch (UniqueConflictException)
        {
            return; // Another host generated it and showed it.
        }
        // Shown once, on the console only: never through the logger, whose sinks may be shipped elsewhere.
        await Console.Out.WriteLineAsync($"Admin API key (shown once): {key}");
        await Console.Out.FlushAsync(cancellationToken);
        LogAdminKeyGenerated(log);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Database migrated ({Provider}).")]
    private static partial void LogMigrated(ILogger logger, string provider);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No admin key was configured: one was generated and printed on standard output. Store it, or set Issuer2:AdminKey.")]
    private static partial void LogAdminKeyGenerated(ILogger logger);
}
