namespace Issuer2.Core.Common;

/// <summary>The kinds of refusal a management call can end in; adapters map each to one transport status.</summary>
public enum ErrorKind
{
    InvalidArgument,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    Aborted,
    Unimplemented,
    OutOfRange,
    ResourceExhausted,
    Unavailable,
}

/// <summary>One field a request got wrong, named by its proto field path.</summary>
public sealed record FieldViolation(string Field, string Description);

/// <summary>An expected failure: a value, never an exception.</summary>
public sealed record Error(ErrorKind Kind, string Reason, string Message, IReadOnlyList<FieldViolation> Violations)
{
    /// <summary>When set, the caller may retry after this long (sent as <c>google.rpc.RetryInfo</c>).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The quota an error of <see cref="ErrorReasons.QuotaExceeded"/> names (ErrorInfo metadata and QuotaFailure).</summary>
    public QuotaViolation? Quota { get; init; }

    public static Error Invalid(IReadOnlyList<FieldViolation> violations) =>
        new(ErrorKind.InvalidArgument, ErrorReasons.InvalidArgument,
            violations.Count == 1 ? $"{violations[0].Field}: {violations[0].Description}" : $"The request has {violations.Count} invalid fields.",
            violations);

    public static Error Invalid(string field, string description) => Invalid([new FieldViolation(field, description)]);

    public static Error NotFound(string what) => new(ErrorKind.NotFound, ErrorReasons.NotFound, $"{what} was not found.", []);

    public static Error AlreadyExists(string reason, string message) => new(ErrorKind.AlreadyExists, reason, message, []);

    public static Error Precondition(string reason, string message) => new(ErrorKind.FailedPrecondition, reason, message, []);

    public static Error PermissionDenied(string message) => new(ErrorKind.PermissionDenied, ErrorReasons.PermissionDenied, message, []);

    public static Error Unauthenticated(string message) => new(ErrorKind.Unauthenticated, ErrorReasons.Unauthenticated, message, []);

    /// <summary>A rate limit refused the call: RESOURCE_EXHAUSTED <c>RATE_LIMITED</c>, retry after <paramref name="retryAfter"/>.</summary>
    public static Error RateLimited(string message, TimeSpan retryAfter) =>
        new(ErrorKind.ResourceExhausted, ErrorReasons.RateLimited, message, []) { RetryAfter = retryAfter };

    public static Error ConcurrentUpdate(string what) =>
        new(ErrorKind.Aborted, ErrorReasons.ConcurrentUpdate, $"{what} was changed by another request at the same time; retry.", []);
}

/// <summary>The <c>google.rpc.ErrorInfo.reason</c> values; each is documented in docs/management-api.md.</summary>
public static class ErrorReasons
{
    public const string Domain = "issuer2";
    public const string InvalidArgument = "INVALID_ARGUMENT";
    public const string MalformedRequest = "MALFORMED_REQUEST";
    public const string Unauthenticated = "UNAUTHENTICATED";
    public const string PermissionDenied = "PERMISSION_DENIED";
    public const string NotFound = "NOT_FOUND";
    public const string AlreadyExists = "ALREADY_EXISTS";
    public const string RequestIdConflict = "REQUEST_ID_CONFLICT";
    public const string ScopeInUse = "SCOPE_IN_USE";
    public const string ProfileInUse = "PROFILE_IN_USE";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    public const string PinRequired = "PIN_REQUIRED";
    public const string OfferNotActive = "OFFER_NOT_ACTIVE";
    public const string IdentityProviderMissing = "IDENTITY_PROVIDER_MISSING";
    public const string IssuerStateRequired = "ISSUER_STATE_REQUIRED";
    public const string ConcurrentUpdate = "CONCURRENT_UPDATE";
    public const string Internal = "INTERNAL";
    public const string CursorExpired = "CURSOR_EXPIRED";
    public const string QuotaExceeded = "QUOTA_EXCEEDED";
    public const string SubscriberLagging = "SUBSCRIBER_LAGGING";
    public const string DatabaseUnavailable = "DATABASE_UNAVAILABLE";
    public const string HostStopping = "HOST_STOPPING";
    public const string RateLimited = "RATE_LIMITED";
}
