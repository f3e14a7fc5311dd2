// Issuer2.Bench: a load generator for the OID4VCI pre-authorized flow, in its own process.
//
// Setup (not timed), over gRPC with its own client stubs: a tenant, a tenant API key, a profile and N offers
// (BY_REFERENCE, no PIN). Timed: N full wallet flows at concurrency C over HTTP/1.1 — resolve the offer, both
// metadata documents, token, nonce, an ES256 proof with a fresh P-256 key, credential. Reports flows/s, p50 and
// p99 flow latency, and the CPU time the server process and (optionally) the PostgreSQL cluster spent per flow,
// read from /proc before and after the timed phase.
//
//   dotnet Issuer2.Bench.dll --grpc http://127.0.0.1:5081 --http http://127.0.0.1:5080 --admin-key KEY
//       [--flows 2000] [--concurrency 16] [--server-pid PID] [--postgres-pid POSTMASTER_PID]
//       [--database sqlite] [--clk-tck 100] [--warmup]
//
// Offers only (--offers-out FILE; it implies --mode offers): the setup alone — a tenant, an API key, a profile and N offers
// (pre-authorized, BY_REFERENCE, no PIN) — and their openid-credential-offer:// URLs written to FILE, one a line,
// for another load generator (bench/compare.sh drives shared/peer-bench/loadgen.mjs with them):
//
//   dotnet Issuer2.Bench.dll --grpc http://127.0.0.1:5081 --admin-key KEY --offers-out offers.txt --count 2000
//
// Session-event modes (Events.cs): --mode events-latency (cross-host event latency at a fixed flow rate) and
// --mode idle-subscribers (memory and CPU of many idle SubscribeEvents streams); see bench/README.md.
//
// Follow (--mode follow): a subscriber beside another load generator: SubscribeEvents on --grpc for the tenant of
// --tenant-file (FILE.tenant, which --offers-out writes beside FILE: the tenant and its API key), from the oldest
// retained event, until SIGTERM; "live" on stderr once --expect-backlog OFFER_CREATED events have arrived; then one
// JSON line: the wallet flows' events, duplicates, latency p50/p99/max (receipt − the event's time).
//
// Exit codes: 0 all flows succeeded; 1 some flows failed (reported); 2 bad arguments or setup failed.
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Issuer2.Grpc.V1;

namespace Issuer2.Bench;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"bench: {e.Message}");
            await Console.Error.WriteLineAsync(BenchOptions.Usage);
            return 2;
        }

        switch (options.Mode)
        {
            case "events-latency": return await EventsLatency.RunAsync(options);
            case "idle-subscribers": return await IdleSubscribers.RunAsync(options);
            case "offers": return await OffersOut.RunAsync(options);
            case "follow": return await EventsFollow.RunAsync(options);
        }

        using var http = CreateHttpClient(options, options.Concurrency);

        using var channel = GrpcChannel.ForAddress(options.GrpcUrl, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, UseProxy = false },
        });

        string[] allUris;
        var setupWatch = Stopwatch.StartNew();
        try
        {
            allUris = (await Setup.RunAsync(channel, options, options.Flows + options.ClientWarmup)).OfferUris;
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or HttpRequestException)
        {
            await Console.Error.WriteLineAsync($"bench: setup failed: {e.Message}");
            return 2;
        }
        Console.Error.WriteLine(Invariant($"bench: setup ({options.Database}, {(options.Warmup ? "warm-up" : "timed")}): tenant, API key, profile and {allUris.Length} offers in {setupWatch.Elapsed.TotalSeconds:F1} s"));

        var wallet = new Wallet(http);
        var failures = new FailureLog();

        // The load generator's own warm-up (JIT, connections), untimed: a few flows at the run's concurrency.
        var warmupUris = allUris.Take(options.ClientWarmup).ToArray();
        var warmupNext = -1;
        await Task.WhenAll(Enumerable.Range(0, Math.Min(options.Concurrency, Math.Max(1, warmupUris.Length))).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref warmupNext)) < warmupUris.Length)
            {
                try
                {
                    await wallet.ClaimAsync(warmupUris[i]);
                }
                catch (FlowException e)
                {
                    failures.Add("client-warm-up " + e.Step, e.Status, e.Body);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException)
                {
                    failures.Add("client-warm-up transport", e.GetType().Name, e.Message);
                }
            }
        })));
        var offerUris = allUris.Skip(options.ClientWarmup).ToArray();
        if (options.Breakdown) return await Breakdown.RunAsync(options, wallet, offerUris, failures);
        var latencies = new double[offerUris.Length];
        var completed = new bool[offerUris.Length];
        var stepLatencies = offerUris.Select(_ => new double[Wallet.Steps.Length]).ToArray();
        var next = -1;

        // Let the setup's writes settle, then sample the CPU counters right around the timed phase.
        await Task.Delay(250);
        var before = CpuSample.Take(options);
        var wall = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < offerUris.Length)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await wallet.ClaimAsync(offerUris[i], stepLatencies[i]);
                    latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    completed[i] = true;
                }
                catch (FlowException e)
                {
                    failures.Add(e.Step, e.Status, e.Body);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException)
                {
                    failures.Add("transport", e.GetType().Name, e.Message);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        wall.Stop();
        var after = CpuSample.Take(options);

        var ok = latencies.Where((_, i) => completed[i]).Order().ToArray();
        var report = Report.Create(options, offerUris.Length, ok, failures.Count, wall.Elapsed, before, after);
        report.Print(options, Enumerable.Range(0, Wallet.Steps.Length).Select(step =>
            (Wallet.Steps[step].Name, stepLatencies.Where((_, i) => completed[i]).Select(l => l[step]).Order().ToArray())).ToArray());
        if (failures.Count > 0)
        {
            failures.Print();
            return 1;
        }
        return 0;
    }

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The wallets' HTTP/1.1 client: a connection pool large enough for every concurrent flow.</summary>
    internal static HttpClient CreateHttpClient(BenchOptions options, int concurrency) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(256, concurrency * 2),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
            DefaultRequestVersion = HttpVersion.Version11,
        };
}

/// <summary>Command-line options.</summary>
internal sealed class BenchOptions
{
    public const string Usage =
        "usage: Issuer2.Bench --grpc URL --http URL --admin-key KEY [--flows N] [--concurrency C] [--server-pid PID] " +
        "[--postgres-pid PID] [--database NAME] [--clk-tck N] [--setup-parallelism N] [--timeout-seconds S] [--client-warmup N] [--warmup | --breakdown]\n" +
        "       Issuer2.Bench --mode events-latency --grpc URL_A --http URL_A --subscribe-grpc URL_B --admin-key KEY [--rate 50] [--flows 1500] " +
        "[--server-pid PID_A] [--subscriber-pid PID_B] [--postgres-pid PID]\n" +
        "       Issuer2.Bench --mode idle-subscribers --grpc URL_B --http URL_B --admin-key KEY [--streams 1000] [--tenants 10] [--hold-seconds 60] " +
        "[--heartbeat-seconds 15] [--server-pid PID_B] [--baseline-pid PID_A] [--postgres-pid PID]\n" +
        "       Issuer2.Bench --offers-out FILE --grpc URL --admin-key KEY [--count 2000] [--setup-parallelism N] [--dpop off|optional|required]\n" +
        "       Issuer2.Bench --mode follow --grpc URL --tenant-file FILE.tenant [--expect-backlog N]";

    public string Mode { get; init; } = "flows";

    /// <summary>The bench tenant's DPoP mode: off (bearer tokens, the default), or, for the offers of an external load generator, optional or required.</summary>
    public DpopMode Dpop { get; init; } = DpopMode.Off;
    public string? OffersOut { get; init; }
    public string? TenantFile { get; init; }
    public int ExpectBacklog { get; init; }
    public Uri? SubscribeGrpcUrl { get; init; }
    public int Rate { get; init; } = 50;
    public int? SubscriberPid { get; init; }
    public int? BaselinePid { get; init; }
    public int Streams { get; init; } = 1000;
    public int Tenants { get; init; } = 10;
    public int HoldSeconds { get; init; } = 60;
    public int HeartbeatSeconds { get; init; } = 15;
    public int DrainSeconds { get; init; } = 15;

    public required Uri GrpcUrl { get; init; }
    public required Uri HttpUrl { get; init; }
    public required string AdminKey { get; init; }
    public int Flows { get; init; } = 2000;
    public int Concurrency { get; init; } = 16;
    public int? ServerPid { get; init; }
    public int? PostgresPid { get; init; }
    public string Database { get; init; } = "?";
    public int ClockTicks { get; init; } = 100;
    public int SetupParallelism { get; init; } = 32;
    public int TimeoutSeconds { get; init; } = 60;
    public int ClientWarmup { get; init; } = 64;
    public bool Breakdown { get; init; }
    public bool Warmup { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var warmup = false;
        var breakdown = false;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--warmup") { warmup = true; continue; }
            if (name == "--breakdown") { breakdown = true; continue; }
            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"unexpected argument '{name}'");
            values[name[2..]] = args[++i];
        }
        string Required(string key) => values.TryGetValue(key, out var v) && v.Length > 0 ? v : throw new ArgumentException($"--{key} is required");
        int Int(string key, int fallback, int min)
        {
            if (!values.TryGetValue(key, out var v)) return fallback;
            if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min)
                throw new ArgumentException($"--{key} must be an integer >= {min}");
            return n;
        }
        int? Pid(string key) => values.ContainsKey(key) ? Int(key, 0, 1) : null;
        Uri Url(string key) => Uri.TryCreate(Required(key), UriKind.Absolute, out var u) ? u : throw new ArgumentException($"--{key} must be an absolute URL");

        var offersOut = values.GetValueOrDefault("offers-out");
        var mode = values.GetValueOrDefault("mode", offersOut is null ? "flows" : "offers");
        if (mode is not ("flows" or "events-latency" or "idle-subscribers" or "offers" or "follow"))
            throw new ArgumentException("--mode must be flows, events-latency, idle-subscribers, offers or follow");
        if ((mode == "offers") != (offersOut is not null))
            throw new ArgumentException("--offers-out FILE goes with the offers mode, and only with it");
        if (offersOut is "") throw new ArgumentException("--offers-out must name a file");
        var dpop = values.GetValueOrDefault("dpop", "off") switch
        {
            "off" => DpopMode.Off,
            "optional" => DpopMode.Optional,
            "required" => DpopMode.Required,
            _ => throw new ArgumentException("--dpop must be off, optional or required"),
        };
        // This program's own wallet sends bearer tokens; DPoP is for the offers an external load generator claims.
        if (dpop != DpopMode.Off && mode != "offers") throw new ArgumentException("--dpop goes with --offers-out only");
        return new BenchOptions
        {
            Mode = mode,
            OffersOut = offersOut,
            TenantFile = mode == "follow" ? Required("tenant-file") : null,
            ExpectBacklog = Int("expect-backlog", 0, 0),
            Dpop = dpop,
            SubscribeGrpcUrl = mode == "events-latency" ? Url("subscribe-grpc") : null,
            Rate = Int("rate", 50, 1),
            SubscriberPid = Pid("subscriber-pid"),
            BaselinePid = Pid("baseline-pid"),
            Streams = Int("streams", 1000, 1),
            Tenants = Int("tenants", 10, 1),
            HoldSeconds = Int("hold-seconds", 60, 1),
            HeartbeatSeconds = Int("heartbeat-seconds", 15, 1),
            DrainSeconds = Int("drain-seconds", 15, 1),
            GrpcUrl = Url("grpc"),
            HttpUrl = mode is "offers" or "follow" && !values.ContainsKey("http") ? Url("grpc") : Url("http"), // offers, follow: gRPC only
            AdminKey = mode == "follow" ? values.GetValueOrDefault("admin-key", "") : Required("admin-key"), // follow: the tenant's own key
            Flows = values.ContainsKey("count") ? Int("count", 2000, 1) : Int("flows", 2000, 1), // offers: --count
            Concurrency = Int("concurrency", 16, 1),
            ServerPid = Pid("server-pid"),
            PostgresPid = Pid("postgres-pid"),
            Database = values.GetValueOrDefault("database", "?"),
            ClockTicks = Int("clk-tck", 100, 1),
            SetupParallelism = Int("setup-parallelism", 32, 1),
            TimeoutSeconds = Int("timeout-seconds", 60, 1),
            ClientWarmup = Int("client-warmup", 64, 0),
            Warmup = warmup,
            Breakdown = breakdown,
        };
    }
}

/// <summary>The untimed setup over gRPC: tenant, API key, profile, offers.</summary>
internal static class Setup
{
    public const string ProfileId = "bench-card";

    /// <summary>
    /// What the setup made: the tenant ("tenants/{id}"), its API key, and each offer's URI (its credential_offer_uri),
    /// resource name and offer URL (openid-credential-offer://…, as a wallet scans it).
    /// </summary>
    public sealed record Result(string Parent, string ApiKey, string[] OfferUris, string[] OfferNames, string[] OfferUrls);

    /// <summary>A new tenant and an API key for it, with the admin key.</summary>
    public static async Task<(string Parent, string ApiKey)> TenantAsync(GrpcChannel channel, BenchOptions options)
    {
        var tenants = new TenantService.TenantServiceClient(channel);
        var admin = Bearer(options.AdminKey);
        var tenantId = "bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var tenant = new Tenant { TenantId = tenantId, Dpop = new DpopSettings { Mode = options.Dpop } };
        tenant.Display.Add(new IssuerDisplay { Locale = "en", Name = "Issuer2 benchmark" });
        await tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = tenant }, admin);
        var parent = "tenants/" + tenantId;
        var key = (await tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = parent, DisplayName = "bench" }, admin)).Key;
        return (parent, key);
    }

    /// <summary>One more offer of the setup's profile (the event benchmark's markers); returns its resource name.</summary>
    public static async Task<string> OfferAsync(GrpcChannel channel, Result setup)
    {
        var offers = new OfferService.OfferServiceClient(channel);
        var response = await offers.CreateOfferAsync(new CreateOfferRequest
        {
            Parent = setup.Parent,
            Profile = setup.Parent + "/profiles/" + ProfileId,
            AuthenticationMethod = AuthenticationMethod.PreAuthorized,
            DeliveryMode = DeliveryMode.ByReference,
            MaxUses = 1,
        }, Bearer(setup.ApiKey));
        return response.Offer.Name;
    }

    public static CallOptions Bearer(string key) => new(new Metadata { { "authorization", "Bearer " + key } });

    public static async Task<Result> RunAsync(GrpcChannel channel, BenchOptions options, int count)
    {
        var profiles = new ProfileService.ProfileServiceClient(channel);
        var offers = new OfferService.OfferServiceClient(channel);
        var (parent, key) = await TenantAsync(channel, options);
        var auth = Bearer(key);

        var profile = new Profile
        {
            ProfileId = ProfileId,
            Vct = "https://bench.example/credentials/member-card",
            CredentialValidity = Duration.FromTimeSpan(TimeSpan.FromDays(365)),
        };
        profile.Display.Add(new CredentialDisplay { Locale = "en", Name = "Member card", BackgroundColor = "#12107c", TextColor = "#ffffff" });
        profile.Claims.Add(Claim("given_name", ClaimValueType.String, disclosable: true, mandatory: true, "Given name"));
        profile.Claims.Add(Claim("family_name", ClaimValueType.String, disclosable: false, mandatory: true, "Family name"));
        profile.Claims.Add(Claim("member_level", ClaimValueType.String, disclosable: false, mandatory: false, "Level"));
        profile.Claims.Add(Claim("member_since", ClaimValueType.Integer, disclosable: false, mandatory: false, "Member since"));
        profile.DefaultValues.Add(Value("given_name", Google.Protobuf.WellKnownTypes.Value.ForString("Ada")));
        profile.DefaultValues.Add(Value("family_name", Google.Protobuf.WellKnownTypes.Value.ForString("Lovelace")));
        profile.DefaultValues.Add(Value("member_level", Google.Protobuf.WellKnownTypes.Value.ForString("gold")));
        profile.DefaultValues.Add(Value("member_since", Google.Protobuf.WellKnownTypes.Value.ForNumber(2020)));
        await profiles.CreateProfileAsync(new CreateProfileRequest { Parent = parent, Profile = profile }, auth);

        var uris = new string[count];
        var names = new string[count];
        var urls = new string[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = options.SetupParallelism },
            async (i, ct) =>
            {
                var request = new CreateOfferRequest
                {
                    Parent = parent,
                    Profile = parent + "/profiles/" + ProfileId,
                    AuthenticationMethod = AuthenticationMethod.PreAuthorized,
                    DeliveryMode = DeliveryMode.ByReference,
                    MaxUses = 1,
                };
                // Every offer carries its own value, so the credential is built from profile defaults and overrides.
                request.Overrides.Add(Value("given_name", Google.Protobuf.WellKnownTypes.Value.ForString(Program.Invariant($"Holder {i}"))));
                var response = await offers.CreateOfferAsync(request, auth.WithCancellationToken(ct));
                uris[i] = OfferUri(response.OfferUrl);
                names[i] = response.Offer.Name;
                urls[i] = response.OfferUrl;
            });
        return new Result(parent, key, uris, names, urls);
    }

    private static ClaimDefinition Claim(string name, ClaimValueType type, bool disclosable, bool mandatory, string label)
    {
        var claim = new ClaimDefinition { ValueType = type, SelectivelyDisclosable = disclosable, Mandatory = mandatory };
        claim.Path.Add(name);
        claim.Display.Add(new ClaimDisplay { Locale = "en", Name = label });
        return claim;
    }

    private static ClaimValue Value(string name, Value value)
    {
        var claim = new ClaimValue { Value = value };
        claim.Path.Add(name);
        return claim;
    }

    /// <summary>The credential_offer_uri of an openid-credential-offer:// URL.</summary>
    private static string OfferUri(string offerUrl)
    {
        var query = offerUrl.IndexOf('?', StringComparison.Ordinal) is var q and >= 0 ? offerUrl[(q + 1)..] : "";
        foreach (var part in query.Split('&'))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq] == "credential_offer_uri") return Uri.UnescapeDataString(part[(eq + 1)..]);
        }
        throw new InvalidOperationException($"The offer URL has no credential_offer_uri: {offerUrl}");
    }
}

/// <summary>
/// The offers mode: the setup alone, its offer URLs written to a file (one a line, '\n'), for a load generator of
/// another kind (bench/compare.sh: shared/peer-bench/loadgen.mjs). Nothing is redeemed.
/// </summary>
internal static class OffersOut
{
    public static async Task<int> RunAsync(BenchOptions options)
    {
        using var channel = GrpcChannel.ForAddress(options.GrpcUrl, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, UseProxy = false },
        });
        var watch = Stopwatch.StartNew();
        Setup.Result setup;
        try
        {
            setup = await Setup.RunAsync(channel, options, options.Flows);
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or HttpRequestException)
        {
            await Console.Error.WriteLineAsync($"bench: setup failed: {e.Message}");
            return 2;
        }
        try
        {
            await File.WriteAllTextAsync(options.OffersOut!, string.Concat(setup.OfferUrls.Select(u => u + "\n")));
            // The tenant and its API key beside the offers, owner-only, for a subscriber (--mode follow).
            await File.WriteAllTextAsync(options.OffersOut + ".tenant", "");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(options.OffersOut + ".tenant", UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await File.WriteAllTextAsync(options.OffersOut + ".tenant", setup.Parent + "\n" + setup.ApiKey + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"bench: cannot write {options.OffersOut}: {e.Message}");
            return 2;
        }
        Console.Error.WriteLine(Program.Invariant(
            $"bench: {setup.Parent}: API key, profile and {setup.OfferUrls.Length} offers in {watch.Elapsed.TotalSeconds:F1} s, written to {options.OffersOut}"));
        return 0;
    }
}

/// <summary>A failed step of a flow: which step, the HTTP status, the body.</summary>
internal sealed class FlowException(string step, string status, string body) : Exception($"{step}: {status} {body}")
{
    public string Step { get; } = step;
    public string Status { get; } = status;
    public string Body { get; } = body;
}

/// <summary>A minimal OID4VCI wallet: everything a real one does on the wire in the pre-authorized flow.</summary>
internal sealed class Wallet(HttpClient http)
{
    private const string PreAuthorizedGrant = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

    /// <summary>The steps of one flow, in order; each reads what the previous ones put in the state.</summary>
    public static readonly (string Name, Func<Wallet, FlowState, Task> Run)[] Steps =
    [
        ("offer", (w, s) => w.ResolveOfferAsync(s)),
        ("issuer-metadata", (w, s) => w.IssuerMetadataAsync(s)),
        ("as-metadata", (w, s) => w.AuthorizationServerMetadataAsync(s)),
        ("token", (w, s) => w.TokenAsync(s)),
        ("nonce", (w, s) => w.NonceAsync(s)),
        ("credential", (w, s) => w.CredentialAsync(s)),
    ];

    /// <summary>One full flow; with stepMs, each step's latency in ms; with stepDoneUtc, the wall-clock time each step's response was read.</summary>
    public async Task ClaimAsync(string offerUri, double[]? stepMs = null, DateTime[]? stepDoneUtc = null)
    {
        var state = new FlowState(offerUri);
        for (var i = 0; i < Steps.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await Steps[i].Run(this, state);
            if (stepDoneUtc is not null) stepDoneUtc[i] = DateTime.UtcNow;
            if (stepMs is not null) stepMs[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
    }

    /// <summary>1. The offer, by reference.</summary>
    public async Task ResolveOfferAsync(FlowState s)
    {
        using var offer = await GetJsonAsync("offer", new Uri(s.OfferUri));
        s.Issuer = Str(offer, "offer", "credential_issuer");
        s.ConfigurationId = offer.RootElement.GetProperty("credential_configuration_ids")[0].GetString()
            ?? throw new FlowException("offer", "200", "credential_configuration_ids[0] is not a string");
        s.Code = offer.RootElement.GetProperty("grants").GetProperty(PreAuthorizedGrant).GetProperty("pre-authorized_code").GetString()
            ?? throw new FlowException("offer", "200", "pre-authorized_code is not a string");
    }

    /// <summary>2. Credential issuer metadata (path insertion).</summary>
    public async Task IssuerMetadataAsync(FlowState s)
    {
        var issuerUri = new Uri(s.Issuer);
        using var metadata = await GetJsonAsync("issuer-metadata", WellKnown(issuerUri, "openid-credential-issuer"));
        if (Str(metadata, "issuer-metadata", "credential_issuer") != s.Issuer)
            throw new FlowException("issuer-metadata", "200", "credential_issuer differs from the offer's");
        if (!metadata.RootElement.TryGetProperty("credential_configurations_supported", out var configurations)
            || !configurations.TryGetProperty(s.ConfigurationId, out _))
            throw new FlowException("issuer-metadata", "200", $"credential_configurations_supported has no '{s.ConfigurationId}'");
        s.CredentialEndpoint = new Uri(Str(metadata, "issuer-metadata", "credential_endpoint"));
        s.NonceEndpoint = new Uri(Str(metadata, "issuer-metadata", "nonce_endpoint"));
        s.AuthorizationServer = metadata.RootElement.TryGetProperty("authorization_servers", out var servers) && servers.GetArrayLength() > 0
            ? new Uri(servers[0].GetString()!)
            : issuerUri;
    }

    /// <summary>3. Authorization server metadata (RFC 8414 path insertion).</summary>
    public async Task AuthorizationServerMetadataAsync(FlowState s)
    {
        using var asMetadata = await GetJsonAsync("as-metadata", WellKnown(s.AuthorizationServer!, "oauth-authorization-server"));
        s.TokenEndpoint = new Uri(Str(asMetadata, "as-metadata", "token_endpoint"));
    }

    /// <summary>4. Token, pre-authorized code grant, anonymous.</summary>
    public async Task TokenAsync(FlowState s)
    {
        using var form = new FormUrlEncodedContent([new("grant_type", PreAuthorizedGrant), new("pre-authorized_code", s.Code)]);
        using var token = await PostAsync("token", s.TokenEndpoint!, form, null);
        s.AccessToken = Str(token, "token", "access_token");
    }

    /// <summary>5. Nonce.</summary>
    public async Task NonceAsync(FlowState s)
    {
        using var empty = new ByteArrayContent([]);
        using var nonce = await PostAsync("nonce", s.NonceEndpoint!, empty, null);
        s.Nonce = Str(nonce, "nonce", "c_nonce");
    }

    /// <summary>6. A proof with a fresh holder key, 7. the credential.</summary>
    public async Task CredentialAsync(FlowState s)
    {
        var proof = Proof(s.Issuer, s.Nonce);
        var body = new JsonObject
        {
            ["credential_configuration_id"] = s.ConfigurationId,
            ["proofs"] = new JsonObject { ["jwt"] = new JsonArray(proof) },
        }.ToJsonString();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var credential = await PostAsync("credential", s.CredentialEndpoint!, content, s.AccessToken);
        if (!credential.RootElement.TryGetProperty("credentials", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0
            || !list[0].TryGetProperty("credential", out var sdJwt) || sdJwt.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(sdJwt.GetString()))
            throw new FlowException("credential", "200", "the response has no credentials[0].credential");
    }

    /// <summary>An openid4vci-proof+jwt, ES256, with the public key in jwk; signature IEEE P1363, base64url.</summary>
    private static string Proof(string audience, string nonce)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = key.ExportParameters(includePrivateParameters: false);
        var header = new JsonObject
        {
            ["typ"] = "openid4vci-proof+jwt",
            ["alg"] = "ES256",
            ["jwk"] = new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64Url.EncodeToString(p.Q.X), ["y"] = Base64Url.EncodeToString(p.Q.Y) },
        };
        var payload = new JsonObject
        {
            ["aud"] = audience,
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["nonce"] = nonce,
        };
        var signingInput = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." +
                           Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>RFC 8414 path insertion: {origin}/.well-known/{name}{path}.</summary>
    private static Uri WellKnown(Uri identifier, string name) =>
        new(identifier.GetLeftPart(UriPartial.Authority) + "/.well-known/" + name + identifier.AbsolutePath.TrimEnd('/'));

    private async Task<JsonDocument> GetJsonAsync(string step, Uri uri)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await SendAsync(step, request);
    }

    private async Task<JsonDocument> PostAsync(string step, Uri uri, HttpContent content, string? bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return await SendAsync(step, request);
    }

    private async Task<JsonDocument> SendAsync(string step, HttpRequestMessage request)
    {
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
            throw new FlowException(step, ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(bytes));
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new FlowException(step, "200", "not JSON: " + e.Message);
        }
    }

    private static string Str(JsonDocument document, string step, string name) =>
        document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FlowException(step, "200", $"no string member '{name}' in the response");
}

/// <summary>
/// Where the CPU goes: the same flows, run step by step — every flow's offer resolution, then every flow's issuer
/// metadata, and so on — with the CPU counters sampled around each step, so each endpoint's cost per call shows.
/// </summary>
internal static class Breakdown
{
    public static async Task<int> RunAsync(BenchOptions options, Wallet wallet, string[] offerUris, FailureLog failures)
    {
        var states = offerUris.Select(u => new FlowState(u)).ToArray();
        var msPerTick = 1000.0 / options.ClockTicks;
        foreach (var (name, run) in Wallet.Steps)
        {
            var live = states.Where(s => !s.Failed).ToArray();
            await Task.Delay(250);
            var before = CpuSample.Take(options);
            var wall = Stopwatch.StartNew();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < live.Length)
                {
                    try
                    {
                        await run(wallet, live[i]);
                    }
                    catch (FlowException e)
                    {
                        live[i].Failed = true;
                        failures.Add(e.Step, e.Status, e.Body);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException)
                    {
                        live[i].Failed = true;
                        failures.Add(name + " transport", e.GetType().Name, e.Message);
                    }
                }
            })));
            wall.Stop();
            var after = CpuSample.Take(options);
            double? PerCall(long? a, long? b) => a is { } x && b is { } y && live.Length > 0 ? (y - x) * msPerTick / live.Length : null;
            var server = PerCall(before.Server, after.Server);
            var postgres = PerCall(before.Postgres, after.Postgres);
            var client = (after.Client - before.Client).TotalMilliseconds / Math.Max(1, live.Length);
            static string F(double? v) => v is { } x ? x.ToString("F3", CultureInfo.InvariantCulture) : "–";
            Console.WriteLine(Program.Invariant(
                $"BENCH_STEP | {options.Database} | {name} | {live.Length} | {live.Length / wall.Elapsed.TotalSeconds:F0} | {F(server)} | {F(postgres)} | {client:F3} |"));
        }
        if (failures.Count > 0)
        {
            failures.Print();
            return 1;
        }
        return 0;
    }
}

/// <summary>What one flow has learnt so far.</summary>
internal sealed class FlowState(string offerUri)
{
    public string OfferUri { get; } = offerUri;
    public string Issuer { get; set; } = "";
    public string ConfigurationId { get; set; } = "";
    public string Code { get; set; } = "";
    public Uri? CredentialEndpoint { get; set; }
    public Uri? NonceEndpoint { get; set; }
    public Uri? AuthorizationServer { get; set; }
    public Uri? TokenEndpoint { get; set; }
    public string AccessToken { get; set; } = "";
    public string Nonce { get; set; } = "";
    public bool Failed { get; set; }
}

/// <summary>Failures by step and status, with the first bodies of each kind.</summary>
internal sealed class FailureLog
{
    private const int SamplesPerKind = 3;
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _samples = new(StringComparer.Ordinal);
    private int _total;

    public int Count => Volatile.Read(ref _total);

    public void Add(string step, string status, string body)
    {
        Interlocked.Increment(ref _total);
        var kind = step + " " + status;
        _counts.AddOrUpdate(kind, 1, (_, n) => n + 1);
        var samples = _samples.GetOrAdd(kind, _ => new ConcurrentQueue<string>());
        if (samples.Count < SamplesPerKind) samples.Enqueue(body.Length > 600 ? body[..600] + "…" : body);
    }

    public void Print()
    {
        Console.Error.WriteLine(Program.Invariant($"bench: {Count} flows FAILED:"));
        foreach (var (kind, count) in _counts.OrderByDescending(kv => kv.Value))
        {
            Console.Error.WriteLine(Program.Invariant($"  {count} × {kind}"));
            foreach (var sample in _samples[kind]) Console.Error.WriteLine($"      {sample}");
        }
    }
}

/// <summary>CPU counters from /proc, in clock ticks.</summary>
internal sealed record CpuSample(long? Server, long? Postgres, TimeSpan Client, long MachineBusy, long MachineTotal)
{
    public static CpuSample Take(BenchOptions options)
    {
        long? server = options.ServerPid is { } s ? ProcTicks(s, includeChildren: false) : null;
        long? postgres = options.PostgresPid is { } p ? ClusterTicks(p) : null;
        var (busy, total) = MachineTicks();
        using var self = Process.GetCurrentProcess();
        return new CpuSample(server, postgres, self.TotalProcessorTime, busy, total);
    }

    /// <summary>
    /// utime + stime of a process (all its threads); with includeChildren also cutime + cstime, the CPU time of its
    /// children that exited and were reaped (PostgreSQL backends that ended during the run).
    /// </summary>
    internal static long ProcTicks(int pid, bool includeChildren)
    {
        var fields = StatFields(pid) ?? throw new InvalidOperationException(Program.Invariant($"/proc/{pid}/stat is not readable"));
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        if (includeChildren) ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return ticks;
    }

    /// <summary>The postmaster (with its reaped children) plus every live process whose parent is the postmaster.</summary>
    internal static long ClusterTicks(int postmaster)
    {
        var ticks = ProcTicks(postmaster, includeChildren: true);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == postmaster) continue;
            var fields = StatFields(pid);
            if (fields is null || fields[1] != postmaster.ToString(CultureInfo.InvariantCulture)) continue;
            ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        return ticks;
    }

    /// <summary>The fields of /proc/pid/stat after "(comm)": [0] state, [1] ppid, … [11] utime, [12] stime, [13] cutime, [14] cstime.</summary>
    private static string[]? StatFields(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText(Program.Invariant($"/proc/{pid}/stat"));
        }
        catch (IOException)
        {
            return null; // the process ended in between
        }
        var close = text.LastIndexOf(')');
        return close < 0 ? null : text[(close + 2)..].Split(' ');
    }

    /// <summary>The machine's busy and total ticks over all CPUs (first line of /proc/stat).</summary>
    internal static (long Busy, long Total) MachineTicks()
    {
        var line = File.ReadLines("/proc/stat").First();
        var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var total = values.Take(8).Sum(); // user nice system idle iowait irq softirq steal
        var idle = values[3] + values[4];
        return (total - idle, total);
    }
}

/// <summary>The figures of one run.</summary>
internal sealed record Report(
    string Database, bool Warmup, int Concurrency, int Flows, int Succeeded, int Failed, double Seconds, double FlowsPerSecond,
    double P50Ms, double P99Ms, double? ServerCpuMsPerFlow, double? PostgresCpuMsPerFlow, double ClientCpuMsPerFlow, double MachineBusyPercent, double OtherBusyPercent)
{
    public static Report Create(BenchOptions o, int flows, double[] sortedLatencies, int failed, TimeSpan wall, CpuSample before, CpuSample after)
    {
        var msPerTick = 1000.0 / o.ClockTicks;
        double? PerFlow(long? a, long? b) => a is { } x && b is { } y && flows > 0 ? (y - x) * msPerTick / flows : null;
        var machineTotal = after.MachineTotal - before.MachineTotal;
        // What the machine spent on anything else than the server, PostgreSQL and this load generator.
        var ours = (after.Server - before.Server ?? 0) + (after.Postgres - before.Postgres ?? 0) + (after.Client - before.Client).TotalMilliseconds / msPerTick;
        var other = machineTotal > 0 ? 100.0 * Math.Max(0, after.MachineBusy - before.MachineBusy - ours) / machineTotal : 0;
        return new Report(
            o.Database, o.Warmup, o.Concurrency, flows, sortedLatencies.Length, failed, wall.TotalSeconds,
            sortedLatencies.Length / wall.TotalSeconds,
            Percentile(sortedLatencies, 0.50), Percentile(sortedLatencies, 0.99),
            PerFlow(before.Server, after.Server), PerFlow(before.Postgres, after.Postgres),
            (after.Client - before.Client).TotalMilliseconds / flows,
            machineTotal > 0 ? 100.0 * (after.MachineBusy - before.MachineBusy) / machineTotal : 0, other);
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    public void Print(BenchOptions o, (string Step, double[] Sorted)[] steps)
    {
        static string F(double? v, string format) => v is { } x && !double.IsNaN(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "–";
        var name = Warmup ? Database + " (warm-up)" : Database;
        Console.WriteLine(Program.Invariant(
            $"| {name} | {Concurrency} | {Flows} | {F(FlowsPerSecond, "F0")} | {F(P50Ms, "F1")} | {F(P99Ms, "F1")} | {F(ServerCpuMsPerFlow, "F3")} | {F(PostgresCpuMsPerFlow, "F3")} |"));
        Console.WriteLine(Program.Invariant(
            $"BENCH_CONTEXT | {name} | {Concurrency} | {F(ClientCpuMsPerFlow, "F3")} | {F(MachineBusyPercent, "F0")} | {F(OtherBusyPercent, "F0")} | {F(Seconds, "F1")} |"));
        var stepJson = new JsonObject();
        foreach (var (step, sorted) in steps)
            stepJson[step] = new JsonObject { ["p50_ms"] = Math.Round(Percentile(sorted, 0.5), 2), ["p99_ms"] = Math.Round(Percentile(sorted, 0.99), 2), ["max_ms"] = sorted.Length > 0 ? Math.Round(sorted[^1], 2) : null };
        Console.Error.WriteLine("bench: step latency p50/p99/max ms: " + string.Join(", ", steps.Select(st =>
            Program.Invariant($"{st.Step} {F(Percentile(st.Sorted, 0.5), "F1")}/{F(Percentile(st.Sorted, 0.99), "F1")}/{F(st.Sorted.Length > 0 ? st.Sorted[^1] : double.NaN, "F0")}"))));
        var json = new JsonObject
        {
            ["database"] = Database,
            ["warmup"] = Warmup,
            ["concurrency"] = Concurrency,
            ["flows"] = Flows,
            ["succeeded"] = Succeeded,
            ["failed"] = Failed,
            ["seconds"] = Math.Round(Seconds, 3),
            ["flows_per_second"] = Math.Round(FlowsPerSecond, 1),
            ["p50_ms"] = Math.Round(P50Ms, 2),
            ["p99_ms"] = Math.Round(P99Ms, 2),
            ["server_cpu_ms_per_flow"] = ServerCpuMsPerFlow is { } s ? Math.Round(s, 4) : null,
            ["postgres_cpu_ms_per_flow"] = PostgresCpuMsPerFlow is { } p ? Math.Round(p, 4) : null,
            ["client_cpu_ms_per_flow"] = Math.Round(ClientCpuMsPerFlow, 4),
            ["machine_busy_percent"] = Math.Round(MachineBusyPercent, 1),
            ["other_processes_busy_percent"] = Math.Round(OtherBusyPercent, 1),
            ["server_pid"] = o.ServerPid,
            ["postgres_pid"] = o.PostgresPid,
            ["clk_tck"] = o.ClockTicks,
            ["steps"] = stepJson,
        };
        Console.WriteLine("BENCH_JSON " + json.ToJsonString());
    }
}
