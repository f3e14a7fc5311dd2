using System.Globalization;
using System.Text.Json;
using Grpc.AspNetCore.Server;
using Issuer2.Core.Wallet;
using Issuer2.Server.Auth;
using Issuer2.Server.Grpc;
using Microsoft.Extensions.Options;

namespace Issuer2.Server.Hosting;

/// <summary>
/// Answers a request that failed in the HTTP pipeline because the database is unavailable (<see cref="DatabaseFaults"/>)
/// as its audience expects, instead of an empty 500: a wallet gets 503, <c>Retry-After</c>, <c>Cache-Control:
/// no-store</c> and <c>{"error":"temporarily_unavailable", …}</c> (RFC 6749 §4.1.2.1); a gRPC call whose API key
/// could not be looked up gets UNAVAILABLE <c>DATABASE_UNAVAILABLE</c> (inside a service, the error interceptor
/// answers the same). A request whose commit outcome is unknown (the connection dropped while committing) gets the
/// same answer, never a success it cannot prove; docs/wallet-endpoints.md says why a retry cannot apply twice. Any
/// other exception goes on to ASP.NET as the bug it is (500, nothing leaked).
/// </summary>
internal sealed partial class DatabaseUnavailableMiddleware(RequestDelegate next, IOptions<IssuerOptions> options, ILogger<DatabaseUnavailableMiddleware> log)
{
    private readonly TimeSpan _retryAfter = options.Value.Database.RetryAfter;
    private readonly string _retryAfterSeconds = RetryAfterSeconds(options.Value.Database.RetryAfter);

    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (Exception e) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested && DatabaseFaults.Reason(e) is { } reason)
        {
            // Note: the route pattern, never the path: an offer URI holds a bearer token.
            var endpoint = http.GetEndpoint();
            LogUnavailable(log, endpoint?.DisplayName ?? "(no endpoint)", reason);
            LogDetail(log, e);
            if (endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null)
                await GrpcStatusResponse.WriteAsync(http, ErrorInterceptor.Unavailable(_retryAfter));
            else
                await WriteWalletErrorAsync(http.Response);
        }
    }

    private async Task WriteWalletErrorAsync(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers.RetryAfter = _retryAfterSeconds;
        response.Headers.CacheControl = "no-store";
        response.ContentType = "application/json";
        response.ContentLength = null;
        await response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["error"] = WalletErrors.TemporarilyUnavailable,
            ["error_description"] = $"The database of the issuer is unavailable for now; retry in {_retryAfterSeconds} s. A retry is safe.",
        }));
    }

    /// <summary>RFC 9110 §10.2.3: delay-seconds, a whole number; at least 1.</summary>
    internal static string RetryAfterSeconds(TimeSpan retryAfter) =>
        ((long)Core.Common.Clock.WholeSecondsToWait(retryAfter).TotalSeconds).ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Endpoint} answered unavailable: the database is unavailable ({Reason}).")]
    private static partial void LogUnavailable(ILogger logger, string endpoint, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The database fault behind the last unavailable answer.")]
    private static partial void LogDetail(ILogger logger, Exception exception);
}
