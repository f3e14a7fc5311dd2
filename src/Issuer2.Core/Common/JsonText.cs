using System.Text.Json;

namespace Issuer2.Core.Common;

/// <summary>
/// The JSON text rules of everything a wallet sends — request bodies, JSON-valued parameters and the header and
/// claims of its JWTs — in one place: read once, before any reader meets a string it cannot unescape or a number or
/// container no request needs.
/// </summary>
public static class JsonText
{
    /// <summary>The longest JSON number accepted, in characters: no wallet request needs a longer one.</summary>
    public const int MaxNumberLength = 64;

    /// <summary>The most entries (elements of an array, members of an object) one JSON container may have.</summary>
    public const int MaxContainerSize = 100;

    /// <summary>
    /// Walks a JSON text once and names the first thing no wallet request holds: a string or member name with a
    /// lone surrogate, NUL or another control character but TAB, CR and LF; a number longer than
    /// <see cref="MaxNumberLength"/> characters; an array or object of more than <see cref="MaxContainerSize"/>
    /// entries; nesting deeper than <paramref name="maxDepth"/>. <paramref name="syntaxOnly"/> says the problem is the JSON syntax.
    /// </summary>
    public static string? Problem(ReadOnlySpan<byte> json, int maxDepth, out bool syntaxOnly)
    {
        syntaxOnly = false;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        // The container opened at each depth: whether it is an array, and how many entries it has so far.
        Span<bool> isArray = new bool[maxDepth + 1];
        Span<int> entries = new int[maxDepth + 1];
        try
        {
            while (reader.Read())
            {
                var token = reader.TokenType;
                var depth = reader.CurrentDepth;
                // A member name counts in its object, a value in its array (an object's values follow their names).
                if (depth > 0 && token is not (JsonTokenType.EndObject or JsonTokenType.EndArray)
                    && (token == JsonTokenType.PropertyName || isArray[depth - 1])
                    && ++entries[depth - 1] > MaxContainerSize)
                    return $"A JSON array or object holds more than {MaxContainerSize} entries.";
                switch (token)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        isArray[depth] = token == JsonTokenType.StartArray;
                        entries[depth] = 0;
                        break;
                    case JsonTokenType.String or JsonTokenType.PropertyName:
                        string text;
                        try
                        {
                            text = reader.GetString()!;
                        }
                        catch (InvalidOperationException)
                        {
                            // System.Text.Json refuses to unescape "\ud800" alone; every later GetString would too.
                            return "A JSON string holds a lone surrogate.";
                        }
                        if (HasControl(text)) return "A JSON string holds NUL or another control character.";
                        break;
                    case JsonTokenType.Number when reader.ValueSpan.Length > MaxNumberLength:
                        return $"A JSON number is longer than {MaxNumberLength} characters.";
                }
            }
            return null;
        }
        catch (JsonException)
        {
            syntaxOnly = true;
            return $"The body is not valid JSON, or nests deeper than {maxDepth} levels.";
        }
    }

    /// <summary>NUL or another control character (C0, DEL, C1) other than TAB, CR and LF.</summary>
    public static bool HasControl(string text)
    {
        foreach (var c in text)
        {
            if (char.IsControl(c) && c is not ('\t' or '\r' or '\n')) return true;
        }
        return false;
    }
}
