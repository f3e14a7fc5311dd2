using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Faults;

/// <summary>The steps of one pre-authorized wallet flow.</summary>
public enum FlowStep
{
    Resolve,
    Token,
    Nonce,
    Credential,
}

/// <summary>One attempt of one step as the wallet saw it. <see cref="Status"/> 0: no HTTP answer (refused, reset).</summary>
public sealed record LoadReply(
    FlowStep Step, int Attempt, int Status, string? Error, string? RetryAfter, string? CacheControl, string? ContentType,
    TimeSpan Sent, TimeSpan Received, string? Failure)
{
    /// <summary>An answer that may hide a committed write: the wallet cannot know whether the step took effect.</summary>
    public bool OutcomeUnknown => Status is 0 or 503;

    public override string ToString() =>
        $"{Step}#{Attempt} {Status} {Error ?? Failure ?? ""} (Retry-After {RetryAfter ?? "-"}, Cache-Control {CacheControl ?? "-"}, {ContentType ?? "-"}) at {Sent.TotalSeconds:0.000}-{Received.TotalSeconds:0.000} s";
}

/// <summary>How one flow ended.</summary>
public enum FlowEnd
{
    /// <summary>A credential was received.</summary>
    Issued,

    /// <summary>A retried step was refused because its first attempt, whose answer was lost, had taken effect.</summary>
    RefusedAfterUnknownOutcome,

    /// <summary>The offer had no use left (an earlier flow on it consumed one without the wallet learning of it).</summary>
    OfferUsedUp,

    /// <summary>A refusal nothing explains: the test fails on it.</summary>
    UnexplainedRefusal,

    /// <summary>The step kept failing until the flow's deadline or attempt limit.</summary>
    GaveUp,
}

/// <summary>One flow: the offer it used, how it ended, and whether any of its writes had an unknown outcome.</summary>
public sealed record FlowRecord(int OfferIndex, FlowEnd End, bool TokenReceived, bool TokenOutcomeUnknown, bool CredentialReceived, bool CredentialOutcomeUnknown, string Detail)
{
    /// <summary>Some step of the flow met a 503 or a cut connection and was retried.</summary>
    public bool Interrupted { get; init; }
}

/// <summary>
/// A load of real wallet flows (resolve the offer, token, nonce, an ES256 proof, credential) from a few concurrent
/// workers, built from <see cref="TestWallet"/> and <see cref="HolderKey"/>. Each worker takes one offer and runs its
/// uses one after another, so every refusal can be explained. A wallet that meets a 503 or a broken connection
/// retries the same step with the same inputs (the same code, the same nonce and proof) after <c>Retry-After</c>,
/// as a real wallet would: a retry whose first attempt had in fact committed is refused, and that is what shows the
/// retry did not apply twice. Every attempt is recorded for the test's assertions. Bounded: a step gives up after
/// <see cref="MaxAttempts"/> attempts or the flow's deadline; <see cref="StopAsync"/> waits a bounded time.
/// </summary>
public sealed class LoadDriver : IAsyncDisposable
{
    public const int MaxAttempts = 80;
    private static readonly TimeSpan FlowDeadline = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan ConnectionRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);

    private readonly FaultTenant _tenant;
    private readonly Stopwatch _clock;
    private readonly int _workers;
    private readonly TimeSpan _pace;
    private readonly ConcurrentQueue<int> _offers;
    private readonly ConcurrentQueue<LoadReply> _replies = new();
    private readonly ConcurrentQueue<FlowRecord> _flows = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private volatile TestWallet _wallet;

    /// <param name="offerIndexes">The offers of <paramref name="tenant"/> to use, each for its every use.</param>
    public LoadDriver(FaultTenant tenant, TestWallet wallet, IEnumerable<int> offerIndexes, int workers, TimeSpan pace, Stopwatch clock)
    {
        _tenant = tenant;
        _wallet = wallet;
        _offers = new ConcurrentQueue<int>(offerIndexes);
        _workers = workers;
        _pace = pace;
        _clock = clock;
    }

    public IReadOnlyList<LoadReply> Replies => [.. _replies];

    public IReadOnlyList<FlowRecord> Flows => [.. _flows];

    /// <summary>Points the wallets at another host (e.g. one started after a crash).</summary>
    public void Retarget(TestWallet wallet) => _wallet = wallet;

    public void Start()
    {
        for (var i = 0; i < _workers; i++)
        {
            _running.Add(Task.Run(WorkAsync));
        }
    }

    /// <summary>Starts no new flow; waits up to <paramref name="bound"/> for the running ones (and their retries) to end.</summary>
    public async Task StopAsync(TimeSpan bound)
    {
        await _stop.CancelAsync();
        await WaitAsync(bound);
    }

    /// <summary>Waits up to <paramref name="bound"/> for every offer's every use to have been tried.</summary>
    public Task RunToEndAsync(TimeSpan bound) => WaitAsync(bound);

    private async Task WaitAsync(TimeSpan bound)
    {
        var all = Task.WhenAll(_running);
        var finished = await Task.WhenAny(all, Task.Delay(bound));
        Assert.True(finished == all, $"the load did not end within {bound}: {_running.Count(t => !t.IsCompleted)} workers still running");
        await all;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAny(Task.WhenAll(_running), Task.Delay(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            _stop.Dispose();
        }
    }

    private async Task WorkAsync()
    {
        while (!_stop.IsCancellationRequested && _offers.TryDequeue(out var offerIndex))
        {
            // The uses of one offer, one after another: a use consumed by a flow whose answer was lost shows later.
            var tainted = false;
            for (var use = 0; use < _tenant.MaxUses && !_stop.IsCancellationRequested; use++)
            {
                var flow = await RunFlowAsync(offerIndex, tainted);
                _flows.Enqueue(flow);
                tainted |= flow.TokenOutcomeUnknown;
                if (flow.End == FlowEnd.OfferUsedUp)
                {
                    break;
                }

                await Task.Delay(_pace);
            }
        }
    }

    private async Task<FlowRecord> RunFlowAsync(int offerIndex, bool offerTainted)
    {
        var deadline = _clock.Elapsed + FlowDeadline;
        var issuer = _tenant.CredentialIssuer;
        var offerUri = OfferUrl.Parse(_tenant.Offers[offerIndex].OfferUrl).CredentialOfferUri!;

        var resolved = await StepAsync(FlowStep.Resolve, w => w.GetAsync(w.OnThisHost(offerUri)), deadline);
        if (resolved.Reply is not { } offer)
        {
            return new FlowRecord(offerIndex, FlowEnd.GaveUp, false, false, false, false, "resolve: " + resolved.Last) { Interrupted = resolved.Unknown };
        }

        if (offer.StatusCode == 404)
        {
            return new FlowRecord(offerIndex, offerTainted ? FlowEnd.OfferUsedUp : FlowEnd.UnexplainedRefusal, false, false, false, false, "resolve: " + offer) { Interrupted = resolved.Unknown };
        }

        if (offer.StatusCode != 200)
        {
            return new FlowRecord(offerIndex, FlowEnd.UnexplainedRefusal, false, false, false, false, "resolve: " + offer) { Interrupted = resolved.Unknown };
        }

        var code = TestWallet.CodeOf(offer.Json);
        var token = await StepAsync(FlowStep.Token, w => w.RedeemCodeAsync(_tenant.TenantId, code), deadline);
        if (token.Reply is not { } tokenReply)
        {
            return new FlowRecord(offerIndex, FlowEnd.GaveUp, false, token.Unknown, false, false, "token: " + token.Last) { Interrupted = resolved.Unknown || token.Unknown };
        }

        if (tokenReply.StatusCode != 200)
        {
            // The code was redeemed by the attempt whose answer was lost, or the offer's last use went that way.
            var explained = tokenReply.Error == "invalid_grant" && (token.Unknown || offerTainted);
            return new FlowRecord(offerIndex, explained ? FlowEnd.RefusedAfterUnknownOutcome : FlowEnd.UnexplainedRefusal, false, token.Unknown, false, false, "token: " + tokenReply) { Interrupted = resolved.Unknown || token.Unknown };
        }

        var accessToken = tokenReply.Text("access_token");
        var nonce = await StepAsync(FlowStep.Nonce, w => w.NonceAsync(_tenant.TenantId), deadline);
        if (nonce.Reply is not { StatusCode: 200 } nonceReply)
        {
            return new FlowRecord(offerIndex, nonce.Reply is null ? FlowEnd.GaveUp : FlowEnd.UnexplainedRefusal, true, token.Unknown, false, false, "nonce: " + (nonce.Reply?.ToString() ?? nonce.Last)) { Interrupted = resolved.Unknown || token.Unknown || nonce.Unknown };
        }

        using var key = new HolderKey();
        var body = TestWallet.CredentialRequest(_tenant.ConfigurationId, key.Proof(issuer, nonceReply.Text("c_nonce"), DateTimeOffset.UtcNow));
        var credential = await StepAsync(FlowStep.Credential, w => w.CredentialAsync(_tenant.TenantId, accessToken, body), deadline);
        if (credential.Reply is not { } credentialReply)
        {
            return new FlowRecord(offerIndex, FlowEnd.GaveUp, true, token.Unknown, false, credential.Unknown, "credential: " + credential.Last) { Interrupted = resolved.Unknown || token.Unknown || nonce.Unknown || credential.Unknown };
        }

        if (credentialReply.StatusCode != 200)
        {
            // The same nonce again (consumed by the lost attempt), or the session's one credential already issued.
            var explained = credential.Unknown && credentialReply.Error is "invalid_nonce" or "credential_request_denied";
            return new FlowRecord(offerIndex, explained ? FlowEnd.RefusedAfterUnknownOutcome : FlowEnd.UnexplainedRefusal, true, token.Unknown, false, credential.Unknown, "credential: " + credentialReply) { Interrupted = resolved.Unknown || token.Unknown || nonce.Unknown || credential.Unknown };
        }

        var credentials = credentialReply.Json.GetProperty("credentials");
        var interrupted = resolved.Unknown || token.Unknown || nonce.Unknown || credential.Unknown;
        return credentials.ValueKind == JsonValueKind.Array && credentials.GetArrayLength() == 1
            ? new FlowRecord(offerIndex, FlowEnd.Issued, true, token.Unknown, true, credential.Unknown, "") { Interrupted = interrupted }
            : new FlowRecord(offerIndex, FlowEnd.UnexplainedRefusal, true, token.Unknown, false, credential.Unknown, "credential: " + credentialReply) { Interrupted = interrupted };
    }

    /// <summary>
    /// One step, retried with the same request while the answer is 503 or none at all: the final answer (null when it
    /// never came), and whether an attempt before it had an unknown outcome.
    /// </summary>
    private async Task<(WalletReply? Reply, bool Unknown, string Last)> StepAsync(FlowStep step, Func<TestWallet, Task<WalletReply>> send, TimeSpan deadline)
    {
        var unknown = false;
        var last = "";
        for (var attempt = 1; attempt <= MaxAttempts && _clock.Elapsed < deadline; attempt++)
        {
            var sent = _clock.Elapsed;
            TimeSpan delay;
            try
            {
                var reply = await send(_wallet);
                var record = new LoadReply(step, attempt, reply.StatusCode, SafeError(reply), reply.RetryAfter, reply.CacheControl, reply.ContentType, sent, _clock.Elapsed, null);
                _replies.Enqueue(record);
                last = record.ToString();
                if (reply.StatusCode != 503)
                {
                    return (reply, unknown, last);
                }

                delay = RetryAfter(reply.RetryAfter);
            }
            catch (HttpRequestException e)
            {
                var record = new LoadReply(step, attempt, 0, null, null, null, null, sent, _clock.Elapsed, e.HttpRequestError.ToString());
                _replies.Enqueue(record);
                last = record.ToString();
                delay = ConnectionRetryDelay;
            }

            unknown = true;
            await Task.Delay(delay);
        }

        return (null, unknown, last);
    }

    /// <summary>The "error" member when the body is a JSON object; "(not JSON)" otherwise; null without a body.</summary>
    private static string? SafeError(WalletReply reply)
    {
        if (reply.Body.Length == 0 || reply.ContentType != "application/json")
        {
            return reply.Body.Length == 0 ? null : "(not JSON)";
        }

        try
        {
            using var document = JsonDocument.Parse(reply.Body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
        }
        catch (JsonException)
        {
            return "(not JSON)";
        }
    }

    private static TimeSpan RetryAfter(string? header) =>
        int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(Math.Min(seconds, MaxRetryDelay.TotalSeconds))
            : ConnectionRetryDelay;
}
