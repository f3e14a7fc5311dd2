using Issuer2.Core.ApiKeys;
using Microsoft.Extensions.Options;

namespace Issuer2.Server.Hosting;

/// <summary>The configured admin keys: checked at start, then followed through configuration reloads.</summary>
internal static class AdminKeySetup
{
    public static IServiceCollection AddAdminKeys(this IServiceCollection services, IssuerOptions options)
    {
        var keys = ConfiguredAdminKeys.From(KeysOf(options));
        // A weak key stops the start; the message names its position and the rule, never the key.
        if (!keys.IsSuccess) throw new InvalidOperationException($"{keys.Error} (Issuer2:AdminKey is #1, Issuer2:AdminKeys:N is #N+2).");
        services.AddSingleton(keys.Value);
        services.AddHostedService<AdminKeyReload>();
        return services;
    }

    public static IEnumerable<string?> KeysOf(IssuerOptions options) => [options.AdminKey, .. options.AdminKeys];
}

/// <summary>
/// Takes the admin keys of reloaded configuration (a changed appsettings.json or key-per-file source), so adding or
/// removing one needs no restart. A set with a weak key is refused and the keys in use stay.
/// </summary>
internal sealed partial class AdminKeyReload(IOptionsMonitor<IssuerOptions> monitor, ConfiguredAdminKeys keys, ILogger<AdminKeyReload> log)
    : IHostedService, IDisposable
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = monitor.OnChange(Reload);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _subscription?.Dispose();

    private void Reload(IssuerOptions options)
    {
        var before = keys.Names;
        var replaced = keys.Replace(AdminKeySetup.KeysOf(options));
        if (!replaced.IsSuccess)
        {
            LogRefused(log, replaced.Error);
            return;
        }
        var after = keys.Names;
        if (!before.SequenceEqual(after, StringComparer.Ordinal)) LogReloaded(log, after);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin keys reloaded from configuration: {Names}.")]
    private static partial void LogReloaded(ILogger logger, IReadOnlyList<string> names);

    [LoggerMessage(Level = LogLevel.Error, Message = "The reloaded admin keys were refused and the previous ones stay in use: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);
}
