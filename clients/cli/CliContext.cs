using System.CommandLine;
using Grpc.Core;
using Issuer2.Client;

namespace Issuer2.Cli;

/// <summary>The options every command takes (recursive on the root), and the one way a command runs.</summary>
internal static class Global
{
    public static readonly Option<string?> Address = new("--address") { Description = "The server's native gRPC address (env ISSUER2_ADDRESS; default http://127.0.0.1:5081). http:// is h2c, https:// is TLS.", Recursive = true };
    public static readonly Option<string?> ApiKey = new("--api-key") { Description = "The API key: a tenant's, or the admin key for tenants (env ISSUER2_API_KEY).", Recursive = true };
    public static readonly Option<string?> Tenant = new("--tenant", "-t") { Description = "The tenant id the command works in (env ISSUER2_TENANT).", Recursive = true };
    public static readonly Option<string?> Config = new("--config") { Description = "The config file of named connections (env ISSUER2_CONFIG; default ~/.config/issuer2/config.json).", Recursive = true };
    public static readonly Option<string?> ConnectionName = new("--connection") { Description = "Which connection of the config file to use (env ISSUER2_CONNECTION; default 'default').", Recursive = true };
    public static readonly Option<string> Output = new("--output", "-o") { Description = "text (default) or json (one JSON document, or one JSON line per event, for scripts).", Recursive = true, DefaultValueFactory = _ => "text" };
    public static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Tell retries on standard error.", Recursive = true };

    public static void AddTo(RootCommand root)
    {
        Output.AcceptOnlyFromAmong("text", "json");
        foreach (var option in new Option[] { Address, ApiKey, Tenant, Config, ConnectionName, Output, Verbose })
        {
            root.Add(option);
        }
    }

    /// <summary>Sets <paramref name="body"/> as the command's action: errors become messages and exit codes in one place.</summary>
    public static void Run(this Command command, Func<CliContext, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, ct) =>
        {
            var cli = new CliContext(parse);
            try
            {
                return await body(cli, ct);
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
            {
                return ExitCodes.Interrupted;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return ExitCodes.Interrupted;
            }
            catch (RpcException error)
            {
                cli.Out.Error(error);
                return ExitCodes.Of(error.StatusCode);
            }
            catch (CliInputException error)
            {
                cli.Out.Error(error.Message);
                return ExitCodes.Input;
            }
        });
}

/// <summary>What a running command knows: its parse result, its connection and its output.</summary>
internal sealed class CliContext(ParseResult parse)
{
    private Connection? _connection;

    public ParseResult Parse { get; } = parse;

    public string? Address => Parse.GetValue(Global.Address);

    public string? ApiKey => Parse.GetValue(Global.ApiKey);

    public string? Tenant => Parse.GetValue(Global.Tenant);

    public string ConfigPath => Parse.GetValue(Global.Config) ?? ConfigFile.DefaultPath();

    public string ConnectionName => Parse.GetValue(Global.ConnectionName)
        ?? (Environment.GetEnvironmentVariable("ISSUER2_CONNECTION") is { Length: > 0 } fromEnvironment ? fromEnvironment : "default");

    public bool Json => Parse.GetValue(Global.Output) == "json";

    public Printer Out => field ??= new Printer(Json);

    public Connection Connection => _connection ??= Connection.Resolve(this);

    public T Value<T>(Option<T> option) => Parse.GetValue(option)!;

    public T Value<T>(Argument<T> argument) => Parse.GetValue(argument)!;

    public Issuer2Client OpenClient() => Connection.OpenClient(
        Parse.GetValue(Global.Verbose)
            ? retry => Console.Error.WriteLine($"retrying {retry.Method} in {retry.Delay.TotalSeconds:0.0} s (attempt {retry.Attempt}) after {retry.Error.StatusCode}")
            : null);
}
