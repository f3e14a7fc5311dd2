using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Issuer2.Grpc.V1;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Issuer2.Cli;

/// <summary>Turns what a user types or writes in a file into proto values, with a clear message when it cannot.</summary>
internal static class Inputs
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    /// <summary>
    /// A message read from a JSON or YAML file (by extension: .yaml/.yml is YAML, anything else JSON; "-" reads
    /// standard input as JSON) in protobuf's JSON mapping (snake_case or lowerCamel field names), and the top-level
    /// fields it sets, as an update mask would name them.
    /// </summary>
    public static (T Message, IReadOnlyList<string> Fields) ReadFile<T>(string path, MessageParser<T> parser)
        where T : IMessage<T>, new()
    {
        string text;
        try
        {
            text = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliInputException($"{path}: {e.Message}");
        }

        var yaml = path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        JsonNode? node;
        try
        {
            node = yaml ? YamlToJson(text) : JsonNode.Parse(text);
        }
        catch (Exception e) when (e is JsonException or YamlException)
        {
            throw new CliInputException($"{path}: not valid {(yaml ? "YAML" : "JSON")}: {e.Message}");
        }

        if (node is not JsonObject obj)
        {
            throw new CliInputException($"{path}: expected an object of {new T().Descriptor.Name}'s fields.");
        }

        try
        {
            var message = Parser.Parse<T>(obj.ToJsonString());
            var descriptor = new T().Descriptor;
            var fields = obj.Select(kv => FieldPath(descriptor, kv.Key) ?? kv.Key).ToList();
            return (message, fields);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CliInputException($"{path}: not a {new T().Descriptor.Name}: {e.Message}");
        }
        catch (InvalidJsonException e)
        {
            throw new CliInputException($"{path}: not a {new T().Descriptor.Name}: {e.Message}");
        }
    }

    private static string? FieldPath(MessageDescriptor descriptor, string jsonKey) =>
        descriptor.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == jsonKey || f.Name == jsonKey)?.Name;

    /// <summary>YAML as JSON: mappings, sequences, and scalars typed as YAML 1.2's core schema reads them (unquoted).</summary>
    internal static JsonNode? YamlToJson(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);

        static JsonNode? Convert(YamlNode node) => node switch
        {
            YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
                KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? "", Convert(kv.Value)))),
            YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
            YamlScalarNode scalar => Scalar(scalar),
            _ => null,
        };

        static JsonNode? Scalar(YamlScalarNode scalar)
        {
            var value = scalar.Value ?? "";
            if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
            {
                return JsonValue.Create(value);
            }

            if (value is "" or "~" or "null") return null;
            if (value is "true" or "True") return JsonValue.Create(true);
            if (value is "false" or "False") return JsonValue.Create(false);
            if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)) return JsonValue.Create(integer);
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real)) return JsonValue.Create(real);
            return JsonValue.Create(value);
        }
    }

    /// <summary>
    /// A claim value from "path=value": the path's segments separated by dots, the value as JSON when it parses as
    /// JSON (2026, true, "quoted", {"a":1}) and as a string otherwise (Ada).
    /// </summary>
    public static ClaimValue ClaimValue(string assignment)
    {
        var equals = assignment.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new CliInputException($"'{assignment}' is not path=value (e.g. given_name=Ada, address.locality=Paris).");
        }

        var claim = new ClaimValue { Value = Value(assignment[(equals + 1)..]) };
        claim.Path.AddRange(assignment[..equals].Split('.'));
        return claim;
    }

    /// <summary>A google.protobuf.Value from text: JSON when it parses, a string otherwise.</summary>
    public static Google.Protobuf.WellKnownTypes.Value Value(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return Google.Protobuf.WellKnownTypes.Value.Parser.ParseJson(text);
        }
        catch (Exception e) when (e is JsonException or InvalidProtocolBufferException or InvalidJsonException)
        {
            return Google.Protobuf.WellKnownTypes.Value.ForString(text);
        }
    }

    /// <summary>A duration: 90s, 15m, 24h, 7d, or hh:mm:ss.</summary>
    public static Duration Duration(string text)
    {
        var t = text.Trim();
        if (t.Length > 1 && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            TimeSpan? span = t[^1] switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => null,
            };
            if (span is { } value) return Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(value);
        }

        if (TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var parsed) && parsed > TimeSpan.Zero)
        {
            return Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(parsed);
        }

        throw new CliInputException($"'{text}' is not a duration (90s, 15m, 24h, 7d or hh:mm:ss).");
    }

    /// <summary>A point in time in ISO 8601 with an offset (2026-12-31T23:00:00Z).</summary>
    public static Timestamp Time(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? Timestamp.FromDateTimeOffset(at)
            : throw new CliInputException($"'{text}' is not a time (ISO 8601, e.g. 2026-12-31T23:00:00Z).");

    /// <summary>
    /// An enum value by its proto name, with or without the enum's prefix, in any case: "active", "OFFER_STATE_ACTIVE",
    /// "token-issued".
    /// </summary>
    public static T Enum<T>(EnumDescriptor descriptor, string prefix, string text)
        where T : struct, System.Enum
    {
        var upper = text.Trim().Replace('-', '_').ToUpperInvariant();
        var value = descriptor.FindValueByName(upper) ?? descriptor.FindValueByName(prefix + upper);
        if (value is null || value.Number == 0)
        {
            var names = descriptor.Values.Where(v => v.Number != 0).Select(v => v.Name[prefix.Length..].ToLowerInvariant());
            throw new CliInputException($"'{text}' is not one of: {string.Join(", ", names)}.");
        }

        return (T)(object)value.Number;
    }

    /// <summary>The short, lower-case name of an enum value for text output: OFFER_STATE_ACTIVE → active.</summary>
    public static string Short<T>(EnumDescriptor descriptor, string prefix, T value)
        where T : struct, System.Enum
    {
        var number = System.Convert.ToInt32(value, CultureInfo.InvariantCulture);
        var name = descriptor.FindValueByNumber(number)?.Name ?? number.ToString(CultureInfo.InvariantCulture);
        return (name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name).ToLowerInvariant();
    }

    /// <summary>An update mask from comma-separated paths (--update-mask) or, when none is given, the fields set.</summary>
    public static FieldMask Mask(string? explicitPaths, IEnumerable<string> fieldsSet)
    {
        var paths = string.IsNullOrWhiteSpace(explicitPaths)
            ? fieldsSet.Distinct().ToList()
            : explicitPaths.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (paths.Count == 0)
        {
            throw new CliInputException("Nothing to update: give --file with the fields to change (or flags), and optionally --update-mask.");
        }

        var mask = new FieldMask();
        mask.Paths.AddRange(paths);
        return mask;
    }
}
