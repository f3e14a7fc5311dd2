using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>One HTTP response as a wallet received it.</summary>
public sealed class WalletReply
{
    private JsonElement? _json;

    public required HttpStatusCode Status { get; init; }

    public required string Body { get; init; }

    public string? ContentType { get; init; }

    public string? CacheControl { get; init; }

    public string? WwwAuthenticate { get; init; }

    /// <summary>The Retry-After header as sent (delay-seconds), or null.</summary>
    public string? RetryAfter { get; init; }

    public int StatusCode => (int)Status;

    /// <summary>The body as JSON; fails the test when it is not JSON.</summary>
    public JsonElement Json
    {
        get
        {
            if (_json is null)
            {
                try
                {
                    using var document = JsonDocument.Parse(Body);
                    _json = document.RootElement.Clone();
                }
                catch (JsonException e)
                {
                    Assert.Fail($"The body is not JSON ({e.Message}): {this}");
                }
            }

            return _json!.Value;
        }
    }

    /// <summary>The "error" member of a JSON error body, or null.</summary>
    public string? Error => Body.Length > 0 && Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("error", out var e) ? e.GetString() : null;

    public string? ErrorDescription =>
        Body.Length > 0 && Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("error_description", out var d) ? d.GetString() : null;

    public string Text(string member)
    {
        Assert.True(Json.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String, $"no string {member} in {this}");
        return value.GetString()!;
    }

    public override string ToString() => $"{StatusCode} {Body}";
}

/// <summary>
/// A wallet's HTTP side, in C#: the wallet endpoints of one host, called with HttpClient. URLs are built from the
/// host's own address, so several hosts that share one public base URL can each be called directly.
/// </summary>
public sealed class TestWallet : IDisposable
{
    public const string PreAuthorizedGrant = OfferUrl.PreAuthorizedGrant;

    private readonly HttpClient _http;

    /// <param name="hostUrl">Where this host listens for HTTP/1.1 (e.g. http://127.0.0.1:5080).</param>
    /// <param name="publicBaseUrl">The public base URL the host was configured with; defaults to <paramref name="hostUrl"/>.</param>
    public TestWallet(string hostUrl, string? publicBaseUrl = null)
    {
        HostUrl = hostUrl.TrimEnd('/');
        PublicBaseUrl = (publicBaseUrl ?? hostUrl).TrimEnd('/');
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) })
        {
            Timeout = TimeSpan.FromSeconds(100),
        };
    }

    public string HostUrl { get; }

    public string PublicBaseUrl { get; }

    /// <summary>A URL the host published (under the public base URL), rewritten to this host's address.</summary>
    public Uri OnThisHost(string publishedUrl)
    {
        Assert.StartsWith(PublicBaseUrl + "/", publishedUrl, StringComparison.Ordinal);
        return new Uri(HostUrl + publishedUrl[PublicBaseUrl.Length..]);
    }

    public Uri Url(string path) => new(HostUrl + path);

    public async Task<WalletReply> SendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await _http.SendAsync(request);
            return new WalletReply
            {
                Status = response.StatusCode,
                Body = await response.Content.ReadAsStringAsync(),
                ContentType = response.Content.Headers.ContentType?.MediaType,
                CacheControl = response.Headers.CacheControl?.ToString(),
                WwwAuthenticate = response.Headers.WwwAuthenticate.Count == 0 ? null : response.Headers.WwwAuthenticate.ToString(),
                RetryAfter = response.Headers.RetryAfter?.ToString(),
            };
        }
    }

    public Task<WalletReply> GetAsync(Uri url) => SendAsync(new HttpRequestMessage(HttpMethod.Get, url));

    public Task<WalletReply> GetAsync(string path) => GetAsync(Url(path));

    /// <summary>POST {tenant}/token with these form parameters, encoded as a wallet would.</summary>
    public Task<WalletReply> TokenAsync(string tenantId, params (string Name, string Value)[] form) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, Url($"/{tenantId}/token"))
        {
            Content = new FormUrlEncodedContent(form.Select(p => new KeyValuePair<string, string>(p.Name, p.Value))),
        });

    /// <summary>A pre-authorized code token request, with the PIN when given.</summary>
    public Task<WalletReply> RedeemCodeAsync(string tenantId, string code, string? txCode = null)
    {
        var form = new List<(string, string)> { ("grant_type", PreAuthorizedGrant), ("pre-authorized_code", code) };
        if (txCode is not null)
        {
            form.Add(("tx_code", txCode));
        }

        return TokenAsync(tenantId, [.. form]);
    }

    public Task<WalletReply> NonceAsync(string tenantId) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, Url($"/{tenantId}/nonce")));

    public Task<WalletReply> CredentialAsync(string tenantId, string? accessToken, JsonNode body) =>
        SendAsync(Authorized(HttpMethod.Post, $"/{tenantId}/credential", accessToken, Json(body)));

    public Task<WalletReply> NotificationAsync(string tenantId, string? accessToken, JsonNode body) =>
        SendAsync(Authorized(HttpMethod.Post, $"/{tenantId}/notification", accessToken, Json(body)));

    /// <summary>A request with a bearer token (none when null) and this content.</summary>
    public HttpRequestMessage Authorized(HttpMethod method, string path, string? accessToken, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, Url(path)) { Content = content };
        if (accessToken is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + accessToken);
        }

        return request;
    }

    public static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    public static StringContent Raw(string body, string contentType) => new(body, Encoding.UTF8, contentType);

    /// <summary>
    /// The pre-authorized code of an offer URL: taken from the URL of a BY_VALUE offer, or from the offer the host
    /// returns for a BY_REFERENCE one (which mints a fresh code each time).
    /// </summary>
    public async Task<string> ResolveCodeAsync(string offerUrl)
    {
        var offer = OfferUrl.Parse(offerUrl);
        if (offer.CredentialOfferUri is null)
        {
            return offer.PreAuthorizedCode();
        }

        var reply = await GetAsync(OnThisHost(offer.CredentialOfferUri));
        Assert.True(reply.Status == HttpStatusCode.OK, $"resolving {offer.CredentialOfferUri}: {reply}");
        return CodeOf(reply.Json);
    }

    public static string CodeOf(JsonElement offer) =>
        offer.GetProperty("grants").GetProperty(PreAuthorizedGrant).GetProperty("pre-authorized_code").GetString()!;

    /// <summary>Resolves the offer and redeems its code; returns the access token.</summary>
    public async Task<string> AccessTokenAsync(string tenantId, string offerUrl, string? txCode = null)
    {
        var code = await ResolveCodeAsync(offerUrl);
        var reply = await RedeemCodeAsync(tenantId, code, txCode);
        Assert.True(reply.Status == HttpStatusCode.OK, $"token: {reply}");
        return reply.Text("access_token");
    }

    public async Task<string> FreshNonceAsync(string tenantId)
    {
        var reply = await NonceAsync(tenantId);
        Assert.True(reply.Status == HttpStatusCode.OK, $"nonce: {reply}");
        return reply.Text("c_nonce");
    }

    /// <summary>A credential request body: the configuration id and one jwt proof.</summary>
    public static JsonObject CredentialRequest(string configurationId, string proof) => new()
    {
        ["credential_configuration_id"] = configurationId,
        ["proofs"] = new JsonObject { ["jwt"] = new JsonArray(proof) },
    };

    public void Dispose() => _http.Dispose();
}
