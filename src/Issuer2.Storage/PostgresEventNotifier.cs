using System.Collections.Concurrent;
using System.Threading.Channels;
using Issuer2.Core.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Issuer2.Storage;

/// <summary>
/// Wakes subscribers on every host of one PostgreSQL. One listening connection per host (not per subscriber)
/// runs <c>LISTEN</c> and reconnects by itself; local commits wake local subscribers at once and are sent to the
/// other hosts with <c>pg_notify</c> after commit, coalesced per tenant (a NOTIFY inside the writing transaction
/// would serialise every commit on the notification queue lock). Under load the sends are paced: the first commit
/// after a quiet spell is sent at once, later ones wait until <see cref="SendInterval"/> has passed since the last send
/// and go together, so a busy host sends at most one NOTIFY transaction per interval instead of one per commit. A
/// host skips the echo of its own sends: its subscribers were woken at commit.
/// </summary>
public sealed partial class PostgresEventNotifier(string connectionString, LocalEventNotifier local, ILogger<PostgresEventNotifier> log)
    : BackgroundService, IEventNotifier
{
    public const string Channel = "issuer2_events";
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    /// <summary>The least time between two sends of one host: what a busy host adds to other hosts' wake-ups at most.</summary>
    public static readonly TimeSpan SendInterval = TimeSpan.FromMilliseconds(5);

    // The backend process of this host's sending connection (0: none yet): notifications from it are this host's own.
    private volatile int _senderProcessId;

    private readonly ConcurrentDictionary<string, byte> _pending = new(StringComparer.Ordinal);
    private readonly Channel<bool> _sendSignal = System.Threading.Channels.Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly string _connectionString = new NpgsqlConnectionStringBuilder(connectionString) { KeepAlive = 15, Pooling = false, Multiplexing = false }.ConnectionString;

    /// <summary>True while the listening connection is up; a test can wait for it.</summary>
    public bool Listening { get; private set; }

    public IEventWakeup Subscribe(string tenantId) => local.Subscribe(tenantId);

    public void Committed(string tenantId)
    {
        local.Committed(tenantId);
        _pending[tenantId] = 0;
        _sendSignal.Writer.TryWrite(true);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(ListenAsync(stoppingToken), SendAsync(stoppingToken));

    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(ct);
                connection.Notification += (_, e) =>
                {
                    if (e.PID != _senderProcessId) local.Committed(e.Payload);
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection)) await listen.ExecuteNonQueryAsync(ct);
                Listening = true;
                // Whatever was sent while no connection listened is unknown: every subscriber reads once more.
                local.WakeAll();
                while (!ct.IsCancellationRequested) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException or TimeoutException)
            {
                LogListenerLost(log, e);
            }
            finally
            {
                Listening = false;
            }
            await Task.Delay(ReconnectDelay, ct).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task SendAsync(CancellationToken ct)
    {
        NpgsqlConnection? connection = null;
        var lastSend = long.MinValue;
        try
        {
            while (await _sendSignal.Reader.WaitToReadAsync(ct))
            {
                if (lastSend != long.MinValue && System.Diagnostics.Stopwatch.GetElapsedTime(lastSend) is var since && since < SendInterval)
                    await Task.Delay(SendInterval - since, ct);
                _sendSignal.Reader.TryRead(out _);
                var tenants = _pending.Keys.ToList();
                foreach (var t in tenants) _pending.TryRemove(t, out _);
                if (tenants.Count == 0) continue;
                try
                {
                    if (connection is null)
                    {
                        connection = new NpgsqlConnection(_connectionString);
                        await connection.OpenAsync(ct);
                        _senderProcessId = connection.ProcessID;
                    }
                    await using var batch = new NpgsqlBatch(connection);
                    foreach (var tenant in tenants)
                        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_notify($1, $2)") { Parameters = { new() { Value = Channel }, new() { Value = tenant } } });
                    await batch.ExecuteNonQueryAsync(ct);
                    lastSend = System.Diagnostics.Stopwatch.GetTimestamp();
                }
                catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException or TimeoutException)
                {
                    // Other hosts' subscribers catch up at their next periodic read; the log lost nothing.
                    LogSendFailed(log, e);
                    if (connection is not null) await connection.DisposeAsync();
                    connection = null;
                    _senderProcessId = 0;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The event listener connection was lost; reconnecting.")]
    private static partial void LogListenerLost(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending an event notification failed; other hosts catch up at their next periodic read.")]
    private static partial void LogSendFailed(ILogger logger, Exception exception);
}
