using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Wallet;
using Microsoft.Extensions.Options;

namespace Issuer2.Server.Hosting;

/// <summary>Purges expired one-time rows in short batches, so cleaning never holds back readers or writers.</summary>
internal sealed partial class Maintenance(IServiceScopeFactory scopes, IOptions<IssuerOptions> options, TimeProvider clock, ILogger<Maintenance> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.MaintenanceInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var offers = scope.ServiceProvider.GetRequiredService<IOfferStore>();
                var wallet = scope.ServiceProvider.GetRequiredService<IWalletRetention>();
                var batch = options.Value.MaintenanceBatchSize;
                var sessions = options.Value.Retention.ToSessionRetention();
                int purged;
                do
                {
                    // Expired create-request replays, pre-authorized codes, issuer_states, authorizations, access tokens,
                    // consumed nonces and DPoP jtis; sessions and issued-credential records past their retention.
                    var now = clock.GetUtcNow();
                    purged = await offers.PurgeExpiredRequestsAsync(now, batch, stoppingToken) + await wallet.PurgeExpiredAsync(now, batch, stoppingToken)
                        + await wallet.PurgeEndedSessionsAsync(sessions, now, batch, stoppingToken);
                }
                while (purged >= batch && !stoppingToken.IsCancellationRequested);

                // Refusal counters of closed windows: each that counted unwritten refusals becomes one event with the count.
                var journal = scope.ServiceProvider.GetRequiredService<IEventJournal>();
                do
                {
                    purged = await journal.FlushClosedWindowsAsync(clock.GetUtcNow(), batch, stoppingToken);
                }
                while (purged >= batch && !stoppingToken.IsCancellationRequested);

                // Event retention, in the same short batches.
                var events = scope.ServiceProvider.GetRequiredService<IEventReader>();
                do
                {
                    purged = await events.PurgeOlderThanAsync(clock.GetUtcNow() - options.Value.Events.Retention, batch, stoppingToken);
                }
                while (purged >= batch && !stoppingToken.IsCancellationRequested);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(log, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A maintenance pass failed; the next one retries.")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
