using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Issuer2.Core.Common;
using Error = Issuer2.Core.Common.Error;

namespace Issuer2.Server.Grpc;

/// <summary>The one mapping from Core errors to gRPC statuses with google.rpc details: every kind named, no default.</summary>
public static class Errors
{
    public static StatusCode StatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        ErrorKind.Unauthenticated => StatusCode.Unauthenticated,
        ErrorKind.PermissionDenied => StatusCode.PermissionDenied,
        ErrorKind.NotFound => StatusCode.NotFound,
        ErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        ErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        ErrorKind.Aborted => StatusCode.Aborted,
        ErrorKind.Unimplemented => StatusCode.Unimplemented,
        ErrorKind.OutOfRange => StatusCode.OutOfRange,
        ErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        ErrorKind.Unavailable => StatusCode.Unavailable,
    };

    public static RpcException ToRpcException(this Error error, StatusCode? code = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        var status = new Google.Rpc.Status
        {
            Code = (int)(code ?? StatusOf(error.Kind)),
            Message = error.Message,
        };
        var info = new ErrorInfo { Reason = error.Reason, Domain = ErrorReasons.Domain };
        if (error.Quota is { } quota)
        {
            info.Metadata.Add("quota", quota.Quota);
            info.Metadata.Add("limit", quota.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        status.Details.Add(Any.Pack(info));
        if (error.RetryAfter is { } retryAfter) status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }));
        if (error.Quota is { } exceeded)
        {
            status.Details.Add(Any.Pack(new QuotaFailure
            {
                Violations = { new QuotaFailure.Types.Violation { Subject = exceeded.Subject, Description = exceeded.Description } },
            }));
        }
        if (error.Violations.Count > 0)
        {
            var bad = new BadRequest();
            foreach (var v in error.Violations) bad.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description });
            status.Details.Add(Any.Pack(bad));
        }
        return status.ToRpcException();
    }

    /// <summary>The value, or the error thrown as the status the client sees.</summary>
    public static T Unwrap<T>(this Result<T, Error> result) => result.IsSuccess ? result.Value : throw result.Error.ToRpcException();

    public static RpcException Invalid(string field, string description) => Error.Invalid(field, description).ToRpcException();
}
