using System.CommandLine;
using Google.Protobuf.Reflection;
using Issuer2.Client;
using Issuer2.Grpc.V1;

namespace Issuer2.Cli.Commands;

/// <summary>issuer2 events …: SessionEventsService (follow = SubscribeEvents through the resuming follower, list = ListEvents).</summary>
internal static class EventCommands
{
    private static EnumDescriptor TypeDescriptor => SessionEventsServiceReflection.Descriptor.EnumTypes.Single(e => e.Name == "EventType");

    private static readonly Option<string?> Offer = new("--offer") { Description = "Only events of this offer (id or name)." };
    private static readonly Option<string?> Session = new("--session") { Description = "Only events of this session (its name)." };
    private static readonly Option<string?> Profile = new("--profile", "-p") { Description = "Only events of this profile and its offers (id or name)." };
    private static readonly Option<string[]> Types = new("--type") { Description = "Only these types (token_issued, credential_issued, …); repeatable." };
    private static readonly Option<string?> AfterCursor = new("--after-cursor") { Description = "Start after this cursor (from an event or a heartbeat)." };

    public static Command Build()
    {
        var group = new Command("events", "The tenant's event log: follow live (resuming by itself), or list.");
        group.Add(Follow());
        group.Add(List());
        return group;
    }

    private static Command Follow()
    {
        var fromOldest = new Option<bool>("--from-oldest") { Description = "Replay every retained event first (without a cursor)." };
        var cursorFile = new Option<string?>("--cursor-file") { Description = "Resume from the cursor in this file, and keep the newest cursor in it: a restarted follow continues where the last one stopped." };
        var count = new Option<int?>("--count") { Description = "Stop after this many events." };
        var command = new Command("follow", "Stream events live; resumes from its last cursor after a dropped connection, a lagging stream or a server restart.")
        {
            Offer, Session, Profile, Types, AfterCursor, fromOldest, cursorFile, count,
        };
        command.Run(async (cli, ct) =>
        {
            var file = cli.Value(cursorFile);
            var start = cli.Value(AfterCursor);
            if (start is null && file is not null && File.Exists(file))
            {
                start = (await File.ReadAllTextAsync(file, ct)).Trim() is { Length: > 0 } stored ? stored : null;
            }

            var verbose = cli.Parse.GetValue(Global.Verbose);
            using var client = cli.OpenClient();
            var follower = client.Follow(cli.Connection.TenantName(), new EventFollowerOptions
            {
                Filter = Filter(cli),
                AfterCursor = start,
                FromOldestRetained = cli.Value(fromOldest),
                OnCursor = file is null ? null : cursor => WriteCursor(file, cursor),
                OnResume = verbose
                    ? (error, wait) => Console.Error.WriteLine($"stream ended ({error?.Message ?? "closed by the server"}); resuming in {wait.TotalSeconds:0.0} s")
                    : null,
            });
            var limit = cli.Value(count);
            var seen = 0;
            if (limit is <= 0)
            {
                return ExitCodes.Success;
            }

            await foreach (var e in follower.FollowAsync(ct))
            {
                Print(cli, e);
                await Console.Out.FlushAsync(ct);
                if (limit is { } max && ++seen >= max)
                {
                    break;
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List retained events in log order.") { Offer, Session, Profile, Types, AfterCursor };
        var paging = new Paging().AddTo(command);
        command.Run(async (cli, ct) =>
        {
            var request = new ListEventsRequest { Parent = cli.Connection.TenantName(), Filter = Filter(cli), AfterCursor = cli.Value(AfterCursor) ?? "" };
            using var client = cli.OpenClient();
            var (items, next) = await paging.ReadAsync<Event>(cli, async (size, token) =>
            {
                request.PageSize = size;
                request.PageToken = token;
                var page = await client.Events.ListEventsAsync(request, cancellationToken: ct);
                return (page.Events, page.NextPageToken);
            });
            if (cli.Json)
            {
                var response = new ListEventsResponse { NextPageToken = next };
                response.Events.AddRange(items);
                cli.Out.Message(response);
                return ExitCodes.Success;
            }

            foreach (var e in items)
            {
                Print(cli, e);
            }

            Paging.PrintNext(cli, next);
            return ExitCodes.Success;
        });
        return command;
    }

    private static EventFilter Filter(CliContext cli)
    {
        var filter = new EventFilter();
        if (cli.Value(Offer) is { } offer) filter.Offer = cli.Connection.ChildName("offers", offer);
        if (cli.Value(Session) is { } session) filter.Session = session;
        if (cli.Value(Profile) is { } profile) filter.Profile = cli.Connection.ChildName("profiles", profile);
        filter.EventTypes.AddRange((cli.Value(Types) ?? []).Select(t => Inputs.Enum<EventType>(TypeDescriptor, "EVENT_TYPE_", t)));
        return filter;
    }

    /// <summary>One event: a JSON line with --output json, else time, type, subject and the cursor to resume from.</summary>
    private static void Print(CliContext cli, Event e)
    {
        if (cli.Json)
        {
            Printer.Line(e);
            return;
        }

        var subject = e.Session.Length > 0 ? e.Session : e.Offer.Length > 0 ? e.Offer : e.Profile.Length > 0 ? e.Profile : e.ApiKey;
        var detail = e.DetailCase == Event.DetailOneofCase.None ? "" : " " + Printer.Format((Google.Protobuf.IMessage)Event.Descriptor.FindFieldByNumber((int)e.DetailCase).Accessor.GetValue(e));
        Printer.Text($"{e.Time?.ToDateTimeOffset():yyyy-MM-ddTHH:mm:ss.fffZ} {Inputs.Short(TypeDescriptor, "EVENT_TYPE_", e.Type),-24} {subject}{detail}  cursor={e.Cursor}");
    }

    /// <summary>Replaces the cursor file at once (write aside, then rename), so a kill never leaves half a cursor.</summary>
    private static void WriteCursor(string path, string cursor)
    {
        var full = Path.GetFullPath(path);
        var temporary = full + ".tmp";
        File.WriteAllText(temporary, cursor);
        File.Move(temporary, full, overwrite: true);
    }
}
