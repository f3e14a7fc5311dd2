using Issuer2.Storage;
using Microsoft.Data.Sqlite;

namespace Issuer2.Server.Hosting;

/// <summary>
/// The data directory and what lives in it — the SQLite database, a generated key-encryption key — are the service
/// account's alone: the directory is made 0700 and the files 0600 as they are created, never created looser and
/// tightened afterwards. An existing directory or file that other users may read is reported once at start-up and
/// left as the operator made it.
/// </summary>
internal static class PrivateFiles
{
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode Others =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// With SQLite: makes the data directory when this configuration uses it (the default database file, a generated
    /// key-encryption key), and the database file, each the owner's alone.
    /// </summary>
    public static void PrepareSqlite(IssuerOptions options, string connectionString, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (DatabaseProviders.IsPostgres(options.Database.Provider)) return;
        if (string.IsNullOrWhiteSpace(options.Database.ConnectionString) || KeyEncryptionKeyLoader.GeneratesKey(options))
            EnsureDirectory(options.DataDirectory, warn);
        EnsureSqliteDatabase(connectionString, warn);
    }

    /// <summary>Creates the directory (and missing parents) 0700; warns when it already exists open to others.</summary>
    public static void EnsureDirectory(string path, Action<string> warn)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        if (Directory.Exists(path))
        {
            WarnIfOpen(path, "data directory", OwnerOnlyDirectory, warn);
            return;
        }
        CreateDirectory(path);
    }

    /// <summary>Creates the directory, and each missing parent, 0700 if it is missing, silently (<see cref="EnsureDirectory"/> reports).</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        // Note: Directory.CreateDirectory(path, mode) gives the mode to the last directory only (as mkdir -p -m does);
        // parents it makes get the umask's default, which under umask 000 lets anyone replace the data directory.
        var full = Path.GetFullPath(path);
        var parent = Path.GetDirectoryName(full);
        if (parent is not null && !Directory.Exists(parent)) CreateDirectory(parent);
        Directory.CreateDirectory(full, OwnerOnlyDirectory);
    }

    /// <summary>Creates the file holding this text, 0600 from the first moment; false when it already exists.</summary>
    public static bool TryCreate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        // Note: the mode is given to open(2) itself, so the file never exists with the umask's default (often 0644).
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnlyFile;
        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(text);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    /// <summary>Warns (naming the path and mode, nothing of the content) when others may read, write or enter it.</summary>
    public static void WarnIfOpen(string path, string what, UnixFileMode wanted, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(warn);
        if (OperatingSystem.IsWindows()) return;
        var mode = File.GetUnixFileMode(path);
        if ((mode & Others) == 0) return;
        warn($"The {what} {path} is open to other users (mode {Octal(mode)}); it should be {Octal(wanted)}: chmod {Octal(wanted)} {path}");
    }

    /// <summary>
    /// Creates a missing SQLite database file empty (SQLite takes an empty file as an empty database) and 0600, before
    /// SQLite opens it. Note: SQLite creates the -wal, -shm and -journal files with the mode of the database file
    /// (os_unix.c, findCreateFileMode), so they are 0600 too, whatever the umask. An existing file open to others is
    /// reported. In-memory and URI databases have no file of ours.
    /// </summary>
    public static void EnsureSqliteDatabase(string connectionString, Action<string> warn)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var path = builder.DataSource;
        if (builder.Mode == SqliteOpenMode.Memory || string.IsNullOrEmpty(path) || path == ":memory:"
            || path.StartsWith("file:", StringComparison.OrdinalIgnoreCase)) return;
        if (File.Exists(path))
        {
            WarnIfOpen(path, "SQLite database", OwnerOnlyFile, warn);
            return;
        }
        // Only where SQLite itself would create the file; otherwise SQLite reports the problem as usual.
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (builder.Mode != SqliteOpenMode.ReadWriteCreate || directory is null || !Directory.Exists(directory)) return;
        TryCreate(path, "");
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8).PadLeft(3, '0');
}
