using Issuer2.Core.ApiKeys;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Tenants;
using Issuer2.Core.Credentials;
using Issuer2.Core.Metadata;
using Issuer2.Core.Notifications;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;
using Issuer2.Storage.Wallet;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Issuer2.Storage;

/// <summary>The database providers Issuer2 runs on.</summary>
public static class DatabaseProviders
{
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    public static bool IsPostgres(string provider) =>
        string.Equals(provider, Postgres, StringComparison.OrdinalIgnoreCase) || string.Equals(provider, "PostgreSQL", StringComparison.OrdinalIgnoreCase);

    public static bool IsKnown(string provider) => IsPostgres(provider) || string.Equals(provider, Sqlite, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Makes contexts outside dependency injection: migrations, tools, tests.</summary>
public static class IssuerDbContextFactory
{
    public static IssuerDbContext Create(string provider, string connectionString) =>
        DatabaseProviders.IsPostgres(provider)
            ? new PostgresIssuerDbContext(new DbContextOptionsBuilder<PostgresIssuerDbContext>().UseNpgsql(connectionString).Options)
            : new SqliteIssuerDbContext(new DbContextOptionsBuilder<SqliteIssuerDbContext>().UseSqlite(connectionString).Options);
}

/// <summary>Registers the storage and Core's ports for one provider.</summary>
public static partial class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddIssuerStorage(
        this IServiceCollection services, string provider, string connectionString, SqliteSynchronous sqliteSynchronous = SqliteSynchronous.Full)
    {
        if (DatabaseProviders.IsPostgres(provider)) connectionString = TunePostgres(connectionString);
        services.AddSingleton<LocalEventNotifier>();
        if (DatabaseProviders.IsPostgres(provider))
        {
            services.AddDbContextPool<PostgresIssuerDbContext>(o => o.UseNpgsql(connectionString));
            services.AddScoped<IssuerDbContext>(sp => sp.GetRequiredService<PostgresIssuerDbContext>());
            // LISTEN/NOTIFY across hosts, one listening connection per host.
            services.AddSingleton(sp => new PostgresEventNotifier(
                connectionString, sp.GetRequiredService<LocalEventNotifier>(), sp.GetRequiredService<ILogger<PostgresEventNotifier>>()));
            services.AddSingleton<IEventNotifier>(sp => sp.GetRequiredService<PostgresEventNotifier>());
            services.AddHostedService(sp => sp.GetRequiredService<PostgresEventNotifier>());
        }
        else
        {
            var normalSync = sqliteSynchronous == SqliteSynchronous.Normal ? new SqliteNormalSyncInterceptor() : null;
            services.AddDbContextPool<SqliteIssuerDbContext>(o =>
            {
                o.UseSqlite(connectionString);
                if (normalSync is not null) o.AddInterceptors(normalSync);
            });
            services.AddScoped<IssuerDbContext>(sp => sp.GetRequiredService<SqliteIssuerDbContext>());
            // One host: waking its own subscribers is all there is to do.
            services.AddSingleton<IEventNotifier>(sp => sp.GetRequiredService<LocalEventNotifier>());
        }
        services.AddScoped<IssuerStore>();
        services.AddScoped<Issuer2.Core.Security.IProtectedDataStore, ProtectedDataStore>();
        services.AddScoped<ITenantStore>(sp => sp.GetRequiredService<IssuerStore>());
        services.AddScoped<IApiKeyStore>(sp => sp.GetRequiredService<IssuerStore>());
        services.AddScoped<IProfileStore>(sp => sp.GetRequiredService<IssuerStore>());
        services.AddScoped<IOfferStore>(sp => sp.GetRequiredService<IssuerStore>());
        services.AddScoped<IEventLog>(sp => sp.GetRequiredService<IssuerStore>());
        services.AddScoped<IEventReader>(sp => sp.GetRequiredService<IssuerStore>());
        services.AddScoped<IUnitOfWork>(sp => sp.GetRequiredService<IssuerStore>());
        // The wallet flow: one adapter per feature port.
        services.AddScoped<WalletWrites>();
        services.AddScoped<ITenantSnapshotStore, TenantSnapshotStore>();
        services.AddScoped<IOfferResolutionStore, OfferResolutionStore>();
        services.AddScoped<ITokenRedemptionStore, TokenRedemptionStore>();
        services.AddScoped<ISessionAccessStore, SessionAccessStore>();
        services.AddScoped<ICredentialIssuanceStore, CredentialIssuanceStore>();
        services.AddScoped<INotificationStore, NotificationStore>();
        services.AddScoped<IEventJournal, EventJournal>();
        services.TryAddSingleton(RefusalCoalescing.Default);
        services.AddScoped<IWalletRetention, WalletRetention>();
        services.AddScoped<Issuer2.Core.Authorization.IAuthorizationStore, AuthorizationStore>();
        services.AddScoped<Issuer2.Core.Dpop.IDpopReplayStore, DpopReplayStore>();
        return services;
    }
}

public static partial class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Defaults for the hot path, unless the operator set them: no <c>DISCARD ALL</c> each time a pooled connection
    /// returns (Issuer2 keeps no session state on pooled connections), and server-side prepared statements for the
    /// statements every request repeats.
    /// </summary>
    public static string TunePostgres(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var given = new HashSet<string>(connectionString.Split(';').Select(p => p.Split('=')[0].Trim()), StringComparer.OrdinalIgnoreCase);
        if (!given.Contains("No Reset On Close") && !given.Contains("NoResetOnClose")) builder.NoResetOnClose = true;
        if (!given.Contains("Max Auto Prepare") && !given.Contains("MaxAutoPrepare")) builder.MaxAutoPrepare = 64;
        return builder.ConnectionString;
    }
}

/// <summary>Design-time factory for `dotnet ef migrations add … --context SqliteIssuerDbContext`.</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteIssuerDbContext>
{
    public SqliteIssuerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteIssuerDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

/// <summary>Design-time factory for `dotnet ef migrations add … --context PostgresIssuerDbContext` (no connection is opened).</summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresIssuerDbContext>
{
    public PostgresIssuerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresIssuerDbContext>().UseNpgsql("Host=localhost;Database=issuer2_design").Options);
}
