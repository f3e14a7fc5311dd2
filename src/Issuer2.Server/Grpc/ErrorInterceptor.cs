using Grpc.Core;
using Grpc.Core.Interceptors;
using Issuer2.Core.Common;

namespace Issuer2.Server.Grpc;

/// <summary>Turns an unexpected exception (a bug) into INTERNAL with nothing leaked, and logs it.</summary>
public sealed partial class ErrorInterceptor(ILogger<ErrorInterceptor> log) : Interceptor
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
            throw Internal(e, context);
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
            throw Internal(e, context);
        }
    }

    private static bool Unexpected(Exception e, ServerCallContext context) =>
        e is not RpcException && !(e is OperationCanceledException && context.CancellationToken.IsCancellationRequested);

    private RpcException Internal(Exception e, ServerCallContext context)
    {
        LogUnexpected(log, context.Method, e);
        return new Error(ErrorKind.Aborted, ErrorReasons.Internal, "An internal error occurred; it was logged.", []).ToRpcException(StatusCode.Internal);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected error in {Method}.")]
    private static partial void LogUnexpected(ILogger logger, string method, Exception exception);
}
