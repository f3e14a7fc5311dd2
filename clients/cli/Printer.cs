using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Issuer2.Client;

namespace Issuer2.Cli;

/// <summary>Writes results to standard output and errors to standard error, as text or as JSON.</summary>
internal sealed class Printer(bool json)
{
    private static readonly JsonFormatter Indented = new(JsonFormatter.Settings.Default.WithIndentation());
    private static readonly JsonFormatter Compact = new(JsonFormatter.Settings.Default);

    public bool Json { get; } = json;

    /// <summary>A message as protobuf JSON: indented in text mode, one line in JSON mode.</summary>
    public void Message(IMessage message) => Console.Out.WriteLine((Json ? Compact : Indented).Format(message));

    /// <summary>One line of a stream (events): always one line.</summary>
    public static void Line(IMessage message) => Console.Out.WriteLine(Compact.Format(message));

    public static string Format(IMessage message) => Compact.Format(message);

    public static void Text(string line) => Console.Out.WriteLine(line);

    /// <summary>A failed call: its status, the ErrorInfo reason and every bad field of BadRequest.</summary>
    public void Error(RpcException error)
    {
        var status = StatusName(error.StatusCode);
        var reason = RpcErrors.Reason(error);
        var violations = RpcErrors.FieldViolations(error);
        var retry = RpcErrors.RetryDelay(error);
        if (Json)
        {
            var body = new JsonObject
            {
                ["code"] = status,
                ["message"] = error.Status.Detail,
            };
            if (reason is not null) body["reason"] = reason;
            if (retry is { } delay) body["retryDelaySeconds"] = delay.TotalSeconds;
            if (violations.Count > 0)
            {
                body["fieldViolations"] = new JsonArray(violations
                    .Select(v => (JsonNode)new JsonObject { ["field"] = v.Field, ["description"] = v.Description })
                    .ToArray());
            }

            Console.Error.WriteLine(new JsonObject { ["error"] = body }.ToJsonString());
            return;
        }

        Console.Error.WriteLine($"error: {status}{(reason is null ? "" : $" ({reason})")}: {error.Status.Detail}");
        foreach (var v in violations)
        {
            Console.Error.WriteLine($"  {v.Field}: {v.Description}");
        }

        if (retry is { } wait)
        {
            Console.Error.WriteLine($"  retry after {wait.TotalSeconds:0.#} s");
        }
    }

    /// <summary>A local problem (input, configuration).</summary>
    public void Error(string message)
    {
        if (Json)
        {
            Console.Error.WriteLine(new JsonObject { ["error"] = new JsonObject { ["code"] = "INPUT", ["message"] = message } }.ToJsonString());
        }
        else
        {
            Console.Error.WriteLine("error: " + message);
        }
    }

    /// <summary>A JSON object of the CLI's own (not a proto message), in the mode's layout.</summary>
    public void Object(JsonObject value) =>
        Console.Out.WriteLine(value.ToJsonString(new JsonSerializerOptions { WriteIndented = !Json }));

    /// <summary>The canonical name of a status code, as gRPC spells it (NOT_FOUND).</summary>
    public static string StatusName(StatusCode code) => code switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.Unknown => "UNKNOWN",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.Aborted => "ABORTED",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Internal => "INTERNAL",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        _ => code.ToString(),
    };
}
