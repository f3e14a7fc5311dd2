using Grpc.Core;
using Grpc.Core.Interceptors;
using Issuer2.Core.ApiKeys;
using Issuer2.Core.Common;
using Issuer2.Server.Grpc;

namespace Issuer2.Server.Auth;

/// <summary>
/// Authenticates every gRPC call by its <c>authorization: Bearer</c> API key, failing closed: only the
/// health and reflection services are open. The caller is then available through <see cref="CallerContext"/>.
/// </summary>
public sealed class ApiKeyInterceptor(ApiKeyAuthenticator authenticator) : Interceptor
{
    private static readonly string[] OpenServices = ["/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/", "/grpc.reflection.v1.ServerReflection/"];

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        return await continuation(request, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        await continuation(request, responseStream, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        return await continuation(requestStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        await continuation(requestStream, responseStream, context);
    }

    private async Task AuthenticateAsync(ServerCallContext context)
    {
        if (OpenServices.Any(prefix => context.Method.StartsWith(prefix, StringComparison.Ordinal))) return;
        var header = context.RequestHeaders.GetValue("authorization");
        var result = await authenticator.AuthenticateAsync(header, context.CancellationToken);
        if (!result.IsSuccess) throw result.Error.ToRpcException();
        CallerContext.Set(context, result.Value);
    }
}

/// <summary>Where the authenticated caller of a gRPC call is kept.</summary>
public static class CallerContext
{
    private const string Key = "issuer2.caller";

    internal static void Set(ServerCallContext context, Caller caller) => context.UserState[Key] = caller;

    /// <summary>The caller; the interceptor guarantees one on every authenticated method.</summary>
    public static Caller Caller(this ServerCallContext context) =>
        context.UserState.TryGetValue(Key, out var caller) && caller is Caller c
            ? c
            : throw new InvalidOperationException("The call was not authenticated.");
}
