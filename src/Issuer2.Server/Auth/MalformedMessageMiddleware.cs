using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Issuer2.Core.Common;
using Issuer2.Server.Grpc;
using Error = Issuer2.Core.Common.Error;

namespace Issuer2.Server.Auth;

/// <summary>
/// Answers a gRPC call whose request message could not be read — bad protobuf, a truncated or extra frame, a wrong
/// compression flag — with INVALID_ARGUMENT (reason MALFORMED_REQUEST) instead of the framework's UNKNOWN
/// ("Exception was thrown by handler.") or INTERNAL: the one place for this, on both listeners.
/// </summary>
/// <remarks>
/// Grpc.AspNetCore reads and deserializes a unary or server-streaming request before any interceptor runs, so the
/// failure is only visible once the call has ended: as the call's status, still unsent in the response headers
/// (a trailers-only response), which is rewritten here. Statuses of our own code always carry an ErrorInfo and are
/// never touched; the message limit (RESOURCE_EXHAUSTED) and an unknown grpc-encoding (UNIMPLEMENTED, as the gRPC
/// compression spec asks) keep their codes.
/// </remarks>
internal sealed partial class MalformedMessageMiddleware(RequestDelegate next, ILogger<MalformedMessageMiddleware> log)
{
    private const string DetailsHeader = "grpc-status-details-bin";

    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);

        // Only a gRPC call that ended before its answer was sent, with the client still there, can be rewritten.
        var call = context.Features.Get<IServerCallContextFeature>()?.ServerCallContext;
        if (call is null || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested
            || context.Response.StatusCode != StatusCodes.Status200OK) return;

        var message = MalformationOf(call.Status, context.Response.Headers.ContainsKey(DetailsHeader));
        if (message is null) return;
        LogMalformed(log, call.Method, call.Status.StatusCode);
        GrpcStatusResponse.SetStatus(context.Response.Headers,
            new Error(ErrorKind.InvalidArgument, ErrorReasons.MalformedRequest, message, []).ToRpcException());
    }

    /// <summary>What was wrong with the request message, when the framework's status says it could not be read.</summary>
    private static string? MalformationOf(Status status, bool hasDetails) => status.StatusCode switch
    {
        // The framework's own refusals while framing the message: incomplete, followed by more data, compressed without grpc-encoding.
        StatusCode.Internal when !hasDetails && status.DebugException is null =>
            "The request body is not one well-formed gRPC message frame.",
        // An exception while reading the message, before any code of ours ran.
        StatusCode.Unknown => status.DebugException switch
        {
            InvalidProtocolBufferException => "The request message is not valid protobuf for this method.",
            // A compression flag other than 0 or 1, a compressed message that does not decompress, a length over 2 GB.
            InvalidDataException or IOException => "The request body is not one well-formed gRPC message frame.",
            _ => null,
        },
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a malformed request message to {Method} (the framework said {Status}).")]
    private static partial void LogMalformed(ILogger logger, string method, StatusCode status);
}
