using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Issuer2.Core.Security;

namespace Issuer2.Server.Hosting;

/// <summary>
/// <c>Issuer2.Server keys status|rewrap|rotate [options]</c>: what depends on which key-ring version, re-encryption
/// under the current one, and a new version in the data directory's key file. Exit codes: 0 done (and every secret
/// still needed opens under the ring), 3 something needs a version the ring lacks, 2 usage, 1 any other failure.
/// </summary>
internal static class KeyCommands
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int MissingVersion = 3;

    private const string UsageText = "usage: Issuer2.Server keys status|rewrap|rotate [--Issuer2:… options]";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("status" or "rewrap" or "rotate"))
        {
            await Console.Error.WriteLineAsync(UsageText);
            return Usage;
        }
        try
        {
            return args[0] switch
            {
                "rotate" => Rotate(args[1..]),
                "rewrap" => await RewrapAsync(args[1..]),
                _ => await StatusAsync(args[1..]),
            };
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return Failed;
        }
    }

    private static async Task<int> StatusAsync(string[] args)
    {
        await using var tool = IssuerHost.Build(IssuerHost.CreateBuilder(args));
        await using var scope = tool.Services.CreateAsyncScope();
        var ring = tool.Services.GetRequiredService<KeyRing>();
        var usage = await scope.ServiceProvider.GetRequiredService<KeyRotation>().StatusAsync(CancellationToken.None);
        Console.Write(Describe(ring, usage));
        return usage.Complete ? Ok : MissingVersion;
    }

    private static async Task<int> RewrapAsync(string[] args)
    {
        await using var tool = IssuerHost.Build(IssuerHost.CreateBuilder(args));
        await using var scope = tool.Services.CreateAsyncScope();
        var ring = tool.Services.GetRequiredService<KeyRing>();
        var result = await scope.ServiceProvider.GetRequiredService<KeyRotation>().RewrapAsync(CancellationToken.None);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Rewrapped under version {ring.CurrentVersion}: ");
        text.AppendLine(result.Rewrapped.Count == 0 ? "nothing (all current)." : string.Join(", ", result.Rewrapped.Select(r => $"{r.Value} {Name(r.Key)}")) + ".");
        if (result.ChangedMeanwhile > 0)
            text.AppendLine(CultureInfo.InvariantCulture, $"{result.ChangedMeanwhile} changed while being rewrapped and were left as they are: run rewrap again.");
        text.Append(Describe(ring, result.After));
        Console.Write(text);
        return result.After.Complete ? Ok : MissingVersion;
    }

    /// <summary>Adds a version (one more than the newest) to the ring file in use: the data directory's key file, or Issuer2:KeyEncryptionKeysFile.</summary>
    private static int Rotate(string[] args)
    {
        var builder = IssuerHost.CreateBuilder(args);
        var options = builder.Configuration.GetSection(IssuerOptions.Section).Get<IssuerOptions>() ?? new IssuerOptions();
        var path = !string.IsNullOrWhiteSpace(options.KeyEncryptionKeysFile) ? options.KeyEncryptionKeysFile
            : KeyEncryptionKeyLoader.GeneratesKey(options) ? KeyEncryptionKeyLoader.DataDirectoryFile(options)
            : null;
        if (path is null)
        {
            Console.Error.WriteLine("error: keys rotate writes a key file: the data directory's (SQLite without Issuer2:KeyEncryptionKey/KeyEncryptionKeyFile) or Issuer2:KeyEncryptionKeysFile. "
                + "With keys in configuration, add Issuer2:KeyEncryptionKeys:<next version> in your secret store instead.");
            return Usage;
        }
        // The versions of every source count: the new one must be newer than all of them.
        var versions = KeyEncryptionKeyLoader.Versions(options, _ => { });
        var next = versions.Keys.Max() + 1;
        if (next > KeyRing.MaxVersion) throw new InvalidOperationException($"The key ring has reached version {KeyRing.MaxVersion}.");
        var lines = File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToList() : [];
        // A single-key file becomes a ring file: its bare line is version 1.
        lines = [.. lines.Select(l => l.Trim().StartsWith('#') || l.Contains(':', StringComparison.Ordinal) ? l : "1:" + l.Trim())];
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"{next}:{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}"));
        // Written beside it 0600, then moved over it: a reader sees the old file or the new one, never half of one.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        if (!PrivateFiles.TryCreate(temporary, string.Join('\n', lines) + "\n")) throw new InvalidOperationException($"Could not create {temporary}.");
        File.Move(temporary, path, overwrite: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Added key-encryption key version {next} to {path}. Restart the host (it becomes current), then run `keys rewrap`."));
        return Ok;
    }

    /// <summary>The report of <c>keys status</c>: the ring, then per version what depends on it.</summary>
    public static string Describe(KeyRing ring, KeyUsage usage)
    {
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(usage);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Key ring: versions {string.Join(", ", ring.Versions)}; current {ring.CurrentVersion}.");
        foreach (var version in usage.Dependencies.Select(d => d.Version).Distinct().Order())
        {
            var state = version == 0 ? "unknown format (opens under no version)" : ring.Has(version) ? "in the ring" : "MISSING from the ring";
            text.AppendLine(CultureInfo.InvariantCulture, $"version {version} ({state}):");
            foreach (var d in usage.Dependencies.Where(d => d.Version == version))
                text.AppendLine(CultureInfo.InvariantCulture, $"  {d.Count} {Name(d.Kind)}{(d.Legacy ? " (format of the release before key purposes)" : "")}{(Rewrappable(d.Kind) ? "" : " (cannot be rewrapped: needed until they end)")}");
        }
        foreach (var version in ring.Versions.Where(v => usage.Dependencies.All(d => d.Version != v)))
            text.AppendLine(CultureInfo.InvariantCulture, $"version {version}: nothing depends on it{(version == ring.CurrentVersion ? " yet" : "; it may be removed")}.");
        if (!usage.Complete)
            text.AppendLine(CultureInfo.InvariantCulture, $"error: versions {string.Join(", ", usage.MissingVersions)} are needed and not configured; add them back to the ring.");
        return text.ToString();
    }

    private static bool Rewrappable(ProtectedKind kind) => kind is not (ProtectedKind.PinHash or ProtectedKind.ReplayFingerprint);

    private static string Name(ProtectedKind kind) => kind switch
    {
        ProtectedKind.SigningKey => "signing keys",
        ProtectedKind.ReplayCopy => "create-request replay copies",
        ProtectedKind.ReplayFingerprint => "create-request fingerprints",
        ProtectedKind.IdentityProviderSecret => "IdP client secrets",
        ProtectedKind.AuthorizationClaims => "sign-in claims of authorizations",
        ProtectedKind.ProviderVerifier => "IdP PKCE verifiers",
        ProtectedKind.SessionClaims => "sign-in claims of sessions",
        ProtectedKind.PinHash => "PIN hashes of live offers",
    };
}
