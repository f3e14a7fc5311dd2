using Grpc.AspNetCore.Server;
using Grpc.Core;
using Issuer2.Core.ApiKeys;
using Issuer2.Core.Common;
using Issuer2.Server.Grpc;

namespace Issuer2.Server.Auth;

/// <summary>
/// Authenticates every gRPC call (native and gRPC-Web) by its <c>authorization: Bearer</c> API key before the gRPC
/// framework reads the request message, failing closed: only the health and reflection services are open. A refused
/// call is answered at once with UNAUTHENTICATED and nothing of its body is read. The caller is then available
/// through <see cref="CallerContext"/>.
/// </summary>
internal sealed partial class ApiKeyMiddleware(RequestDelegate next, ILogger<ApiKeyMiddleware> log)
{
    private static readonly string[] OpenServices = ["grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"];

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsGuarded(context))
        {
            await next(context);
            return;
        }

        // Note: resolved here, not as a parameter of this method: a parameter is resolved for every request, and the
        // authenticator's store leases a pooled database context (about 1 % of the server's CPU under wallet load).
        var authenticator = context.RequestServices.GetRequiredService<ApiKeyAuthenticator>();
        // One authorization header or none: several are not one key.
        var authorization = context.Request.Headers.Authorization;
        var result = await authenticator.AuthenticateAsync(authorization.Count == 1 ? authorization[0] : null, context.RequestAborted);
        if (!result.IsSuccess)
        {
            // The audit line: why, which of our keys (never the key), from where, for what.
            var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.FullName ?? context.Request.Path.Value ?? "";
            LogRefused(log, result.Error.Reason, result.Error.KeyId, method, context.Connection.RemoteIpAddress?.ToString());
            await GrpcStatusResponse.WriteAsync(context, result.Error.Error.ToRpcException());
            return;
        }

        CallerContext.Set(context, result.Value);
        await next(context);
    }

    [LoggerMessage(EventId = 4010, EventName = "AuthenticationRefused", Level = LogLevel.Warning,
        Message = "gRPC authentication refused: {Reason} (key id {KeyId}) for {Method} from {RemoteAddress}.")]
    private static partial void LogRefused(ILogger logger, string reason, string? keyId, string method, string? remoteAddress);

    /// <summary>
    /// Whether the request is a gRPC call that needs an API key. Only gRPC methods are guarded here: wallet endpoints
    /// authenticate their own way, unknown methods are UNIMPLEMENTED, health and reflection are open.
    /// </summary>
    internal static bool IsGuarded(HttpContext context)
    {
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>();
        return method is not null && !OpenServices.Contains(method.Method.ServiceName, StringComparer.Ordinal);
    }
}

/// <summary>Where the authenticated caller of a gRPC call is kept: on its HTTP request, by <see cref="ApiKeyMiddleware"/>.</summary>
public static class CallerContext
{
    private static readonly object Key = new();

    internal static void Set(HttpContext context, Caller caller) => context.Items[Key] = caller;

    /// <summary>The caller <see cref="ApiKeyMiddleware"/> authenticated on this request; null when it did not.</summary>
    internal static Caller? Find(HttpContext context) => context.Items.TryGetValue(Key, out var caller) ? caller as Caller : null;

    /// <summary>The caller; the middleware guarantees one on every authenticated method.</summary>
    public static Caller Caller(this ServerCallContext context) =>
        context.GetHttpContext().Items.TryGetValue(Key, out var caller) && caller is Caller c
            ? c
            : throw new InvalidOperationException("The call was not authenticated.");
}
