using Google.Rpc;
using Grpc.Core;

namespace Issuer2.BrowserConsole.Services;

/// <summary>
/// A refused call as the console shows it: the status and message, the google.rpc.ErrorInfo reason, and the
/// google.rpc.BadRequest field violations, which forms show next to the field they name.
/// </summary>
public sealed class Problem
{
    private Problem(string code, string message, string? reason, IReadOnlyList<BadRequest.Types.FieldViolation> violations, TimeSpan? retryAfter)
    {
        Code = code;
        Message = message;
        Reason = reason;
        Violations = violations;
        RetryAfter = retryAfter;
    }

    /// <summary>The gRPC status name, e.g. INVALID_ARGUMENT.</summary>
    public string Code { get; }

    public string Message { get; }

    public string? Reason { get; }

    public IReadOnlyList<BadRequest.Types.FieldViolation> Violations { get; }

    public TimeSpan? RetryAfter { get; }

    /// <summary>A problem the console found itself (input it cannot send), as a field violation.</summary>
    public static Problem Local(string field, string description) =>
        new("INVALID_ARGUMENT", "Check the marked fields.", null, [new BadRequest.Types.FieldViolation { Field = field, Description = description }], null);

    public static Problem From(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var status = e.GetRpcStatus();
        var violations = status?.GetDetail<BadRequest>()?.FieldViolations.ToList() ?? [];
        var reason = status?.GetDetail<ErrorInfo>()?.Reason;
        var retry = status?.GetDetail<RetryInfo>()?.RetryDelay?.ToTimeSpan();
        return new Problem(CodeName(e.StatusCode), e.Status.Detail, reason, violations, retry);
    }

    /// <summary>The violations of exactly this field (e.g. "profile.claims[0].path").</summary>
    public IEnumerable<string> For(string field) =>
        Violations.Where(v => string.Equals(v.Field, field, StringComparison.Ordinal)).Select(v => v.Description);

    /// <summary>Violations no field of the form shows.</summary>
    public IEnumerable<BadRequest.Types.FieldViolation> Unclaimed(ICollection<string> shownFields) =>
        Violations.Where(v => !shownFields.Contains(v.Field));

    /// <summary>UNAUTHENTICATED, INVALID_ARGUMENT…: the canonical upper-case names gRPC documents.</summary>
    public static string CodeName(StatusCode code) => code switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.Unknown => "UNKNOWN",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.Aborted => "ABORTED",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Internal => "INTERNAL",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        _ => code.ToString(),
    };
}
