using System.Text;
using Issuer2.Core.ApiKeys;
using Issuer2.Core.Authorization;
using Issuer2.Core.Events;
using Issuer2.Core.Keys;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tenants;
using Microsoft.EntityFrameworkCore;

namespace Issuer2.Storage;

/// <summary>
/// The one DbContext. Each provider has a subclass so each keeps its own migration set
/// (<see cref="SqliteIssuerDbContext"/>, <see cref="PostgresIssuerDbContext"/>).
/// </summary>
public abstract class IssuerDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Profile> Profiles => Set<Profile>();
    public DbSet<ProfileVersion> ProfileVersions => Set<ProfileVersion>();
    public DbSet<Offer> Offers => Set<Offer>();
    public DbSet<PreAuthorizedCode> PreAuthorizedCodes => Set<PreAuthorizedCode>();
    public DbSet<OfferRequest> OfferRequests => Set<OfferRequest>();
    public DbSet<IssuerEvent> Events => Set<IssuerEvent>();
    public DbSet<IssuanceSession> Sessions => Set<IssuanceSession>();
    public DbSet<AccessToken> AccessTokens => Set<AccessToken>();
    public DbSet<IssuedCredential> IssuedCredentials => Set<IssuedCredential>();
    public DbSet<ConsumedNonce> ConsumedNonces => Set<ConsumedNonce>();
    internal DbSet<Wallet.DpopProof> DpopProofs => Set<Wallet.DpopProof>();
    internal DbSet<Wallet.RefusalCounter> RefusalCounters => Set<Wallet.RefusalCounter>();
    public DbSet<Authorization> Authorizations => Set<Authorization>();
    public DbSet<IssuerState> IssuerStates => Set<IssuerState>();
    public DbSet<EventPurgeMark> EventPurgeMarks => Set<EventPurgeMark>();

    /// <summary>True on PostgreSQL, where events carry the writing transaction's id.</summary>
    public abstract bool IsPostgres { get; }

    /// <summary>The wallet flow's hot reads for this provider's model.</summary>
    internal abstract HotQueries Queries { get; }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // Enums are stored as their names: readable in a dump, stable when members are added.
        configurationBuilder.Properties<SigningKeyStatus>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<AuthenticationMethod>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<DeliveryMode>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<IssuerStateMode>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<TxCodeInputMode>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<AuthorizationStage>().HaveConversion<string>().HaveMaxLength(16);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(IssuerDbContext).Assembly);
        modelBuilder.Entity<IssuerEvent>().Property(e => e.TransactionId).ConfigureTransactionId(IsPostgres);

        // snake_case tables and columns, so SQL reads naturally on both providers.
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties()) property.SetColumnName(SnakeCase(property.Name));
        }
    }

    internal static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}

/// <summary>The embedded default: one host, one SQLite file.</summary>
public sealed class SqliteIssuerDbContext(DbContextOptions<SqliteIssuerDbContext> options) : IssuerDbContext(options)
{
    public override bool IsPostgres => false;

    private static HotQueries? s_queries;

    internal override HotQueries Queries => s_queries ??= new HotQueries(Model);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);
        // SQLite has no timestamp type that compares and orders: store UTC ticks.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcTicksConverter>();
    }
}

/// <summary>Production: any number of hosts on one PostgreSQL.</summary>
public sealed class PostgresIssuerDbContext(DbContextOptions<PostgresIssuerDbContext> options) : IssuerDbContext(options)
{
    public override bool IsPostgres => true;

    private static HotQueries? s_queries;

    internal override HotQueries Queries => s_queries ??= new HotQueries(Model);
}
