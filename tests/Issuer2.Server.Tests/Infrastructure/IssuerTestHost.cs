using System.Globalization;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Issuer2.Core.Events;
using Issuer2.Grpc.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>What an in-process host is started with.</summary>
public sealed record TestHostSettings
{
    public required string Provider { get; init; }

    /// <summary>PostgreSQL only; SQLite uses the data directory's default file.</summary>
    public string? ConnectionString { get; init; }

    public required string DataDirectory { get; init; }

    public string AdminKey { get; init; } = TestEnvironment.NewAdminKey();

    /// <summary>Version 1 of the key ring (Issuer2:KeyEncryptionKey); null passes none.</summary>
    public string? KeyEncryptionKey { get; init; } = TestEnvironment.NewKeyEncryptionKey();

    /// <summary>More command-line settings (e.g. further key-ring versions), after the others.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>A JSON configuration file read after the command line and reloaded when it changes, as appsettings.json is.</summary>
    public string? ReloadableConfigurationFile { get; init; }

    /// <summary>More settings ("Section:Key" to value), applied last: e.g. a rate limit a test lowers.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

/// <summary>The gRPC clients of one caller (one authorization value, or none).</summary>
public sealed record Clients(
    TenantService.TenantServiceClient Tenants,
    ProfileService.ProfileServiceClient Profiles,
    OfferService.OfferServiceClient Offers)
{
    /// <summary>Clients on this channel that send this authorization value (e.g. "Bearer i2_…"), or nothing when null.</summary>
    public static Clients For(ChannelBase channel, string? authorization)
    {
        CallInvoker invoker = authorization is null
            ? channel.CreateCallInvoker()
            : channel.Intercept(metadata =>
            {
                metadata.Add("authorization", authorization);
                return metadata;
            });
        return new Clients(
            new TenantService.TenantServiceClient(invoker),
            new ProfileService.ProfileServiceClient(invoker),
            new OfferService.OfferServiceClient(invoker));
    }

    /// <summary>A native gRPC (h2c) channel to this URL.</summary>
    public static GrpcChannel Channel(string grpcUrl) =>
        GrpcChannel.ForAddress(grpcUrl, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            UnsafeUseInsecureChannelCallCredentials = true,
        });
}

/// <summary>
/// The real Issuer2 host, in this process, on two free loopback ports, with a fake clock and captured logs.
/// </summary>
public sealed class IssuerTestHost : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private bool _stopped;

    private IssuerTestHost(
        WebApplication app, TestHostSettings settings, FakeTimeProvider time, LogCapture logs, string httpUrl, string grpcUrl)
    {
        App = app;
        Settings = settings;
        Time = time;
        Logs = logs;
        HttpUrl = httpUrl;
        GrpcUrl = grpcUrl;
        _channel = Clients.Channel(grpcUrl);
        Admin = ClientsFor("Bearer " + settings.AdminKey);
    }

    public WebApplication App { get; }

    public TestHostSettings Settings { get; }

    /// <summary>The host's clock. Starts at the real time (whole seconds) and moves only when a test advances it.</summary>
    public FakeTimeProvider Time { get; }

    public LogCapture Logs { get; }

    /// <summary>HTTP/1.1 listener: wallets, gRPC-Web, /healthz. Also the public base URL.</summary>
    public string HttpUrl { get; }

    /// <summary>h2c listener: native gRPC.</summary>
    public string GrpcUrl { get; }

    public string PublicBaseUrl => HttpUrl;

    /// <summary>The native gRPC channel (no credentials of its own).</summary>
    public GrpcChannel Channel => _channel;

    /// <summary>Clients that send the admin key.</summary>
    public Clients Admin { get; }

    public static async Task<IssuerTestHost> StartAsync(TestHostSettings settings)
    {
        // The ports are free a moment before Kestrel binds them; another process may win the race, so retry.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync(settings);
            }
            catch (IOException) when (attempt < 4)
            {
                // Address in use: pick other ports.
            }
        }
    }

    private static async Task<IssuerTestHost> TryStartAsync(TestHostSettings settings)
    {
        var httpUrl = $"http://127.0.0.1:{TestEnvironment.FreePort().ToString(CultureInfo.InvariantCulture)}";
        var grpcUrl = $"http://127.0.0.1:{TestEnvironment.FreePort().ToString(CultureInfo.InvariantCulture)}";
        var args = new List<string>
        {
            $"--Kestrel:Endpoints:Http:Url={httpUrl}",
            $"--Kestrel:Endpoints:Grpc:Url={grpcUrl}",
            $"--Issuer2:Database:Provider={settings.Provider}",
            $"--Issuer2:DataDirectory={settings.DataDirectory}",
            $"--Issuer2:PublicBaseUrl={httpUrl}",
            "--Issuer2:AllowInsecureHttp=true",
            $"--Issuer2:AdminKey={settings.AdminKey}",
        };
        if (settings.KeyEncryptionKey is not null) args.Add($"--Issuer2:KeyEncryptionKey={settings.KeyEncryptionKey}");
        args.AddRange(settings.ExtraArguments);
        if (settings.ConnectionString is not null)
        {
            args.Add($"--Issuer2:Database:ConnectionString={settings.ConnectionString}");
        }

        // Limits no test meets, then the test's own settings (a later argument wins).
        foreach (var (key, value) in TestLimits.High.Concat(settings.Settings))
        {
            args.Add($"--{key}={value}");
        }

        var time = new FakeTimeProvider(WholeSeconds(DateTimeOffset.UtcNow));
        var logs = new LogCapture();

        var builder = IssuerHost.CreateBuilder([.. args]);
        if (settings.ReloadableConfigurationFile is { } file)
        {
            builder.Configuration.AddJsonFile(file, optional: false, reloadOnChange: true);
        }

        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(settings.MinimumLogLevel);
        builder.Logging.AddProvider(logs);

        var app = IssuerHost.Build(builder);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new IssuerTestHost(app, settings, time, logs, httpUrl, grpcUrl);
    }

    /// <summary>Clients that send this authorization value (e.g. "Bearer i2_…"), or nothing when null.</summary>
    public Clients ClientsFor(string? authorization) => Clients.For(_channel, authorization);

    /// <summary>Clients that send "Bearer {key}".</summary>
    public Clients ClientsForKey(string key) => ClientsFor("Bearer " + key);

    /// <summary>The tenant's event log as the host's IEventReader returns it, oldest first.</summary>
    public async Task<IReadOnlyList<IssuerEvent>> ReadEventsAsync(string tenantId, EventCursor? after = null, int limit = 1000)
    {
        await using var scope = App.Services.CreateAsyncScope();
        var reader = scope.ServiceProvider.GetRequiredService<IEventReader>();
        return await reader.ReadAfterAsync(tenantId, after, limit, CancellationToken.None);
    }

    /// <summary>The cursor a client of the event's tenant gets for it from this host.</summary>
    public string CursorOf(IssuerEvent e) => App.Services.GetRequiredService<EventCursors>().Encode(e.TenantId, e.Position);

    /// <summary>The cursor a client of <paramref name="tenantId"/> gets for a position from this host.</summary>
    public string CursorAt(string tenantId, EventCursor position) => App.Services.GetRequiredService<EventCursors>().Encode(tenantId, position);

    /// <summary>The position a cursor of <paramref name="tenantId"/> names (the test fails when it is none).</summary>
    public EventCursor PositionOf(string tenantId, string cursor)
    {
        Assert.True(App.Services.GetRequiredService<EventCursors>().TryDecode(tenantId, cursor, out var position), $"not a cursor of {tenantId}: {cursor}");
        return position;
    }

    /// <summary>
    /// Reads the tenant's events until <paramref name="until"/> holds for the list (or 15 s have passed; the caller's
    /// assertions then fail on what was read). On PostgreSQL a reader holds back events while an older transaction
    /// of the cluster is still open, so the newest write can show a moment after it committed.
    /// </summary>
    public async Task<IReadOnlyList<IssuerEvent>> ReadEventsUntilAsync(string tenantId, Func<IReadOnlyList<IssuerEvent>, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var events = await ReadEventsAsync(tenantId);
            if (until(events) || DateTime.UtcNow > deadline)
            {
                return events;
            }

            await Task.Delay(100);
        }
    }

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        _channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Logs.Dispose();
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset time) =>
        new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
