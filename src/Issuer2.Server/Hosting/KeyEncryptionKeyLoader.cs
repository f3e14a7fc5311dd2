using System.Security.Cryptography;
using Issuer2.Storage;

namespace Issuer2.Server.Hosting;

/// <summary>Finds the key-encryption key: configuration, a key file, or (embedded default only) one generated into the data directory.</summary>
internal static class KeyEncryptionKeyLoader
{
    public const string GeneratedFileName = "key-encryption.key";

    public static byte[] Load(IssuerOptions options, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKey)) return Decode(options.KeyEncryptionKey, "Issuer2:KeyEncryptionKey");
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKeyFile))
        {
            PrivateFiles.WarnIfOpen(options.KeyEncryptionKeyFile, "key-encryption key file", PrivateFiles.OwnerOnlyFile, warn);
            return Decode(File.ReadAllText(options.KeyEncryptionKeyFile), $"the file {options.KeyEncryptionKeyFile}");
        }
        if (!GeneratesKey(options))
            throw new InvalidOperationException(
                "Issuer2:KeyEncryptionKey (or Issuer2:KeyEncryptionKeyFile) is required with PostgreSQL: every host must share one key-encryption key.");

        // The directory is made (and reported) by PrivateFiles.PrepareSqlite; this only makes sure it exists.
        PrivateFiles.CreateDirectory(options.DataDirectory);
        var path = Path.Combine(options.DataDirectory, GeneratedFileName);
        // Created 0600 with its content in one step; when the file exists (made earlier, or just now by another process), it is used.
        if (PrivateFiles.TryCreate(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))))
            warn($"Generated a key-encryption key in {path}. In production set Issuer2:KeyEncryptionKey or Issuer2:KeyEncryptionKeyFile from a secret store.");
        else
            PrivateFiles.WarnIfOpen(path, "key-encryption key file", PrivateFiles.OwnerOnlyFile, warn);
        return Decode(File.ReadAllText(path), path);
    }

    /// <summary>No key is configured and the database is SQLite: one is generated into (or read from) the data directory.</summary>
    public static bool GeneratesKey(IssuerOptions options) =>
        string.IsNullOrWhiteSpace(options.KeyEncryptionKey) && string.IsNullOrWhiteSpace(options.KeyEncryptionKeyFile)
        && !DatabaseProviders.IsPostgres(options.Database.Provider);

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
