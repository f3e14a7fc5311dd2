using System.Globalization;
using System.Text;
using CsCheck;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>
/// One mutation of a valid request, as a generator draws it: its kind (the mutation class) and the numbers and
/// text that pin it down (which member, where, what with). Endpoint builders read it against the request at hand.
/// </summary>
public sealed record Mutation(string Kind, int I = 0, int J = 0, string S = "")
{
    public string Class => S.Length == 0 ? Kind : $"{Kind}: {S}";

    public override string ToString() => $"{Class} (i={I}, j={J})";
}

/// <summary>Generators and pieces shared by the endpoint fuzzers.</summary>
public static class Mutations
{
    /// <summary>A number to be reduced modulo whatever it indexes.</summary>
    public static readonly Gen<int> Any = Gen.Int[0, 1 << 20];

    public static Gen<Mutation> Kind(string kind) => Gen.Select(Any, Any, (i, j) => new Mutation(kind, i, j));

    public static Gen<Mutation> Kind(string kind, params string[] variants) =>
        Gen.Select(Gen.OneOf(variants), Any, Any, (s, i, j) => new Mutation(kind, i, j, s));

    public static T Pick<T>(IReadOnlyList<T> items, int i) => items[i % items.Count];

    /// <summary>Escapes that break a form value or path segment, and a few that do not.</summary>
    public static readonly string[] Escapes =
    [
        "%00", "%01", "%1F", "%7F", "%C2%85", "%FF", "%80", "%C0%AF", "%ED%A0%80", "%ED%BF%BF", "%E2%82", "%F4%90%80%80", "%zz", "%", "%4",
        "%09", "%0A", "%0D", "%20", "+", "%C3%A4", "%F0%9F%98%80", "%2F", "%25", "%26", "%3D",
    ];

    /// <summary>Raw bytes put into a body: invalid UTF-8 of several kinds, NUL, a control, and valid non-ASCII.</summary>
    public static readonly byte[][] RawBytes =
    [
        [0xFF], [0xFE], [0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xC3],
        [0x00], [0x01], [0x1B], [0x7F], [0xC3, 0xA4], [0xF0, 0x9F, 0x98, 0x80],
    ];

    public static string Hex(byte[] bytes) => string.Join(' ', bytes.Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));

    /// <summary>Every byte of the UTF-8 text as %XX (upper or lower case hex).</summary>
    public static string EscapeAll(string text, bool lower) =>
        string.Concat(Encoding.UTF8.GetBytes(text).Select(b => "%" + b.ToString(lower ? "x2" : "X2", CultureInfo.InvariantCulture)));

    /// <summary>Escapes only what must be: '%', '&amp;', '+', '=', and all but visible ASCII.</summary>
    public static string EscapeMinimal(string text)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b is > 0x20 and < 0x7F and not (byte)'%' and not (byte)'&' and not (byte)'+' and not (byte)'=')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    /// <summary>Escapes some characters of a path segment at random (the rest as they are): it must decode to the same.</summary>
    public static string EscapeSome(string segment, int seed)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            sb.Append(((seed >> (i % 20)) & 1) == 1 ? "%" + ((int)c).ToString(i % 2 == 0 ? "X2" : "x2", CultureInfo.InvariantCulture) : c.ToString());
        }

        return sb.ToString();
    }

    /// <summary>The bytes with <paramref name="insert"/> put in at <paramref name="at"/>.</summary>
    public static byte[] Insert(byte[] bytes, int at, byte[] insert) => [.. bytes[..at], .. insert, .. bytes[at..]];

    /// <summary>Random letters and digits, as deterministic as the case's numbers.</summary>
    public static string Letters(int length, int seed)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        var random = new Random(seed);
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[r.Next(alphabet.Length)];
            }
        });
    }

    /// <summary>The JSON values a member is retyped to.</summary>
    public static readonly JValue[] Retypes =
    [
        JValue.Num(42), new JNumber("-0.5e10"), new JLiteral("null"), new JLiteral("true"), new JLiteral("false"),
        new JObject(), new JObject(("a", JValue.Of("b"))), new JArray(), new JArray(JValue.Of("x")), JValue.Of(""), JValue.Of("x"),
    ];

    /// <summary>Non-JSON texts for form values that should hold other things.</summary>
    public static readonly string[] RetypeTexts = ["42", "", "null", "true", "[]", "{}", "{\"a\":1}", "[1,2]", "\"x\"", " "];
}
