using Google.Rpc;
using Grpc.Core;

namespace Issuer2.Client;

/// <summary>The rich error details Issuer2 sends in a failed call's trailers (<c>google.rpc.Status</c>).</summary>
public static class RpcErrors
{
    /// <summary>The <c>google.rpc.ErrorInfo</c> reason, e.g. <c>SUBSCRIBER_LAGGING</c>, or null when there is none.</summary>
    public static string? Reason(RpcException error) => Detail<ErrorInfo>(error)?.Reason;

    /// <summary>The <c>google.rpc.RetryInfo</c> delay the server asked for, or null.</summary>
    public static TimeSpan? RetryDelay(RpcException error) => Detail<RetryInfo>(error)?.RetryDelay?.ToTimeSpan();

    /// <summary>Every bad field the server named (<c>google.rpc.BadRequest</c>), in its order; empty when none.</summary>
    public static IReadOnlyList<BadRequest.Types.FieldViolation> FieldViolations(RpcException error) =>
        Detail<BadRequest>(error)?.FieldViolations.ToList() ?? [];

    /// <summary>One detail of the error's <c>google.rpc.Status</c>, or null when absent or unreadable.</summary>
    public static T? Detail<T>(RpcException error)
        where T : class, Google.Protobuf.IMessage<T>, new()
    {
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            return error.GetRpcStatus()?.GetDetail<T>();
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            // A status-details trailer that is not a google.rpc.Status (a proxy's, say) carries no detail.
            return null;
        }
    }
}
