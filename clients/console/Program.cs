using Issuer2.BrowserConsole;
using Issuer2.BrowserConsole.Services;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Components.WebAssembly.Hosting;

var builder = WebAssemblyHostBuilder.CreateDefault(args);
builder.RootComponents.Add<App>("#app");
builder.RootComponents.Add<HeadOutlet>("head::after");

// The services are on the origin that served the console (the host serves both).
var origin = new Uri(new Uri(builder.HostEnvironment.BaseAddress).GetLeftPart(UriPartial.Authority));
builder.Services.AddSingleton(new IssuerApi(origin));
builder.Services.AddSingleton<ConsoleSession>();
builder.Services.AddSingleton<CreatedOffers>();

var host = builder.Build();
await host.Services.GetRequiredService<ConsoleSession>().RestoreAsync();
await host.RunAsync();
