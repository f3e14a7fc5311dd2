using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>What a refused request may change, at most and exactly (issue 4, item 8).</summary>
public enum AllowedChange
{
    /// <summary>Nothing at all.</summary>
    Nothing,

    /// <summary>One new token.refused event for the offer named by the request.</summary>
    TokenRefusal,

    /// <summary>One new token.refused event and the offer's pin_failed_attempts up by one.</summary>
    WrongPin,

    /// <summary>One new credential.refused event for the session the access token opens.</summary>
    CredentialRefusal,
}

/// <summary>A bad request ready to send, and what must come of it.</summary>
public sealed record PreparedRequest(HttpRequestMessage Request, int Status, string Error, AllowedChange Allowed = AllowedChange.Nothing, string? OfferId = null);

/// <summary>
/// Everything a bad request is sent into: tenant A (where requests go) with the granted profile and a second one,
/// tenant B (whose codes, tokens and nonces must mean nothing at A), one holder key, the host's clock.
/// </summary>
public sealed class BadInputWorld : TwoTenantWorld
{
    private BadInputWorld(ServerFixture fixture, TwoTenants tenants)
        : base(fixture, tenants)
    {
    }

    public HolderKey Key { get; } = new();

    public string Issuer => A.Tenant.CredentialIssuer;

    public static async Task<BadInputWorld> CreateAsync(ServerFixture fixture) => new(fixture, await TwoTenants.CreateAsync(fixture));

    public Task<CreateOfferResponse> OfferAsync(Action<CreateOfferRequest>? configure = null) =>
        ServerFixture.CreateOfferAsync(A, Granted, configure);

    /// <summary>A fresh pre-authorized code of a new offer of A, and the offer.</summary>
    public async Task<(string Code, CreateOfferResponse Offer)> CodeAsync(Action<CreateOfferRequest>? configure = null)
    {
        var offer = await OfferAsync(configure);
        return (await Wallet.ResolveCodeAsync(offer.OfferUrl), offer);
    }

    /// <summary>An access token of a new session at A, and its offer.</summary>
    public async Task<(string AccessToken, CreateOfferResponse Offer)> SessionAsync()
    {
        var offer = await OfferAsync();
        return (await Wallet.AccessTokenAsync(A.TenantId, offer.OfferUrl), offer);
    }

    /// <summary>An access token of a new session at B.</summary>
    public async Task<string> SessionOfBAsync()
    {
        var offer = await ServerFixture.CreateOfferAsync(B, ProfileOfB);
        return await Wallet.AccessTokenAsync(B.TenantId, offer.OfferUrl);
    }

    /// <summary>A session of A whose credential was issued: its access token and notification_id.</summary>
    public async Task<(string AccessToken, string NotificationId, CreateOfferResponse Offer)> IssuedAsync()
    {
        var (token, offer) = await SessionAsync();
        var reply = await Wallet.CredentialAsync(A.TenantId, token, CredentialBody(ValidProof(await NonceAsync())));
        Assert.True(reply.StatusCode == 200, $"credential: {reply}");
        return (token, reply.Text("notification_id"), offer);
    }

    public Task<string> NonceAsync() => Wallet.FreshNonceAsync(A.TenantId);

    public string ValidProof(string nonce) => Key.Proof(Issuer, nonce, Now);

    public JsonObject CredentialBody(string proof) => TestWallet.CredentialRequest(Granted.ProfileId, proof);

    /// <summary>The body of a credential request with one proof made of this header and payload, signed by the holder key.</summary>
    public JsonObject CredentialBody(JsonObject header, JsonObject payload) => CredentialBody(Key.Sign(header, payload));

    public HttpRequestMessage Post(string path, HttpContent? content, string? accessToken = null) =>
        Wallet.Authorized(HttpMethod.Post, path, accessToken, content);

    public HttpRequestMessage Send(HttpMethod method, string path) => new(method, Wallet.Url(path));

    /// <summary>A request to this path exactly as written: no escape decoded or added, no dot segment removed.</summary>
    public HttpRequestMessage SendRaw(HttpMethod method, string path) =>
        new(method, new Uri(Wallet.HostUrl + path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));

    /// <summary>The URI token of a new offer of A.</summary>
    public async Task<string> UriTokenAsync() => OfferUrl.Parse((await OfferAsync()).OfferUrl).TokenUnder(Issuer);

    public HttpRequestMessage Token(HttpContent? content) => Post($"/{A.TenantId}/token", content);

    public HttpRequestMessage Credential(string? accessToken, HttpContent? content) => Post($"/{A.TenantId}/credential", content, accessToken);

    public HttpRequestMessage Credential(string? accessToken, JsonNode body) => Credential(accessToken, TestWallet.Json(body));

    public HttpRequestMessage Notification(string? accessToken, HttpContent? content) => Post($"/{A.TenantId}/notification", content, accessToken);

    public HttpRequestMessage Notification(string? accessToken, JsonNode body) => Notification(accessToken, TestWallet.Json(body));

    public static FormUrlEncodedContent Form(params (string Name, string Value)[] form) =>
        new(form.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)));

    /// <summary>A form body exactly as written (no encoding applied).</summary>
    public static StringContent RawForm(string body)
    {
        var content = new StringContent(body, Encoding.ASCII);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        return content;
    }

    /// <summary>A body of exactly these bytes with this Content-Type, whatever they are.</summary>
    public static ByteArrayContent Bytes(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    /// <summary>A body of this text (UTF-8) with this Content-Type, sent as given.</summary>
    public static ByteArrayContent Text(string body, string contentType) => Bytes(Encoding.UTF8.GetBytes(body), contentType);

    /// <summary>A form body exactly as written (no encoding applied) with this Content-Type.</summary>
    public static ByteArrayContent RawForm(string body, string contentType) => Text(body, contentType);

    /// <summary>A JSON array of <paramref name="count"/> zeros.</summary>
    public static string ZerosArray(int count) => "[" + string.Join(',', Enumerable.Repeat("0", count)) + "]";

    /// <summary>A JSON value nested in <paramref name="depth"/> arrays.</summary>
    public static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>A number of <paramref name="digits"/> digits (10^(digits-1)).</summary>
    public static string LongNumber(int digits) => "1" + new string('0', digits - 1);

    public static (string, string)[] PreAuthorized(string code, params (string, string)[] more) =>
        [("grant_type", TestWallet.PreAuthorizedGrant), ("pre-authorized_code", code), .. more];

    /// <summary>More than the 64 KiB a wallet request may have.</summary>
    public static string Oversized => new('a', 70 * 1024);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Key.Dispose();
        }
    }
}
