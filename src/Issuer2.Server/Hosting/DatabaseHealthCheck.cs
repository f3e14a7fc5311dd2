using System.Data.Common;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Issuer2.Server.Hosting;

/// <summary>
/// Healthy when the database answers a trivial query in time; otherwise unhealthy with the reason
/// (<see cref="DatabaseFaults.Reason"/>: no connection string, no secret). Unhealthy as well once the host is
/// stopping, so a load balancer stops sending it work while it drains.
/// </summary>
internal sealed class DatabaseHealthCheck(IssuerDbContext db, IHostApplicationLifetime lifetime, HealthReasons reasons) : IHealthCheck
{
    public const string Name = "database";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("The host is stopping.")
            : await ProbeAsync(cancellationToken);
        reasons.Record(Name, result);
        return result;
    }

    private async Task<HealthCheckResult> ProbeAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await db.Database.OpenConnectionAsync(timeout.Token);
            try
            {
                await using DbCommand command = db.Database.GetDbConnection().CreateCommand();
                command.CommandText = "SELECT 1";
                await command.ExecuteScalarAsync(timeout.Token);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
            return HealthCheckResult.Healthy();
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The database is unavailable: it did not answer within {Timeout.TotalSeconds:0} s.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Note: only the classified reason or the exception's type, never its message: that may quote configuration.
            return HealthCheckResult.Unhealthy(DatabaseFaults.Reason(e) is { } reason
                ? $"The database is unavailable: {reason}."
                : $"The database check failed ({e.GetType().Name}).");
        }
    }
}
