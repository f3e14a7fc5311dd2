using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>
/// A real OpenID Provider for tests: tests/interop/idp/provider.mjs (oidc-provider) as a child process on a free
/// loopback port, with its test-only admin surface (clients, key rotation, down mode, request counts) and a browser
/// (tests/interop/browser.mjs) that signs users in through its own login and consent pages. Fails, never skips, when
/// node or the npm packages are missing. Disposing kills the process tree.
/// </summary>
public sealed class OpenIdProvider : IAsyncDisposable
{
    /// <summary>The password of both users.</summary>
    public const string Password = "secret";

    /// <summary>A user of the provider: given_name Alice, family_name Andersson, membership_number M-1001 (userinfo only)…</summary>
    public const string Alice = "alice";

    /// <summary>A user of the provider: given_name Bob, family_name Brown, membership_number M-2002 (userinfo only)…</summary>
    public const string Bob = "bob";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SignInTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly HttpClient _admin = new() { Timeout = TimeSpan.FromSeconds(10) };

    private OpenIdProvider(Process process, string issuer)
    {
        _process = process;
        Issuer = issuer;
    }

    /// <summary>The provider's issuer, e.g. http://127.0.0.1:41234 (no trailing slash).</summary>
    public string Issuer { get; private set; }

    /// <summary>What the provider printed so far (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    private static string InteropDirectory => Path.Combine(TestEnvironment.RepoRoot, "tests", "interop");

    /// <summary>
    /// Starts the provider on a free port and waits until it prints its issuer. With <paramref name="tag"/>, its users'
    /// given_name carries the tag ("Alice (B)"), every other claim unchanged: a second provider tells its sign-ins apart.
    /// </summary>
    public static async Task<OpenIdProvider> StartAsync(string? tag = null)
    {
        var directory = InteropDirectory;
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException(
                $"oidc-provider is not installed: run `npm ci` in {directory} (tests/run-all.sh does).");
        }

        var start = NodeStart(directory);
        start.ArgumentList.Add(Path.Combine("idp", "provider.mjs"));
        start.ArgumentList.Add("0");
        if (tag is not null) start.ArgumentList.Add(tag);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var provider = new OpenIdProvider(process, "");
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            provider._output.Enqueue(e.Data);
            if (e.Data.StartsWith("{\"issuer\"", StringComparison.Ordinal))
                ready.TrySetResult(JsonNode.Parse(e.Data)!["issuer"]!.GetValue<string>());
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) provider._output.Enqueue(e.Data);
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException(
            $"node idp/provider.mjs exited with {process.ExitCode} before it was ready:\n{provider.Output}"));
        try
        {
            if (!process.Start()) throw new InvalidOperationException("node did not start (is it on PATH?).");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("node did not start (is it on PATH?).", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            provider.Issuer = await ready.Task.WaitAsync(StartTimeout);
        }
        catch (TimeoutException)
        {
            await provider.DisposeAsync();
            throw new InvalidOperationException($"node idp/provider.mjs was not ready within {StartTimeout}:\n{provider.Output}");
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }

        return provider;
    }

    /// <summary>
    /// Registers (or replaces) a confidential client of the authorization code flow, authenticating with
    /// client_secret_basic unless <paramref name="tokenEndpointAuthMethod"/> says otherwise.
    /// </summary>
    public async Task RegisterClientAsync(string clientId, string clientSecret, IReadOnlyList<string> redirectUris, string? tokenEndpointAuthMethod = null)
    {
        var body = new JsonObject
        {
            ["client_secret"] = clientSecret,
            ["redirect_uris"] = new JsonArray([.. redirectUris.Select(u => (JsonNode)u)]),
        };
        if (tokenEndpointAuthMethod is not null) body["token_endpoint_auth_method"] = tokenEndpointAuthMethod;
        using var content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await _admin.PutAsync(AdminUri($"clients/{Uri.EscapeDataString(clientId)}"), content);
        await EnsureOkAsync(response, "registering a client");
    }

    /// <summary>Replaces the signing key: a new kid, the old one gone from the JWKS. Returns the new kid.</summary>
    public async Task<string> RotateKeysAsync()
    {
        using var response = await _admin.PostAsync(AdminUri("rotate-keys"), null);
        await EnsureOkAsync(response, "rotating the keys");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("kid").GetString()!;
    }

    /// <summary>The kids of the provider's JWKS now.</summary>
    public async Task<IReadOnlyList<string>> KeyIdsAsync()
    {
        var keys = await _admin.GetFromJsonAsync<JsonElement>(AdminUri("keys"));
        return [.. keys.GetProperty("kids").EnumerateArray().Select(k => k.GetString()!)];
    }

    /// <summary>With true, the provider answers 503 to every request (the admin surface aside) until called with false.</summary>
    public async Task SetDownAsync(bool down)
    {
        using var response = await _admin.PostAsync(AdminUri(down ? "down" : "up"), null);
        await EnsureOkAsync(response, "switching the down mode");
    }

    /// <summary>How many requests the provider has had for <paramref name="path"/> (e.g. "/jwks"), down-mode ones included.</summary>
    public async Task<int> RequestCountAsync(string path)
    {
        var counts = await _admin.GetFromJsonAsync<JsonElement>(AdminUri("requests"));
        return counts.TryGetProperty(path, out var count) ? count.GetInt32() : 0;
    }

    /// <summary>
    /// Signs <paramref name="login"/> in as a browser would (tests/interop/idp/sign-in.mjs: the provider's own login
    /// and consent pages, cookies, redirects) from <paramref name="authorizeUrl"/> until the redirect to
    /// <paramref name="redirectUri"/>, which is not requested. Returns that authorization response.
    /// </summary>
    public async Task<AuthorizationResponse> SignInAsync(Uri authorizeUrl, string redirectUri, string login, string password = Password)
    {
        ArgumentNullException.ThrowIfNull(authorizeUrl);
        var input = new JsonObject
        {
            ["authorizeUrl"] = authorizeUrl.AbsoluteUri,
            ["redirectUri"] = redirectUri,
            ["login"] = login,
            ["password"] = password,
        };
        var start = NodeStart(InteropDirectory);
        start.ArgumentList.Add(Path.Combine("idp", "sign-in.mjs"));
        start.ArgumentList.Add(input.ToJsonString());
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start (is it on PATH?).");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(SignInTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"node idp/sign-in.mjs did not finish within {SignInTimeout}:\n{await stdout}\n{await stderr}");
        }

        var output = await stdout;
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (process.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException(
                $"node idp/sign-in.mjs exited with {process.ExitCode}:\n{output}\n--- stderr ---\n{await stderr}\n--- provider ---\n{Output}");
        }

        using var document = JsonDocument.Parse(line);
        var parameters = document.RootElement.GetProperty("response").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
        return new AuthorizationResponse(new Uri(document.RootElement.GetProperty("location").GetString()!), parameters);
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started, or already gone.
        }
        catch (OperationCanceledException)
        {
            // Killed but not yet reaped: the OS finishes it.
        }

        _process.Dispose();
    }

    private static ProcessStartInfo NodeStart(string directory) => new("node")
    {
        WorkingDirectory = directory,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };

    private Uri AdminUri(string path) => new($"{Issuer}/__test/{path}");

    private async Task EnsureOkAsync(HttpResponseMessage response, string what)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException(
                $"The test provider refused {what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{Output}");
        }
    }
}

/// <summary>The redirect an authorization ended in: its URL and its query parameters (code, state, iss or error…).</summary>
public sealed record AuthorizationResponse(Uri Location, IReadOnlyDictionary<string, string> Parameters);
