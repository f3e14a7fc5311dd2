using System.Net;
using System.Text;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// The per-address limits of every wallet-facing path, the gRPC limits and the trusted proxies, on SQLite (they
/// count requests, not rows).
/// </summary>
public sealed class RateLimitEdgeTests
{
    private static readonly string[] AddressLimits =
        ["Metadata", "OfferResolution", "Token", "Nonce", "Credential", "Notification", "Par", "Authorize", "Callback", "Consent"];

    private static HttpRequestMessage Request(TestWallet wallet, HttpMethod method, string path, string? forwardedFor = null, string? body = null)
    {
        var request = new HttpRequestMessage(method, wallet.Url(path));
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded");
        return request;
    }

    [Fact]
    public async Task PerAddress_EveryWalletPathOverItsLimit_Is429WithRetryAfterAndTheRightBody()
    {
        var server = await LimitedServer.StartAsync("Sqlite", AddressLimits.Select(l => TestLimits.Low(l, 1)).ToArray());
        try
        {
            var tenant = await server.CreateTenantAsync();
            var t = tenant.TenantId;
            using var wallet = WalletSetup.WalletOn(server);
            (HttpMethod Method, string Path, bool Page)[] paths =
            [
                (HttpMethod.Get, $"/.well-known/openid-credential-issuer/{t}", false),
                (HttpMethod.Get, $"/{t}/offers/unknown-token", false),
                (HttpMethod.Post, $"/{t}/token", false),
                (HttpMethod.Post, $"/{t}/nonce", false),
                (HttpMethod.Post, $"/{t}/credential", false),
                (HttpMethod.Post, $"/{t}/notification", false),
                (HttpMethod.Post, $"/{t}/par", false),
                (HttpMethod.Get, $"/{t}/authorize", true),
                (HttpMethod.Get, $"/{t}/idp/callback", true),
                (HttpMethod.Get, $"/{t}/consent", true),
            ];

            foreach (var (method, path, page) in paths)
            {
                var first = await wallet.SendAsync(Request(wallet, method, path, body: method == HttpMethod.Post ? "" : null));
                var second = await wallet.SendAsync(Request(wallet, method, path, body: method == HttpMethod.Post ? "" : null));

                Refused.NotRefused(first);
                if (page)
                {
                    Assert.True(second.StatusCode == 429, $"{path}: {second}");
                    Assert.Equal("text/html", second.ContentType);
                    Assert.True(int.Parse(second.RetryAfter!, System.Globalization.CultureInfo.InvariantCulture) >= 1, path);
                    Assert.Contains("temporarily_unavailable", second.Body, StringComparison.Ordinal);
                }
                else
                {
                    Refused.AsJson(second);
                }
            }

            // The metadata paths share one limit; the other form is refused too. The CSP of a refused page stays strict.
            Refused.AsJson(await wallet.GetAsync($"/{t}/.well-known/openid-credential-issuer"));
            using var http = new HttpClient();
            using var consent = await http.GetAsync(wallet.Url($"/{t}/consent"));
            Assert.Equal(429, (int)consent.StatusCode);
            Assert.Contains("default-src 'none'", consent.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("DENY", consent.Headers.GetValues("X-Frame-Options").Single());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task TrustedProxy_TwoForwardedClients_GetSeparateBuckets()
    {
        var server = await LimitedServer.StartAsync("Sqlite", TestLimits.Low("Nonce", 1),
            [KeyValuePair.Create("Issuer2:ForwardedHeaders:KnownProxies:0", "127.0.0.1")]);
        try
        {
            var t = (await server.CreateTenantAsync()).TenantId;
            using var wallet = WalletSetup.WalletOn(server);
            Task<WalletReply> Nonce(string client) => wallet.SendAsync(Request(wallet, HttpMethod.Post, $"/{t}/nonce", client));

            var a = await Nonce("203.0.113.7");
            var aAgain = await Nonce("203.0.113.7");
            var b = await Nonce("203.0.113.8");
            // IPv6 clients count by their /64.
            var v6 = await Nonce("2001:db8:1:2::1");
            var v6SamePrefix = await Nonce("2001:db8:1:2::99");
            var v6OtherPrefix = await Nonce("2001:db8:1:3::1");

            Assert.Equal(HttpStatusCode.OK, a.Status);
            Refused.AsJson(aAgain);
            Assert.Equal(HttpStatusCode.OK, b.Status);
            Assert.Equal(HttpStatusCode.OK, v6.Status);
            Refused.AsJson(v6SamePrefix);
            Assert.Equal(HttpStatusCode.OK, v6OtherPrefix.Status);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task NoTrustedProxy_ForwardedForIsIgnored_OneBucketForTheConnection()
    {
        var server = await LimitedServer.StartAsync("Sqlite", TestLimits.Low("Nonce", 1));
        try
        {
            var t = (await server.CreateTenantAsync()).TenantId;
            using var wallet = WalletSetup.WalletOn(server);

            var a = await wallet.SendAsync(Request(wallet, HttpMethod.Post, $"/{t}/nonce", "203.0.113.7"));
            var b = await wallet.SendAsync(Request(wallet, HttpMethod.Post, $"/{t}/nonce", "203.0.113.8"));

            Assert.Equal(HttpStatusCode.OK, a.Status);
            Refused.AsJson(b);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task TrustedProxy_ForwardedHostAndProto_DoNotChangeTheCredentialIssuer()
    {
        var server = await LimitedServer.StartAsync("Sqlite", [KeyValuePair.Create("Issuer2:ForwardedHeaders:KnownProxies:0", "127.0.0.1")]);
        try
        {
            var tenant = await server.CreateTenantAsync();
            var offer = await LimitedServer.OfferAsync(tenant);
            using var wallet = WalletSetup.WalletOn(server);
            HttpRequestMessage Forwarded(string path)
            {
                var request = Request(wallet, HttpMethod.Get, path, "203.0.113.9");
                request.Headers.Add("X-Forwarded-Host", "evil.example");
                request.Headers.Add("X-Forwarded-Proto", "https");
                return request;
            }

            var metadata = await wallet.SendAsync(Forwarded($"/.well-known/openid-credential-issuer/{tenant.TenantId}"));
            var resolved = await wallet.SendAsync(Forwarded(wallet.OnThisHost(OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri!).PathAndQuery));

            var expected = $"{server.Host.PublicBaseUrl}/{tenant.TenantId}";
            Assert.Equal(expected, metadata.Text("credential_issuer"));
            Assert.Equal(expected, resolved.Text("credential_issuer"));
            Assert.DoesNotContain("evil.example", metadata.Body, StringComparison.Ordinal);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task AssertRateLimitedAsync(Func<Task> call)
    {
        var ex = await RpcAssert.FailsAsync(StatusCode.ResourceExhausted, "RATE_LIMITED", call);
        var retry = ex.GetRpcStatus()!.GetDetail<RetryInfo>();
        Assert.NotNull(retry);
        Assert.True(retry.RetryDelay.ToTimeSpan() >= TimeSpan.FromSeconds(1), retry.ToString());
    }

    [Fact]
    public async Task Grpc_ApiKeyOverItsLimit_IsResourceExhaustedWithRetryInfo_OtherKeysGoOn()
    {
        // The admin key spends two calls on the setup (tenant, API key).
        var server = await LimitedServer.StartAsync("Sqlite", TestLimits.Low("ApiKey", 3));
        try
        {
            var tenant = await server.CreateTenantAsync();
            var get = new GetTenantRequest { Name = tenant.Name };

            for (var i = 0; i < 3; i++) await tenant.Clients.Tenants.GetTenantAsync(get);
            await AssertRateLimitedAsync(async () => await tenant.Clients.Tenants.GetTenantAsync(get));
            // A stream is refused when it is opened, like any call.
            using var stream = new SessionEventsService.SessionEventsServiceClient(server.Host.Channel)
                .SubscribeEvents(new SubscribeEventsRequest { Parent = tenant.Name }, new Metadata { { "authorization", "Bearer " + tenant.ApiKey } });
            await AssertRateLimitedAsync(async () => await stream.ResponseStream.MoveNext());
            var adminCall = await server.Admin.Tenants.GetTenantAsync(get);

            Assert.Equal(tenant.Name, adminCall.Tenant.Name);
            await AssertRateLimitedAsync(async () => await server.Admin.Tenants.GetTenantAsync(get));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Grpc_FailedAuthenticationsOverTheLimit_RefuseTheAddressEvenWithARightKey()
    {
        var server = await LimitedServer.StartAsync("Sqlite", TestLimits.Low("FailedAuthentication", 2));
        try
        {
            var wrong = server.Host.ClientsForKey("i2_not-a-key");
            var list = new ListTenantsRequest();

            await RpcAssert.UnauthenticatedAsync(async () => await wrong.Tenants.ListTenantsAsync(list));
            await RpcAssert.UnauthenticatedAsync(async () => await wrong.Tenants.ListTenantsAsync(list));
            await AssertRateLimitedAsync(async () => await wrong.Tenants.ListTenantsAsync(list));
            await AssertRateLimitedAsync(async () => await server.Admin.Tenants.ListTenantsAsync(list));
            var health = await new Health.HealthClient(server.Host.Channel).CheckAsync(new HealthCheckRequest());

            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}

/// <summary>Limits and proxies that cannot be applied keep the host from starting; the scripts' list names every limit.</summary>
public sealed class RateLimitSettingsTests
{
    [Theory]
    [InlineData("Issuer2:Limits:Token:Burst", "0", "Issuer2:Limits:Token")]
    [InlineData("Issuer2:Limits:PerOfferSession:PerMinute", "0", "Issuer2:Limits:PerOfferSession")]
    [InlineData("Issuer2:Limits:FailedAuthentication:PerMinute", "60000001", "Issuer2:Limits:FailedAuthentication")]
    [InlineData("Issuer2:ForwardedHeaders:KnownProxies:0", "proxy.example", "Issuer2:ForwardedHeaders:KnownProxies")]
    [InlineData("Issuer2:ForwardedHeaders:KnownNetworks:0", "10.0.0.0", "Issuer2:ForwardedHeaders:KnownNetworks")]
    public void Startup_SettingThatCannotApply_RefusesToStartNamingIt(string key, string value, string named)
    {
        var data = TestEnvironment.NewTempDirectory("limits-config");
        try
        {
            var ex = Assert.Throws<InvalidOperationException>(() => IssuerHost.CreateBuilder([$"--Issuer2:DataDirectory={data}", $"--{key}={value}"]));

            Assert.Contains(named, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            TestEnvironment.DeleteDirectory(data);
        }
    }

    [Fact]
    public void CiLibrary_HighLimits_NameEveryLimit()
    {
        var lib = File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, ".ci", "lib.sh"));
        var names = TestLimits.High.Keys.Select(k => k.Split(':')[2]).Distinct();

        foreach (var name in names) Assert.Matches($@"for _lib_limit in [^;]*\b{name}\b", lib.Replace("\\\n", " ", StringComparison.Ordinal));
    }
}
