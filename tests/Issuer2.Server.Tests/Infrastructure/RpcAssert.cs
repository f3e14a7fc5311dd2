using Google.Rpc;
using Grpc.Core;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>Assertions on gRPC refusals: status code, google.rpc.ErrorInfo reason, google.rpc.BadRequest fields.</summary>
public static class RpcAssert
{
    public const string Domain = "issuer2";

    /// <summary>The call fails with this status code and an ErrorInfo of this reason (domain "issuer2").</summary>
    public static async Task<RpcException> FailsAsync(StatusCode code, string reason, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(
            ex.StatusCode == code,
            $"Expected status {code} ({reason}) but got {ex.StatusCode}: {ex.Status.Detail}");
        var status = ex.GetRpcStatus();
        Assert.True(status is not null, $"{code}: no google.rpc.Status in the grpc-status-details-bin trailer ({ex.Status.Detail}).");
        var info = status!.GetDetail<ErrorInfo>();
        Assert.True(info is not null, $"{code}: the google.rpc.Status carries no ErrorInfo ({ex.Status.Detail}).");
        Assert.Equal(reason, info!.Reason);
        Assert.Equal(Domain, info.Domain);
        return ex;
    }

    /// <summary>
    /// The call fails with RESOURCE_EXHAUSTED, reason QUOTA_EXCEEDED, ErrorInfo metadata naming the quota and its limit,
    /// and a QuotaFailure whose one violation names the subject the quota is counted on.
    /// </summary>
    public static async Task<QuotaFailure.Types.Violation> QuotaExceededAsync(Func<Task> call, string quota, int limit, string subject)
    {
        var ex = await FailsAsync(StatusCode.ResourceExhausted, "QUOTA_EXCEEDED", call);
        var status = ex.GetRpcStatus()!;
        var info = status.GetDetail<ErrorInfo>()!;
        Assert.Equal(quota, info.Metadata["quota"]);
        Assert.Equal(limit.ToString(System.Globalization.CultureInfo.InvariantCulture), info.Metadata["limit"]);
        var failure = status.GetDetail<QuotaFailure>();
        Assert.True(failure is not null, $"RESOURCE_EXHAUSTED without a QuotaFailure detail ({ex.Status.Detail}).");
        var violation = Assert.Single(failure!.Violations);
        Assert.Equal(subject, violation.Subject);
        Assert.False(string.IsNullOrWhiteSpace(violation.Description));
        return violation;
    }

    /// <summary>
    /// The call fails with INVALID_ARGUMENT, reason INVALID_ARGUMENT, and a BadRequest naming the field: a violation
    /// whose field is one of <paramref name="anyOfFields"/> or lies below one (e.g. "tx_code.value" matches
    /// "tx_code.value" and "profile.claims[0].path" matches "profile.claims[0].path[0]").
    /// </summary>
    public static async Task<BadRequest> InvalidAsync(Func<Task> call, params string[] anyOfFields)
    {
        var ex = await FailsAsync(StatusCode.InvalidArgument, "INVALID_ARGUMENT", call);
        var badRequest = ex.GetRpcStatus()!.GetDetail<BadRequest>();
        Assert.True(badRequest is not null, $"INVALID_ARGUMENT without a BadRequest detail ({ex.Status.Detail}).");
        var fields = badRequest!.FieldViolations.Select(v => v.Field).ToList();
        Assert.True(
            fields.Any(field => anyOfFields.Any(expected => FieldMatches(field, expected))),
            $"Expected a violation of {string.Join(" or ", anyOfFields)}; got [{string.Join(", ", fields)}] ({ex.Status.Detail}).");
        Assert.All(badRequest.FieldViolations, v => Assert.False(string.IsNullOrWhiteSpace(v.Description), $"{v.Field} has no description"));
        return badRequest;
    }

    /// <summary>
    /// A request naming a resource the caller cannot see in a field (not as its target): NOT_FOUND, or INVALID_ARGUMENT
    /// naming that field. docs/management-api.md leaves the choice open; either way nothing is revealed.
    /// </summary>
    public static async Task<RpcException> UnknownReferenceAsync(Func<Task> call, string field)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(
            ex.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument,
            $"Expected NOT_FOUND or INVALID_ARGUMENT on {field} but got {ex.StatusCode}: {ex.Status.Detail}");
        if (ex.StatusCode == StatusCode.InvalidArgument)
        {
            await InvalidAsync(() => Task.FromException(ex), field);
        }
        else
        {
            await NotFoundAsync(() => Task.FromException(ex));
        }

        return ex;
    }

    public static Task<RpcException> UnauthenticatedAsync(Func<Task> call) =>
        FailsAsync(StatusCode.Unauthenticated, "UNAUTHENTICATED", call);

    public static Task<RpcException> PermissionDeniedAsync(Func<Task> call) =>
        FailsAsync(StatusCode.PermissionDenied, "PERMISSION_DENIED", call);

    public static Task<RpcException> NotFoundAsync(Func<Task> call) =>
        FailsAsync(StatusCode.NotFound, "NOT_FOUND", call);

    private static bool FieldMatches(string actual, string expected) =>
        actual == expected
        || actual.StartsWith(expected + ".", StringComparison.Ordinal)
        || actual.StartsWith(expected + "[", StringComparison.Ordinal);
}
