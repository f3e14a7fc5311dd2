using System.CommandLine;
using Issuer2.Grpc.V1;

namespace Issuer2.Cli.Commands;

/// <summary>issuer2 api-keys …: a tenant's API keys.</summary>
internal static class ApiKeyCommands
{
    public static Command Build()
    {
        var group = new Command("api-keys", "API keys of a tenant: create (the key is shown once), list, revoke. Takes the admin key.");
        group.Add(Create());
        group.Add(List());
        group.Add(Revoke());
        return group;
    }

    private static Command Create()
    {
        var displayName = new Option<string?>("--display-name") { Description = "What the key is for, e.g. 'registrar portal'." };
        var expires = new Option<string?>("--expire-time") { Description = "When the key stops working (ISO 8601)." };
        var command = new Command("create", "Create an API key; the key itself is printed once.") { displayName, expires };
        command.Run(async (cli, ct) =>
        {
            var request = new CreateApiKeyRequest { Parent = cli.Connection.TenantName(), DisplayName = cli.Value(displayName) ?? "" };
            if (cli.Value(expires) is { } at) request.ExpireTime = Inputs.Time(at);
            using var client = cli.OpenClient();
            var response = await client.Tenants.CreateApiKeyAsync(request, cancellationToken: ct);
            if (cli.Json)
            {
                cli.Out.Message(response);
                return ExitCodes.Success;
            }

            Printer.Text($"api key  {response.ApiKey.Name}");
            Printer.Text($"key      {response.Key}");
            Printer.Text("(shown once: store it now)");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the tenant's API keys (never the keys themselves).");
        var paging = new Paging().AddTo(command);
        command.Run(async (cli, ct) =>
        {
            using var client = cli.OpenClient();
            var parent = cli.Connection.TenantName();
            var (items, next) = await paging.ReadAsync<ApiKey>(cli, async (size, token) =>
            {
                var page = await client.Tenants.ListApiKeysAsync(new ListApiKeysRequest { Parent = parent, PageSize = size, PageToken = token }, cancellationToken: ct);
                return (page.ApiKeys, page.NextPageToken);
            });
            if (cli.Json)
            {
                var response = new ListApiKeysResponse { NextPageToken = next };
                response.ApiKeys.AddRange(items);
                cli.Out.Message(response);
                return ExitCodes.Success;
            }

            foreach (var k in items)
            {
                var state = k.RevokeTime is not null ? "revoked" : "active";
                Printer.Text($"{k.Name,-60} {k.KeyPrefix,-12} {state,-8} {k.DisplayName}");
            }

            Paging.PrintNext(cli, next);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Revoke()
    {
        var id = new Argument<string>("api-key") { Description = "The key's id or name (tenants/{t}/apiKeys/{id})." };
        var command = new Command("revoke", "Revoke an API key: it stops working at once.") { id };
        command.Run(async (cli, ct) =>
        {
            using var client = cli.OpenClient();
            var response = await client.Tenants.RevokeApiKeyAsync(new RevokeApiKeyRequest { Name = cli.Connection.ChildName("apiKeys", cli.Value(id)) }, cancellationToken: ct);
            if (cli.Json) cli.Out.Message(response);
            else Printer.Text($"revoked {response.ApiKey.Name}");
            return ExitCodes.Success;
        });
        return command;
    }
}
