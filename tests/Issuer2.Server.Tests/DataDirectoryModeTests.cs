using System.Collections.Concurrent;
using System.Runtime.Versioning;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>
/// The data directory is the owner's alone: a fresh one is 0700 and the generated key-encryption key, the SQLite
/// database and its -wal/-shm files are 0600 from the moment they exist, even under umask 000; an existing key file,
/// database or directory open to others is reported once, without its content, and left as it is.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class DataDirectoryModeTests : IDisposable
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const string KeyFileName = "key-encryption.key";
    private const string DatabaseFileName = "issuer2.db";

    private readonly string _root = TestEnvironment.NewTempDirectory("modes");

    [Fact]
    public async Task FreshStart_UnderUmask000_MakesTheDirectory0700_AndEveryFile0600_NeverLooser()
    {
        var data = Path.Combine(_root, "state", "data");
        var adminKey = TestEnvironment.NewAdminKey();
        var watched = new[] { data, Path.Combine(_root, "state") }
            .Concat(new[] { KeyFileName, DatabaseFileName, DatabaseFileName + "-wal", DatabaseFileName + "-shm" }.Select(f => Path.Combine(data, f)))
            .ToArray();
        var seen = new ConcurrentDictionary<(string Path, UnixFileMode Mode), bool>();
        using var stopWatching = new CancellationTokenSource();
        // Every mode any of them has while the server starts and serves a call: as often as we can until the key file
        // exists (it is the first file made), then every millisecond.
        var keyPath = Path.Combine(data, KeyFileName);
        var watcher = Task.Run(async () =>
        {
            while (!stopWatching.IsCancellationRequested)
            {
                foreach (var path in watched)
                {
                    if (Path.Exists(path))
                    {
                        try
                        {
                            seen.TryAdd((path, File.GetUnixFileMode(path)), true);
                        }
                        catch (IOException)
                        {
                            // Gone again (SQLite removes -wal and -shm when the last connection closes).
                        }
                    }
                }

                if (File.Exists(keyPath))
                {
                    await Task.Delay(1);
                }
                else
                {
                    await Task.Yield();
                }
            }
        });

        await using (var server = ServerProcess.Start(
            new Dictionary<string, string>
            {
                ["Issuer2:Database:Provider"] = "Sqlite",
                ["Issuer2:DataDirectory"] = data,
                ["Issuer2:AdminKey"] = adminKey,
            },
            umask: "000"))
        {
            await server.WaitUntilHealthyAsync();
            using var channel = Clients.Channel(server.GrpcUrl);
            await Clients.For(channel, "Bearer " + adminKey).Tenants.CreateTenantAsync(
                new CreateTenantRequest { Tenant = new Tenant { TenantId = ServerFixture.NewTenantId() } });

            Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(data));
            Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(data, KeyFileName)));
            Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(data, DatabaseFileName)));
            Assert.True(File.Exists(Path.Combine(data, DatabaseFileName + "-wal")), "the database runs in WAL mode");
            Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(data, DatabaseFileName + "-wal")));
            Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(data, DatabaseFileName + "-shm")));
            await stopWatching.CancelAsync();
            await watcher;

            Assert.Contains(server.StandardErrorLines, line => line.Contains("Generated a key-encryption key", StringComparison.Ordinal));
            Assert.DoesNotContain(server.StandardErrorLines, line => line.Contains("open to other users", StringComparison.Ordinal));
        }

        var looser = seen.Keys.Where(s => (s.Mode & ~(Directory.Exists(s.Path) ? OwnerOnlyDirectory : OwnerOnlyFile)) != 0).ToList();
        Assert.True(looser.Count == 0, "seen looser than owner-only: " + string.Join(", ", looser.Select(s => $"{s.Path} {s.Mode}")));
        Assert.Contains(seen.Keys, s => s.Path == keyPath);
    }

    [Fact]
    public async Task ExistingKeyFileDatabaseAndDirectory_OpenToOthers_AreReportedOnce_AndLeftAsTheyAre()
    {
        var data = Path.Combine(_root, "data");
        Directory.CreateDirectory(data, OwnerOnlyDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var keyFile = Path.Combine(data, KeyFileName);
        var key = TestEnvironment.NewKeyEncryptionKey();
        await File.WriteAllTextAsync(keyFile, key);
        File.SetUnixFileMode(keyFile, OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var database = Path.Combine(data, DatabaseFileName);
        await File.WriteAllBytesAsync(database, []);
        File.SetUnixFileMode(database, OwnerOnlyFile | UnixFileMode.GroupRead);

        IReadOnlyList<string> errors;
        await using (var server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["Issuer2:Database:Provider"] = "Sqlite",
            ["Issuer2:DataDirectory"] = data,
            ["Issuer2:AdminKey"] = TestEnvironment.NewAdminKey(),
        }))
        {
            await server.WaitUntilHealthyAsync();
            await server.StopAsync();
            errors = server.StandardErrorLines;
        }

        var warnings = errors.Where(line => line.Contains("open to other users", StringComparison.Ordinal)).ToList();
        Assert.Single(warnings, w => w.Contains($"key-encryption key file {keyFile} ", StringComparison.Ordinal) && w.Contains("mode 0644", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains($"SQLite database {database} ", StringComparison.Ordinal) && w.Contains("mode 0640", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains($"data directory {data} ", StringComparison.Ordinal) && w.Contains("mode 0755", StringComparison.Ordinal));
        Assert.Equal(3, warnings.Count);
        Assert.DoesNotContain(errors, line => line.Contains(key, StringComparison.Ordinal));
        Assert.DoesNotContain(errors, line => line.Contains("Generated a key-encryption key", StringComparison.Ordinal));

        // Reported, not changed: the operator decides.
        Assert.Equal(OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(keyFile));
        Assert.Equal(key, await File.ReadAllTextAsync(keyFile));
    }

    [Fact]
    public async Task ConfiguredKeyFileOpenToOthers_IsReported()
    {
        var keyFile = Path.Combine(_root, "kek");
        await File.WriteAllTextAsync(keyFile, TestEnvironment.NewKeyEncryptionKey());
        File.SetUnixFileMode(keyFile, OwnerOnlyFile | UnixFileMode.OtherRead);

        IReadOnlyList<string> errors;
        await using (var server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["Issuer2:Database:Provider"] = "Sqlite",
            ["Issuer2:DataDirectory"] = Path.Combine(_root, "data"),
            ["Issuer2:AdminKey"] = TestEnvironment.NewAdminKey(),
            ["Issuer2:KeyEncryptionKeyFile"] = keyFile,
        }))
        {
            await server.WaitUntilHealthyAsync();
            await server.StopAsync();
            errors = server.StandardErrorLines;
        }

        var warning = Assert.Single(errors, line => line.Contains("open to other users", StringComparison.Ordinal));
        Assert.Contains($"key-encryption key file {keyFile} ", warning, StringComparison.Ordinal);
        Assert.Contains("mode 0604", warning, StringComparison.Ordinal);
    }

    public void Dispose() => TestEnvironment.DeleteDirectory(_root);
}
