using System.CommandLine;
using Issuer2.Grpc.V1;

namespace Issuer2.Cli.Commands;

/// <summary>issuer2 tenants …: TenantService's tenant methods (the admin key).</summary>
internal static class TenantCommands
{
    public static Command Build()
    {
        var group = new Command("tenants", "Tenants (issuer services): create, get, list, update, delete. Takes the admin key.");
        group.Add(Create());
        group.Add(Get());
        group.Add(List());
        group.Add(Update());
        group.Add(Delete());
        return group;
    }

    private static readonly Option<string?> File = new("--file", "-f") { Description = "A Tenant as JSON or YAML (protobuf JSON field names); flags override it." };
    private static readonly Option<string?> DisplayName = new("--display-name") { Description = "The issuer's display name (in --locale)." };
    private static readonly Option<string> Locale = new("--locale") { Description = "The locale of --display-name.", DefaultValueFactory = _ => "en" };
    private static readonly Option<bool?> RequirePin = new("--require-pin") { Description = "Whether every pre-authorized offer must carry a PIN." };

    private static Argument<string?> Id(string description) => new("tenant-id") { Description = description, Arity = ArgumentArity.ZeroOrOne };

    private static Command Create()
    {
        var id = Id("The new tenant's id (lowercase letters, digits, hyphens); or tenant_id in --file.");
        var command = new Command("create", "Create a tenant.") { id, File, DisplayName, Locale, RequirePin };
        command.Run(async (cli, ct) =>
        {
            var (tenant, _) = FromFlags(cli);
            if (cli.Value(id) is { } given) tenant.TenantId = given;
            using var client = cli.OpenClient();
            var response = await client.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = tenant }, cancellationToken: ct);
            Print(cli, response.Tenant);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Get()
    {
        var id = Id("The tenant (id or tenants/{id}); default --tenant.");
        var command = new Command("get", "Show a tenant.") { id };
        command.Run(async (cli, ct) =>
        {
            using var client = cli.OpenClient();
            var response = await client.Tenants.GetTenantAsync(new GetTenantRequest { Name = cli.Connection.TenantName(cli.Value(id)) }, cancellationToken: ct);
            Print(cli, response.Tenant);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List tenants.");
        var paging = new Paging().AddTo(command);
        command.Run(async (cli, ct) =>
        {
            using var client = cli.OpenClient();
            var (items, next) = await paging.ReadAsync<Tenant>(cli, async (size, token) =>
            {
                var page = await client.Tenants.ListTenantsAsync(new ListTenantsRequest { PageSize = size, PageToken = token }, cancellationToken: ct);
                return (page.Tenants, page.NextPageToken);
            });
            if (cli.Json)
            {
                var response = new ListTenantsResponse { NextPageToken = next };
                response.Tenants.AddRange(items);
                cli.Out.Message(response);
                return ExitCodes.Success;
            }

            foreach (var t in items)
            {
                Printer.Text($"{t.TenantId,-32} {t.CredentialIssuer}");
            }

            Paging.PrintNext(cli, next);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Update()
    {
        var id = Id("The tenant (id or tenants/{id}); default --tenant.");
        var mask = new Option<string?>("--update-mask") { Description = "Comma-separated fields to change (default: the fields the file and flags set)." };
        var command = new Command("update", "Change a tenant's settings: the fields named by the mask, from --file and flags.") { id, File, DisplayName, Locale, RequirePin, mask };
        command.Run(async (cli, ct) =>
        {
            var (tenant, fields) = FromFlags(cli);
            tenant.Name = cli.Connection.TenantName(cli.Value(id));
            tenant.TenantId = "";
            using var client = cli.OpenClient();
            var request = new UpdateTenantRequest { Tenant = tenant, UpdateMask = Inputs.Mask(cli.Value(mask), fields.Where(f => f is not ("name" or "tenant_id"))) };
            var response = await client.Tenants.UpdateTenantAsync(request, cancellationToken: ct);
            Print(cli, response.Tenant);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Delete()
    {
        var id = Id("The tenant (id or tenants/{id}).");
        id.Arity = ArgumentArity.ExactlyOne;
        var command = new Command("delete", "Delete a tenant with its offers, profiles and keys. Its id is never used again.") { id };
        command.Run(async (cli, ct) =>
        {
            using var client = cli.OpenClient();
            var name = cli.Connection.TenantName(cli.Value(id));
            await client.Tenants.DeleteTenantAsync(new DeleteTenantRequest { Name = name }, cancellationToken: ct);
            if (cli.Json) cli.Out.Object(new() { ["deleted"] = name });
            else Printer.Text($"deleted {name}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static (Tenant Tenant, List<string> Fields) FromFlags(CliContext cli)
    {
        var (tenant, fields) = cli.Value(File) is { } path ? Inputs.ReadFile(path, Tenant.Parser) : (new Tenant(), []);
        var list = fields.ToList();
        if (cli.Value(DisplayName) is { } display)
        {
            tenant.Display.Clear();
            tenant.Display.Add(new IssuerDisplay { Locale = cli.Value(Locale), Name = display });
            list.Add("display");
        }

        if (cli.Value(RequirePin) is { } requirePin)
        {
            tenant.RequirePin = requirePin;
            list.Add("require_pin");
        }

        return (tenant, list);
    }

    private static void Print(CliContext cli, Tenant tenant)
    {
        if (cli.Json)
        {
            cli.Out.Message(tenant);
            return;
        }

        Printer.Text($"tenant            {tenant.Name}");
        Printer.Text($"credential issuer {tenant.CredentialIssuer}");
        Printer.Text($"require PIN       {(tenant.RequirePin ? "yes" : "no")}");
        Printer.Text($"methods           {string.Join(", ", tenant.AllowedAuthenticationMethods.Select(m => Inputs.Short(AuthenticationMethodDescriptor, "AUTHENTICATION_METHOD_", m)))}");
        foreach (var key in tenant.SigningKeys)
        {
            Printer.Text($"signing key       {key.Kid} {key.Algorithm}");
        }
    }

    internal static Google.Protobuf.Reflection.EnumDescriptor AuthenticationMethodDescriptor => CommonReflection.Descriptor.EnumTypes.Single(e => e.Name == "AuthenticationMethod");
}
