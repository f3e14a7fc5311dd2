// The session-event benchmark modes of the load generator (bench/run-events.sh runs them against two hosts):
//
//   --mode events-latency: a subscriber on host B (--subscribe-grpc) follows the tenant from now while full wallet
//       flows run against host A at a fixed rate (--rate flows/s, --flows in all). For every delivered event:
//       receipt time − the event's time field, and receipt time − the moment this process read the HTTP response
//       that followed the event's commit. Asserts that each flow's four events arrived exactly once, in order.
//   --mode idle-subscribers: --streams SubscribeEvents streams on one host (over a few HTTP/2 connections, spread
//       over --tenants tenants), held idle for --hold-seconds: the server's resident memory before and after, its
//       CPU, the other host's and PostgreSQL's CPU over the hold, and every stream's heartbeats.
//
// Exit codes: 0 everything arrived exactly once / every stream healthy; 1 a missing, duplicate, unexpected or
// out-of-order event, a failed flow or a failed stream (reported); 2 bad arguments or setup failed.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using Issuer2.Grpc.V1;

namespace Issuer2.Bench;

/// <summary>Percentiles and table cells for the event benchmarks.</summary>
internal static class EventStats
{
    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Pct(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static string F(double v, string format = "F1") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    public static string Row(string what, IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        return $"| {what} | {s.Length} | {F(Pct(s, 0.5))} | {F(Pct(s, 0.99))} | {F(s.Length > 0 ? s[^1] : double.NaN)} | {F(s.Length > 0 ? s[0] : double.NaN)} |";
    }

    public static JsonObject Json(IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        double? R(double v) => double.IsNaN(v) ? null : Math.Round(v, 2);
        return new JsonObject
        {
            ["count"] = s.Length,
            ["p50_ms"] = R(Pct(s, 0.5)),
            ["p99_ms"] = R(Pct(s, 0.99)),
            ["max_ms"] = R(s.Length > 0 ? s[^1] : double.NaN),
            ["min_ms"] = R(s.Length > 0 ? s[0] : double.NaN),
        };
    }

    public static GrpcChannel Channel(Uri url) => GrpcChannel.ForAddress(url, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, UseProxy = false },
    });

    /// <summary>Resident memory of a process (VmRSS of /proc/pid/status), in kB.</summary>
    public static long RssKb(int pid)
    {
        foreach (var line in File.ReadLines(Program.Invariant($"/proc/{pid}/status")))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        throw new InvalidOperationException(Program.Invariant($"/proc/{pid}/status has no VmRSS"));
    }

    /// <summary>Established TCP connections (IPv4 and IPv6) whose remote port is <paramref name="port"/>: this machine's clients of it.</summary>
    public static int ConnectionsTo(int port)
    {
        var count = 0;
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(file)) continue;
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 4 || f[3] != "01") continue;
                var remote = f[2];
                var colon = remote.LastIndexOf(':');
                if (colon > 0 && int.Parse(remote[(colon + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port) count++;
            }
        }
        return count;
    }

    public static long? Ticks(int? pid) => pid is { } p ? CpuSample.ProcTicks(p, includeChildren: false) : null;

    /// <summary>How busy the machine was between two samples, and how much of it was neither ours (the ticks given, this process) nor idle.</summary>
    public static (double Busy, double Other) Machine(BenchOptions o, (long Busy, long Total) before, (long Busy, long Total) after, long ourTicks, TimeSpan self)
    {
        var total = after.Total - before.Total;
        if (total <= 0) return (0, 0);
        var busy = after.Busy - before.Busy;
        var ours = ourTicks + self.TotalMilliseconds * o.ClockTicks / 1000.0;
        return (100.0 * busy / total, 100.0 * Math.Max(0, busy - ours) / total);
    }
}

/// <summary>
/// Event latency across hosts: flows against host A at a fixed rate, a subscriber on host B, every event checked.
/// </summary>
internal static class EventsLatency
{
    /// <summary>A flow's events, in the order they are caused, and the wallet step whose response follows each one's commit.</summary>
    private static readonly (EventType Type, string Name, int Step)[] Expected =
    [
        (EventType.OfferResolved, "offer.resolved", 0),
        (EventType.TokenIssued, "token.issued", 3),
        (EventType.CredentialIssued, "credential.issued", 5),
        (EventType.SessionCompleted, "session.completed", 5),
    ];

    private sealed record Received(DateTime At, SubscribeEventsResponse Message);

    public static async Task<int> RunAsync(BenchOptions o)
    {
        var flows = o.Flows;
        using var http = Program.CreateHttpClient(o, o.Rate * 4);
        using var channelA = EventStats.Channel(o.GrpcUrl);
        using var channelB = EventStats.Channel(o.SubscribeGrpcUrl!);

        Setup.Result setup;
        var setupWatch = Stopwatch.StartNew();
        try
        {
            setup = await Setup.RunAsync(channelA, o, flows + o.ClientWarmup);
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or HttpRequestException)
        {
            await Console.Error.WriteLineAsync($"bench: setup failed: {e.Message}");
            return 2;
        }
        Console.Error.WriteLine(Program.Invariant($"bench: setup on host A: {setup.Parent}, API key, profile and {setup.OfferUris.Length} offers in {setupWatch.Elapsed.TotalSeconds:F1} s"));

        var wallet = new Wallet(http);
        var failures = new FailureLog();

        // The load generator's own warm-up (JIT, connections), before the subscription: not measured.
        var warmupNext = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref warmupNext)) < o.ClientWarmup)
            {
                try
                {
                    await wallet.ClaimAsync(setup.OfferUris[i]);
                }
                catch (FlowException e)
                {
                    failures.Add("client-warm-up " + e.Step, e.Status, e.Body);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or System.Text.Json.JsonException)
                {
                    failures.Add("client-warm-up transport", e.GetType().Name, e.Message);
                }
            }
        })));

        // The subscriber on host B: the tenant, every event type, from now.
        var subscriber = new SessionEventsService.SessionEventsServiceClient(channelB);
        using var stop = new CancellationTokenSource();
        using var call = subscriber.SubscribeEvents(new SubscribeEventsRequest { Parent = setup.Parent },
            Setup.Bearer(setup.ApiKey).WithCancellationToken(stop.Token));
        var received = new List<Received>(flows * 4 + 64);
        var createdSeen = new ConcurrentDictionary<string, DateTime>(StringComparer.Ordinal);
        var expectedTypes = Expected.Select(x => x.Type).ToHashSet();
        var flowEventsSeen = 0;
        Exception? streamError = null;
        var readerTask = Task.Run(async () =>
        {
            try
            {
                while (await call.ResponseStream.MoveNext(stop.Token))
                {
                    var at = DateTime.UtcNow;
                    var message = call.ResponseStream.Current;
                    lock (received) received.Add(new Received(at, message));
                    if (message.Event is { } e)
                    {
                        if (e.Type == EventType.OfferCreated) createdSeen[e.Offer] = at;
                        else if (expectedTypes.Contains(e.Type)) Interlocked.Increment(ref flowEventsSeen);
                    }
                }
                streamError = new InvalidOperationException("the server ended the stream (status OK) while the subscriber was still reading");
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && stop.IsCancellationRequested)
            {
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                streamError = e;
            }
        });

        // A subscription "from now" sends nothing until something happens: create marker offers on host A until the
        // subscriber on host B sees one, so the stream is known to be live before the timed flows start. The first
        // marker waits a moment, so that host B has taken its "now" (a marker committed before it is rightly not sent).
        var markers = new List<string>();
        var markerWatch = Stopwatch.StartNew();
        await Task.Delay(500);
        var markerLive = false;
        while (!markerLive && markerWatch.Elapsed < TimeSpan.FromSeconds(20) && !readerTask.IsCompleted)
        {
            markers.Add(await Setup.OfferAsync(channelA, setup));
            for (var waited = 0; waited < 500 && !markerLive; waited += 10)
            {
                markerLive = markers.Any(createdSeen.ContainsKey);
                if (!markerLive) await Task.Delay(10);
            }
        }
        if (!markerLive)
        {
            stop.Cancel();
            await readerTask;
            await Console.Error.WriteLineAsync(Program.Invariant(
                $"bench: the subscriber on host B saw none of {markers.Count} marker offers created on host A within {markerWatch.Elapsed.TotalSeconds:F0} s; stream error: {streamError?.Message ?? "none"}"));
            return 1;
        }
        Console.Error.WriteLine(Program.Invariant($"bench: the subscriber on host B is live (marker offer {markers.Count} of {markers.Count} seen after {markerWatch.Elapsed.TotalMilliseconds:F0} ms)"));
        await Task.Delay(200);

        // Timed: one flow started every 1/rate s (open loop: a slow flow does not delay the next start).
        var uris = setup.OfferUris.Skip(o.ClientWarmup).ToArray();
        var names = setup.OfferNames.Skip(o.ClientWarmup).ToArray();
        var stepDone = uris.Select(_ => new DateTime[Wallet.Steps.Length]).ToArray();
        var latencies = new double[flows];
        var completed = new bool[flows];
        var inFlight = 0;
        var maxInFlight = 0;
        var maxStartLagMs = 0.0;
        var tasks = new Task[flows];
        var before = (A: EventStats.Ticks(o.ServerPid), B: EventStats.Ticks(o.SubscriberPid), Pg: o.PostgresPid is { } pg0 ? CpuSample.ClusterTicks(pg0) : (long?)null,
            Machine: CpuSample.MachineTicks(), Self: Process.GetCurrentProcess().TotalProcessorTime);
        var start = Stopwatch.GetTimestamp();
        var intervalTicks = Stopwatch.Frequency / (double)o.Rate;
        // The pacer is a thread of its own (sleep, then spin to the due time), so a busy thread pool cannot delay the starts.
        var pacer = new Thread(() =>
        {
            for (var i = 0; i < flows; i++)
            {
                var due = start + (long)(i * intervalTicks);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.FromMilliseconds(2)) Thread.Sleep(wait - TimeSpan.FromMilliseconds(1));
                while (Stopwatch.GetTimestamp() < due) Thread.SpinWait(20);
                maxStartLagMs = Math.Max(maxStartLagMs, Stopwatch.GetElapsedTime(due).TotalMilliseconds);
                tasks[i] = Flow(i);
            }
        }) { IsBackground = true, Name = "pacer", Priority = ThreadPriority.AboveNormal };
        pacer.Start();
        pacer.Join();
        Task Flow(int index) =>
            Task.Run(async () =>
            {
                var now = Interlocked.Increment(ref inFlight);
                int seen;
                while ((seen = Volatile.Read(ref maxInFlight)) < now && Interlocked.CompareExchange(ref maxInFlight, now, seen) != seen) { }
                var flowStart = Stopwatch.GetTimestamp();
                try
                {
                    await wallet.ClaimAsync(uris[index], null, stepDone[index]);
                    latencies[index] = Stopwatch.GetElapsedTime(flowStart).TotalMilliseconds;
                    completed[index] = true;
                }
                catch (FlowException e)
                {
                    failures.Add(e.Step, e.Status, e.Body);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or System.Text.Json.JsonException)
                {
                    failures.Add("transport", e.GetType().Name, e.Message);
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
            });
        var startSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await Task.WhenAll(tasks);
        var loadSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var after = (A: EventStats.Ticks(o.ServerPid), B: EventStats.Ticks(o.SubscriberPid), Pg: o.PostgresPid is { } pg1 ? CpuSample.ClusterTicks(pg1) : (long?)null,
            Machine: CpuSample.MachineTicks(), Self: Process.GetCurrentProcess().TotalProcessorTime);
        var (busyPercent, otherPercent) = EventStats.Machine(o, before.Machine, after.Machine,
            (after.A - before.A ?? 0) + (after.B - before.B ?? 0) + (after.Pg - before.Pg ?? 0), after.Self - before.Self);
        var succeeded = completed.Count(c => c);

        // Drain: wait for every expected event (bounded), then a quiet second more for any late duplicate.
        var expectedCount = succeeded * Expected.Length;
        var drain = Stopwatch.StartNew();
        while (Volatile.Read(ref flowEventsSeen) < expectedCount && drain.Elapsed < TimeSpan.FromSeconds(o.DrainSeconds) && !readerTask.IsCompleted)
            await Task.Delay(20);
        var drainMs = drain.Elapsed.TotalMilliseconds;
        await Task.Delay(1000);
        stop.Cancel();
        await readerTask;

        // Check and measure.
        var flowOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++) flowOf[names[i]] = i;
        var markerSet = markers.ToHashSet(StringComparer.Ordinal);
        var cursors = new HashSet<string>(StringComparer.Ordinal);
        var counts = new int[flows, Expected.Length];
        var lastType = Enumerable.Repeat(-1, flows).ToArray();
        var sessions = new string?[flows];
        var byTime = Expected.Select(_ => new List<double>()).ToArray();
        var byResponse = Expected.Select(_ => new List<double>()).ToArray();
        int duplicates = 0, unexpected = 0, outOfOrder = 0, sessionMismatch = 0, heartbeats = 0, markerEvents = 0;
        var problems = new List<string>();
        void Problem(string text)
        {
            if (problems.Count < 20) problems.Add(text);
        }
        foreach (var (at, message) in received)
        {
            if (message.Heartbeat is not null)
            {
                heartbeats++;
                continue;
            }
            var e = message.Event;
            if (!cursors.Add(e.Cursor))
            {
                duplicates++;
                Problem($"duplicate cursor {e.Cursor}: {e.Type} {e.Offer} {e.Session}");
                continue;
            }
            if (e.Type == EventType.OfferCreated && markerSet.Contains(e.Offer))
            {
                markerEvents++;
                continue;
            }
            var t = Array.FindIndex(Expected, x => x.Type == e.Type);
            if (t < 0 || !flowOf.TryGetValue(e.Offer, out var i))
            {
                unexpected++;
                Problem($"unexpected event {e.Type} {e.Offer} {e.Session} (cursor {e.Cursor}, time {e.Time?.ToDateTime():O})");
                continue;
            }
            if (++counts[i, t] > 1)
            {
                duplicates++;
                Problem($"flow {i}: {Expected[t].Name} again under another cursor {e.Cursor} ({e.Offer} {e.Session})");
                continue;
            }
            if (t < lastType[i])
            {
                outOfOrder++;
                Problem($"flow {i}: {Expected[t].Name} after {Expected[lastType[i]].Name}");
            }
            lastType[i] = Math.Max(lastType[i], t);
            if (e.Type != EventType.OfferResolved)
            {
                if (string.IsNullOrEmpty(e.Session) || (sessions[i] ??= e.Session) != e.Session)
                {
                    sessionMismatch++;
                    Problem($"flow {i}: {Expected[t].Name} names session '{e.Session}', the flow's is '{sessions[i]}'");
                }
            }
            byTime[t].Add((at - e.Time.ToDateTime()).TotalMilliseconds);
            if (completed[i]) byResponse[t].Add((at - stepDone[i][Expected[t].Step]).TotalMilliseconds);
        }
        var missing = 0;
        for (var i = 0; i < flows; i++)
        {
            if (!completed[i]) continue;
            for (var t = 0; t < Expected.Length; t++)
            {
                if (counts[i, t] != 0) continue;
                missing++;
                Problem($"flow {i} ({names[i]}): {Expected[t].Name} never arrived");
            }
        }
        var delivered = byTime.Sum(l => l.Count);
        var flowLatencies = latencies.Where((_, i) => completed[i]).Order().ToArray();
        var msPerTick = 1000.0 / o.ClockTicks;
        double? Cpu(long? a, long? b, double per) => a is { } x && b is { } y ? (y - x) * msPerTick / per : null;
        var cpuA = Cpu(before.A, after.A, Math.Max(1, succeeded));
        var cpuB = Cpu(before.B, after.B, loadSeconds);
        var cpuPg = Cpu(before.Pg, after.Pg, Math.Max(1, succeeded));
        static string C(double? v) => v is { } x ? x.ToString("F2", CultureInfo.InvariantCulture) : "–";

        var allByTime = byTime.SelectMany(l => l).ToArray();
        var p99 = EventStats.Pct(allByTime.Order().ToArray(), 0.99);
        Console.WriteLine();
        Console.WriteLine(Program.Invariant($"Event latency across hosts ({o.Database}): flows against host A at {o.Rate} flows/s, one subscriber on host B."));
        Console.WriteLine();
        Console.WriteLine("| flows | offered flows/s | started flows/s | max start lag ms | max in flight | failed flows | flow p50 ms | flow p99 ms | host A CPU ms/flow | host B CPU ms/s | PostgreSQL CPU ms/flow | machine busy % | of it other processes % |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(Program.Invariant(
            $"| {flows} | {o.Rate} | {(flows - 1) / Math.Max(startSeconds, 1e-9):F1} | {maxStartLagMs:F1} | {maxInFlight} | {flows - succeeded} | {EventStats.F(EventStats.Pct(flowLatencies, 0.5))} | {EventStats.F(EventStats.Pct(flowLatencies, 0.99))} | {C(cpuA)} | {C(cpuB)} | {C(cpuPg)} | {busyPercent:F0} | {otherPercent:F0} |"));
        Console.WriteLine();
        Console.WriteLine("| expected events | delivered | missing | duplicates | unexpected | out of order | wrong session | heartbeats | drain ms |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(Program.Invariant($"| {expectedCount} | {delivered} | {missing} | {duplicates} | {unexpected} | {outOfOrder} | {sessionMismatch} | {heartbeats} | {drainMs:F0} |"));
        Console.WriteLine();
        Console.WriteLine("| latency at the subscriber on host B | events | p50 ms | p99 ms | max ms | min ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Console.WriteLine(EventStats.Row("receipt − event time, all events", allByTime));
        for (var t = 0; t < Expected.Length; t++) Console.WriteLine(EventStats.Row($"receipt − event time, {Expected[t].Name}", byTime[t]));
        for (var t = 0; t < Expected.Length; t++)
            Console.WriteLine(EventStats.Row($"receipt − {Wallet.Steps[Expected[t].Step].Name} response at the wallet, {Expected[t].Name}", byResponse[t]));
        Console.WriteLine();
        Console.WriteLine(Program.Invariant($"Goal p99 < 50 ms (receipt − event time, all events): {(p99 < 50 ? "met" : "NOT met")} ({EventStats.F(p99)} ms)."));

        var json = new JsonObject
        {
            ["benchmark"] = "events-latency",
            ["database"] = o.Database,
            ["rate"] = o.Rate,
            ["flows"] = flows,
            ["succeeded"] = succeeded,
            ["started_flows_per_second"] = Math.Round((flows - 1) / Math.Max(startSeconds, 1e-9), 2),
            ["max_start_lag_ms"] = Math.Round(maxStartLagMs, 2),
            ["max_in_flight"] = maxInFlight,
            ["flow_p50_ms"] = Math.Round(EventStats.Pct(flowLatencies, 0.5), 2),
            ["flow_p99_ms"] = Math.Round(EventStats.Pct(flowLatencies, 0.99), 2),
            ["host_a_cpu_ms_per_flow"] = cpuA is { } ca ? Math.Round(ca, 3) : null,
            ["host_b_cpu_ms_per_second"] = cpuB is { } cb ? Math.Round(cb, 3) : null,
            ["postgres_cpu_ms_per_flow"] = cpuPg is { } cp ? Math.Round(cp, 3) : null,
            ["machine_busy_percent"] = Math.Round(busyPercent, 1),
            ["other_processes_busy_percent"] = Math.Round(otherPercent, 1),
            ["expected_events"] = expectedCount,
            ["delivered"] = delivered,
            ["missing"] = missing,
            ["duplicates"] = duplicates,
            ["unexpected"] = unexpected,
            ["out_of_order"] = outOfOrder,
            ["wrong_session"] = sessionMismatch,
            ["heartbeats"] = heartbeats,
            ["marker_offers"] = markers.Count,
            ["marker_events"] = markerEvents,
            ["stream_error"] = streamError?.Message,
            ["latency_event_time_all"] = EventStats.Json(allByTime),
        };
        for (var t = 0; t < Expected.Length; t++)
        {
            json["latency_event_time_" + Expected[t].Name.Replace('.', '_')] = EventStats.Json(byTime[t]);
            json["latency_response_" + Expected[t].Name.Replace('.', '_')] = EventStats.Json(byResponse[t]);
        }
        Console.WriteLine("BENCH_JSON " + json.ToJsonString());

        var failed = false;
        if (streamError is not null)
        {
            Console.Error.WriteLine($"bench: the subscription on host B failed: {streamError}");
            failed = true;
        }
        if (missing + duplicates + unexpected + outOfOrder + sessionMismatch > 0)
        {
            Console.Error.WriteLine(Program.Invariant($"bench: EVENTS WRONG: {missing} missing, {duplicates} duplicate, {unexpected} unexpected, {outOfOrder} out of order, {sessionMismatch} with the wrong session; first ones:"));
            foreach (var p in problems) Console.Error.WriteLine("  " + p);
            failed = true;
        }
        if (failures.Count > 0)
        {
            failures.Print();
            failed = true;
        }
        return failed ? 1 : 0;
    }
}

/// <summary>The cost of many idle SubscribeEvents streams on one host.</summary>
internal static class IdleSubscribers
{
    private sealed class Stream
    {
        public required int Index { get; init; }
        public readonly List<DateTime> Heartbeats = [];
        public int Events;
        public Exception? Error;
        public bool Ended;
        public Task Reader = Task.CompletedTask;
    }

    public static async Task<int> RunAsync(BenchOptions o)
    {
        if (o.ServerPid is not { } serverPid)
        {
            await Console.Error.WriteLineAsync("bench: --mode idle-subscribers needs --server-pid");
            return 2;
        }
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, UseProxy = false };
        using var channel = GrpcChannel.ForAddress(o.GrpcUrl, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });

        var tenants = new List<(string Parent, string ApiKey)>();
        try
        {
            for (var t = 0; t < o.Tenants; t++) tenants.Add(await Setup.TenantAsync(channel, o));
        }
        catch (RpcException e)
        {
            await Console.Error.WriteLineAsync($"bench: setup failed: {e.Message}");
            return 2;
        }
        Console.Error.WriteLine(Program.Invariant($"bench: {o.Tenants} tenants with an API key each; {o.Streams} streams, {(o.Streams + o.Tenants - 1) / o.Tenants} per tenant at most"));

        await Task.Delay(2000);
        var rssBefore = EventStats.RssKb(serverPid);
        var client = new SessionEventsService.SessionEventsServiceClient(channel);
        using var stop = new CancellationTokenSource();
        var streams = new Stream[o.Streams];
        var openWatch = Stopwatch.StartNew();
        for (var i = 0; i < o.Streams; i++)
        {
            var s = streams[i] = new Stream { Index = i };
            var (parent, key) = tenants[i % tenants.Count];
            s.Reader = Task.Run(async () =>
            {
                try
                {
                    using var call = client.SubscribeEvents(new SubscribeEventsRequest { Parent = parent }, Setup.Bearer(key).WithCancellationToken(stop.Token));
                    while (await call.ResponseStream.MoveNext(stop.Token))
                    {
                        var at = DateTime.UtcNow;
                        var m = call.ResponseStream.Current;
                        if (m.Heartbeat is not null)
                        {
                            lock (s.Heartbeats) s.Heartbeats.Add(at);
                        }
                        else
                        {
                            Interlocked.Increment(ref s.Events);
                        }
                    }
                    s.Error = new InvalidOperationException("the server ended the stream (status OK)");
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && stop.IsCancellationRequested)
                {
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (Exception e)
                {
                    s.Error = e;
                }
                finally
                {
                    s.Ended = true;
                }
            });
            if (i % 100 == 99) await Task.Delay(50);
        }
        var openedSeconds = openWatch.Elapsed.TotalSeconds;

        // A stream "from now" on an idle tenant sends nothing before its first heartbeat: wait for every stream's first.
        int HeartbeatCount(Stream s)
        {
            lock (s.Heartbeats) return s.Heartbeats.Count;
        }
        var firstDeadline = TimeSpan.FromSeconds(o.HeartbeatSeconds * 2 + 30);
        while (openWatch.Elapsed < firstDeadline && streams.Any(s => !s.Ended && HeartbeatCount(s) == 0)) await Task.Delay(100);
        var allFirstSeconds = openWatch.Elapsed.TotalSeconds;
        var failedEarly = streams.Where(s => s.Ended || HeartbeatCount(s) == 0).ToArray();
        Console.Error.WriteLine(Program.Invariant(
            $"bench: {o.Streams} streams opened in {openedSeconds:F1} s; every live stream had its first heartbeat {allFirstSeconds:F1} s after the first was opened; {failedEarly.Length} failed or silent"));

        var rssOpen = EventStats.RssKb(serverPid);
        var connections = EventStats.ConnectionsTo(o.GrpcUrl.Port);
        var before = (Server: EventStats.Ticks(serverPid), Baseline: EventStats.Ticks(o.BaselinePid), Pg: o.PostgresPid is { } pg0 ? CpuSample.ClusterTicks(pg0) : (long?)null,
            Self: Process.GetCurrentProcess().TotalProcessorTime, Machine: CpuSample.MachineTicks());
        var windowStart = DateTime.UtcNow;
        var window = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(o.HoldSeconds));
        var windowSeconds = window.Elapsed.TotalSeconds;
        var windowEnd = DateTime.UtcNow;
        var after = (Server: EventStats.Ticks(serverPid), Baseline: EventStats.Ticks(o.BaselinePid), Pg: o.PostgresPid is { } pg1 ? CpuSample.ClusterTicks(pg1) : (long?)null,
            Self: Process.GetCurrentProcess().TotalProcessorTime, Machine: CpuSample.MachineTicks());
        var (busyPercent, otherPercent) = EventStats.Machine(o, before.Machine, after.Machine,
            (after.Server - before.Server ?? 0) + (after.Baseline - before.Baseline ?? 0) + (after.Pg - before.Pg ?? 0), after.Self - before.Self);
        var rssHold = EventStats.RssKb(serverPid);
        var endedDuringHold = streams.Count(s => s.Ended);

        stop.Cancel();
        var closing = Task.WhenAll(streams.Select(s => s.Reader));
        await Task.WhenAny(closing, Task.Delay(TimeSpan.FromSeconds(10)));
        await Task.Delay(2000);
        var rssClosed = EventStats.RssKb(serverPid);
        var connectionsAfter = EventStats.ConnectionsTo(o.GrpcUrl.Port);

        // Heartbeats: in the window, and the gaps between consecutive ones of a stream.
        var inWindow = new int[streams.Length];
        var gaps = new List<double>();
        for (var i = 0; i < streams.Length; i++)
        {
            DateTime[] beats;
            lock (streams[i].Heartbeats) beats = streams[i].Heartbeats.ToArray();
            inWindow[i] = beats.Count(b => b >= windowStart && b < windowEnd);
            for (var j = 1; j < beats.Length; j++) gaps.Add((beats[j] - beats[j - 1]).TotalSeconds);
        }
        var sortedGaps = gaps.Order().ToArray();
        var totalBeats = inWindow.Sum();
        var minBeats = (int)Math.Floor(o.HoldSeconds / (double)o.HeartbeatSeconds) - 1;
        var lateGap = o.HeartbeatSeconds * 1.5;
        var tooFew = inWindow.Count(n => n < Math.Max(1, minBeats));
        var longGaps = gaps.Count(g => g > lateGap);
        var failedStreams = streams.Where(s => s.Error is not null).ToArray();
        var events = streams.Sum(s => s.Events);

        var msPerTick = 1000.0 / o.ClockTicks;
        double? PerSecond(long? a, long? b) => a is { } x && b is { } y ? (y - x) * msPerTick / windowSeconds : null;
        var serverCpu = PerSecond(before.Server, after.Server);
        var baselineCpu = PerSecond(before.Baseline, after.Baseline);
        var pgCpu = PerSecond(before.Pg, after.Pg);
        var selfCpu = (after.Self - before.Self).TotalMilliseconds / windowSeconds;
        var perBeatUs = serverCpu is { } sc && totalBeats > 0 ? sc * windowSeconds / totalBeats * 1000 : (double?)null;
        var pgPerBeatUs = pgCpu is { } pc && totalBeats > 0 ? pc * windowSeconds / totalBeats * 1000 : (double?)null;
        static string C(double? v, string f = "F2") => v is { } x ? x.ToString(f, CultureInfo.InvariantCulture) : "–";
        double Mb(long kb) => kb / 1024.0;

        Console.WriteLine();
        Console.WriteLine(Program.Invariant($"{o.Streams} idle SubscribeEvents streams on one host ({o.Database}), {o.Tenants} tenants, held {windowSeconds:F1} s, heartbeat every {o.HeartbeatSeconds} s."));
        Console.WriteLine();
        Console.WriteLine("| streams | tenants | HTTP/2 connections | RSS before MB | RSS streams open MB | RSS end of hold MB | RSS streams closed MB | KB per stream |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(Program.Invariant(
            $"| {o.Streams} | {o.Tenants} | {connections} | {Mb(rssBefore):F1} | {Mb(rssOpen):F1} | {Mb(rssHold):F1} | {Mb(rssClosed):F1} | {(rssOpen - rssBefore) / (double)o.Streams:F1} |"));
        Console.WriteLine();
        Console.WriteLine("| seconds | server CPU ms/s | server CPU µs per stream per heartbeat | other host (no streams) CPU ms/s | PostgreSQL CPU ms/s | PostgreSQL µs per heartbeat | bench client CPU ms/s | machine busy % | of it other processes % |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(Program.Invariant(
            $"| {windowSeconds:F1} | {C(serverCpu)} | {C(perBeatUs, "F1")} | {C(baselineCpu)} | {C(pgCpu)} | {C(pgPerBeatUs, "F1")} | {selfCpu:F2} | {busyPercent:F0} | {otherPercent:F0} |"));
        Console.WriteLine();
        Console.WriteLine("| heartbeats in the hold | per stream min | per stream max | gap p50 s | gap max s | streams with too few | gaps > 1.5 × interval | failed streams | events received |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(Program.Invariant(
            $"| {totalBeats} | {inWindow.Min()} | {inWindow.Max()} | {EventStats.F(EventStats.Pct(sortedGaps, 0.5), "F2")} | {EventStats.F(sortedGaps.Length > 0 ? sortedGaps[^1] : double.NaN, "F2")} | {tooFew} | {longGaps} | {failedStreams.Length} | {events} |"));

        var json = new JsonObject
        {
            ["benchmark"] = "idle-subscribers",
            ["database"] = o.Database,
            ["streams"] = o.Streams,
            ["tenants"] = o.Tenants,
            ["http2_connections"] = connections,
            ["http2_connections_after_close"] = connectionsAfter,
            ["open_seconds"] = Math.Round(openedSeconds, 2),
            ["all_first_heartbeats_seconds"] = Math.Round(allFirstSeconds, 2),
            ["rss_before_kb"] = rssBefore,
            ["rss_open_kb"] = rssOpen,
            ["rss_end_of_hold_kb"] = rssHold,
            ["rss_closed_kb"] = rssClosed,
            ["kb_per_stream"] = Math.Round((rssOpen - rssBefore) / (double)o.Streams, 2),
            ["hold_seconds"] = Math.Round(windowSeconds, 2),
            ["server_cpu_ms_per_second"] = serverCpu is { } a ? Math.Round(a, 3) : null,
            ["server_cpu_us_per_stream_heartbeat"] = perBeatUs is { } b ? Math.Round(b, 2) : null,
            ["baseline_host_cpu_ms_per_second"] = baselineCpu is { } c ? Math.Round(c, 3) : null,
            ["postgres_cpu_ms_per_second"] = pgCpu is { } d ? Math.Round(d, 3) : null,
            ["postgres_cpu_us_per_heartbeat"] = pgPerBeatUs is { } f ? Math.Round(f, 2) : null,
            ["client_cpu_ms_per_second"] = Math.Round(selfCpu, 3),
            ["machine_busy_percent"] = Math.Round(busyPercent, 1),
            ["other_processes_busy_percent"] = Math.Round(otherPercent, 1),
            ["heartbeats_in_hold"] = totalBeats,
            ["heartbeats_per_stream_min"] = inWindow.Min(),
            ["heartbeats_per_stream_max"] = inWindow.Max(),
            ["heartbeat_gap_p50_s"] = Math.Round(EventStats.Pct(sortedGaps, 0.5), 3),
            ["heartbeat_gap_max_s"] = sortedGaps.Length > 0 ? Math.Round(sortedGaps[^1], 3) : null,
            ["streams_with_too_few_heartbeats"] = tooFew,
            ["gaps_over_1_5_interval"] = longGaps,
            ["failed_streams"] = failedStreams.Length,
            ["ended_during_hold"] = endedDuringHold,
            ["events_received"] = events,
        };
        Console.WriteLine("BENCH_JSON " + json.ToJsonString());

        var failed = false;
        if (failedStreams.Length > 0)
        {
            Console.Error.WriteLine(Program.Invariant($"bench: {failedStreams.Length} streams FAILED; by error:"));
            foreach (var g in failedStreams.GroupBy(s => s.Error is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : s.Error!.Message).OrderByDescending(g => g.Count()).Take(10))
                Console.Error.WriteLine(Program.Invariant($"  {g.Count()} × {g.Key}"));
            failed = true;
        }
        if (tooFew > 0 || longGaps > 0)
        {
            Console.Error.WriteLine(Program.Invariant($"bench: HEARTBEATS MISSING: {tooFew} streams had fewer than {Math.Max(1, minBeats)} heartbeats in the hold; {longGaps} gaps above {lateGap:F1} s"));
            failed = true;
        }
        return failed ? 1 : 0;
    }
}

/// <summary>
/// An event subscriber beside another load generator (bench/compare.sh, HOSTS=2): follows one tenant on one host,
/// from the oldest retained event, until SIGTERM; then prints one JSON line: how many events of the wallet flows
/// arrived, duplicates, and their latency (receipt − the event's time, one machine, one clock).
/// </summary>
internal static class EventsFollow
{
    /// <summary>The events the wallet flows cause (the offers' own OFFER_CREATED come before the flows).</summary>
    private static readonly HashSet<EventType> FlowEvents =
        [EventType.OfferResolved, EventType.TokenIssued, EventType.CredentialIssued, EventType.SessionCompleted, EventType.NotificationReceived];

    public static async Task<int> RunAsync(BenchOptions o)
    {
        string[] lines;
        try
        {
            lines = await File.ReadAllLinesAsync(o.TenantFile!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"bench: cannot read {o.TenantFile}: {e.Message}");
            return 2;
        }
        if (lines.Length < 2) { await Console.Error.WriteLineAsync($"bench: {o.TenantFile} needs the tenant and its API key, a line each"); return 2; }
        var (parent, apiKey) = (lines[0], lines[1]);

        using var stop = new CancellationTokenSource();
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        using var channel = EventStats.Channel(o.GrpcUrl);
        var client = new SessionEventsService.SessionEventsServiceClient(channel);
        using var call = client.SubscribeEvents(new SubscribeEventsRequest { Parent = parent, FromOldestRetained = true },
            Setup.Bearer(apiKey).WithCancellationToken(stop.Token));
        var cursors = new HashSet<string>(StringComparer.Ordinal);
        var latencies = new List<double>();
        var perType = new Dictionary<EventType, int>();
        int duplicates = 0, created = 0;
        var live = false;
        string? streamError = null;
        try
        {
            while (await call.ResponseStream.MoveNext(stop.Token))
            {
                var at = DateTime.UtcNow;
                if (call.ResponseStream.Current.Event is not { } e) continue;
                if (!cursors.Add(e.Cursor)) { duplicates++; continue; }
                if (e.Type == EventType.OfferCreated && ++created >= o.ExpectBacklog && !live)
                {
                    live = true;
                    Console.Error.WriteLine(Program.Invariant($"bench: follow: live after the {created} offers of {parent}"));
                }
                if (!FlowEvents.Contains(e.Type)) continue;
                perType[e.Type] = perType.GetValueOrDefault(e.Type) + 1;
                latencies.Add((at - e.Time.ToDateTime()).TotalMilliseconds);
            }
            streamError = "the server ended the stream";
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && stop.IsCancellationRequested)
        {
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (RpcException e)
        {
            streamError = $"{e.StatusCode}: {e.Status.Detail}";
        }

        var sorted = latencies.Order().ToArray();
        double? At(double p) => sorted.Length == 0 ? null : Math.Round(Report.Percentile(sorted, p), 1);
        var report = new System.Text.Json.Nodes.JsonObject
        {
            ["parent"] = parent,
            ["live"] = live,
            ["flow_events"] = sorted.Length,
            ["per_type"] = new System.Text.Json.Nodes.JsonObject(perType.OrderBy(kv => kv.Key).Select(kv =>
                KeyValuePair.Create(kv.Key.ToString(), (System.Text.Json.Nodes.JsonNode?)kv.Value))),
            ["duplicates"] = duplicates,
            ["p50_ms"] = At(0.50),
            ["p99_ms"] = At(0.99),
            ["max_ms"] = sorted.Length == 0 ? null : Math.Round(sorted[^1], 1),
            ["stream_error"] = streamError,
        };
        Console.WriteLine(report.ToJsonString());
        return streamError is null && duplicates == 0 && live ? 0 : 1;
    }
}
