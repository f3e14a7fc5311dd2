using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Issuer2.BrowserConsole.Services;

/// <summary>Small conversions between form fields and the API's messages.</summary>
public static class Fields
{
    /// <summary>The id of a field's error list (for aria-describedby).</summary>
    public static string ErrorId(string field)
    {
        var id = new StringBuilder("err-");
        foreach (var c in field) id.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        return id.ToString();
    }

    /// <summary>"address.street" → ["address", "street"]: a claim path as the form writes it.</summary>
    public static List<string> Path(string text) =>
        [.. text.Split('.', StringSplitOptions.TrimEntries)];

    public static string PathText(IEnumerable<string> path) => string.Join('.', path);

    /// <summary>
    /// A claim value as typed: JSON when it parses as JSON (2026, true, {"a":1}, "text"), otherwise the text itself.
    /// </summary>
    public static Value ValueOf(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length > 0)
        {
            try
            {
                return Value.Parser.ParseJson(trimmed);
            }
            catch (InvalidProtocolBufferException)
            {
                // Not JSON: a string.
            }
            catch (InvalidJsonException)
            {
                // Not JSON: a string.
            }
        }

        return Value.ForString(text);
    }

    /// <summary>A value as the form shows it again: strings bare, everything else as JSON.</summary>
    public static string TextOf(Value? value) => value switch
    {
        null => "",
        { KindCase: Value.KindOneofCase.StringValue } => value.StringValue,
        _ => JsonFormatter.Default.Format(value),
    };

    /// <summary>"1h30m", "90m", "3600s", "2d" or "01:30:00" → a duration; null when empty.</summary>
    public static Duration? DurationOf(string text, out bool valid)
    {
        valid = true;
        var t = text.Trim();
        if (t.Length == 0) return null;
        if (TimeSpan.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var span) && t.Contains(':', StringComparison.Ordinal))
            return Duration.FromTimeSpan(span);
        var total = TimeSpan.Zero;
        var number = 0L;
        var digits = false;
        foreach (var c in t)
        {
            if (char.IsAsciiDigit(c))
            {
                number = (number * 10) + (c - '0');
                digits = true;
                continue;
            }

            if (!digits) { valid = false; return null; }
            switch (c)
            {
                case 'd': total += TimeSpan.FromDays(number); break;
                case 'h': total += TimeSpan.FromHours(number); break;
                case 'm': total += TimeSpan.FromMinutes(number); break;
                case 's': total += TimeSpan.FromSeconds(number); break;
                default: valid = false; return null;
            }

            number = 0;
            digits = false;
        }

        if (digits) total += TimeSpan.FromSeconds(number);
        return Duration.FromTimeSpan(total);
    }

    public static string DurationText(Duration? duration) => duration is null ? "" : duration.ToTimeSpan().ToString("c", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A timestamp for people: UTC, to the second.</summary>
    public static string When(Timestamp? time) =>
        time is null ? "—" : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The last segment of a resource name ("tenants/t/offers/abc" → "abc").</summary>
    public static string IdOf(string name) => name[(name.LastIndexOf('/') + 1)..];

    /// <summary>The protos' files, whose enum descriptors name each value as the proto does.</summary>
    private static readonly Google.Protobuf.Reflection.FileDescriptor[] ProtoFiles =
    [
        Issuer2.Grpc.V1.CommonReflection.Descriptor, Issuer2.Grpc.V1.TenantServiceReflection.Descriptor,
        Issuer2.Grpc.V1.ProfileServiceReflection.Descriptor, Issuer2.Grpc.V1.OfferServiceReflection.Descriptor,
        Issuer2.Grpc.V1.SessionEventsServiceReflection.Descriptor,
    ];

    /// <summary>
    /// EVENT_TYPE_TOKEN_ISSUED → TOKEN_ISSUED: the value's proto name without its prefix (from the descriptors, not
    /// from attributes, so a trimmed published app names them alike).
    /// </summary>
    public static string EnumText(System.Enum value, string prefix)
    {
        ArgumentNullException.ThrowIfNull(value);
        var type = value.GetType();
        var descriptor = ProtoFiles.SelectMany(f => f.EnumTypes).FirstOrDefault(e => e.ClrType == type);
        var name = descriptor?.FindValueByNumber(Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture))?.Name ?? value.ToString();
        return name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name;
    }
}
