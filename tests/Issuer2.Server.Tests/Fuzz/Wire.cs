using System.Net.Http.Headers;
using System.Text;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>
/// A request as it goes on the wire: the method, the path exactly as written (no escape decoded, added or
/// normalised), extra headers, and the body's bytes with the Content-Type exactly as written.
/// </summary>
public sealed record WireRequest(
    string Method, string Path, byte[]? Body = null, string? ContentType = null, IReadOnlyList<KeyValuePair<string, string>>? Headers = null)
{
    public const string Form = "application/x-www-form-urlencoded";
    public const string Json = "application/json";

    public WireRequest WithHeader(string name, string value) =>
        this with { Headers = [.. Headers ?? [], new KeyValuePair<string, string>(name, value)] };

    public WireRequest WithoutHeader(string name) =>
        this with { Headers = [.. (Headers ?? []).Where(h => !h.Key.Equals(name, StringComparison.OrdinalIgnoreCase))] };

    /// <summary>A readable account of the request: bytes outside printable ASCII as \xNN, long bodies shortened.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Method).Append(' ').Append(Shorten(Path, 300));
        foreach (var (name, value) in Headers ?? [])
        {
            sb.Append(" | ").Append(name).Append(": ").Append(Shorten(value, 120));
        }

        if (ContentType is not null)
        {
            sb.Append(" | Content-Type: ").Append(ContentType);
        }

        if (Body is not null)
        {
            sb.Append(" | body (").Append(Body.Length).Append(" bytes): ").Append(Printable(Body, 600));
        }

        return sb.ToString();
    }

    public static string Printable(ReadOnlySpan<byte> bytes, int max)
    {
        var sb = new StringBuilder();
        foreach (var b in bytes)
        {
            if (sb.Length >= max)
            {
                sb.Append('…');
                break;
            }

            if (b is >= 0x20 and < 0x7F and not (byte)'\\')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..max] + $"…({text.Length} chars)";
}

/// <summary>What came back, with the headers the properties look at.</summary>
public sealed record WireResponse(
    int Status, byte[] Body, string? ContentType, string? CacheControl, string? WwwAuthenticate, string? Allow)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public override string ToString() =>
        $"{Status} ct={ContentType ?? "-"} cache={CacheControl ?? "-"}{(WwwAuthenticate is null ? "" : " www-authenticate=" + WwwAuthenticate)}{(Allow is null ? "" : " allow=" + Allow)} body={WireRequest.Printable(Body, 400)}";
}

/// <summary>Sends <see cref="WireRequest"/>s to one host over HTTP/1.1, many at once.</summary>
public sealed class WireClient(string hostUrl) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        MaxConnectionsPerServer = 64,
        AllowAutoRedirect = false,
        UseCookies = false,
    })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    private readonly string _hostUrl = hostUrl.TrimEnd('/');

    public async Task<WireResponse> SendAsync(WireRequest request)
    {
        var uri = new Uri(_hostUrl + request.Path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), uri);
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
        }

        foreach (var (name, value) in request.Headers ?? [])
        {
            Assert.True(message.Headers.TryAddWithoutValidation(name, value), $"header {name} refused by HttpClient");
        }

        using var response = await _http.SendAsync(message);
        var body = await response.Content.ReadAsByteArrayAsync();
        return new WireResponse(
            (int)response.StatusCode,
            body,
            response.Content.Headers.ContentType?.MediaType,
            response.Headers.CacheControl?.ToString(),
            response.Headers.WwwAuthenticate.Count == 0 ? null : response.Headers.WwwAuthenticate.ToString(),
            response.Content.Headers.Allow.Count == 0 ? null : string.Join(", ", response.Content.Headers.Allow));
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Builds bodies as bytes.</summary>
public static class Bytes
{
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static MediaTypeHeaderValue? ParseContentType(string? value) =>
        MediaTypeHeaderValue.TryParse(value, out var parsed) ? parsed : null;
}
