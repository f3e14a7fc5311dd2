using Issuer2.Core.Security;

namespace Issuer2.Server.Hosting;

/// <summary>
/// Runs after the migrations, before the listeners open: a host whose key ring lacks a version that a live secret
/// still needs does not start (a signing key it could not open, a PIN it could not check), and says which.
/// </summary>
internal sealed partial class KeyRingCheck(IServiceScopeFactory scopes, KeyRing ring, ILogger<KeyRingCheck> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var usage = await scope.ServiceProvider.GetRequiredService<KeyRotation>().StatusAsync(cancellationToken);
        if (!usage.Complete)
            throw new InvalidOperationException("The key ring lacks versions that stored secrets need; the host does not start.\n" + KeyCommands.Describe(ring, usage));
        LogRing(log, ring.Versions, ring.CurrentVersion);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Key ring: versions {Versions}; current {Current}.")]
    private static partial void LogRing(ILogger logger, IReadOnlyList<int> versions, int current);
}
