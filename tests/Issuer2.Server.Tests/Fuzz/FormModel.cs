using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>
/// The reference reading of a wallet request body, as docs/wallet-endpoints.md ("Bytes") states it: the media type
/// with at most charset=utf-8, at most 64 KiB, UTF-8 without a byte order mark; for forms strict percent-decoding,
/// no control character but TAB, CR and LF, each parameter once, and the JSON text rules for authorization_details.
/// The fuzzer's oracles read what they sent with it, independently of the issuer's code.
/// </summary>
public static class FormModel
{
    public const int MaxBody = 64 * 1024;

    /// <summary>Whether the Content-Type names <paramref name="mediaType"/> with no charset but utf-8.</summary>
    public static bool ContentTypeIs(string? contentType, string mediaType)
    {
        if (contentType is null)
        {
            return false;
        }

        var parts = contentType.Split(';');
        if (!parts[0].Trim().Equals(mediaType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var parameter in parts.Skip(1))
        {
            var eq = parameter.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                return false;
            }

            if (parameter[..eq].Trim().Equals("charset", StringComparison.OrdinalIgnoreCase)
                && !parameter[(eq + 1)..].Trim().Trim('"').Equals("utf-8", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether the bytes are a body at all: within the size cap, UTF-8, no byte order mark.</summary>
    public static bool BodyBytesOk(byte[]? body) =>
        body is null || (body.Length <= MaxBody && Utf8.IsValid(body) && !(body.Length >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF));

    /// <summary>The form's parameters, or null when the reader refuses it (invalid_request, before anything is looked up).</summary>
    public static Dictionary<string, string>? ReadForm(byte[]? body, string? contentType)
    {
        if (!ContentTypeIs(contentType, WireRequest.Form) || !BodyBytesOk(body))
        {
            return null;
        }

        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in Encoding.UTF8.GetString(body ?? []).Split('&'))
        {
            if (pair.Length == 0)
            {
                continue;
            }

            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = PercentDecode(eq < 0 ? pair : pair[..eq]);
            var value = PercentDecode(eq < 0 ? "" : pair[(eq + 1)..]);
            if (name is null || value is null || HasControl(name) || HasControl(value) || !form.TryAdd(name, value))
            {
                return null;
            }

            if (name == "authorization_details" && JsonTextRefused(value))
            {
                return null;
            }
        }

        return form;
    }

    private static string? PercentDecode(string s)
    {
        var bytes = new List<byte>();
        var encoded = Encoding.UTF8.GetBytes(s);
        for (var i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%')
            {
                if (i + 2 >= encoded.Length || !Uri.IsHexDigit((char)encoded[i + 1]) || !Uri.IsHexDigit((char)encoded[i + 2]))
                {
                    return null;
                }

                bytes.Add(byte.Parse(Encoding.ASCII.GetString(encoded, i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
            {
                bytes.Add(encoded[i] == '+' ? (byte)' ' : encoded[i]);
            }
        }

        var array = bytes.ToArray();
        return Utf8.IsValid(array) ? Encoding.UTF8.GetString(array) : null;
    }

    public static bool HasControl(string s) => s.Any(c => char.IsControl(c) && c is not ('\t' or '\r' or '\n'));

    /// <summary>
    /// Whether JSON text breaks a text rule the reader enforces even where the JSON's syntax is not its business: a
    /// lone surrogate or control character in a string or name, a number over 64 characters, a container over 100
    /// entries. Text that does not parse (or nests deeper than 32) is not refused here.
    /// </summary>
    public static bool JsonTextRefused(string text)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { MaxDepth = JsonText.MaxDepth });
        var counts = new Stack<(bool Array, int Count)>();
        try
        {
            while (reader.Read())
            {
                var token = reader.TokenType;
                if (token is JsonTokenType.EndArray or JsonTokenType.EndObject)
                {
                    counts.Pop();
                    continue;
                }

                if (counts.Count > 0 && (token == JsonTokenType.PropertyName || counts.Peek().Array))
                {
                    var (isArray, count) = counts.Pop();
                    if (count + 1 > JsonText.MaxContainer)
                    {
                        return true;
                    }

                    counts.Push((isArray, count + 1));
                }

                switch (token)
                {
                    case JsonTokenType.StartArray or JsonTokenType.StartObject:
                        counts.Push((token == JsonTokenType.StartArray, 0));
                        break;
                    case JsonTokenType.String or JsonTokenType.PropertyName:
                        try
                        {
                            if (JsonText.BadString(reader.GetString()!))
                            {
                                return true;
                            }
                        }
                        catch (InvalidOperationException)
                        {
                            return true;
                        }

                        break;
                    case JsonTokenType.Number when reader.ValueSpan.Length > JsonText.MaxNumber:
                        return true;
                }
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// What RFC 9396 authorization_details of type openid_credential ask for (OID4VCI 1.0 §5.1.1), read as the
    /// token endpoint reads it: a JSON array of 1 to 16 objects, each with that type and a string
    /// credential_configuration_id; null when it is not one (invalid_authorization_details).
    /// </summary>
    public static IReadOnlyList<string>? AuthorizationDetails(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() is 0 or > 16)
            {
                return null;
            }

            var ids = new List<string>();
            foreach (var item in root.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object
                    || !item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "openid_credential"
                    || !item.TryGetProperty("credential_configuration_id", out var id) || id.ValueKind != JsonValueKind.String)
                {
                    return null;
                }

                ids.Add(id.GetString()!);
            }

            return ids;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
