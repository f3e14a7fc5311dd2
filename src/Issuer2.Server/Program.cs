using Issuer2.Server;
using Issuer2.Server.Hosting;
using Issuer2.Storage;

// `Issuer2.Server migrate [options]` applies the migrations and exits, for operators who migrate explicitly.
if (args.Length > 0 && args[0] == "migrate")
{
    await using var tool = IssuerHost.Build(IssuerHost.CreateBuilder(args[1..]));
    await using var scope = tool.Services.CreateAsyncScope();
    await DatabaseMigrator.MigrateAsync(scope.ServiceProvider.GetRequiredService<IssuerDbContext>(), CancellationToken.None);
    Console.WriteLine("Migrations applied.");
    return 0;
}

// `Issuer2.Server keys status|rewrap|rotate [options]`: the key ring (docs/security.md, "Keys and rotation").
if (args.Length > 0 && args[0] == "keys") return await KeyCommands.RunAsync(args[1..]);

var app = IssuerHost.Build(IssuerHost.CreateBuilder(args));
await app.RunAsync();
return 0;
