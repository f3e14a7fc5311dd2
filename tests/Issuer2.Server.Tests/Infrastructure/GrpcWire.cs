using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Google.Rpc;
using Grpc.Core;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>The status a raw gRPC or gRPC-Web response carried, wherever it carried it.</summary>
public sealed record WireStatus(HttpStatusCode HttpStatus, StatusCode? Code, string? Message, Google.Rpc.Status? Details)
{
    /// <summary>The google.rpc.ErrorInfo reason of grpc-status-details-bin, if any.</summary>
    public string? Reason => Details?.GetDetail<ErrorInfo>()?.Reason;

    public string? Domain => Details?.GetDetail<ErrorInfo>()?.Domain;
}

/// <summary>
/// gRPC below the client library: hand-made message frames (good or malformed), HTTP/2 and gRPC-Web requests, and
/// the status read back from headers (trailers-only), HTTP/2 trailers or a gRPC-Web trailer frame.
/// </summary>
public static class GrpcWire
{
    public const string CreateOffer = "/issuer2.v1.OfferService/CreateOffer";
    public const string ListProfiles = "/issuer2.v1.ProfileService/ListProfiles";
    public const string GrpcContentType = "application/grpc";
    public const string GrpcWebContentType = "application/grpc-web+proto";

    /// <summary>A length-prefixed message: the flag byte (0 = not compressed), the length (big-endian), the bytes.</summary>
    public static byte[] Frame(byte[] message, byte flag = 0, int? declaredLength = null)
    {
        var frame = new byte[5 + message.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), declaredLength ?? message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>An HTTP/2 client without TLS (prior knowledge), as native gRPC uses on the h2c listener.</summary>
    public static HttpClient Http2Client() => new(new SocketsHttpHandler())
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>An HTTP/1.1 client, as gRPC-Web uses on the public listener.</summary>
    public static HttpClient Http11Client() => new(new SocketsHttpHandler())
    {
        DefaultRequestVersion = HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>A gRPC (or gRPC-Web) POST of this body to the method, with this authorization value or none.</summary>
    public static HttpRequestMessage Request(string baseUrl, string method, HttpContent body, bool grpcWeb, string? authorization)
    {
        body.Headers.ContentType = MediaTypeHeaderValue.Parse(grpcWeb ? GrpcWebContentType : GrpcContentType);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl + method)) { Content = body };
        if (grpcWeb)
        {
            request.Version = HttpVersion.Version11;
            request.Headers.Add("x-grpc-web", "1");
        }
        else
        {
            request.Version = HttpVersion.Version20;
            request.Headers.TryAddWithoutValidation("te", "trailers");
        }

        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("authorization", authorization);
        }

        return request;
    }

    /// <summary>
    /// The gRPC status of a finished response: from its headers (a trailers-only response), its HTTP/2 trailers, or the
    /// trailer frame (flag 0x80) at the end of a gRPC-Web body.
    /// </summary>
    public static async Task<WireStatus> ReadStatusAsync(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsByteArrayAsync();
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers.Concat(response.TrailingHeaders))
        {
            fields[name] = string.Join(",", values);
        }

        for (var offset = 0; offset + 5 <= body.Length;)
        {
            var flag = body[offset];
            var length = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(offset + 1));
            if ((flag & 0x80) != 0)
            {
                foreach (var line in Encoding.ASCII.GetString(body, offset + 5, length).Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    fields[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                }
            }

            offset += 5 + length;
        }

        return StatusOf(response.StatusCode, fields);
    }

    /// <summary>The status named by these header fields (grpc-status, grpc-message, grpc-status-details-bin).</summary>
    public static WireStatus StatusOf(HttpStatusCode httpStatus, IReadOnlyDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        StatusCode? code = fields.TryGetValue("grpc-status", out var status)
            ? (StatusCode)int.Parse(status, CultureInfo.InvariantCulture)
            : null;
        var message = fields.TryGetValue("grpc-message", out var encoded) ? Uri.UnescapeDataString(encoded) : null;
        Google.Rpc.Status? details = null;
        if (fields.TryGetValue("grpc-status-details-bin", out var bin))
        {
            var padded = bin.PadRight(bin.Length + ((4 - (bin.Length % 4)) % 4), '=');
            details = Google.Rpc.Status.Parser.ParseFrom(Convert.FromBase64String(padded));
        }

        return new WireStatus(httpStatus, code, message, details);
    }

    /// <summary>
    /// Sends, on a bare TCP connection to the HTTP/1.1 listener, the head of a gRPC-Web request whose body announces
    /// <paramref name="declaredMessageLength"/> bytes, and only <paramref name="sentMessageBytes"/> of them; then reads
    /// the response head. The rest of the body is never sent, so an answer proves the server did not wait for it.
    /// </summary>
    public static async Task<WireStatus> SendHeadOfGrpcWebRequestAsync(
        string httpUrl, string method, string? authorization, int declaredMessageLength, int sentMessageBytes, TimeSpan timeout)
    {
        var uri = new Uri(httpUrl);
        using var cts = new CancellationTokenSource(timeout);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port, cts.Token);
        await using var stream = tcp.GetStream();

        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"POST {method} HTTP/1.1\r\n")
            .Append(CultureInfo.InvariantCulture, $"Host: {uri.Authority}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Type: {GrpcWebContentType}\r\n")
            .Append("X-Grpc-Web: 1\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {5 + declaredMessageLength}\r\n");
        if (authorization is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Authorization: {authorization}\r\n");
        }

        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), cts.Token);
        var partial = Frame(new byte[sentMessageBytes], declaredLength: declaredMessageLength);
        await stream.WriteAsync(partial, cts.Token);
        await stream.FlushAsync(cts.Token);

        // The response head: status line and header fields up to the empty line.
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (!EndsHead(received))
        {
            var read = await stream.ReadAsync(buffer, cts.Token);
            if (read == 0)
            {
                throw new IOException($"The server closed the connection after {received.Count} bytes of response.");
            }

            received.AddRange(buffer.AsSpan(0, read));
        }

        var lines = Encoding.ASCII.GetString([.. received]).Split("\r\n");
        var httpStatus = (HttpStatusCode)int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1).TakeWhile(l => l.Length > 0))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            fields[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        return StatusOf(httpStatus, fields);
    }

    private static bool EndsHead(List<byte> received)
    {
        var n = received.Count;
        return n >= 4 && received[n - 4] == '\r' && received[n - 3] == '\n' && received[n - 2] == '\r' && received[n - 1] == '\n';
    }
}

/// <summary>
/// A request body of one gRPC message frame that announces a large message and sends it slowly, a chunk at a time,
/// counting what it has sent: a client still uploading.
/// </summary>
public sealed class SlowFrameContent(int declaredMessageLength, int chunkSize, TimeSpan pause) : HttpContent
{
    private long _sent;

    /// <summary>Bytes of the body written so far (header included).</summary>
    public long BytesSent => Interlocked.Read(ref _sent);

    /// <summary>The whole body: the 5-byte frame header and the message.</summary>
    public long Length => 5L + declaredMessageLength;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(GrpcWire.Frame([], declaredLength: declaredMessageLength), cancellationToken);
        Interlocked.Add(ref _sent, 5);
        var chunk = new byte[chunkSize];
        for (var left = declaredMessageLength; left > 0; left -= chunkSize)
        {
            var n = Math.Min(left, chunkSize);
            await stream.WriteAsync(chunk.AsMemory(0, n), cancellationToken);
            await stream.FlushAsync(cancellationToken);
            Interlocked.Add(ref _sent, n);
            await Task.Delay(pause, cancellationToken);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = Length;
        return true;
    }
}
