using System.CommandLine;
using System.Text.Json.Nodes;

namespace Issuer2.Cli.Commands;

/// <summary>issuer2 config …: the named connections of the config file.</summary>
internal static class ConfigCommands
{
    public static Command Build()
    {
        var group = new Command("config", "Named connections (address, API key, tenant) in the config file.");
        var set = new Command("set", "Store --address, --api-key and --tenant in the connection named by --connection (default 'default'). The file is written owner-only.");
        set.Run((cli, _) =>
        {
            if (cli.Address is null && cli.ApiKey is null && cli.Tenant is null)
            {
                throw new CliInputException("Nothing to store: pass --address, --api-key and/or --tenant.");
            }

            var file = ConfigFile.Load(cli.ConfigPath);
            file.Set(cli.ConnectionName, new StoredConnection(cli.Address, cli.ApiKey, cli.Tenant));
            if (cli.Json) cli.Out.Object(new JsonObject { ["config"] = file.Path, ["connection"] = cli.ConnectionName });
            else Printer.Text($"stored connection '{cli.ConnectionName}' in {file.Path}");
            return Task.FromResult(ExitCodes.Success);
        });
        var show = new Command("show", "Show the connection in effect (flags, environment, config file) with the API key shortened.");
        show.Run((cli, _) =>
        {
            var c = cli.Connection;
            var key = c.ApiKey is { Length: > 10 } k ? k[..7] + "..." : c.ApiKey is null ? null : "...";
            var value = new JsonObject { ["config"] = cli.ConfigPath, ["connection"] = cli.ConnectionName, ["address"] = c.Address, ["apiKey"] = key, ["tenant"] = c.Tenant };
            cli.Out.Object(value);
            return Task.FromResult(ExitCodes.Success);
        });
        group.Add(set);
        group.Add(show);
        return group;
    }
}
