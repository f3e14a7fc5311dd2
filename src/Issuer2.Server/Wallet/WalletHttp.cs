using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Issuer2.Core.Common;
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
    /// <summary>The server-nonce header of RFC 9449 §8.</summary>
    public const string DpopNonceHeader = "DPoP-Nonce";

    /// <summary>The algs a DPoP challenge names (RFC 9449 §7.1).</summary>
    private static readonly string DpopAlgorithms = string.Join(' ', Core.Dpop.DpopProofValidator.Algorithms);

    public const int MaxBodyBytes = 64 * 1024;



    /// <summary>Form parameters whose value is JSON text (RFC 9396 §2: authorization_details).</summary>
    public static readonly IReadOnlySet<string> JsonValuedParameters = new HashSet<string>(StringComparer.Ordinal) { "authorization_details" };

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
            or WalletErrorCode.InvalidNotificationRequest or WalletErrorCode.UnsupportedResponseType or WalletErrorCode.InvalidScope
            or WalletErrorCode.InvalidTarget or WalletErrorCode.AccessDenied
            or WalletErrorCode.UnsupportedCredentialType or WalletErrorCode.UnsupportedCredentialFormat => StatusCodes.Status400BadRequest,
        // RFC 9449 §5, §7.1, §8, §9: 400 at the token endpoint, 401 with a DPoP challenge at resources.
        WalletErrorCode.InvalidDpopProof or WalletErrorCode.UseDpopNonce =>
            kind == WalletEndpointKind.Resource ? StatusCodes.Status401Unauthorized : StatusCodes.Status400BadRequest,
        WalletErrorCode.TemporarilyUnavailable => StatusCodes.Status503ServiceUnavailable,
        // RFC 6585 §4, with Retry-After (WalletError.RetryAfter).
        WalletErrorCode.TooManyRequests => StatusCodes.Status429TooManyRequests,
    };

    public static IResult Error(WalletEndpointKind kind, WalletError error, int? status = null) =>
        new WalletErrorResult(status ?? StatusOf(kind, error.Code), error, kind);

    /// <summary>A JSON answer; with <paramref name="dpopNonce"/>, a fresh server nonce in <c>DPoP-Nonce</c>.</summary>
    public static IResult Json(string json, int status = StatusCodes.Status200OK, string? dpopNonce = null) =>
        new NoStoreResult(json, "application/json", status, dpopNonce);

    public static IResult NoContent(string? dpopNonce = null) => new NoStoreResult(null, null, StatusCodes.Status204NoContent, dpopNonce);

    /// <summary>The DPoP authentication scheme's name (RFC 9449 §7.1).</summary>
    public const string DpopScheme = Core.Dpop.SenderConstraint.Scheme;

    /// <summary>
    /// The access token and its scheme from the one Authorization header: <c>Bearer</c> (RFC 6750) or <c>DPoP</c>
    /// (RFC 9449 §7.1), the scheme's name compared case-insensitively; nulls for anything else.
    /// </summary>
    public static (string? Scheme, string? Token) AccessToken(HttpRequest request)
    {
        var values = request.Headers.Authorization;
        if (values.Count != 1) return (null, null);
        var header = values[0]!;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return ("Bearer", header[7..].Trim());
        if (header.StartsWith(DpopScheme + " ", StringComparison.OrdinalIgnoreCase)) return (DpopScheme, header[(DpopScheme.Length + 1)..].Trim());
        return (null, null);
    }

    /// <summary>The DPoP proof header (RFC 9449 §4.1): null when absent; <paramref name="repeated"/> when sent more than once.</summary>
    public static string? DpopProof(HttpRequest request, out bool repeated)
    {
        var values = request.Headers[DpopScheme];
        repeated = values.Count > 1;
        return values.Count == 1 ? values[0] : null;
    }

    /// <summary>
    /// Why a path segment (as routed: percent-decoded where the escape was valid) is no tenant id or URI token: each
    /// is visible ASCII, so a control character, a space, a non-ASCII character or a '%' (an escape left undecoded,
    /// such as %FF or %2F) means the URI was mangled. Null when it is fine.
    /// </summary>
    public static WalletError? PathProblem(params ReadOnlySpan<string> segments)
    {
        foreach (var segment in segments)
        {
            foreach (var c in segment)
            {
                if (c is < '!' or > '~' or '%') return WalletError.InvalidRequest("The URI holds a character no issuer URI has.");
            }
        }
        return null;
    }

    /// <summary>
    /// Reads an application/x-www-form-urlencoded body: each parameter at most once (RFC 6749 §3.2), UTF-8 text
    /// (raw or percent-encoded) without control characters other than TAB, CR and LF. The JSON a parameter carries
    /// (<see cref="JsonValuedParameters"/>) obeys the text rules of a JSON body; its syntax and meaning are Core's.
    /// </summary>
    public static async Task<(Dictionary<string, string>? Form, WalletError? Error)> ReadFormAsync(HttpRequest request, CancellationToken ct)
    {
        if (MediaTypeProblem(request, "application/x-www-form-urlencoded") is { } wrongType) return (null, WalletError.InvalidRequest(wrongType));
        var body = await ReadBodyAsync(request, ct);
        if (body is null) return (null, WalletError.InvalidRequest($"The request body exceeds {MaxBodyBytes} bytes."));
        if (EncodingProblem(body) is { } badBytes) return (null, WalletError.InvalidRequest(badBytes));
        var text = Encoding.UTF8.GetString(body);
        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(eq < 0 ? pair : pair[..eq]);
            var value = Decode(eq < 0 ? "" : pair[(eq + 1)..]);
            if (name is null || value is null) return (null, WalletError.InvalidRequest("The form encoding is malformed, or a parameter is not UTF-8."));
            if (JsonText.HasControl(name) || JsonText.HasControl(value)) return (null, WalletError.InvalidRequest($"The parameter {Ascii(name)} holds NUL or another control character."));
            if (!form.TryAdd(name, value)) return (null, WalletError.InvalidRequest($"The parameter {Ascii(name)} appears more than once."));
            // Note: malformed JSON in such a parameter is the grant's to refuse (RFC 9396 §5: invalid_authorization_details).
            if (JsonValuedParameters.Contains(name) && JsonText.Problem(Encoding.UTF8.GetBytes(value), StrictJson.MaxDepth, out var syntaxOnly) is { } badJson && !syntaxOnly)
                return (null, WalletError.InvalidRequest($"The parameter {Ascii(name)}: {badJson}"));
        }
        return (form, null);
    }

    /// <summary>
    /// Reads an application/json body into a document; null with a reason when it is not one. Every string, number
    /// and container is checked here once (<see cref="JsonText.Problem"/>), so no reader after this one meets them.
    /// </summary>
    public static async Task<(JsonDocument? Document, string? Problem)> ReadJsonAsync(HttpRequest request, CancellationToken ct)
    {
        if (MediaTypeProblem(request, "application/json") is { } wrongType) return (null, wrongType);
        var body = await ReadBodyAsync(request, ct);
        if (body is null) return (null, $"The request body exceeds {MaxBodyBytes} bytes.");
        if (EncodingProblem(body) is { } badBytes) return (null, badBytes);
        if (JsonText.Problem(body, StrictJson.MaxDepth, out _) is { } badJson) return (null, badJson);
        try
        {
            return (JsonDocument.Parse(body, StrictJson), null);
        }
        catch (JsonException)
        {
            return (null, "The body is not valid JSON, or repeats a member.");
        }
    }

    /// <summary>Why the Content-Type is not <paramref name="mediaType"/> with, at most, charset=utf-8; null when it is.</summary>
    private static string? MediaTypeProblem(HttpRequest request, string mediaType)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase))
            return $"The request must be {mediaType}.";
        // Note: JSON (RFC 8259 §8.1) and these forms are UTF-8; another charset names an encoding this body must not have.
        if (type.Charset.HasValue && !HeaderUtilities.RemoveQuotes(type.Charset).Equals("utf-8", StringComparison.OrdinalIgnoreCase))
            return $"The request must be {mediaType} in UTF-8 (charset=utf-8, or none).";
        return null;
    }

    /// <summary>Why a body is not UTF-8 text without a byte order mark; null when it is.</summary>
    private static string? EncodingProblem(byte[] body)
    {
        if (!Utf8.IsValid(body)) return "The request body is not UTF-8.";
        // RFC 8259 §8.1: no byte order mark on a networked JSON text; in a form it would become part of a name.
        if (body.AsSpan().StartsWith("\uFEFF"u8)) return "The request body starts with a byte order mark.";
        return null;
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

    /// <summary>
    /// Decodes one form component ('+' is a space, %XX a byte); null when a '%' is not followed by two hex digits or
    /// the bytes are not UTF-8.
    /// </summary>
    private static string? Decode(string s)
    {
        var encoded = Encoding.UTF8.GetBytes(s);
        var bytes = new byte[encoded.Length];
        var length = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var b = encoded[i];
            if (b == '%')
            {
                if (i + 2 >= encoded.Length || !Uri.IsHexDigit((char)encoded[i + 1]) || !Uri.IsHexDigit((char)encoded[i + 2])) return null;
                b = (byte)((Uri.FromHex((char)encoded[i + 1]) << 4) | Uri.FromHex((char)encoded[i + 2]));
                i += 2;
            }
            else if (b == '+')
            {
                b = (byte)' ';
            }
            bytes[length++] = b;
        }
        var decoded = bytes.AsSpan(0, length);
        return Utf8.IsValid(decoded) ? Encoding.UTF8.GetString(decoded) : null;
    }

    /// <summary>error_description may hold only %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2).</summary>
    public static string Ascii(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text) sb.Append(c is >= ' ' and <= '~' and not '"' and not '\\' ? c : '?');
        return sb.ToString();
    }

    private sealed class NoStoreResult(string? body, string? contentType, int status, string? dpopNonce = null) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.Headers.CacheControl = "no-store";
            if (dpopNonce is not null) response.Headers[DpopNonceHeader] = dpopNonce;
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
            // RFC 6750 §3: also when the token does not enable the resource (insufficient_scope, 403: draft 13 §7.3.1.1).
            if (status == StatusCodes.Status401Unauthorized || (kind == WalletEndpointKind.Resource && error.Code == WalletErrorCode.InsufficientScope))
            {
                // RFC 6750 §3 (or RFC 9449 §7.1 for DPoP) at resources; RFC 6749 §5.2 at the token endpoint, which
                // authenticates no client: the challenge names the Basic scheme a client would have used.
                response.Headers.WWWAuthenticate = kind != WalletEndpointKind.Resource
                    ? new StringValues("Basic realm=\"token\", charset=\"UTF-8\"")
                    : error.DpopChallenge
                        ? new StringValues($"{DpopScheme} error=\"{error.SpecCode}\", error_description=\"{description}\", algs=\"{DpopAlgorithms}\"")
                        : new StringValues($"Bearer error=\"{error.SpecCode}\", error_description=\"{description}\"");
            }
            if (error.DpopNonce is not null) response.Headers[DpopNonceHeader] = error.DpopNonce;
            if (error.RetryAfter is { } retryAfter) response.Headers.RetryAfter = Hosting.DatabaseUnavailableMiddleware.RetryAfterSeconds(retryAfter);
            response.StatusCode = status;
            response.Headers.CacheControl = "no-store";
            response.ContentType = "application/json";
            var body = new System.Text.Json.Nodes.JsonObject { ["error"] = error.SpecCode, ["error_description"] = description };
            if (error.CNonce is { } cNonce)
            {
                // OID4VCI draft 13 §7.3.2: invalid_proof hands the wallet the nonce to prove with.
                body["c_nonce"] = cNonce.Value;
                body["c_nonce_expires_in"] = cNonce.ExpiresIn;
            }
            await response.WriteAsync(body.ToJsonString());
        }
    }
}
