using System.Globalization;
using System.Text;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>
/// A JSON value as the fuzzer writes it: unlike System.Text.Json's nodes it can repeat a member, hold a lone
/// surrogate or any control character in a string, carry a number of any length, or be no JSON at all (raw text).
/// </summary>
public abstract record JValue
{
    public static JValue Of(string s) => new JString(s);

    public static JValue Num(long n) => new JNumber(n.ToString(CultureInfo.InvariantCulture));
}

/// <summary>An object: members in order, names possibly repeated.</summary>
public sealed record JObject(IReadOnlyList<KeyValuePair<string, JValue>> Members) : JValue
{
    public JObject(params (string Name, JValue Value)[] members)
        : this([.. members.Select(m => new KeyValuePair<string, JValue>(m.Name, m.Value))])
    {
    }

    /// <summary>The value of the only member of that name (the reader refuses repeated names first).</summary>
    public JValue? this[string name] => Members.LastOrDefault(m => m.Key == name).Value;

    public bool Has(string name) => Members.Any(m => m.Key == name);

    public JObject Without(string name) => new([.. Members.Where(m => m.Key != name)]);

    public JObject With(string name, JValue value) =>
        Has(name) ? new([.. Members.Select(m => m.Key == name ? new KeyValuePair<string, JValue>(name, value) : m)]) : new([.. Members, new(name, value)]);

    public JObject Plus(string name, JValue value) => new([.. Members, new(name, value)]);
}

public sealed record JArray(IReadOnlyList<JValue> Items) : JValue
{
    public JArray(params JValue[] items)
        : this((IReadOnlyList<JValue>)items)
    {
    }
}

/// <summary>A string: any .NET text; lone surrogates and control characters are written as \u escapes.</summary>
public sealed record JString(string Value) : JValue;

/// <summary>A number's text as written (it may be very long).</summary>
public sealed record JNumber(string Text) : JValue;

/// <summary>true, false or null.</summary>
public sealed record JLiteral(string Text) : JValue;

/// <summary>Text written as is, which makes the document no JSON at all.</summary>
public sealed record JRaw(string Text) : JValue;

/// <summary>How a document is written: all of them mean the same to a JSON reader.</summary>
public enum JsonStyle
{
    Compact,

    /// <summary>Whitespace (space, tab, CR, LF) around every token.</summary>
    Spaced,

    /// <summary>Every character of every string as a \uXXXX escape.</summary>
    Escaped,
}

/// <summary>Writing <see cref="JValue"/>s, and what the issuer's JSON reader refuses in them (docs/wallet-endpoints.md "Bytes").</summary>
public static class JsonText
{
    public const int MaxDepth = 32;
    public const int MaxContainer = 100;
    public const int MaxNumber = 64;

    public static string Write(JValue value, JsonStyle style = JsonStyle.Compact)
    {
        var sb = new StringBuilder();
        Write(sb, value, style);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JValue value, JsonStyle style)
    {
        var ws = style == JsonStyle.Spaced ? " \t\r\n" : "";
        switch (value)
        {
            case JObject o:
                sb.Append('{').Append(ws);
                for (var i = 0; i < o.Members.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',').Append(ws);
                    }

                    WriteString(sb, o.Members[i].Key, style);
                    sb.Append(ws).Append(':').Append(ws);
                    Write(sb, o.Members[i].Value, style);
                }

                sb.Append(ws).Append('}');
                break;
            case JArray a:
                sb.Append('[').Append(ws);
                for (var i = 0; i < a.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',').Append(ws);
                    }

                    Write(sb, a.Items[i], style);
                }

                sb.Append(ws).Append(']');
                break;
            case JString s:
                WriteString(sb, s.Value, style);
                break;
            case JNumber n:
                sb.Append(n.Text);
                break;
            case JLiteral l:
                sb.Append(l.Text);
                break;
            case JRaw r:
                sb.Append(r.Text);
                break;
        }
    }

    private static void WriteString(StringBuilder sb, string s, JsonStyle style)
    {
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            var paired = char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]);
            if (style == JsonStyle.Escaped || c < ' ' || (char.IsSurrogate(c) && !paired))
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                if (paired && style == JsonStyle.Escaped)
                {
                    sb.Append("\\u").Append(((int)s[++i]).ToString("x4", CultureInfo.InvariantCulture));
                }
                else if (paired)
                {
                    sb.Append(s[++i]);
                }
            }
            else if (c is '"' or '\\')
            {
                sb.Append('\\').Append(c);
            }
            else
            {
                sb.Append(c);
                if (paired)
                {
                    sb.Append(s[++i]);
                }
            }
        }

        sb.Append('"');
    }

    /// <summary>
    /// Whether the issuer's JSON reader refuses the document before anything reads it: a repeated member, nesting
    /// deeper than 32, a container of more than 100 entries, a number over 64 characters, a string with a lone
    /// surrogate or a control character but TAB, CR and LF, or text that is no JSON.
    /// </summary>
    public static bool ReaderRefuses(JValue value, int depth = 1) => value switch
    {
        JObject o => depth > MaxDepth || o.Members.Count > MaxContainer
            || o.Members.Select(m => m.Key).Distinct(StringComparer.Ordinal).Count() != o.Members.Count
            || o.Members.Any(m => BadString(m.Key) || ReaderRefuses(m.Value, depth + 1)),
        JArray a => depth > MaxDepth || a.Items.Count > MaxContainer || a.Items.Any(i => ReaderRefuses(i, depth + 1)),
        JString s => BadString(s.Value),
        JNumber n => n.Text.Length > MaxNumber,
        JLiteral => false,
        JRaw => true,
        _ => throw new InvalidOperationException(value.GetType().Name),
    };

    /// <summary>A lone surrogate, or NUL or another control character (C0, DEL, C1) but TAB, CR and LF.</summary>
    public static bool BadString(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsSurrogate(c) || (char.IsControl(c) && c is not ('\t' or '\r' or '\n')))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A value nested in <paramref name="depth"/> arrays around a 0.</summary>
    public static JValue Nested(int depth)
    {
        JValue value = JValue.Num(0);
        for (var i = 0; i < depth; i++)
        {
            value = new JArray(value);
        }

        return value;
    }

    /// <summary>The depth of a value: a scalar is 0, [] is 1.</summary>
    public static int Depth(JValue value) => value switch
    {
        JObject o => 1 + (o.Members.Count == 0 ? 0 : o.Members.Max(m => Depth(m.Value))),
        JArray a => 1 + (a.Items.Count == 0 ? 0 : a.Items.Max(Depth)),
        _ => 0,
    };
}
