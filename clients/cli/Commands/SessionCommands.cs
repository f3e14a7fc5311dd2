using System.CommandLine;
using Issuer2.Grpc.V1;

namespace Issuer2.Cli.Commands;

/// <summary>issuer2 sessions …: the issuance sessions of an offer (ListOfferSessions) or of a profile (ListProfileSessions).</summary>
internal static class SessionCommands
{
    public static Command Build()
    {
        var group = new Command("sessions", "Issuance sessions (one per redemption) and what each received.");
        var offer = new Option<string?>("--offer") { Description = "The sessions of this offer (id or name)." };
        var profile = new Option<string?>("--profile", "-p") { Description = "The wallet-initiated sessions of this profile (id or name)." };
        var list = new Command("list", "List the sessions of an offer (--offer) or of a profile (--profile), oldest first.") { offer, profile };
        var paging = new Paging().AddTo(list);
        list.Run(async (cli, ct) =>
        {
            var offerId = cli.Value(offer);
            var profileId = cli.Value(profile);
            if ((offerId is null) == (profileId is null))
            {
                throw new CliInputException("Name exactly one of --offer and --profile.");
            }

            using var client = cli.OpenClient();
            var (items, next) = await paging.ReadAsync<IssuanceSession>(cli, async (size, token) =>
            {
                if (offerId is not null)
                {
                    var page = await client.Offers.ListOfferSessionsAsync(
                        new ListOfferSessionsRequest { Parent = cli.Connection.ChildName("offers", offerId), PageSize = size, PageToken = token }, cancellationToken: ct);
                    return (page.Sessions, page.NextPageToken);
                }

                var byProfile = await client.Profiles.ListProfileSessionsAsync(
                    new ListProfileSessionsRequest { Parent = cli.Connection.ChildName("profiles", profileId!), PageSize = size, PageToken = token }, cancellationToken: ct);
                return (byProfile.Sessions, byProfile.NextPageToken);
            });
            if (cli.Json)
            {
                var response = new ListOfferSessionsResponse { NextPageToken = next };
                response.Sessions.AddRange(items);
                cli.Out.Message(response);
                return ExitCodes.Success;
            }

            foreach (var s in items)
            {
                Printer.Text($"{s.Name}  {(s.CompleteTime is null ? "open" : "complete")}  {s.CreateTime?.ToDateTimeOffset():u}");
                foreach (var c in s.Credentials)
                {
                    Printer.Text($"  credential {c.CredentialId} {c.Format} {(c.NotificationEvent.Length > 0 ? c.NotificationEvent : "no notification")}");
                }
            }

            Paging.PrintNext(cli, next);
            return ExitCodes.Success;
        });
        group.Add(list);
        return group;
    }
}
