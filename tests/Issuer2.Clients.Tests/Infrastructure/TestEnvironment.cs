extern alias server;

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using LimitOptions = server::Issuer2.Server.Hosting.LimitOptions;
using RateLimit = server::Issuer2.Server.Hosting.RateLimit;

namespace Issuer2.Clients.Tests.Infrastructure;

/// <summary>Where things are: the repository, the built server and CLI, PostgreSQL; and the test-wide limits.</summary>
public static class TestEnvironment
{
    public const string PostgresVariable = "ISSUER2_TEST_POSTGRES";

    private static readonly Lazy<string> _repoRoot = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Issuer2.Grpc.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException($"Issuer2.Grpc.sln not found above {AppContext.BaseDirectory}.");
    });

    public static string RepoRoot => _repoRoot.Value;

    public static string Configuration =>
        AppContext.BaseDirectory.Replace('\\', '/').Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";

    public static string ServerDll => Path.Combine(RepoRoot, "src", "Issuer2.Server", "bin", Configuration, "net10.0", "Issuer2.Server.dll");

    /// <summary>The built command line, as `dotnet build` leaves it (the same assembly `dotnet pack` puts in the tool).</summary>
    public static string CliDll => Path.Combine(RepoRoot, "clients", "cli", "bin", Configuration, "net10.0", "issuer2.dll");

    public static string InteropDirectory => Path.Combine(RepoRoot, "tests", "interop");

    public static string PostgresConnectionString =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{PostgresVariable} is not set. The PostgreSQL tests need a server: run `bash tests/run-all.sh`, or set {PostgresVariable}.");

    /// <summary>Every rate limit of the server so high that no test meets one (tests of a limit set theirs after these).</summary>
    public static IReadOnlyDictionary<string, string> HighLimits { get; } = typeof(LimitOptions).GetProperties()
        .Where(p => p.PropertyType == typeof(RateLimit))
        .SelectMany(p => new[]
        {
            KeyValuePair.Create($"Issuer2:Limits:{p.Name}:Burst", "1000000"),
            KeyValuePair.Create($"Issuer2:Limits:{p.Name}:PerMinute", server::Issuer2.Server.Hosting.IssuerRateLimits.MaxPerMinute.ToString(CultureInfo.InvariantCulture)),
        })
        .ToDictionary();

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

    public static string NewAdminKey() => "i2_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string NewTenantId() => "t" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public static string NewTempDirectory(string purpose)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"issuer2-clients-{purpose}-{Guid.NewGuid():N}");
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
        else Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dir;
    }

    public static void DeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // Still held open: the OS cleans the temp dir later.
        }
    }
}
