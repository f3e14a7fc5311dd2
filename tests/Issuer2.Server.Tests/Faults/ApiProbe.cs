using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using Issuer2.Grpc.V1;

namespace Issuer2.Server.Tests.Faults;

/// <summary>One management call or health check made while the load ran. <see cref="Status"/> is the gRPC status or the HTTP status as text.</summary>
public sealed record ProbeReply(string Call, string Status, string? Reason, TimeSpan Sent, TimeSpan Received)
{
    public override string ToString() => $"{Call} {Status} {Reason ?? ""} at {Sent.TotalSeconds:0.000}-{Received.TotalSeconds:0.000} s";
}

/// <summary>
/// Beside the wallet load: the management API (GetOffer, ListOfferSessions, ListEvents in turn, every 150 ms) and
/// both health checks (every 400 ms), each answer recorded with its status and ErrorInfo reason, health reason or body.
/// </summary>
public sealed class ApiProbe : IAsyncDisposable
{
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);

    private readonly ChannelBase _channel;
    private readonly FaultTenant _tenant;
    private readonly string _httpUrl;
    private readonly Stopwatch _clock;
    private readonly ConcurrentQueue<ProbeReply> _replies = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _http = new() { Timeout = CallDeadline };
    private Task _running = Task.CompletedTask;

    public ApiProbe(ChannelBase channel, FaultTenant tenant, string httpUrl, Stopwatch clock)
    {
        _channel = channel;
        _tenant = tenant;
        _httpUrl = httpUrl;
        _clock = clock;
    }

    public IReadOnlyList<ProbeReply> Replies => [.. _replies];

    public void Start() => _running = Task.WhenAll(Task.Run(ManagementAsync), Task.Run(HealthAsync));

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _running;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAny(_running, Task.Delay(TimeSpan.FromSeconds(30)));
        _stop.Dispose();
        _http.Dispose();
    }

    private async Task ManagementAsync()
    {
        var offers = _tenant.ClientsOn(_channel).Offers;
        var events = _tenant.EventsOn(_channel);
        var offer = _tenant.Offers[^1].Offer.Name;
        // Bounded: at most 2000 calls (5 minutes at this pace).
        for (var i = 0; i < 2000 && !_stop.IsCancellationRequested; i++)
        {
            var sent = _clock.Elapsed;
            var deadline = DateTime.UtcNow + CallDeadline;
            var (call, task) = (i % 3) switch
            {
                0 => ("GetOffer", (Task)offers.GetOfferAsync(new GetOfferRequest { Name = offer }, deadline: deadline).ResponseAsync),
                1 => ("ListOfferSessions", offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offer }, deadline: deadline).ResponseAsync),
                _ => ("ListEvents", events.ListEventsAsync(new ListEventsRequest { Parent = _tenant.Tenant.Name, PageSize = 10 }, deadline: deadline).ResponseAsync),
            };
            try
            {
                await task;
                _replies.Enqueue(new ProbeReply(call, nameof(StatusCode.OK), null, sent, _clock.Elapsed));
            }
            catch (RpcException e)
            {
                _replies.Enqueue(new ProbeReply(call, e.StatusCode.ToString(), e.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason, sent, _clock.Elapsed));
            }

            await Delay(TimeSpan.FromMilliseconds(150));
        }
    }

    private async Task HealthAsync()
    {
        for (var i = 0; i < 1000 && !_stop.IsCancellationRequested; i++)
        {
            var sent = _clock.Elapsed;
            try
            {
                using var response = await _http.GetAsync(new Uri(_httpUrl + "/healthz"));
                _replies.Enqueue(new ProbeReply("healthz", ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    await response.Content.ReadAsStringAsync(), sent, _clock.Elapsed));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _replies.Enqueue(new ProbeReply("healthz", "no answer", e.Message, sent, _clock.Elapsed));
            }

            sent = _clock.Elapsed;
            try
            {
                var (status, reason) = await FaultWorld.GrpcHealthAsync(_channel);
                _replies.Enqueue(new ProbeReply("grpc.health", status.ToString(), reason, sent, _clock.Elapsed));
            }
            catch (RpcException e)
            {
                _replies.Enqueue(new ProbeReply("grpc.health", e.StatusCode.ToString(), e.Status.Detail, sent, _clock.Elapsed));
            }

            await Delay(TimeSpan.FromMilliseconds(400));
        }
    }

    private async Task Delay(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>The answers of one call made entirely within [from, to].</summary>
    public IReadOnlyList<ProbeReply> Within(string call, TimeSpan from, TimeSpan to) =>
        [.. Replies.Where(r => r.Call == call && r.Sent >= from && r.Received <= to)];
}
