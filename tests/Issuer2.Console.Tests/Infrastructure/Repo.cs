using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Issuer2.Console.Tests.Infrastructure;

/// <summary>Where things are: the repository, the built server, the screenshots; free ports and fresh secrets.</summary>
public static class Repo
{
    private static readonly Lazy<string> _root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Issuer2.Grpc.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"Issuer2.Grpc.sln not found above {AppContext.BaseDirectory}.");
    });

    public static string Root => _root.Value;

    public static string Configuration => AppContext.BaseDirectory.Replace('\\', '/').Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";

    /// <summary>
    /// The built server; ISSUER2_CONSOLE_TEST_SERVER names another Issuer2.Server.dll (e.g. of `dotnet publish`, whose
    /// console is trimmed and under wwwroot/console).
    /// </summary>
    public static string ServerDll =>
        Environment.GetEnvironmentVariable("ISSUER2_CONSOLE_TEST_SERVER") is { Length: > 0 } other
            ? other
            : Path.Combine(Root, "src", "Issuer2.Server", "bin", Configuration, "net10.0", "Issuer2.Server.dll");

    public static string InteropDirectory => Path.Combine(Root, "tests", "interop");

    public static string TypeScriptDirectory => Path.Combine(Root, "clients", "typescript");

    /// <summary>Screenshots of this run: .test-run/screenshots (README's picture is copied from there).</summary>
    public static string ScreenshotDirectory
    {
        get
        {
            var dir = Path.Combine(Root, ".test-run", "screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>A fresh admin key: "i2_" and 43 base64url characters, as the server makes them.</summary>
    public static string NewAdminKey() => "i2_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string RandomId(string prefix) => prefix + RandomNumberGenerator.GetString("abcdefghijkmnopqrstuvwxyz23456789", 8);

    public static string NewTempDirectory(string purpose)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"issuer2-console-{purpose}-{Guid.NewGuid():N}");
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
        else Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dir;
    }
}
