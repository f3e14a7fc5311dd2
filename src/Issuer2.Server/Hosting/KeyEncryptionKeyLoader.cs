using System.Security.Cryptography;
using Issuer2.Storage;

namespace Issuer2.Server.Hosting;

/// <summary>Finds the key-encryption key: configuration, a key file, or (embedded default only) one generated into the data directory.</summary>
internal static class KeyEncryptionKeyLoader
{
    public const string GeneratedFileName = "key-encryption.key";

    public static byte[] Load(IssuerOptions options, Action<string> warn)
    {
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKey)) return Decode(options.KeyEncryptionKey, "Issuer2:KeyEncryptionKey");
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKeyFile))
            return Decode(File.ReadAllText(options.KeyEncryptionKeyFile), $"the file {options.KeyEncryptionKeyFile}");
        if (DatabaseProviders.IsPostgres(options.Database.Provider))
            throw new InvalidOperationException(
                "Issuer2:KeyEncryptionKey (or Issuer2:KeyEncryptionKeyFile) is required with PostgreSQL: every host must share one key-encryption key.");

        Directory.CreateDirectory(options.DataDirectory);
        var path = Path.Combine(options.DataDirectory, GeneratedFileName);
        if (!File.Exists(path))
        {
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            try
            {
                using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                using var writer = new StreamWriter(stream);
                writer.Write(key);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process made it first; use theirs.
            }
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            warn($"Generated a key-encryption key in {path}. In production set Issuer2:KeyEncryptionKey or Issuer2:KeyEncryptionKeyFile from a secret store.");
        }
        return Decode(File.ReadAllText(path), path);
    }

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
