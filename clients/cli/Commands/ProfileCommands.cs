using System.CommandLine;
using Issuer2.Grpc.V1;

namespace Issuer2.Cli.Commands;

/// <summary>issuer2 profiles …: ProfileService.</summary>
internal static class ProfileCommands
{
    public static Command Build()
    {
        var group = new Command("profiles", "Credential profiles of a tenant: create, get, list, update, delete.");
        group.Add(Create());
        group.Add(Get());
        group.Add(List());
        group.Add(Update());
        group.Add(Delete());
        return group;
    }

    private static readonly Option<string?> File = new("--file", "-f") { Description = "A Profile as JSON or YAML (protobuf JSON field names); flags add to it." };
    private static readonly Option<string?> Vct = new("--vct") { Description = "The SD-JWT VC type (vct)." };
    private static readonly Option<string?> DisplayName = new("--display-name") { Description = "The credential's display name (in --locale)." };
    private static readonly Option<string> Locale = new("--locale") { Description = "The locale of --display-name.", DefaultValueFactory = _ => "en" };
    private static readonly Option<string[]> Claims = new("--claim") { Description = "A claim, always disclosed: path with dots, optionally :type (string, integer, number, boolean, date, date_time, object, array); repeatable." };
    private static readonly Option<string[]> SdClaims = new("--sd-claim") { Description = "A selectively disclosable claim: path with dots, optionally :type; repeatable." };
    private static readonly Option<string[]> Defaults = new("--default") { Description = "A default value, path=value (value as JSON or text); repeatable." };
    private static readonly Option<string?> Validity = new("--validity") { Description = "How long issued credentials are valid (e.g. 365d)." };

    private static Google.Protobuf.Reflection.EnumDescriptor ValueTypeDescriptor => ProfileServiceReflection.Descriptor.EnumTypes.Single(e => e.Name == "ClaimValueType");

    private static Argument<string> Id(string description) => new("profile-id") { Description = description };

    private static Command Create()
    {
        var id = Id("The new profile's id; or profile_id in --file.");
        id.Arity = ArgumentArity.ZeroOrOne;
        var command = new Command("create", "Create a credential profile (SD-JWT VC by default).") { id, File, Vct, DisplayName, Locale, Claims, SdClaims, Defaults, Validity };
        command.Run(async (cli, ct) =>
        {
            var (profile, _) = FromFlags(cli);
            if (cli.Value(id) is { Length: > 0 } given) profile.ProfileId = given;
            using var client = cli.OpenClient();
            var response = await client.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = cli.Connection.TenantName(), Profile = profile }, cancellationToken: ct);
            Print(cli, response.Profile);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Get()
    {
        var id = Id("The profile's id or name.");
        var command = new Command("get", "Show a profile.") { id };
        command.Run(async (cli, ct) =>
        {
            using var client = cli.OpenClient();
            var response = await client.Profiles.GetProfileAsync(new GetProfileRequest { Name = cli.Connection.ChildName("profiles", cli.Value(id)) }, cancellationToken: ct);
            Print(cli, response.Profile);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the tenant's profiles.");
        var paging = new Paging().AddTo(command);
        command.Run(async (cli, ct) =>
        {
            using var client = cli.OpenClient();
            var parent = cli.Connection.TenantName();
            var (items, next) = await paging.ReadAsync<Profile>(cli, async (size, token) =>
            {
                var page = await client.Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = parent, PageSize = size, PageToken = token }, cancellationToken: ct);
                return (page.Profiles, page.NextPageToken);
            });
            if (cli.Json)
            {
                var response = new ListProfilesResponse { NextPageToken = next };
                response.Profiles.AddRange(items);
                cli.Out.Message(response);
                return ExitCodes.Success;
            }

            foreach (var p in items)
            {
                Printer.Text($"{p.ProfileId,-24} v{p.Version,-4} {p.Vct}");
            }

            Paging.PrintNext(cli, next);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Update()
    {
        var id = Id("The profile's id or name.");
        var mask = new Option<string?>("--update-mask") { Description = "Comma-separated fields to change (default: the fields the file and flags set)." };
        var command = new Command("update", "Change a profile (a new version): the fields named by the mask, from --file and flags.") { id, File, Vct, DisplayName, Locale, Claims, SdClaims, Defaults, Validity, mask };
        command.Run(async (cli, ct) =>
        {
            var (profile, fields) = FromFlags(cli);
            profile.Name = cli.Connection.ChildName("profiles", cli.Value(id));
            profile.ProfileId = "";
            using var client = cli.OpenClient();
            var request = new UpdateProfileRequest { Profile = profile, UpdateMask = Inputs.Mask(cli.Value(mask), fields.Where(f => f is not ("name" or "profile_id"))) };
            var response = await client.Profiles.UpdateProfileAsync(request, cancellationToken: ct);
            Print(cli, response.Profile);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Delete()
    {
        var id = Id("The profile's id or name.");
        var revoke = new Option<bool>("--revoke-offers") { Description = "Also revoke its active offers (without it, a profile with active offers is not deleted)." };
        var command = new Command("delete", "Delete a profile.") { id, revoke };
        command.Run(async (cli, ct) =>
        {
            using var client = cli.OpenClient();
            var name = cli.Connection.ChildName("profiles", cli.Value(id));
            var response = await client.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = name, RevokeOffers = cli.Value(revoke) }, cancellationToken: ct);
            if (cli.Json) cli.Out.Message(response);
            else Printer.Text($"deleted {name} ({response.RevokedOfferCount} active offers revoked)");
            return ExitCodes.Success;
        });
        return command;
    }

    private static (Profile Profile, List<string> Fields) FromFlags(CliContext cli)
    {
        var (profile, fields) = cli.Value(File) is { } path ? Inputs.ReadFile(path, Profile.Parser) : (new Profile(), []);
        var list = fields.ToList();
        if (cli.Value(Vct) is { } vct)
        {
            profile.Vct = vct;
            list.Add("vct");
        }

        if (cli.Value(DisplayName) is { } display)
        {
            profile.Display.Clear();
            profile.Display.Add(new CredentialDisplay { Locale = cli.Value(Locale), Name = display });
            list.Add("display");
        }

        var claims = (cli.Value(Claims) ?? []).Select(c => (Path: c, Sd: false)).Concat((cli.Value(SdClaims) ?? []).Select(c => (Path: c, Sd: true))).ToList();
        if (claims.Count > 0)
        {
            foreach (var (spec, sd) in claims)
            {
                var definition = new ClaimDefinition { SelectivelyDisclosable = sd };
                var colon = spec.LastIndexOf(':');
                var claimPath = colon < 0 ? spec : spec[..colon];
                if (colon >= 0)
                {
                    definition.ValueType = Inputs.Enum<ClaimValueType>(ValueTypeDescriptor, "CLAIM_VALUE_TYPE_", spec[(colon + 1)..]);
                }

                definition.Path.AddRange(claimPath.Split('.'));
                profile.Claims.Add(definition);
            }

            list.Add("claims");
        }

        if (cli.Value(Defaults) is { Length: > 0 } defaults)
        {
            profile.DefaultValues.AddRange(defaults.Select(Inputs.ClaimValue));
            list.Add("default_values");
        }

        if (cli.Value(Validity) is { } validity)
        {
            profile.CredentialValidity = Inputs.Duration(validity);
            list.Add("credential_validity");
        }

        return (profile, list);
    }

    private static void Print(CliContext cli, Profile profile)
    {
        if (cli.Json)
        {
            cli.Out.Message(profile);
            return;
        }

        Printer.Text($"profile  {profile.Name} (version {profile.Version})");
        Printer.Text($"vct      {profile.Vct}");
        Printer.Text($"scope    {profile.Scope}");
        foreach (var c in profile.Claims)
        {
            Printer.Text($"claim    {string.Join('.', c.Path)}{(c.SelectivelyDisclosable ? " (selectively disclosable)" : "")}{(c.Mandatory ? " (mandatory)" : "")}");
        }

        foreach (var d in profile.DefaultValues)
        {
            Printer.Text($"default  {string.Join('.', d.Path)} = {Printer.Format(d.Value)}");
        }
    }
}
