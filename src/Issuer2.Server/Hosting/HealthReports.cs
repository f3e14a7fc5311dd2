using System.Collections.Concurrent;
using System.Text.Json;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Issuer2.Server.Hosting;

/// <summary>The latest description of each failing health check, for the transports that cannot carry it in their reply.</summary>
internal sealed class HealthReasons
{
    private readonly ConcurrentDictionary<string, string> _failing = new(StringComparer.Ordinal);

    public void Record(string check, HealthCheckResult result)
    {
        if (result.Status == HealthStatus.Healthy) _failing.TryRemove(check, out _);
        else _failing[check] = result.Description ?? result.Status.ToString();
    }

    /// <summary>"check: description; …" of the failing checks, or null when none fails.</summary>
    public string? Describe() =>
        _failing.IsEmpty ? null : string.Join("; ", _failing.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}"));
}

/// <summary>How the health checks are reported: <c>/healthz</c> as JSON, grpc.health.v1 with a reason trailer.</summary>
internal static class HealthReports
{
    /// <summary>The trailer of a grpc.health.v1 answer that is not SERVING: why (the protocol's message has no field for it).</summary>
    public const string ReasonTrailer = "issuer2-health-reason";

    /// <summary>
    /// <c>/healthz</c>: 200 when healthy, 503 otherwise, with <c>{"status", "checks": {name: {"status", "description"}}}</c>
    /// and <c>Cache-Control: no-store</c>.
    /// </summary>
    public static Task WriteAsync(HttpContext http, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(report);
        http.Response.Headers.CacheControl = "no-store";
        http.Response.ContentType = "application/json";
        var checks = report.Entries.ToDictionary(
            e => e.Key,
            e => e.Value.Description is { } description
                ? new Dictionary<string, string> { ["status"] = e.Value.Status.ToString(), ["description"] = description }
                : new Dictionary<string, string> { ["status"] = e.Value.Status.ToString() },
            StringComparer.Ordinal);
        return http.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object> { ["status"] = report.Status.ToString(), ["checks"] = checks }));
    }

    public static HealthCheckOptions Options() => new() { ResponseWriter = WriteAsync };
}

/// <summary>Adds <see cref="HealthReports.ReasonTrailer"/> to a grpc.health.v1 Check answer that is not SERVING.</summary>
internal sealed class HealthReasonInterceptor(HealthReasons reasons) : Interceptor
{
    private const string CheckMethod = "/grpc.health.v1.Health/Check";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var response = await continuation(request, context);
        if (context.Method == CheckMethod && response is HealthCheckResponse { Status: not HealthCheckResponse.Types.ServingStatus.Serving }
            && reasons.Describe() is { } reason)
        {
            context.ResponseTrailers.Add(HealthReports.ReasonTrailer, Ascii(reason));
        }
        return response;
    }

    /// <summary>Metadata values are printable ASCII.</summary>
    private static string Ascii(string text) => string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c : '?'));
}
