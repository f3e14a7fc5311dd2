using Grpc.Core;

namespace Issuer2.Cli;

/// <summary>The exit codes of issuer2, documented in clients/cli/README.md. One place maps a gRPC status to its code.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The command line itself is wrong (unknown command or option, missing argument): System.CommandLine's own code.</summary>
    public const int Usage = 1;
    /// <summary>Local input is wrong or missing: a file that cannot be read or parsed, no API key, no tenant.</summary>
    public const int Input = 2;
    /// <summary>The server refused the request as invalid: INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE.</summary>
    public const int Refused = 3;
    /// <summary>NOT_FOUND: no such resource (or another tenant's).</summary>
    public const int NotFound = 4;
    /// <summary>UNAUTHENTICATED or PERMISSION_DENIED: the API key is wrong, revoked or not allowed this call.</summary>
    public const int Denied = 5;
    /// <summary>ALREADY_EXISTS or ABORTED: a conflict with what exists (an id taken, a request id reused with other parameters).</summary>
    public const int Conflict = 6;
    /// <summary>RESOURCE_EXHAUSTED: a rate limit or a quota.</summary>
    public const int Exhausted = 7;
    /// <summary>UNAVAILABLE or DEADLINE_EXCEEDED: the server cannot be reached or is not ready (retries were spent).</summary>
    public const int Unavailable = 8;
    /// <summary>Any other status (INTERNAL, UNKNOWN, UNIMPLEMENTED, …).</summary>
    public const int Failed = 9;
    /// <summary>Interrupted (Ctrl+C) before the command finished.</summary>
    public const int Interrupted = 130;

    public static int Of(StatusCode code) => code switch
    {
        StatusCode.OK => Success,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => Refused,
        StatusCode.NotFound => NotFound,
        StatusCode.Unauthenticated or StatusCode.PermissionDenied => Denied,
        StatusCode.AlreadyExists or StatusCode.Aborted => Conflict,
        StatusCode.ResourceExhausted => Exhausted,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => Unavailable,
        StatusCode.Cancelled or StatusCode.Unknown or StatusCode.Internal or StatusCode.Unimplemented
            or StatusCode.DataLoss => Failed,
        _ => Failed,
    };
}

/// <summary>Local input that cannot be used; ends the command with <see cref="ExitCodes.Input"/>.</summary>
internal sealed class CliInputException(string message) : Exception(message);
