using Microsoft.Net.Http.Headers;

namespace Issuer2.Server.Hosting;

/// <summary>
/// Serves the browser console (clients/console, Blazor WebAssembly) at <c>/console/</c>: its static files and framework,
/// index.html for every other path under it (the console routes in the browser), and a strict Content-Security-Policy.
/// The console calls the same gRPC services over gRPC-Web from the same origin, so it needs no CORS setting.
/// </summary>
public static class ConsoleHosting
{
    /// <summary>The path the console is served under ("console" is a reserved tenant id, so no tenant shadows it).</summary>
    public const string Path = "/console";

    /// <summary>
    /// Scripts only from this origin plus WebAssembly compilation (Blazor needs 'wasm-unsafe-eval'; no inline or
    /// evaluated script), styles only from files, images from files and data: URLs (the offer's QR code), calls only to
    /// this origin, no framing, no plugins, forms and base URL pinned to this origin.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
        "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'self'; form-action 'self'; " +
        "frame-ancestors 'none'; object-src 'none'";

    /// <summary>
    /// Finds the console's files in the build output too (the static web assets manifest that <c>dotnet build</c> writes),
    /// whatever the environment; a published host has them under wwwroot and the call changes nothing.
    /// </summary>
    public static WebApplicationBuilder AddConsole(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WebHost.UseStaticWebAssets();
        return builder;
    }

    /// <summary>Serves the console under <see cref="Path"/>; every other request passes by untouched.</summary>
    public static WebApplication UseConsole(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWhen(http => http.Request.Path.StartsWithSegments(Path), console =>
        {
            console.Use((http, next) =>
            {
                // /console → /console/: the app's <base href> is the folder.
                if (string.Equals(http.Request.Path.Value, Path, StringComparison.OrdinalIgnoreCase))
                {
                    http.Response.Redirect(Path + "/" + http.Request.QueryString);
                    return Task.CompletedTask;
                }

                var headers = http.Response.Headers;
                headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
                headers[HeaderNames.XContentTypeOptions] = "nosniff";
                headers[HeaderNames.XFrameOptions] = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                // A path the browser routes (no file extension) gets the app's page; files are served below.
                if ((HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)) &&
                    !System.IO.Path.HasExtension(http.Request.Path.Value))
                {
                    http.Request.Path = Path + "/index.html";
                }

                if (string.Equals(http.Request.Path.Value, Path + "/index.html", StringComparison.OrdinalIgnoreCase))
                {
                    // The page names the current framework files: always revalidate it.
                    headers[HeaderNames.CacheControl] = "no-cache";
                }

                return next(http);
            });
            console.UseBlazorFrameworkFiles(Path);
            console.UseStaticFiles();
            // Nothing matched under /console/: a missing file, not a tenant's wallet endpoint.
            console.Run(http =>
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        });
        return app;
    }
}
