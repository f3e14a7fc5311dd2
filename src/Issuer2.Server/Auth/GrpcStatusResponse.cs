using System.Globalization;
using System.Text;
using Grpc.Core;

namespace Issuer2.Server.Auth;

/// <summary>
/// A gRPC call answered with a status and no message: HTTP 200 with <c>grpc-status</c>, <c>grpc-message</c> and the
/// status's trailers (<c>grpc-status-details-bin</c>) as response headers, the "Trailers-Only" response of
/// PROTOCOL-HTTP2.md. Grpc.AspNetCore answers the same way when a call fails before its first message, and gRPC-Web
/// carries it unchanged (the gRPC-Web middleware only rewrites the content type), so every client reads it as the
/// RpcException the status describes.
/// </summary>
internal static class GrpcStatusResponse
{
    private const string GrpcContentType = "application/grpc";

    /// <summary>Answers the call now. The rest of the request body is never read.</summary>
    public static Task WriteAsync(HttpContext context, RpcException status)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcContentType;
        SetStatus(response.Headers, status);
        // Note: completing sends the answer before Kestrel looks at the unread body: HTTP/2 then resets the stream
        // (NO_ERROR), HTTP/1.1 discards what still arrives for at most its drain timeout (5 s) to keep the connection.
        return response.CompleteAsync();
    }

    /// <summary>Replaces any status in these headers with this one.</summary>
    public static void SetStatus(IHeaderDictionary headers, RpcException status)
    {
        headers["grpc-status"] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        headers["grpc-message"] = PercentEncode(status.Status.Detail);
        foreach (var trailer in status.Trailers)
        {
            headers[trailer.Key] = trailer.IsBinary ? Convert.ToBase64String(trailer.ValueBytes) : trailer.Value;
        }
    }

    /// <summary>PROTOCOL-HTTP2.md: grpc-message is UTF-8, with every byte outside 0x20–0x7E, and '%', percent-encoded.</summary>
    private static string PercentEncode(string text)
    {
        var encoded = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%') encoded.Append((char)b);
            else encoded.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return encoded.ToString();
    }
}
