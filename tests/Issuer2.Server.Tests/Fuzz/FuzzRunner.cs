using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CsCheck;
using Issuer2.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>
/// A request built when its turn comes (the lane's model may have moved since the case was prepared): what to send,
/// what must come of it, how the lane's model moves on once it came, and what a success's body must hold.
/// </summary>
public sealed record Built(WireRequest Request, Expectation Expect, Action? Settle = null, Func<WireResponse, string?>? CheckSuccess = null);

/// <summary>One generated case: its mutation class (for the counts), a description, and how to build its request.</summary>
public sealed class FuzzCase
{
    public required string Class { get; init; }

    public string Detail { get; init; } = "";

    public required Func<Built> Build { get; init; }
}

/// <summary>
/// An endpoint under fuzzing: its lanes (what a lane's cases share: offers, a credential), the generator of a case
/// (CsCheck, from the case's PCG) with what it needs prepared before the batch's first ledger, and the answers the
/// endpoint may give at all.
/// </summary>
public abstract class FuzzTarget<TLane>(FuzzWorld world)
{
    public FuzzWorld World { get; } = world;

    public abstract string Endpoint { get; }

    /// <summary>Every "status error" this endpoint may answer with (the spec's codes for it).</summary>
    public abstract IReadOnlySet<string> Errors { get; }

    /// <summary>A protected resource (RFC 6750): its 401s carry WWW-Authenticate.</summary>
    public virtual bool Resource => false;

    public abstract Task<TLane> NewLaneAsync(int lane);

    /// <summary>Generates a case and prepares what it needs (codes, sessions, nonces): called before the batch's first ledger.</summary>
    public abstract Task<FuzzCase> PrepareAsync(PCG random, TLane lane);
}

/// <summary>
/// Runs an endpoint's cases in batches: prepares a batch (lanes at once, a lane's cases in order), takes a ledger,
/// sends every case and checks its response, takes a ledger again and compares the change with the sum of the
/// allowed deltas. Collects every failure and fails once at the end, naming the seed to replay.
/// </summary>
public static class FuzzRunner
{
    private sealed record Failure(int Index, string Class, string What);

    public static async Task RunAsync<TLane>(FuzzTarget<TLane> target, ServerFixture fixture, ITestOutputHelper output, FuzzSettings? settings = null)
    {
        settings ??= new FuzzSettings();
        var endpoint = target.Endpoint;
        var only = FuzzSettings.OnlyCase(endpoint);
        var indexes = only switch
        {
            null => Enumerable.Range(0, settings.Cases).ToArray(),
            -1 => [],
            var i => [i.Value],
        };
        void Say(string line)
        {
            output.WriteLine(line);
            Console.WriteLine(line);
        }

        Say($"fuzz {endpoint} on {fixture.Provider}: {indexes.Length} cases, seed {settings.SeedText} (replay: {FuzzSettings.SeedVariable}={settings.SeedText}; one case: {FuzzSettings.OnlyVariable}={endpoint}:N)");
        var clock = Stopwatch.StartNew();
        var ledger = await Ledger.ForAsync(fixture);
        var lanes = new TLane[settings.Lanes];
        for (var l = 0; l < lanes.Length; l++)
        {
            lanes[l] = await target.NewLaneAsync(l);
        }

        var failures = new ConcurrentBag<Failure>();
        var (preparing, sending, ledgering) = (TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
        var classes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        for (var start = 0; start < indexes.Length; start += settings.BatchSize)
        {
            var batch = indexes[start..Math.Min(indexes.Length, start + settings.BatchSize)];
            var cases = new FuzzCase[batch.Length];

            var phase = Stopwatch.StartNew();

            // Prepare: a lane's cases in order (they draw on its offers), the lanes at once.
            await Task.WhenAll(Enumerable.Range(0, lanes.Length).Select(async l =>
            {
                for (var k = l; k < batch.Length; k += lanes.Length)
                {
                    cases[k] = await target.PrepareAsync(settings.CaseRandom(endpoint, batch[k]), lanes[l]);
                }
            }));

            preparing += phase.Elapsed;
            phase.Restart();
            var before = await ledger.TakeAsync();
            ledgering += phase.Elapsed;
            phase.Restart();
            var expected = new Delta();
            var notes = new ConcurrentQueue<string>();
            await Task.WhenAll(Enumerable.Range(0, lanes.Length).Select(async l =>
            {
                for (var k = l; k < batch.Length; k += lanes.Length)
                {
                    var c = cases[k];
                    var (request, expect, settle, checkSuccess) = c.Build();
                    WireResponse response;
                    try
                    {
                        response = await target.World.Wire.SendAsync(request);
                    }
                    catch (HttpRequestException e)
                    {
                        failures.Add(new Failure(batch[k], c.Class, $"{c.Detail}\n    request:  {request}\n    no response: {e.Message}"));
                        continue;
                    }

                    classes.AddOrUpdate(c.Class, 1, (_, n) => n + 1);
                    outcomes.AddOrUpdate(Outcome(response), 1, (_, n) => n + 1);
                    var problems = Check(target, request, response, expect);
                    if (problems.Count == 0 && expect.Error is null && !expect.ByKestrel && checkSuccess?.Invoke(response) is { } bad)
                    {
                        problems.Add(bad);
                    }

                    if (problems.Count > 0)
                    {
                        failures.Add(new Failure(batch[k], c.Class,
                            $"{c.Class}{(c.Detail.Length > 0 ? " — " + c.Detail : "")}\n    request:  {request}\n    expected: {expect}\n    got:      {response}\n    problems: {string.Join("; ", problems)}"));
                    }

                    settle?.Invoke();
                    lock (expected)
                    {
                        expected.Add(expect.Delta);
                    }

                    if (!expect.Delta.IsEmpty)
                    {
                        notes.Enqueue($"#{batch[k]} {c.Class}: {expect.Delta}");
                    }
                }
            }));

            sending += phase.Elapsed;
            phase.Restart();
            var after = await ledger.TakeAsync();
            ledgering += phase.Elapsed;
            var wrong = Ledger.Problems(before, after, expected, target.World.TenantNames);
            if (wrong.Count > 0)
            {
                failures.Add(new Failure(batch[0], "database", $"cases {batch[0]}..{batch[^1]} changed the database beyond the allowed deltas:\n    " +
                    string.Join("\n    ", wrong) + "\n    allowed in total: " + expected + "\n    cases with allowed changes:\n      " + string.Join("\n      ", notes.Take(40))));
            }
        }

        foreach (var lane in lanes)
        {
            (lane as IDisposable)?.Dispose();
        }

        clock.Stop();
        Say($"fuzz {endpoint} on {fixture.Provider}: {indexes.Length} cases in {clock.Elapsed.TotalSeconds:F1} s (preparing {preparing.TotalSeconds:F1} s, sending {sending.TotalSeconds:F1} s, ledgers {ledgering.TotalSeconds:F1} s), {failures.Count} failures");
        output.WriteLine("  classes:  " + string.Join(", ", classes.OrderByDescending(c => c.Value).Select(c => $"{c.Key} ×{c.Value}")));
        Say("  outcomes: " + string.Join(", ", outcomes.OrderByDescending(c => c.Value).Select(c => $"{c.Key} ×{c.Value}")));
        if (!failures.IsEmpty)
        {
            var list = failures.OrderBy(f => f.Index).ToList();
            var byClass = list.GroupBy(f => f.Class).Select(g => $"{g.Key} ×{g.Count()}");
            var text = new StringBuilder()
                .AppendLine($"{list.Count} fuzz failures at {endpoint} on {fixture.Provider} (seed {settings.SeedText}; replay with {FuzzSettings.SeedVariable}={settings.SeedText}, one case with {FuzzSettings.OnlyVariable}={endpoint}:N)")
                .AppendLine("by class: " + string.Join(", ", byClass));
            foreach (var f in list.GroupBy(f => f.Class).SelectMany(g => g.Take(3)).Take(25))
            {
                text.AppendLine($"#{f.Index} {f.What}");
            }

            Assert.Fail(text.ToString());
        }
    }

    private static string Outcome(WireResponse r)
    {
        if (r.Status < 400 || r.Body.Length == 0)
        {
            return r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        try
        {
            using var json = JsonDocument.Parse(r.Body);
            return json.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? $"{r.Status} {e.GetString()}" : $"{r.Status} ?";
        }
        catch (JsonException)
        {
            return $"{r.Status} (no JSON)";
        }
    }

    /// <summary>The properties every answer has: no 5xx, the expected status and code, the spec's error body and headers.</summary>
    private static List<string> Check<TLane>(FuzzTarget<TLane> target, WireRequest request, WireResponse r, Expectation e)
    {
        var problems = new List<string>();
        if (r.Status >= 500)
        {
            problems.Add("a server error");
            return problems;
        }

        if (e.ByKestrel)
        {
            if (r.Status != 400 || r.Body.Length != 0)
            {
                problems.Add("expected Kestrel's own 400 with an empty body");
            }

            return problems;
        }

        if (r.Status != e.Status)
        {
            problems.Add($"status {r.Status}, expected {e.Status}");
        }

        if (r.CacheControl != "no-store")
        {
            problems.Add("no Cache-Control: no-store");
        }

        var head = request.Method == "HEAD";
        if (r.Status == 401)
        {
            // RFC 6750 §3, or RFC 9449 §7.1 for a request that used the DPoP scheme.
            var scheme = (request.Headers ?? []).Any(h => h.Key == "Authorization" && h.Value.StartsWith("DPoP ", StringComparison.Ordinal)) ? "DPoP " : "Bearer";
            if (!target.Resource || r.WwwAuthenticate is null || !r.WwwAuthenticate.StartsWith(scheme, StringComparison.Ordinal))
            {
                problems.Add($"a 401 without WWW-Authenticate: {scheme.Trim()} (or outside a protected resource)");
            }
        }
        else if (r.WwwAuthenticate is not null)
        {
            problems.Add("WWW-Authenticate on a response that is not 401");
        }

        if (r.Status == 405 && r.Allow != e.Allow)
        {
            problems.Add($"Allow is {r.Allow ?? "missing"}, expected {e.Allow}");
        }

        if (r.Status < 400 || head)
        {
            if (e.Error is not null && r.Status < 400)
            {
                problems.Add($"accepted, expected {e.Error}");
            }

            return problems;
        }

        if (r.ContentType != "application/json")
        {
            problems.Add($"error Content-Type {r.ContentType ?? "missing"}");
        }

        try
        {
            using var json = JsonDocument.Parse(r.Body);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).SequenceEqual(["error", "error_description"]) is false)
            {
                problems.Add("the error body is not exactly {error, error_description}");
                return problems;
            }

            var error = root.GetProperty("error");
            var description = root.GetProperty("error_description");
            if (error.ValueKind != JsonValueKind.String || description.ValueKind != JsonValueKind.String)
            {
                problems.Add("error and error_description must be strings");
                return problems;
            }

            var code = error.GetString()!;
            if (code != e.Error)
            {
                problems.Add($"error {code}, expected {e.Error ?? "success"}");
            }

            if (!target.Errors.Contains($"{r.Status} {code}"))
            {
                problems.Add($"{r.Status} {code} is no answer of the {target.Endpoint} endpoint");
            }

            // RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
            var text = description.GetString()!;
            if (text.Length == 0 || text.Any(c => c is < ' ' or > '~' or '"' or '\\'))
            {
                problems.Add("error_description is empty or not in RFC 6749's ASCII subset");
            }
        }
        catch (JsonException)
        {
            problems.Add("the error body is not JSON");
        }

        return problems;
    }
}
