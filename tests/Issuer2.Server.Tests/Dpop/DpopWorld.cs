using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Dpop;

/// <summary>
/// A wallet's DPoP key (RFC 9449) and the proofs it signs, built on <see cref="HolderKey"/> and
/// System.Security.Cryptography alone: no issuer code vouches for them, not even for <c>ath</c>.
/// </summary>
public sealed class DpopKey : IDisposable
{
    public const string ProofType = "dpop+jwt";

    public HolderKey Key { get; } = new();

    /// <summary>The RFC 7638 thumbprint of the public key: what the server must store with a bound token.</summary>
    public string Thumbprint => Key.Thumbprint();

    /// <summary>A proof header as a wallet sends it: typ dpop+jwt, alg ES256, the public jwk.</summary>
    public JsonObject Header() => new() { ["typ"] = ProofType, ["alg"] = "ES256", ["jwk"] = Key.PublicJwk() };

    /// <summary>A proof payload (RFC 9449 §4.2): a fresh jti, htm, htu, iat; ath for a resource, nonce when given.</summary>
    public static JsonObject Payload(string method, string htu, DateTimeOffset issuedAt, string? nonce = null, string? accessToken = null)
    {
        var payload = new JsonObject
        {
            ["jti"] = Guid.NewGuid().ToString(),
            ["htm"] = method,
            ["htu"] = htu,
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
        };
        if (accessToken is not null) payload["ath"] = Ath(accessToken);
        if (nonce is not null) payload["nonce"] = nonce;
        return payload;
    }

    /// <summary>A good proof, then changed by <paramref name="header"/> and <paramref name="payload"/>, signed by this key.</summary>
    public string Proof(
        string method, string htu, DateTimeOffset issuedAt, string? nonce = null, string? accessToken = null,
        Action<JsonObject>? header = null, Action<JsonObject>? payload = null)
    {
        var h = Header();
        var p = Payload(method, htu, issuedAt, nonce, accessToken);
        header?.Invoke(h);
        payload?.Invoke(p);
        return Key.Sign(h, p);
    }

    /// <summary>RFC 9449 §4.2: base64url of the SHA-256 of the token's ASCII.</summary>
    public static string Ath(string accessToken) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));

    /// <summary>The RFC 7638 thumbprint of an EC public JWK as the npm wallet returns it.</summary>
    public static string ThumbprintOf(JsonElement jwk)
    {
        var canonical = $$"""{"crv":"{{jwk.GetProperty("crv").GetString()}}","kty":"{{jwk.GetProperty("kty").GetString()}}","x":"{{jwk.GetProperty("x").GetString()}}","y":"{{jwk.GetProperty("y").GetString()}}"}""";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    public void Dispose() => Key.Dispose();
}

/// <summary>One HTTP answer with the headers DPoP speaks in: WWW-Authenticate and DPoP-Nonce.</summary>
public sealed record DpopReply(HttpStatusCode Status, string Body, string? ContentType, string? CacheControl, string? WwwAuthenticate, string? DpopNonce)
{
    public int StatusCode => (int)Status;

    public JsonElement Json
    {
        get
        {
            try
            {
                using var document = JsonDocument.Parse(Body);
                return document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                Assert.Fail($"The body is not JSON ({e.Message}): {this}");
                throw;
            }
        }
    }

    public string? Error => Body.Length > 0 && Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("error", out var e) ? e.GetString() : null;

    public string Text(string member) =>
        Json.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new InvalidOperationException($"no string {member} in {this}");

    public override string ToString() => $"{StatusCode} {Body} (WWW-Authenticate: {WwwAuthenticate ?? "-"}, DPoP-Nonce: {(DpopNonce is null ? "-" : "set")})";
}

/// <summary>
/// A wallet's HTTP side with DPoP: requests to one host (its own address), the proofs naming the published URL (the
/// tenant's credential issuer), since two hosts may share one public base URL.
/// </summary>
public static class DpopHttp
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>The published URL's path and query on the host at <paramref name="host"/>.</summary>
    public static Uri On(string host, string publishedUrl) => new(host.TrimEnd('/') + new Uri(publishedUrl).PathAndQuery);

    /// <summary>POST a form to <paramref name="publishedUrl"/> on <paramref name="host"/>, with this DPoP header (none when null).</summary>
    public static Task<DpopReply> PostFormAsync(string host, string publishedUrl, IEnumerable<KeyValuePair<string, string>> form, string? proof) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, On(host, publishedUrl)) { Content = new FormUrlEncodedContent(form) }, proof);

    /// <summary>POST JSON to a resource with <c>Authorization: {scheme} {token}</c> and this DPoP header (none when null).</summary>
    public static Task<DpopReply> PostJsonAsync(string host, string publishedUrl, string scheme, string accessToken, JsonNode body, string? proof)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, On(host, publishedUrl)) { Content = TestWallet.Json(body) };
        request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {accessToken}");
        return SendAsync(request, proof);
    }

    public static Task<DpopReply> GetAsync(string host, string publishedUrl) => SendAsync(new HttpRequestMessage(HttpMethod.Get, On(host, publishedUrl)), null);

    public static Task<DpopReply> PostAsync(string host, string publishedUrl) => SendAsync(new HttpRequestMessage(HttpMethod.Post, On(host, publishedUrl)), null);

    public static async Task<DpopReply> SendAsync(HttpRequestMessage request, string? proof)
    {
        using (request)
        {
            if (proof is not null) request.Headers.TryAddWithoutValidation("DPoP", proof);
            using var response = await Http.SendAsync(request);
            return new DpopReply(
                response.StatusCode,
                await response.Content.ReadAsStringAsync(),
                response.Content.Headers.ContentType?.MediaType,
                response.Headers.CacheControl?.ToString(),
                response.Headers.WwwAuthenticate.Count == 0 ? null : response.Headers.WwwAuthenticate.ToString(),
                response.Headers.TryGetValues("DPoP-Nonce", out var nonces) ? nonces.Single() : null);
        }
    }

    /// <summary>
    /// POST a form over a raw socket with one header line per proof: HttpClient would join repeated values into one
    /// line, so only this sends a DPoP header twice. Returns the status and the body.
    /// </summary>
    public static async Task<(int Status, string Body)> PostFormWithHeaderLinesAsync(string host, string publishedUrl, IEnumerable<KeyValuePair<string, string>> form, params string[] proofs)
    {
        var target = On(host, publishedUrl);
        var body = await new FormUrlEncodedContent(form).ReadAsStringAsync();
        var request = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"POST {target.PathAndQuery} HTTP/1.1\r\n")
            .Append(CultureInfo.InvariantCulture, $"Host: {target.Authority}\r\n")
            .Append("Content-Type: application/x-www-form-urlencoded\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {Encoding.ASCII.GetByteCount(body)}\r\n")
            .Append("Connection: close\r\n");
        foreach (var proof in proofs) request.Append(CultureInfo.InvariantCulture, $"DPoP: {proof}\r\n");
        request.Append("\r\n").Append(body);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = new TcpClient();
        await client.ConnectAsync(target.Host, target.Port, timeout.Token);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), timeout.Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync(timeout.Token);
        var status = int.Parse(response.Split(' ', 3)[1], CultureInfo.InvariantCulture);
        var start = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (status, start < 0 ? "" : response[(start + 4)..]);
    }

    public static (string, string)[] PreAuthorized(string code) => [("grant_type", TestWallet.PreAuthorizedGrant), ("pre-authorized_code", code)];

    public static IEnumerable<KeyValuePair<string, string>> Form(params (string Name, string Value)[] form) =>
        form.Select(p => new KeyValuePair<string, string>(p.Name, p.Value));
}

/// <summary>Tenants with a DPoP policy, on one in-process host, and what the DPoP tests do with them.</summary>
public sealed class DpopTenant(ServerFixture fixture, TestTenant tenant, Profile profile)
{
    public TestTenant Tenant { get; } = tenant;

    public Profile Profile { get; } = profile;

    public string TenantId => Tenant.TenantId;

    public string Issuer => Tenant.Tenant.CredentialIssuer;

    public string TokenUrl => Issuer + "/token";

    public string CredentialUrl => Issuer + "/credential";

    public string NotificationUrl => Issuer + "/notification";

    public string Host => fixture.Host.HttpUrl;

    public DateTimeOffset Now => fixture.Now;

    /// <summary>A tenant with this DPoP policy and the sample profile.</summary>
    public static async Task<DpopTenant> CreateAsync(ServerFixture fixture, DpopMode mode, bool requireNonce = false)
    {
        var tenant = await fixture.CreateTenantAsync(t => t.Dpop = new DpopSettings { Mode = mode, RequireNonce = requireNonce });
        var profile = await ServerFixture.CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        return new DpopTenant(fixture, tenant, profile);
    }

    /// <summary>A fresh pre-authorized code of a new BY_VALUE offer (nothing is written when it is read).</summary>
    public async Task<string> CodeAsync()
    {
        var offer = await ServerFixture.CreateOfferAsync(Tenant, Profile, r => r.DeliveryMode = DeliveryMode.ByValue);
        return OfferUrl.Parse(offer.OfferUrl).PreAuthorizedCode();
    }

    /// <summary>A DPoP proof by <paramref name="key"/> for POST {issuer}/token, made now on the host's clock.</summary>
    public string TokenProof(DpopKey key, string? nonce = null) => key.Proof("POST", TokenUrl, Now, nonce);

    public Task<DpopReply> RedeemAsync(string code, string? proof) => DpopHttp.PostFormAsync(Host, TokenUrl, DpopHttp.Form(DpopHttp.PreAuthorized(code)), proof);

    /// <summary>A token of a new session, bound to <paramref name="key"/> (with the DPoP-Nonce dance when the tenant asks for it), or a bearer token without a key.</summary>
    public async Task<string> AccessTokenAsync(DpopKey? key)
    {
        var code = await CodeAsync();
        var reply = await RedeemAsync(code, key is null ? null : TokenProof(key));
        if (reply.Error == "use_dpop_nonce") reply = await RedeemAsync(code, TokenProof(key!, reply.DpopNonce));
        Assert.True(reply.Status == HttpStatusCode.OK, $"token: {reply}");
        Assert.Equal(key is null ? "Bearer" : "DPoP", reply.Text("token_type"));
        return reply.Text("access_token");
    }

    /// <summary>A c_nonce from the nonce endpoint.</summary>
    public async Task<string> CNonceAsync() => (await DpopHttp.PostAsync(Host, Issuer + "/nonce")).Text("c_nonce");

    /// <summary>A credential request body with a key proof by <paramref name="holder"/> over a fresh c_nonce.</summary>
    public async Task<JsonObject> CredentialBodyAsync(HolderKey holder) =>
        TestWallet.CredentialRequest(Profile.ProfileId, holder.Proof(Issuer, await CNonceAsync(), Now));

    /// <summary>POST {issuer}/credential with the token under <paramref name="scheme"/> and this DPoP header.</summary>
    public Task<DpopReply> CredentialAsync(string scheme, string accessToken, JsonNode body, string? proof) =>
        DpopHttp.PostJsonAsync(Host, CredentialUrl, scheme, accessToken, body, proof);

    /// <summary>A proof by <paramref name="key"/> for POST {issuer}/credential with the token's ath.</summary>
    public string CredentialProof(DpopKey key, string accessToken, string? nonce = null) => key.Proof("POST", CredentialUrl, Now, nonce, accessToken);
}

/// <summary>Database assertions for the DPoP tests.</summary>
public static class DpopAssert
{
    /// <summary>Exactly these tables changed between the snapshots (none when empty).</summary>
    public static DatabaseDelta OnlyChanged(DatabaseSnapshot before, DatabaseSnapshot after, string why, params string[] tables)
    {
        var delta = DatabaseDelta.Between(before, after);
        Assert.True(
            tables.Order(StringComparer.Ordinal).SequenceEqual(delta.Changes.Keys.Order(StringComparer.Ordinal)),
            $"{why}: allowed to change [{string.Join(", ", tables)}]; changed:\n{delta}");
        return delta;
    }

    /// <summary>Exactly one row was added to <paramref name="table"/> and none removed; returns it.</summary>
    public static Row OneNewRow(DatabaseDelta delta, string table)
    {
        var (removed, added) = delta.Changes[table];
        Assert.Empty(removed);
        return Assert.Single(added);
    }

    /// <summary>The dpop_jkt stored with each of the tenant's access tokens.</summary>
    public static IReadOnlyList<string?> BoundKeys(DatabaseSnapshot snapshot, string tenantId) =>
        [.. snapshot["access_tokens"].Where(r => r["tenant_id"] == tenantId).Select(r => r["dpop_jkt"])];

    /// <summary>A 401 from a resource with a DPoP challenge (RFC 9449 §7.1) naming <paramref name="error"/> and the algorithms.</summary>
    public static void DpopChallenge(DpopReply reply, string error)
    {
        Assert.True(reply.Status == HttpStatusCode.Unauthorized && reply.Error == error, $"expected 401 {error}, got {reply}");
        Assert.NotNull(reply.WwwAuthenticate);
        Assert.StartsWith("DPoP ", reply.WwwAuthenticate, StringComparison.Ordinal);
        Assert.Contains($"error=\"{error}\"", reply.WwwAuthenticate, StringComparison.Ordinal);
        Assert.Contains("algs=\"ES256\"", reply.WwwAuthenticate, StringComparison.Ordinal);
        SpecBody(reply);
    }

    /// <summary>The spec's JSON error body, exactly error and error_description, not cached.</summary>
    public static void SpecBody(DpopReply reply)
    {
        Assert.Equal("application/json", reply.ContentType);
        Assert.Equal("no-store", reply.CacheControl);
        Assert.Equal(["error", "error_description"], reply.Json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.False(string.IsNullOrWhiteSpace(reply.Json.GetProperty("error_description").GetString()));
    }
}
