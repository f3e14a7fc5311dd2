using System.Globalization;
using System.Threading.RateLimiting;
using Grpc.Core;
using Issuer2.Server.Grpc;
using Issuer2.Server.Hosting;
using Error = Issuer2.Core.Common.Error;

namespace Issuer2.Server.Auth;

/// <summary>
/// The gRPC limits, in memory on this host: calls per API key, and failed authentications per client address
/// (API-key guessing). Token buckets that are full again are dropped after a few idle seconds.
/// </summary>
public sealed class ApiKeyRateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string> _perKey;
    private readonly PartitionedRateLimiter<string> _failures;

    public ApiKeyRateLimits(LimitOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var perKey = IssuerRateLimits.Bucket(limits.ApiKey);
        var failures = IssuerRateLimits.Bucket(limits.FailedAuthentication);
        _perKey = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => perKey));
        _failures = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => failures));
    }

    /// <summary>Takes a permit for one call of this API key; null when taken, else the refusal.</summary>
    internal RpcException? TakeCall(string keyId)
    {
        using var lease = _perKey.AttemptAcquire(keyId);
        return lease.IsAcquired ? null : Refusal(lease, "This API key makes too many calls");
    }

    /// <summary>Whether the address may still try to authenticate (takes nothing); null when it may, else the refusal.</summary>
    internal RpcException? MayAuthenticate(string address)
    {
        // Note: a bucket refills by fractions; a try needs one whole permit left, which a failure would then take.
        if (_failures.GetStatistics(address) is not { CurrentAvailablePermits: < 1 }) return null;
        using var lease = _failures.AttemptAcquire(address);
        return lease.IsAcquired ? null : Refusal(lease, "Too many failed authentications from this address");
    }

    /// <summary>Counts a failed authentication of the address.</summary>
    internal void CountFailure(string address)
    {
        using var lease = _failures.AttemptAcquire(address);
    }

    private static RpcException Refusal(RateLimitLease lease, string what)
    {
        var retryAfter = IssuerRateLimits.RetryAfterOf(lease);
        return Error.RateLimited($"{what}; retry in {retryAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.", retryAfter).ToRpcException();
    }

    public void Dispose()
    {
        _perKey.Dispose();
        _failures.Dispose();
    }
}

/// <summary>
/// In front of <see cref="ApiKeyMiddleware"/>: an address whose failed authentications are spent is refused
/// RESOURCE_EXHAUSTED <c>RATE_LIMITED</c> (with RetryInfo) before its key is looked at, and each UNAUTHENTICATED
/// answer counts against its address.
/// </summary>
internal sealed class ApiKeyGuessingLimitMiddleware(RequestDelegate next, ApiKeyRateLimits limits)
{
    private static readonly string Unauthenticated = ((int)StatusCode.Unauthenticated).ToString(CultureInfo.InvariantCulture);

    public async Task InvokeAsync(HttpContext context)
    {
        if (!ApiKeyMiddleware.IsGuarded(context))
        {
            await next(context);
            return;
        }
        var address = ClientAddress.PartitionOf(context);
        if (limits.MayAuthenticate(address) is { } refused)
        {
            await GrpcStatusResponse.WriteAsync(context, refused);
            return;
        }
        await next(context);
        // The API-key middleware answered the call itself: no caller, UNAUTHENTICATED.
        if (CallerContext.Find(context) is null && context.Response.Headers["grpc-status"] == Unauthenticated) limits.CountFailure(address);
    }
}

/// <summary>
/// Behind <see cref="ApiKeyMiddleware"/>: each authenticated call takes a permit of its API key before its message is
/// read (a stream once, when it is opened), or is refused RESOURCE_EXHAUSTED <c>RATE_LIMITED</c> with RetryInfo.
/// </summary>
internal sealed class ApiKeyRateLimitMiddleware(RequestDelegate next, ApiKeyRateLimits limits)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (CallerContext.Find(context) is { } caller && limits.TakeCall(caller.KeyId) is { } refused)
        {
            await GrpcStatusResponse.WriteAsync(context, refused);
            return;
        }
        await next(context);
    }
}
