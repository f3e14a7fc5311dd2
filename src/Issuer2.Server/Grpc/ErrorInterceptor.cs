using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Issuer2.Core.Common;
using Issuer2.Server.Hosting;
using Microsoft.Extensions.Options;
using Error = Issuer2.Core.Common.Error;

namespace Issuer2.Server.Grpc;

/// <summary>
/// Turns an unexpected exception into a status with nothing leaked: UNAVAILABLE <c>DATABASE_UNAVAILABLE</c> (with
/// <c>google.rpc.RetryInfo</c>) when the database is unavailable for now (<see cref="DatabaseFaults"/>), so clients
/// retry; INTERNAL for anything else (a bug), logged.
/// </summary>
public sealed partial class ErrorInterceptor(ILogger<ErrorInterceptor> log, IOptions<IssuerOptions> options) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (Unexpected(e, context))
        {
            throw Translate(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (Unexpected(e, context))
        {
            throw Translate(e, context);
        }
    }

    private static bool Unexpected(Exception e, ServerCallContext context) =>
        e is not RpcException && !(e is OperationCanceledException && context.CancellationToken.IsCancellationRequested);

    private RpcException Translate(Exception e, ServerCallContext context)
    {
        if (DatabaseFaults.Reason(e) is { } reason)
        {
            LogUnavailable(log, context.Method, reason);
            LogDetail(log, e);
            return Unavailable(options.Value.Database.RetryAfter);
        }
        LogUnexpected(log, context.Method, e);
        return new Error(ErrorKind.Aborted, ErrorReasons.Internal, "An internal error occurred; it was logged.", []).ToRpcException(StatusCode.Internal);
    }

    /// <summary>UNAVAILABLE with ErrorInfo <c>DATABASE_UNAVAILABLE</c> and RetryInfo: the call may be retried after the delay.</summary>
    internal static RpcException Unavailable(TimeSpan retryAfter)
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)StatusCode.Unavailable,
            Message = "The database is unavailable for now; retry with backoff.",
            Details =
            {
                Any.Pack(new ErrorInfo { Reason = ErrorReasons.DatabaseUnavailable, Domain = ErrorReasons.Domain }),
                Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }),
            },
        };
        return status.ToRpcException();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected error in {Method}.")]
    private static partial void LogUnexpected(ILogger logger, string method, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} answered UNAVAILABLE: the database is unavailable ({Reason}).")]
    private static partial void LogUnavailable(ILogger logger, string method, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The database fault behind the last UNAVAILABLE.")]
    private static partial void LogDetail(ILogger logger, Exception exception);
}
