using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>Where things are on this machine: the repository, the built server, PostgreSQL.</summary>
public static class TestEnvironment
{
    public const string PostgresVariable = "ISSUER2_TEST_POSTGRES";

    private static readonly Lazy<string> _repoRoot = new(FindRepoRoot);

    /// <summary>The directory holding Issuer2.Grpc.sln.</summary>
    public static string RepoRoot => _repoRoot.Value;

    /// <summary>The configuration this test assembly was built in (Release in CI).</summary>
    public static string Configuration
    {
        get
        {
            var baseDir = AppContext.BaseDirectory.Replace('\\', '/');
            return baseDir.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        }
    }

    /// <summary>The server assembly to run as a separate process.</summary>
    public static string ServerDll =>
        Path.Combine(RepoRoot, "src", "Issuer2.Server", "bin", Configuration, "net10.0", "Issuer2.Server.dll");

    /// <summary>The connection string of the PostgreSQL cluster the test run started. Fails loudly when missing.</summary>
    public static string PostgresConnectionString
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(PostgresVariable);
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new InvalidOperationException(
                    $"{PostgresVariable} is not set. The PostgreSQL tests need a server: run `bash tests/run-all.sh`, " +
                    $"which starts a throwaway cluster, or set {PostgresVariable}=\"Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres\".");
            }

            return value;
        }
    }

    /// <summary>A PostgreSQL client program (pg_dump, psql) of the newest installed version.</summary>
    public static string PostgresTool(string name)
    {
        const string root = "/usr/lib/postgresql";
        if (Directory.Exists(root))
        {
            var candidates = Directory.GetDirectories(root)
                .Select(dir => Path.Combine(dir, "bin", name))
                .Where(File.Exists)
                .OrderByDescending(path => VersionOf(path))
                .ToList();
            if (candidates.Count > 0)
            {
                return candidates[0];
            }
        }

        throw new InvalidOperationException($"No {name} under {root}/*/bin: install the postgresql package.");
    }

    private static int VersionOf(string toolPath)
    {
        var versionDir = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(toolPath)));
        return int.TryParse(versionDir, out var version) ? version : 0;
    }

    /// <summary>A TCP port on the loopback interface that was free a moment ago.</summary>
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
    public static string NewAdminKey() => "i2_" + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>A fresh key-encryption key: base64 of 32 random bytes.</summary>
    public static string NewKeyEncryptionKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Random text of the given length from letters and digits.</summary>
    public static string RandomText(int length)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        return RandomNumberGenerator.GetString(alphabet, length);
    }

    public static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string NewTempDirectory(string purpose)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"issuer2-{purpose}-{Guid.NewGuid():N}");
        // Owner-only, as the server wants its data directory (it warns about a looser one).
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
        }
        else
        {
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return dir;
    }

    public static void DeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
            // A file still held open: the OS cleans the temp dir later.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Issuer2.Grpc.sln")))
            {
                return dir.FullName;
            }

            dir = dir.Parent;
        }

        throw new InvalidOperationException($"Issuer2.Grpc.sln not found above {AppContext.BaseDirectory}.");
    }
}
