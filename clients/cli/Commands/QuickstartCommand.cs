using System.CommandLine;
using System.Text.Json.Nodes;
using Grpc.Core;
using Issuer2.Client;
using Issuer2.Grpc.V1;

namespace Issuer2.Cli.Commands;

/// <summary>
/// issuer2 quickstart: with the admin key, a demo tenant (kept if it exists), an API key for it, a diploma profile
/// (kept if it exists) and a PIN-protected offer; prints what to scan and the commands that continue from there.
/// </summary>
internal static class QuickstartCommand
{
    public static Command Build()
    {
        var tenantId = new Option<string>("--tenant-id") { Description = "The demo tenant's id.", DefaultValueFactory = _ => "acme-university" };
        var givenName = new Option<string>("--given-name") { Description = "The holder's given name in the demo credential.", DefaultValueFactory = _ => "Ada" };
        var save = new Option<bool>("--save") { Description = "Store the new tenant key and the tenant in the config file's connection (--connection), so later commands need no flags." };
        var invert = new Option<bool>("--qr-invert") { Description = "Draw the QR code for a light terminal background." };
        var noQr = new Option<bool>("--no-qr") { Description = "Do not draw the QR code." };
        var command = new Command("quickstart", "Create a demo tenant, API key, profile and offer against a running server (takes the admin key), and print what to scan.")
        {
            tenantId, givenName, save, invert, noQr,
        };
        command.Run(async (cli, ct) =>
        {
            var id = cli.Value(tenantId);
            var parent = "tenants/" + id;
            Tenant tenant;
            using (var admin = cli.OpenClient())
            {
                tenant = await CreateOrGetAsync(
                    () => admin.Tenants.CreateTenantAsync(new CreateTenantRequest
                    {
                        Tenant = new Tenant { TenantId = id, Display = { new IssuerDisplay { Locale = "en", Name = "ACME University (demo)" } } },
                    }, cancellationToken: ct).ResponseAsync.ContinueWith(t => t.Result.Tenant, ct, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default),
                    async () => (await admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = parent }, cancellationToken: ct)).Tenant);
            }

            string key;
            using (var admin = cli.OpenClient())
            {
                key = (await admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = parent, DisplayName = "issuer2 quickstart" }, cancellationToken: ct)).Key;
            }

            var connection = cli.Connection with { ApiKey = key, Tenant = id };
            using var client = connection.OpenClient();
            var profileName = parent + "/profiles/diploma";
            var profile = await CreateOrGetAsync(
                async () => (await client.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = parent, Profile = DemoProfile() }, cancellationToken: ct)).Profile,
                async () => (await client.Profiles.GetProfileAsync(new GetProfileRequest { Name = profileName }, cancellationToken: ct)).Profile);
            var offer = await client.Offers.CreateOfferAsync(new CreateOfferRequest
            {
                Parent = parent,
                Profile = profile.Name,
                TxCode = new TxCodeOptions { Description = "The PIN issuer2 quickstart printed" },
                Overrides =
                {
                    Inputs.ClaimValue("given_name=" + cli.Value(givenName)),
                    Inputs.ClaimValue("graduation_year=" + DateTimeOffset.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                },
            }, cancellationToken: ct);

            if (cli.Value(save))
            {
                ConfigFile.Load(cli.ConfigPath).Set(cli.ConnectionName, new StoredConnection(connection.Address, key, id));
            }

            if (cli.Json)
            {
                cli.Out.Object(new JsonObject
                {
                    ["tenant"] = tenant.Name,
                    ["credentialIssuer"] = tenant.CredentialIssuer,
                    ["apiKey"] = key,
                    ["profile"] = profile.Name,
                    ["offer"] = offer.Offer.Name,
                    ["offerUrl"] = offer.OfferUrl,
                    ["txCode"] = offer.TxCode,
                });
                return ExitCodes.Success;
            }

            Printer.Text($"tenant   {tenant.Name}  (credential issuer {tenant.CredentialIssuer})");
            Printer.Text($"api key  {key}  (shown once{(cli.Value(save) ? $"; saved to {cli.ConfigPath}" : "")})");
            Printer.Text($"profile  {profile.Name}");
            Printer.Text($"offer    {offer.Offer.Name}");
            Printer.Text($"url      {offer.OfferUrl}");
            Printer.Text($"pin      {offer.TxCode}");
            if (!cli.Value(noQr))
            {
                Printer.Text("");
                Console.Out.Write(TerminalQr.Render(offer.OfferUrl, cli.Value(invert)));
            }

            Printer.Text("");
            Printer.Text("Scan the QR code with a wallet that reaches the server, or claim it with the test wallet:");
            Printer.Text($"  (cd tests/interop && npm install && node claim-cli.mjs '{offer.OfferUrl}' {offer.TxCode})");
            Printer.Text("Then, as the tenant:");
            if (!cli.Value(save)) Printer.Text($"  export ISSUER2_API_KEY={key} ISSUER2_TENANT={id}");
            Printer.Text("  issuer2 events follow --from-oldest     # the issuance, step by step (Ctrl+C to stop)");
            Printer.Text($"  issuer2 offers get {offer.Offer.OfferId}");
            Printer.Text($"  issuer2 sessions list --offer {offer.Offer.OfferId}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<T> CreateOrGetAsync<T>(Func<Task<T>> create, Func<Task<T>> get)
    {
        try
        {
            return await create();
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.AlreadyExists)
        {
            return await get();
        }
    }

    private static Profile DemoProfile()
    {
        var profile = new Profile
        {
            ProfileId = "diploma",
            Vct = "https://acme.example/credentials/diploma",
            Display = { new CredentialDisplay { Locale = "en", Name = "Diploma", BackgroundColor = "#12107c", TextColor = "#ffffff" } },
            Claims =
            {
                new ClaimDefinition { Path = { "given_name" }, SelectivelyDisclosable = true, Display = { new ClaimDisplay { Locale = "en", Name = "Given name" } } },
                new ClaimDefinition { Path = { "degree" }, Mandatory = true, Display = { new ClaimDisplay { Locale = "en", Name = "Degree" } } },
                new ClaimDefinition { Path = { "graduation_year" }, ValueType = ClaimValueType.Integer, Display = { new ClaimDisplay { Locale = "en", Name = "Graduation year" } } },
            },
        };
        profile.DefaultValues.Add(Inputs.ClaimValue("degree=BSc Computer Science"));
        return profile;
    }
}
