using System.Globalization;
using System.Security.Cryptography;
using Issuer2.Core.Security;
using Issuer2.Storage;

namespace Issuer2.Server.Hosting;

/// <summary>
/// Finds the key ring: <c>Issuer2:KeyEncryptionKeys:{version}</c>, a ring file, and version 1 from the single key
/// (<c>Issuer2:KeyEncryptionKey</c> or <c>KeyEncryptionKeyFile</c>) or, with SQLite and no single key, the data
/// directory's key file (generated on first start when nothing is configured).
/// </summary>
internal static class KeyEncryptionKeyLoader
{
    public const string GeneratedFileName = "key-encryption.key";

    public static KeyRing Load(IssuerOptions options, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Keys.Check();
        var versions = Versions(options, warn);
        try
        {
            return new KeyRing(versions, options.Keys.CurrentVersion);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"The key ring is not usable: {e.Message}", e);
        }
    }

    /// <summary>Every configured version and its key; generates the data directory's key file when nothing is configured (SQLite only).</summary>
    public static SortedDictionary<int, byte[]> Versions(IssuerOptions options, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(options);
        var versions = new SortedDictionary<int, byte[]>();
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKey)) Add(versions, 1, Decode(options.KeyEncryptionKey, "Issuer2:KeyEncryptionKey"), "Issuer2:KeyEncryptionKey");
        else if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKeyFile))
        {
            PrivateFiles.WarnIfOpen(options.KeyEncryptionKeyFile, "key-encryption key file", PrivateFiles.OwnerOnlyFile, warn);
            Add(versions, 1, Decode(File.ReadAllText(options.KeyEncryptionKeyFile), $"the file {options.KeyEncryptionKeyFile}"), options.KeyEncryptionKeyFile);
        }
        foreach (var (name, value) in options.KeyEncryptionKeys)
            Add(versions, ParseVersion(name, $"Issuer2:KeyEncryptionKeys:{name}"), Decode(value, $"Issuer2:KeyEncryptionKeys:{name}"), $"Issuer2:KeyEncryptionKeys:{name}");
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKeysFile))
        {
            PrivateFiles.WarnIfOpen(options.KeyEncryptionKeysFile, "key ring file", PrivateFiles.OwnerOnlyFile, warn);
            foreach (var (version, key) in ReadRingFile(options.KeyEncryptionKeysFile)) Add(versions, version, key, options.KeyEncryptionKeysFile);
        }
        if (UsesDataDirectoryFile(options))
        {
            // The directory is made (and reported) by PrivateFiles.PrepareSqlite; this only makes sure it exists.
            PrivateFiles.CreateDirectory(options.DataDirectory);
            var path = DataDirectoryFile(options);
            // Created 0600 with its content in one step; when the file exists (made earlier, or just now by another process), it is used.
            if (versions.Count == 0 && PrivateFiles.TryCreate(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))))
                warn($"Generated a key-encryption key in {path}. In production set Issuer2:KeyEncryptionKey or Issuer2:KeyEncryptionKeyFile from a secret store.");
            else if (File.Exists(path))
                PrivateFiles.WarnIfOpen(path, "key-encryption key file", PrivateFiles.OwnerOnlyFile, warn);
            if (File.Exists(path))
                foreach (var (version, key) in ReadRingFile(path)) Add(versions, version, key, path);
        }
        if (versions.Count == 0)
            throw new InvalidOperationException(
                "Issuer2:KeyEncryptionKey (or Issuer2:KeyEncryptionKeyFile, Issuer2:KeyEncryptionKeys, Issuer2:KeyEncryptionKeysFile) is required with PostgreSQL: every host must share one key ring.");
        return versions;
    }

    /// <summary>No single key is configured and the database is SQLite: the data directory's key file is part of the ring (generated when nothing else is configured).</summary>
    public static bool GeneratesKey(IssuerOptions options) => UsesDataDirectoryFile(options);

    /// <summary>The data directory's key file.</summary>
    public static string DataDirectoryFile(IssuerOptions options) => Path.Combine(options.DataDirectory, GeneratedFileName);

    private static bool UsesDataDirectoryFile(IssuerOptions options) =>
        string.IsNullOrWhiteSpace(options.KeyEncryptionKey) && string.IsNullOrWhiteSpace(options.KeyEncryptionKeyFile)
        && !DatabaseProviders.IsPostgres(options.Database.Provider);

    /// <summary>The versions of a ring file: lines <c>version:base64</c>; one bare base64 line is version 1 (a single-key file); blank lines and <c>#</c> comments are skipped.</summary>
    public static IEnumerable<(int Version, byte[] Key)> ReadRingFile(string path)
    {
        var lineNumber = 0;
        foreach (var raw in File.ReadAllLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var where = string.Create(CultureInfo.InvariantCulture, $"line {lineNumber} of {path}");
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            yield return colon < 0
                ? (1, Decode(line, where))
                : (ParseVersion(line[..colon].Trim(), where), Decode(line[(colon + 1)..], where));
        }
    }

    private static void Add(SortedDictionary<int, byte[]> versions, int version, byte[] key, string where)
    {
        if (versions.TryGetValue(version, out var existing) && !CryptographicOperations.FixedTimeEquals(existing, key))
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Key-encryption key version {version} is configured twice with different keys (again in {where})."));
        versions[version] = key;
    }

    private static int ParseVersion(string text, string where) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version is >= 1 and <= KeyRing.MaxVersion
            ? version
            : throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The key-encryption key version in {where} must be a whole number from 1 to {KeyRing.MaxVersion}."));

    private static byte[] Decode(string text, string where)
    {
        try
        {
            var bytes = Convert.FromBase64String(text.Trim());
            if (bytes.Length == 32) return bytes;
        }
        catch (FormatException)
        {
        }
        throw new InvalidOperationException($"The key-encryption key in {where} must be base64 of exactly 32 bytes.");
    }
}
