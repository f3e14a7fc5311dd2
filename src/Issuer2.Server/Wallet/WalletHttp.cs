using System.Text;
using System.Text.Json;
using Issuer2.Core.Wallet;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Issuer2.Server.Wallet;

/// <summary>Which kind of endpoint answers: the HTTP status of an error code depends on it (RFC 6749 §5.2, RFC 6750 §3.1).</summary>
public enum WalletEndpointKind
{
    Token,
    Resource,
    Other,
}

/// <summary>Reading wallet requests and writing responses: JSON, <c>Cache-Control: no-store</c>, spec error bodies.</summary>
public static class WalletHttp
{
    public const int MaxBodyBytes = 64 * 1024;

    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false, MaxDepth = 32 };

    /// <summary>The one mapping from (endpoint kind, error code) to HTTP status: every code named, no default.</summary>
    public static int StatusOf(WalletEndpointKind kind, WalletErrorCode code) => code switch
    {
        WalletErrorCode.NotFound => StatusCodes.Status404NotFound,
        // RFC 6749 §5.2: client authentication failed.
        WalletErrorCode.InvalidClient => kind == WalletEndpointKind.Token ? StatusCodes.Status401Unauthorized : StatusCodes.Status400BadRequest,
        // RFC 6750 §3.1: at a protected resource.
        WalletErrorCode.InvalidToken => kind == WalletEndpointKind.Resource ? StatusCodes.Status401Unauthorized : StatusCodes.Status400BadRequest,
        WalletErrorCode.InsufficientScope => kind == WalletEndpointKind.Resource ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest,
        WalletErrorCode.InvalidRequest or WalletErrorCode.InvalidGrant or WalletErrorCode.UnsupportedGrantType
            or WalletErrorCode.InvalidAuthorizationDetails or WalletErrorCode.InvalidCredentialRequest
            or WalletErrorCode.UnknownCredentialConfiguration or WalletErrorCode.UnknownCredentialIdentifier
            or WalletErrorCode.InvalidProof or WalletErrorCode.InvalidNonce or WalletErrorCode.InvalidEncryptionParameters
            or WalletErrorCode.CredentialRequestDenied or WalletErrorCode.InvalidNotificationId
            or WalletErrorCode.InvalidNotificationRequest => StatusCodes.Status400BadRequest,
    };

    public static IResult Error(WalletEndpointKind kind, WalletError error, int? status = null) =>
        new WalletErrorResult(status ?? StatusOf(kind, error.Code), error, kind);

    public static IResult Json(string json, int status = StatusCodes.Status200OK) => new NoStoreResult(json, "application/json", status);

    public static IResult NoContent() => new NoStoreResult(null, null, StatusCodes.Status204NoContent);

    /// <summary>The bearer access token, or null.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var values = request.Headers.Authorization;
        if (values.Count != 1) return null;
        var header = values[0]!;
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }

    /// <summary>Reads an application/x-www-form-urlencoded body: each parameter at most once (RFC 6749 §3.2).</summary>
    public static async Task<(Dictionary<string, string>? Form, WalletError? Error)> ReadFormAsync(HttpRequest request, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            return (null, WalletError.InvalidRequest("The request must be application/x-www-form-urlencoded."));
        var body = await ReadBodyAsync(request, ct);
        if (body is null) return (null, WalletError.InvalidRequest($"The request body exceeds {MaxBodyBytes} bytes."));
        var text = Encoding.UTF8.GetString(body);
        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(eq < 0 ? pair : pair[..eq]);
            var value = Decode(eq < 0 ? "" : pair[(eq + 1)..]);
            if (name is null || value is null) return (null, WalletError.InvalidRequest("The form encoding is malformed."));
            if (!form.TryAdd(name, value)) return (null, WalletError.InvalidRequest($"The parameter {Ascii(name)} appears more than once."));
        }
        return (form, null);
    }

    /// <summary>Reads an application/json body into a document; null with a reason when it is not one.</summary>
    public static async Task<(JsonDocument? Document, string? Problem)> ReadJsonAsync(HttpRequest request, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            return (null, "The request must be application/json.");
        var body = await ReadBodyAsync(request, ct);
        if (body is null) return (null, $"The request body exceeds {MaxBodyBytes} bytes.");
        try
        {
            return (JsonDocument.Parse(body, StrictJson), null);
        }
        catch (JsonException)
        {
            return (null, "The body is not valid JSON, or repeats a member.");
        }
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>Decodes one form component; null when a '%' is not followed by two hex digits or the bytes are not UTF-8.</summary>
    private static string? Decode(string s)
    {
        for (var i = s.IndexOf('%', StringComparison.Ordinal); i >= 0; i = s.IndexOf('%', i + 1))
        {
            if (i + 2 >= s.Length || !Uri.IsHexDigit(s[i + 1]) || !Uri.IsHexDigit(s[i + 2])) return null;
        }
        var decoded = Uri.UnescapeDataString(s.Replace('+', ' '));
        return decoded.Contains('\uFFFD', StringComparison.Ordinal) ? null : decoded;
    }

    /// <summary>error_description may hold only %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2).</summary>
    public static string Ascii(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text) sb.Append(c is >= ' ' and <= '~' and not '"' and not '\\' ? c : '?');
        return sb.ToString();
    }

    private sealed class NoStoreResult(string? body, string? contentType, int status) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.Headers.CacheControl = "no-store";
            if (body is null) return;
            response.ContentType = contentType;
            await response.WriteAsync(body);
        }
    }

    private sealed class WalletErrorResult(int status, WalletError error, WalletEndpointKind kind) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            var description = Ascii(error.Description);
            if (status == StatusCodes.Status401Unauthorized)
            {
                // RFC 6750 §3 at resources; RFC 6749 §5.2 at the token endpoint, which authenticates no client: the
                // challenge names the Basic scheme a client would have used, and nothing it could pass.
                response.Headers.WWWAuthenticate = kind == WalletEndpointKind.Resource
                    ? new StringValues($"Bearer error=\"{error.SpecCode}\", error_description=\"{description}\"")
                    : new StringValues("Basic realm=\"token\", charset=\"UTF-8\"");
            }
            response.StatusCode = status;
            response.Headers.CacheControl = "no-store";
            response.ContentType = "application/json";
            await response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = error.SpecCode, ["error_description"] = description }));
        }
    }
}
