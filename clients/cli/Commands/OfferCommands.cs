using System.CommandLine;
using Google.Protobuf.Reflection;
using Issuer2.Grpc.V1;

namespace Issuer2.Cli.Commands;

/// <summary>issuer2 offers …: OfferService (its sessions are under issuer2 sessions).</summary>
internal static class OfferCommands
{
    internal static EnumDescriptor StateDescriptor => OfferServiceReflection.Descriptor.EnumTypes.Single(e => e.Name == "OfferState");

    public static Command Build()
    {
        var group = new Command("offers", "Credential offers: create (URL, PIN and QR code), get, list, revoke.");
        group.Add(Create());
        group.Add(Get());
        group.Add(List());
        group.Add(Revoke());
        return group;
    }

    private static Command Create()
    {
        var profile = new Option<string?>("--profile", "-p") { Description = "The profile to offer (id or name); or profile in --file." };
        var file = new Option<string?>("--file", "-f") { Description = "A CreateOfferRequest as JSON or YAML; flags override it." };
        var pin = new Option<bool>("--pin") { Description = "Protect the offer with a generated numeric PIN (printed once)." };
        var pinLength = new Option<int?>("--pin-length") { Description = "Digits of a generated PIN (4 to 12; implies --pin)." };
        var pinValue = new Option<string?>("--pin-value") { Description = "Use this PIN instead of a generated one." };
        var pinDescription = new Option<string?>("--pin-description") { Description = "What the wallet shows with the PIN prompt." };
        var maxUses = new Option<int?>("--max-uses") { Description = "How many times the offer may be redeemed (default 1)." };
        var lifetime = new Option<string?>("--lifetime") { Description = "How long the offer stays valid (90s, 15m, 24h, 7d)." };
        var expireTime = new Option<string?>("--expire-time") { Description = "When the offer expires (ISO 8601); instead of --lifetime." };
        var byValue = new Option<bool>("--by-value") { Description = "Put the offer itself in the URL instead of a reference." };
        var authorized = new Option<bool>("--authorized") { Description = "Authorization code flow: the user signs in at the tenant's IdP." };
        var issuerState = new Option<bool>("--issuer-state") { Description = "With --authorized: include issuer_state, tying the sign-in to this offer." };
        var set = new Option<string[]>("--set") { Description = "A claim value for this offer, path=value (given_name=Ada, graduation_year=2026); repeatable." };
        var requestId = new Option<string?>("--request-id") { Description = "Makes the create safe to retry: the same id returns the same offer (and lets the client retry it)." };
        var qrPng = new Option<string?>("--qr-png") { Description = "Write the QR code as a PNG file." };
        var qrSvg = new Option<string?>("--qr-svg") { Description = "Write the QR code as an SVG file." };
        var noQr = new Option<bool>("--no-qr") { Description = "Do not draw the QR code in the terminal." };
        var invert = new Option<bool>("--qr-invert") { Description = "Draw the QR code for a light terminal background." };
        var command = new Command("create", "Create an offer; prints its URL, the PIN (once) and the QR code to scan.")
        {
            profile, file, pin, pinLength, pinValue, pinDescription, maxUses, lifetime, expireTime, byValue, authorized, issuerState,
            set, requestId, qrPng, qrSvg, noQr, invert,
        };
        command.Run(async (cli, ct) =>
        {
            var request = cli.Value(file) is { } path ? Inputs.ReadFile(path, CreateOfferRequest.Parser).Message : new CreateOfferRequest();
            request.Parent = cli.Connection.TenantName();
            if (cli.Value(profile) is { } p) request.Profile = cli.Connection.ChildName("profiles", p);
            if (request.Profile.Length == 0) throw new CliInputException("Which profile? Pass --profile <id>.");
            if (cli.Value(pin) || cli.Value(pinLength) is not null || cli.Value(pinValue) is not null || cli.Value(pinDescription) is not null)
            {
                request.TxCode ??= new TxCodeOptions();
                if (cli.Value(pinLength) is { } length) request.TxCode.Length = length;
                if (cli.Value(pinValue) is { } value) request.TxCode.Value = value;
                if (cli.Value(pinDescription) is { } description) request.TxCode.Description = description;
            }

            if (cli.Value(maxUses) is { } uses) request.MaxUses = uses;
            if (cli.Value(lifetime) is { } l) request.Lifetime = Inputs.Duration(l);
            if (cli.Value(expireTime) is { } e) request.ExpireTime = Inputs.Time(e);
            if (cli.Value(byValue)) request.DeliveryMode = DeliveryMode.ByValue;
            if (cli.Value(authorized)) request.AuthenticationMethod = AuthenticationMethod.Authorized;
            if (cli.Value(issuerState)) request.IssuerStateMode = IssuerStateMode.Include;
            request.Overrides.AddRange((cli.Value(set) ?? []).Select(Inputs.ClaimValue));
            if (cli.Value(requestId) is { } id) request.RequestId = id;
            var png = cli.Value(qrPng);
            var svg = cli.Value(qrSvg);
            request.IncludeQrCode |= png is not null || svg is not null;

            using var client = cli.OpenClient();
            var response = await client.Offers.CreateOfferAsync(request, cancellationToken: ct);
            if (png is not null) await File.WriteAllBytesAsync(png, response.QrCode.Png.ToByteArray(), ct);
            if (svg is not null) await File.WriteAllTextAsync(svg, response.QrCode.Svg, ct);
            if (cli.Json)
            {
                cli.Out.Message(response);
                return ExitCodes.Success;
            }

            var offer = response.Offer;
            Printer.Text($"offer    {offer.Name}");
            Printer.Text($"state    {Inputs.Short(StateDescriptor, "OFFER_STATE_", offer.State)}, {offer.MaxUses} use(s), expires {offer.ExpireTime?.ToDateTimeOffset():u}");
            Printer.Text($"url      {response.OfferUrl}");
            if (response.TxCode.Length > 0)
            {
                Printer.Text($"pin      {response.TxCode}   (shown once: send it to the holder out of band)");
            }

            if (png is not null) Printer.Text($"qr png   {png}");
            if (svg is not null) Printer.Text($"qr svg   {svg}");
            if (!cli.Value(noQr))
            {
                Printer.Text("");
                Console.Out.Write(TerminalQr.Render(response.OfferUrl, cli.Value(invert)));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Get()
    {
        var id = new Argument<string>("offer-id") { Description = "The offer's id or name." };
        var command = new Command("get", "Show an offer and its state (never its URL or PIN).") { id };
        command.Run(async (cli, ct) =>
        {
            using var client = cli.OpenClient();
            var response = await client.Offers.GetOfferAsync(new GetOfferRequest { Name = cli.Connection.ChildName("offers", cli.Value(id)) }, cancellationToken: ct);
            Print(cli, response.Offer);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List()
    {
        var state = new Option<string?>("--state") { Description = "Only offers in this state: active, expired, revoked, used_up, locked." };
        var profile = new Option<string?>("--profile", "-p") { Description = "Only offers of this profile (id or name)." };
        var command = new Command("list", "List offers, newest first.") { state, profile };
        var paging = new Paging().AddTo(command);
        command.Run(async (cli, ct) =>
        {
            var request = new ListOffersRequest { Parent = cli.Connection.TenantName() };
            if (cli.Value(state) is { } s) request.State = Inputs.Enum<OfferState>(StateDescriptor, "OFFER_STATE_", s);
            if (cli.Value(profile) is { } p) request.Profile = cli.Connection.ChildName("profiles", p);
            using var client = cli.OpenClient();
            var (items, next) = await paging.ReadAsync<Offer>(cli, async (size, token) =>
            {
                request.PageSize = size;
                request.PageToken = token;
                var page = await client.Offers.ListOffersAsync(request, cancellationToken: ct);
                return (page.Offers, page.NextPageToken);
            });
            if (cli.Json)
            {
                var response = new ListOffersResponse { NextPageToken = next };
                response.Offers.AddRange(items);
                cli.Out.Message(response);
                return ExitCodes.Success;
            }

            foreach (var o in items)
            {
                Printer.Text($"{o.OfferId,-28} {Inputs.Short(StateDescriptor, "OFFER_STATE_", o.State),-8} {o.UseCount}/{o.MaxUses,-4} {o.Profile}");
            }

            Paging.PrintNext(cli, next);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Revoke()
    {
        var id = new Argument<string>("offer-id") { Description = "The offer's id or name." };
        var command = new Command("revoke", "Revoke an offer: it can no longer be claimed, and its tokens stop working.") { id };
        command.Run(async (cli, ct) =>
        {
            using var client = cli.OpenClient();
            var response = await client.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = cli.Connection.ChildName("offers", cli.Value(id)) }, cancellationToken: ct);
            Print(cli, response.Offer);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(CliContext cli, Offer offer)
    {
        if (cli.Json)
        {
            cli.Out.Message(offer);
            return;
        }

        Printer.Text($"offer      {offer.Name}");
        Printer.Text($"profile    {offer.Profile} (version {offer.ProfileVersion})");
        Printer.Text($"state      {Inputs.Short(StateDescriptor, "OFFER_STATE_", offer.State)}");
        Printer.Text($"uses       {offer.UseCount} of {offer.MaxUses}; resolved {offer.ResolutionCount} time(s); {offer.IssuedCredentialCount} credential(s) issued");
        Printer.Text($"pin        {(offer.PinRequired ? $"required ({offer.PinFailedAttempts} wrong so far)" : "none")}");
        Printer.Text($"expires    {offer.ExpireTime?.ToDateTimeOffset():u}");
    }
}
