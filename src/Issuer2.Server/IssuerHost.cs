using Issuer2.Core.ApiKeys;
using Issuer2.Core.Common;
using Issuer2.Core.Keys;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Security;
using Issuer2.Core.Tenants;
using Issuer2.Server.Auth;
using Issuer2.Server.Grpc;
using Issuer2.Server.Hosting;
using Issuer2.Server.IdentityProviders;
using Issuer2.Server.Wallet;
using Issuer2.Core.Credentials;
using Issuer2.Core.Dpop;
using Issuer2.Core.Events;
using Issuer2.Core.Metadata;
using Issuer2.Core.Nonces;
using Issuer2.Core.Notifications;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tokens;
using Issuer2.Storage;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Issuer2.Server;

/// <summary>Builds the Issuer2 host: one process serving gRPC (h2c), gRPC-Web and HTTP from one database.</summary>
public static class IssuerHost
{
    /// <summary>
    /// Defaults under every other configuration source: two listeners, since over cleartext one Kestrel port cannot
    /// carry both HTTP/1.1 (wallets, gRPC-Web) and HTTP/2 (native gRPC).
    /// </summary>
    private static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Kestrel:Endpoints:Http:Url"] = "http://127.0.0.1:5080",
        ["Kestrel:Endpoints:Http:Protocols"] = nameof(HttpProtocols.Http1),
        ["Kestrel:Endpoints:Grpc:Url"] = "http://127.0.0.1:5081",
        ["Kestrel:Endpoints:Grpc:Protocols"] = nameof(HttpProtocols.Http2),
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
    };

    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = Defaults });
        builder.AddConsole();

        var options = builder.Configuration.GetSection(IssuerOptions.Section).Get<IssuerOptions>() ?? new IssuerOptions();
        // A renamed setting is refused rather than ignored, so a limit an operator set never silently disappears.
        if (builder.Configuration["Issuer2:Events:MaxStreamsPerTenant"] is not null)
            throw new InvalidOperationException("Issuer2:Events:MaxStreamsPerTenant is now Issuer2:Quotas:EventStreamsPerTenant; set that instead.");
        if (!DatabaseProviders.IsKnown(options.Database.Provider))
            throw new InvalidOperationException($"Issuer2:Database:Provider \"{options.Database.Provider}\" is not one of Sqlite, Postgres.");
        if (options.Database.SqliteSynchronous != SqliteSynchronous.Full && DatabaseProviders.IsPostgres(options.Database.Provider))
            throw new InvalidOperationException("Issuer2:Database:SqliteSynchronous applies to SQLite only; PostgreSQL's durability is its own synchronous_commit.");
        var connectionString = options.Database.ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            if (DatabaseProviders.IsPostgres(options.Database.Provider))
                throw new InvalidOperationException("Issuer2:Database:ConnectionString is required with PostgreSQL.");
            connectionString = $"Data Source={Path.Combine(options.DataDirectory, "issuer2.db")}";
        }
        Action<string> warn = message => Console.Error.WriteLine($"warning: {message}");
        // The data directory, the SQLite file and a generated key-encryption key are the owner's alone (0700, 0600).
        PrivateFiles.PrepareSqlite(options, connectionString, warn);

        var services = builder.Services;
        services.Configure<IssuerOptions>(builder.Configuration.GetSection(IssuerOptions.Section));
        // Graceful stop: in-flight requests get this long once the listeners close (event streams end at once).
        services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownDrainTime);
        services.AddSingleton(TimeProvider.System);
        services.AddIssuerStorage(options.Database.Provider, connectionString, options.Database.SqliteSynchronous);

        // Secrets: the key ring never lives in the database; each use asks for its purpose's keys.
        var keys = KeyEncryptionKeyLoader.Load(options, warn);
        services.AddSingleton(keys);
        services.AddSingleton(sp => new NonceKeys(keys, sp.GetRequiredService<TimeProvider>(), options.Keys.NonceEpoch, SealedNonces.LongestLifetime));
        services.AddScoped<KeyRotation>();
        // Admin keys: at least 128 bits each, reloaded with configuration so the admin key rotates without a restart.
        services.AddAdminKeys(options);
        var httpUrl = builder.Configuration["Kestrel:Endpoints:Http:Url"]!;
        // One rule for every URL the host publishes or calls (its base URL, tenants' IdPs): https, or http on loopback when allowed.
        var https = new HttpsPolicy(options.AllowInsecureHttp);
        services.AddSingleton(https);
        services.AddSingleton<IPublicBaseUrl>(new PublicBaseUrl(options.PublicBaseUrl ?? httpUrl, https));

        // Core use cases, within the host's quotas.
        services.AddSingleton(options.Quotas.ToCore());
        services.AddSingleton<SigningKeys>();
        services.AddScoped<TenantManagement>();
        services.AddScoped<ApiKeyManagement>();
        services.AddScoped<ProfileManagement>();
        services.AddScoped<OfferManagement>();
        services.AddScoped<ApiKeyAuthenticator>();

        // Wallet flow: per-host caches of immutable things, per-request use cases.
        services.AddSingleton<TenantSnapshotCache>();
        services.AddSingleton<SignerCache>();
        services.AddSingleton<NonceService>();
        services.AddSingleton<ProofValidator>();
        // DPoP: nonces are self-contained (one per host is all it takes); the validator records jtis in the request's scope.
        services.AddSingleton<DpopNonces>();
        services.AddScoped<DpopProofValidator>();
        services.AddScoped<TenantDirectory>();
        services.AddSingleton(options.Caps.ToOfferCaps());
        services.AddSingleton(options.Caps.ToRefusalCoalescing());
        services.AddScoped<ResolveOffer>();
        services.AddScoped<IssueToken>();
        services.AddScoped<Issuer2.Core.Authorization.AcceptAuthorizationRequest>();
        services.AddScoped<Issuer2.Core.Authorization.PushAuthorizationRequest>();
        services.AddScoped<Issuer2.Core.Authorization.BrowserSteps>();
        services.AddScoped<RedeemAuthorizationCode>();
        services.AddScoped<Issuer2.Core.Dpop.SenderConstraint>();
        services.AddScoped<RedeemPreAuthorizedCode>();
        services.AddScoped<IssueNonce>();
        services.AddScoped<AuthorizeAccessToken>();
        services.AddScoped<IssueCredential>();
        services.AddScoped<RecordNotification>();

        // The tenants' OpenID Providers: one client per host, caching each provider's discovery and keys.
        services.AddIdentityProviderClient(options.AllowInsecureHttp);

        // Session events: the feed per call, the open-stream registry per host, tenant-bound cursors under their own key.
        services.AddSingleton(EventCursorKey.CursorsFrom(keys));
        services.AddScoped<EventFeed>();
        services.AddSingleton<EventStreams>();
        services.AddScoped<SessionEvents>();

        // gRPC: errors are shaped in one place; calls are authenticated before their message is read (see Build).
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<ErrorInterceptor>();
            o.Interceptors.Add<HealthReasonInterceptor>();
            o.MaxReceiveMessageSize = 4 * 1024 * 1024;
        });
        services.AddGrpcReflection();
        // One database check serves both /healthz and grpc.health.v1.Health; each says why it fails.
        services.AddSingleton<HealthReasons>();
        services.AddGrpcHealthChecks().AddCheck<DatabaseHealthCheck>(DatabaseHealthCheck.Name);
        services.AddSingleton<QrCodes>();
        if (options.CorsOrigins.Length > 0)
        {
            services.AddCors(o => o.AddDefaultPolicy(p => p.WithOrigins(options.CorsOrigins).AllowAnyHeader().AllowAnyMethod()
                .WithExposedHeaders("Grpc-Status", "Grpc-Message", "Grpc-Encoding", "Grpc-Accept-Encoding", "Grpc-Status-Details-Bin")));
        }

        // Rate limits (per address, per offer, per API key) and the trusted proxies: per host, in memory.
        services.AddIssuerRateLimits(options);

        services.AddHostedService<StartupTasks>();
        services.AddHostedService<KeyRingCheck>();
        services.AddHostedService<Maintenance>();
        return builder;
    }

    public static WebApplication Build(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        var options = app.Services.GetRequiredService<IOptions<IssuerOptions>>().Value;

        // The client address, scheme and host from the configured proxies only, before routing and the limits.
        app.UseIssuerForwardedHeaders();
        // The browser console's files at /console/ (static, before routing and the wallets' limits).
        app.UseConsole();
        app.UseRouting();
        if (options.CorsOrigins.Length > 0) app.UseCors();
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.UseIssuerRateLimits();
        // A database that is unavailable for now: wallets 503 + Retry-After, gRPC UNAVAILABLE (the API-key lookup
        // below included; inside a service the error interceptor answers). Inside gRPC-Web, so its calls get the same.
        app.UseMiddleware<DatabaseUnavailableMiddleware>();
        // Every gRPC and gRPC-Web call (health and reflection aside) is authenticated before its body is read; a message
        // that cannot be read is INVALID_ARGUMENT.
        app.UseMiddleware<ApiKeyGuessingLimitMiddleware>();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseMiddleware<ApiKeyRateLimitMiddleware>();
        app.UseMiddleware<MalformedMessageMiddleware>();

        app.MapGrpcService<TenantGrpcService>();
        app.MapGrpcService<ProfileGrpcService>();
        app.MapGrpcService<OfferGrpcService>();
        app.MapGrpcService<SessionEventsGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapHealthChecks("/healthz", HealthReports.Options());
        app.MapWalletEndpoints();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var config = app.Configuration;
            Console.WriteLine(
                $"Issuer2 is running. Wallets, gRPC-Web and /healthz: {config["Kestrel:Endpoints:Http:Url"]}  " +
                $"gRPC (h2c): {config["Kestrel:Endpoints:Grpc:Url"]}  " +
                $"Public base URL: {app.Services.GetRequiredService<IPublicBaseUrl>().Value}");
        });
        return app;
    }
}
