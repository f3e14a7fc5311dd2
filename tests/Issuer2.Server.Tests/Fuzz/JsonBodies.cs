using System.Text;
using CsCheck;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>A JSON body as sent: the value it means (when the reader gets that far), its bytes and Content-Type.</summary>
public sealed record JsonBody(JValue Value, byte[] Bytes, string? ContentType, bool ReaderRefuses);

/// <summary>
/// The mutations every JSON endpoint shares (credential, notification): equivalent forms that must be accepted,
/// bytes and encodings the reader refuses, JSON the reader refuses (repeated members, depth, sizes, numbers), and
/// the body retyped. Member-specific mutations are the endpoints' own.
/// </summary>
public static class JsonBodies
{
    /// <summary>A character the encoder puts where raw bytes go (a private-use character, never in a request).</summary>
    private const char Marker = '\ue000';

    private static readonly string[] ContentTypes =
    [
        "application/json", "Application/JSON", "application/json; charset=utf-8", "application/json; charset=UTF-8", "application/json; charset=\"utf-8\"",
        "application/json; foo=bar", "application/json; charset=latin1", "application/json; charset=utf-16", "application/json; charset=iso-8859-1",
        "application/json; charset=us-ascii", "text/json", "text/plain", "application/jwt", "application/x-www-form-urlencoded", "application/json, text/plain",
        "application/jsonx", "multipart/form-data; boundary=x",
    ];

    private static readonly string[] ExtraMembers =
    [
        "a string", "a number", "an object", "nested 31 deep", "nested 32 deep", "nested 60 deep", "an array of 100", "an array of 101", "an array of 5000",
        "an object of 99 members", "an object of 101 members", "a number of 64 digits", "a number of 65 digits", "a number of 400 digits", "1e400",
        "a lone surrogate", "an escaped NUL", "an escaped control character", "a DEL", "a C1 control", "a surrogate pair", "a tab and a newline",
        "a name with NUL", "no JSON (NaN)", "no JSON (comment)", "no JSON (single quotes)", "no JSON (trailing comma)",
    ];

    /// <summary>Bad characters an escape puts into a string, and characters that are merely unexpected there.</summary>
    public static readonly string[] BadCharacters = ["\ud800", "\udbff", "\udc00", "\udfff", "\0", "\u0001", "\u001f", "\u007f", "\u0085", "\u009f"];

    public static readonly Gen<Mutation> Generic = Gen.Frequency<Mutation>(
        (3, Mutations.Kind("spaced JSON")),
        (3, Mutations.Kind("escaped JSON")),
        (2, Mutations.Kind("reordered members")),
        (8, Gen.Select(Gen.OneOf(ExtraMembers), Mutations.Any, (s, i) => new Mutation("extra member", i, 0, s))),
        (3, Mutations.Kind("duplicate member")),
        (3, Mutations.Kind("retype body")),
        (5, Gen.Select(Gen.OneOf(BadCharacters), Mutations.Any, (s, i) => new Mutation("escape in a string", i, 0, Visible(s)))),
        (5, Gen.Select(Gen.Int[0, Mutations.RawBytes.Length - 1], Mutations.Any, (k, i) => new Mutation("raw bytes in a string", i, 0, Mutations.Hex(Mutations.RawBytes[k])))),
        (3, Mutations.Kind("truncate body")),
        (1, Mutations.Kind("byte order mark")),
        (5, Gen.Select(Gen.OneOf(ContentTypes), Mutations.Any, (s, i) => new Mutation("content type", i, 0, s))),
        (1, Mutations.Kind("no content type")),
        (1, Mutations.Kind("oversized body")),
        (1, Mutations.Kind("empty body")));

    /// <summary>The kinds <see cref="Apply"/> handles.</summary>
    public static readonly HashSet<string> Kinds = new(StringComparer.Ordinal)
    {
        "spaced JSON", "escaped JSON", "reordered members", "extra member", "duplicate member", "retype body", "escape in a string",
        "raw bytes in a string", "truncate body", "byte order mark", "content type", "no content type", "oversized body", "empty body",
    };

    /// <summary>The value written as JSON; the reader refuses it for its JSON or for its size.</summary>
    public static JsonBody Plain(JValue value, JsonStyle style = JsonStyle.Compact)
    {
        var bytes = Encoding.UTF8.GetBytes(JsonText.Write(value, style));
        return new(value, bytes, WireRequest.Json, JsonText.ReaderRefuses(value) || bytes.Length > FormModel.MaxBody);
    }

    /// <summary>
    /// Applies a shared mutation to <paramref name="body"/>; <paramref name="textMember"/> names the string member whose
    /// value the byte mutations go into.
    /// </summary>
    public static JsonBody Apply(JObject body, Mutation m, string textMember)
    {
        switch (m.Kind)
        {
            case "spaced JSON":
                return Plain(body, JsonStyle.Spaced);
            case "escaped JSON":
                return Plain(body, JsonStyle.Escaped);
            case "reordered members":
                return Plain(new JObject([.. body.Members.Reverse()]));
            case "extra member":
                var (name, value) = Extra(m.S);
                var extended = new JObject([.. body.Members.Take(m.I % (body.Members.Count + 1)), new(name, value), .. body.Members.Skip(m.I % (body.Members.Count + 1))]);
                return Plain(extended);
            case "duplicate member":
                var twice = body.Members[m.I % body.Members.Count];
                return Plain(new JObject([.. body.Members, twice]));
            case "retype body":
                return Plain(Mutations.Pick(Mutations.Retypes, m.I) is var retyped && m.I % 3 == 0 ? new JArray(body) : retyped);
            case "escape in a string":
                var bad = Unvisible(m.S);
                var text = ((JString)body[textMember]!).Value;
                var at = m.I % (text.Length + 1);
                return Plain(body.With(textMember, JValue.Of(text[..at] + bad + text[at..])));
            case "raw bytes in a string":
                var raw = Mutations.RawBytes.First(b => Mutations.Hex(b) == m.S);
                var original = ((JString)body[textMember]!).Value;
                var where = m.I % (original.Length + 1);
                var marked = Encoding.UTF8.GetBytes(JsonText.Write(body.With(textMember, JValue.Of(original[..where] + Marker + original[where..]))));
                var markerBytes = Encoding.UTF8.GetBytes(Marker.ToString());
                var index = marked.AsSpan().IndexOf(markerBytes);
                byte[] bytes = [.. marked[..index], .. raw, .. marked[(index + markerBytes.Length)..]];
                // Valid UTF-8 that is no control character is just another character of the string; JSON forbids raw
                // C0 controls in strings; the reader refuses invalid UTF-8 and every other control.
                var decoded = System.Text.Unicode.Utf8.IsValid(raw) ? Encoding.UTF8.GetString(raw) : null;
                return decoded is not null && !JsonText.BadString(decoded)
                    ? new JsonBody(body.With(textMember, JValue.Of(original[..where] + decoded + original[where..])), bytes, WireRequest.Json, false)
                    : new JsonBody(body, bytes, WireRequest.Json, true);
            case "truncate body":
                var full = Plain(body);
                return full with { Bytes = full.Bytes[..(m.I % full.Bytes.Length)], ReaderRefuses = true };
            case "byte order mark":
                var plain = Plain(body);
                return plain with { Bytes = [0xEF, 0xBB, 0xBF, .. plain.Bytes], ReaderRefuses = true };
            case "content type":
                var typed = Plain(body);
                return typed with { ContentType = m.S, ReaderRefuses = typed.ReaderRefuses || !FormModel.ContentTypeIs(m.S, WireRequest.Json) };
            case "no content type":
                return Plain(body) with { ContentType = null, ReaderRefuses = true };
            case "oversized body":
                var padded = body.Plus("padding", JValue.Of(new string('a', FormModel.MaxBody)));
                return Plain(padded) with { ReaderRefuses = true };
            case "empty body":
                return new JsonBody(body, [], WireRequest.Json, true);
            default:
                throw new ArgumentOutOfRangeException(nameof(m), m.Kind, null);
        }
    }

    private static (string Name, JValue Value) Extra(string what) => what switch
    {
        "a string" => ("x", JValue.Of("y")),
        "a number" => ("x", JValue.Num(12345)),
        "an object" => ("x", new JObject(("a", new JArray(JValue.Num(1), new JLiteral("null"))))),
        "nested 31 deep" => ("x", JsonText.Nested(31)),
        "nested 32 deep" => ("x", JsonText.Nested(32)),
        "nested 60 deep" => ("x", JsonText.Nested(60)),
        "an array of 100" => ("x", new JArray([.. Enumerable.Repeat(JValue.Num(0), 100)])),
        "an array of 101" => ("x", new JArray([.. Enumerable.Repeat(JValue.Num(0), 101)])),
        "an array of 5000" => ("x", new JArray([.. Enumerable.Repeat(JValue.Num(0), 5000)])),
        // The body itself has two or three members: 99 more stay within 100 only inside a member of their own.
        "an object of 99 members" => ("x", new JObject([.. Enumerable.Range(0, 99).Select(i => new KeyValuePair<string, JValue>($"m{i}", JValue.Num(i)))])),
        "an object of 101 members" => ("x", new JObject([.. Enumerable.Range(0, 101).Select(i => new KeyValuePair<string, JValue>($"m{i}", JValue.Num(i)))])),
        "a number of 64 digits" => ("x", new JNumber("1" + new string('0', 63))),
        "a number of 65 digits" => ("x", new JNumber("1" + new string('0', 64))),
        "a number of 400 digits" => ("x", new JNumber("1" + new string('0', 399))),
        "1e400" => ("x", new JNumber("1e400")),
        "a lone surrogate" => ("x", JValue.Of("a\ud800b")),
        "an escaped NUL" => ("x", JValue.Of("\0")),
        "an escaped control character" => ("x", JValue.Of("\u0007")),
        "a DEL" => ("x", JValue.Of("\u007f")),
        "a C1 control" => ("x", JValue.Of("\u0085")),
        "a surrogate pair" => ("x", JValue.Of("\ud83d\ude00")),
        "a tab and a newline" => ("x", JValue.Of("a\tb\nc\r")),
        "a name with NUL" => ("x\0", JValue.Num(1)),
        "no JSON (NaN)" => ("x", new JRaw("NaN")),
        "no JSON (comment)" => ("x", new JRaw("1 /* c */")),
        "no JSON (single quotes)" => ("x", new JRaw("'y'")),
        _ => ("x", new JRaw("[1,]")),
    };

    /// <summary>A bad character named in printable form for the mutation's class.</summary>
    private static string Visible(string s) => $"U+{(int)s[0]:X4}";

    private static string Unvisible(string s) => ((char)Convert.ToInt32(s[2..], 16)).ToString();
}
