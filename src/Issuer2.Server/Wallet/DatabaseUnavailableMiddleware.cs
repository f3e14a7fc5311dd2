using System.Globalization;
using System.Text.Json;
using Issuer2.Core.Wallet;
using Issuer2.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Issuer2.Server.Wallet;

/// <summary>
/// Answers an HTTP request that failed because the database is unavailable (<see cref="DatabaseFaults"/>) with
/// 503, <c>Retry-After</c>, <c>Cache-Control: no-store</c> and <c>{"error":"temporarily_unavailable", …}</c>
/// (RFC 6749 §4.1.2.1), instead of an empty 500. A request whose commit outcome is unknown (the connection dropped
/// while committing) gets the same answer, never a success it cannot prove; docs/wallet-endpoints.md says why a
/// retry cannot apply twice. Any other exception goes on to ASP.NET as the bug it is (500, nothing leaked). gRPC
/// calls never reach here: the error interceptor answers them UNAVAILABLE.
/// </summary>
internal sealed partial class DatabaseUnavailableMiddleware(RequestDelegate next, IOptions<IssuerOptions> options, ILogger<DatabaseUnavailableMiddleware> log)
{
    private readonly string _retryAfter = RetryAfterSeconds(options.Value.Database.RetryAfter);

    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (Exception e) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested && DatabaseFaults.Reason(e) is { } reason)
        {
            // Note: the route pattern, never the path: an offer URI holds a bearer token.
            LogUnavailable(log, http.GetEndpoint()?.DisplayName ?? "(no endpoint)", reason);
            LogDetail(log, e);
            await WriteAsync(http.Response);
        }
    }

    private async Task WriteAsync(HttpResponse response)
    {
        response.Clear();
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers.RetryAfter = _retryAfter;
        response.Headers.CacheControl = "no-store";
        response.ContentType = "application/json";
        await response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["error"] = WalletErrors.TemporarilyUnavailable,
            ["error_description"] = $"The database of the issuer is unavailable for now; retry in {_retryAfter} s. A retry is safe.",
        }));
    }

    /// <summary>RFC 9110 §10.2.3: delay-seconds, a whole number; at least 1.</summary>
    internal static string RetryAfterSeconds(TimeSpan retryAfter) =>
        Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Endpoint} answered 503: the database is unavailable ({Reason}).")]
    private static partial void LogUnavailable(ILogger logger, string endpoint, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The database fault behind the last 503.")]
    private static partial void LogDetail(ILogger logger, Exception exception);
}
