using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Client;

namespace Issuer2.Cli;

/// <summary>
/// Where issuer2 connects and as whom, from (first wins) the flags, the environment (ISSUER2_ADDRESS, ISSUER2_API_KEY,
/// ISSUER2_TENANT) and a connection of the config file (--config, ISSUER2_CONFIG, or ~/.config/issuer2/config.json).
/// </summary>
internal sealed record Connection(string Address, string? ApiKey, string? Tenant)
{
    public const string DefaultAddress = "http://127.0.0.1:5081";

    public static Connection Resolve(CliContext cli)
    {
        var stored = ConfigFile.Load(cli.ConfigPath).Get(cli.ConnectionName);
        return new Connection(
            First(cli.Address, Environment.GetEnvironmentVariable("ISSUER2_ADDRESS"), stored?.Address) ?? DefaultAddress,
            First(cli.ApiKey, Environment.GetEnvironmentVariable("ISSUER2_API_KEY"), stored?.ApiKey),
            First(cli.Tenant, Environment.GetEnvironmentVariable("ISSUER2_TENANT"), stored?.Tenant));
    }

    public Issuer2Client OpenClient(Action<RetryAttempt>? onRetry = null)
    {
        if (string.IsNullOrWhiteSpace(ApiKey))
        {
            throw new CliInputException("No API key: pass --api-key, set ISSUER2_API_KEY, or store one with `issuer2 config set --api-key …`.");
        }

        if (!Uri.TryCreate(Address, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliInputException($"The address '{Address}' is not an http:// (h2c) or https:// (TLS) URL.");
        }

        return new Issuer2Client(new Issuer2ClientOptions
        {
            Address = address,
            ApiKey = ApiKey,
            Retry = RetryPolicy.Default with { OnRetry = onRetry },
        });
    }

    /// <summary>"tenants/{id}" of the tenant named by <paramref name="idOrName"/>, or of the connection's tenant.</summary>
    public string TenantName(string? idOrName = null)
    {
        var value = idOrName ?? Tenant;
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new CliInputException("No tenant: pass --tenant, set ISSUER2_TENANT, or store one with `issuer2 config set --tenant …`.");
        }

        return value.StartsWith("tenants/", StringComparison.Ordinal) ? value : "tenants/" + value;
    }

    /// <summary>The resource name of a child of the tenant: a full name as given, or "tenants/{t}/{collection}/{id}".</summary>
    public string ChildName(string collection, string idOrName) =>
        idOrName.StartsWith("tenants/", StringComparison.Ordinal) ? idOrName : $"{TenantName()}/{collection}/{idOrName}";

    private static string? First(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}

/// <summary>The config file: named connections, each an address, an API key and a tenant. Written owner-only (it holds keys).</summary>
internal sealed class ConfigFile(string path, JsonObject root)
{
    public string Path { get; } = path;

    public static string DefaultPath()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("ISSUER2_CONFIG");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment;
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        var baseDir = string.IsNullOrWhiteSpace(xdg)
            ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config")
            : xdg;
        return System.IO.Path.Combine(baseDir, "issuer2", "config.json");
    }

    public static ConfigFile Load(string path)
    {
        if (!File.Exists(path))
        {
            return new ConfigFile(path, []);
        }

        try
        {
            return new ConfigFile(path, JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new CliInputException($"{path}: the config file is not a JSON object."));
        }
        catch (JsonException e)
        {
            throw new CliInputException($"{path}: the config file is not valid JSON ({e.Message}).");
        }
    }

    public StoredConnection? Get(string name) =>
        root["connections"]?[name] is JsonObject c
            ? new StoredConnection((string?)c["address"], (string?)c["apiKey"], (string?)c["tenant"])
            : null;

    public IEnumerable<(string Name, StoredConnection Connection)> All() =>
        (root["connections"] as JsonObject ?? []).Select(kv => (kv.Key, Get(kv.Key)!));

    public void Set(string name, StoredConnection connection)
    {
        var connections = root["connections"] as JsonObject ?? [];
        root["connections"] = connections;
        var entry = connections[name] as JsonObject ?? [];
        connections[name] = entry;
        if (connection.Address is not null) entry["address"] = connection.Address;
        if (connection.ApiKey is not null) entry["apiKey"] = connection.ApiKey;
        if (connection.Tenant is not null) entry["tenant"] = connection.Tenant;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        if (!OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var options = new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            using var stream = new FileStream(Path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
    }
}

/// <summary>One named connection of the config file.</summary>
internal sealed record StoredConnection(string? Address, string? ApiKey, string? Tenant);
