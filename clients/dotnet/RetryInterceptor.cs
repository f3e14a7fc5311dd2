using Grpc.Core;
using Grpc.Core.Interceptors;
using Issuer2.Grpc.V1;

namespace Issuer2.Client;

/// <summary>
/// Tries idempotent unary calls again by <see cref="RetryPolicy"/>: every <c>Get…</c> and <c>List…</c> call, and
/// <c>CreateOffer</c> when it carries a <c>request_id</c> (the server returns the same offer to a retry). Other calls
/// (creates without a request id, updates, revokes, deletes) run once: a retry could do them twice.
/// </summary>
internal sealed class RetryInterceptor(RetryPolicy policy, TimeProvider clock) : Interceptor
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        if (policy.MaxAttempts <= 1 || !IsIdempotent(context.Method, request))
        {
            return continuation(request, context);
        }

        var state = new Attempts<TRequest, TResponse>(request, context, continuation, policy, clock);
        var response = state.RunAsync();
        return new AsyncUnaryCall<TResponse>(
            response,
            state.HeadersAsync(),
            state.Status,
            state.Trailers,
            state.Dispose);
    }

    /// <summary>Whether running the call twice has the effect of running it once.</summary>
    internal static bool IsIdempotent(IMethod method, object request) =>
        method.Name.StartsWith("Get", StringComparison.Ordinal)
        || method.Name.StartsWith("List", StringComparison.Ordinal)
        || (request is CreateOfferRequest create && create.RequestId.Length > 0);

    private sealed class Attempts<TRequest, TResponse>(
        TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context,
        Interceptor.AsyncUnaryCallContinuation<TRequest, TResponse> continuation,
        RetryPolicy policy,
        TimeProvider clock)
        where TRequest : class
        where TResponse : class
    {
        private readonly TaskCompletionSource<Metadata> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private AsyncUnaryCall<TResponse>? _current;

        public Task<Metadata> HeadersAsync() => _headers.Task;

        public Status Status() => _current?.GetStatus() ?? new Status(StatusCode.Unknown, "The call has not run.");

        public Metadata Trailers() => _current?.GetTrailers() ?? [];

        public void Dispose() => _current?.Dispose();

        public async Task<TResponse> RunAsync()
        {
            var ct = context.Options.CancellationToken;
            for (var attempt = 1; ; attempt++)
            {
                _current?.Dispose();
                _current = continuation(request, context);
                try
                {
                    var response = await _current.ResponseAsync.ConfigureAwait(false);
                    _headers.TrySetResult(await _current.ResponseHeadersAsync.ConfigureAwait(false));
                    return response;
                }
                catch (RpcException error) when (!ct.IsCancellationRequested && policy.DelayBefore(attempt + 1, error) is { } delay
                                                 && !PastDeadline(delay))
                {
                    policy.OnRetry?.Invoke(new RetryAttempt(context.Method.FullName, attempt + 1, delay, error));
                    await Task.Delay(delay, clock, ct).ConfigureAwait(false);
                }
                catch (Exception error)
                {
                    _headers.TrySetException(error);
                    throw;
                }
            }
        }

        // Note: a retry that could only start after the call's deadline would fail with DEADLINE_EXCEEDED anyway.
        private bool PastDeadline(TimeSpan delay) =>
            context.Options.Deadline is { } deadline && clock.GetUtcNow().UtcDateTime + delay >= deadline.ToUniversalTime();
    }
}
