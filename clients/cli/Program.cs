using System.CommandLine;
using Issuer2.Cli;
using Issuer2.Cli.Commands;

var root = new RootCommand("issuer2: manage an Issuer2 credential issuer over gRPC (tenants, API keys, profiles, offers, sessions, events).");
Global.AddTo(root);
root.Add(QuickstartCommand.Build());
root.Add(TenantCommands.Build());
root.Add(ApiKeyCommands.Build());
root.Add(ProfileCommands.Build());
root.Add(OfferCommands.Build());
root.Add(SessionCommands.Build());
root.Add(EventCommands.Build());
root.Add(ConfigCommands.Build());
return await root.Parse(args).InvokeAsync();
