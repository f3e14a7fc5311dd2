using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>
/// The API key is checked before the request body is read, on both listeners: a large body without a usable key is
/// refused while the client is still sending it, and nothing of it is read.
/// </summary>
public abstract class AuthenticationBeforeBodyTests(ServerFixture fixture)
{
    /// <summary>Just under the 4 MB message limit: the size limit is not what refuses these calls.</summary>
    private const int LargeMessage = 3_900_000;

    public static TheoryData<string> UnusableKeys => new() { "none", "wrong", "revoked" };

    [Theory]
    [MemberData(nameof(UnusableKeys))]
    public async Task LargeCreateOffer_WithoutUsableKey_IsUnauthenticated_OverGrpcAndGrpcWeb(string key)
    {
        var tenant = await fixture.CreateTenantAsync();
        var authorization = await AuthorizationAsync(key, tenant);
        var request = new CreateOfferRequest { Parent = tenant.Name, Profile = tenant.Name + "/profiles/p", RequestId = new string('x', LargeMessage) };
        using var web = GrpcWebChannel(fixture.Host.HttpUrl);

        foreach (var channel in new ChannelBase[] { fixture.Host.Channel, web })
        {
            var offers = Clients.For(channel, authorization).Offers;
            var clock = Stopwatch.StartNew();

            var refusal = await RpcAssert.UnauthenticatedAsync(async () => await offers.CreateOfferAsync(request));

            Assert.DoesNotContain("Exception was thrown by handler", refusal.Status.Detail, StringComparison.Ordinal);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"refused after {clock.Elapsed}");
        }
    }

    [Theory]
    [MemberData(nameof(UnusableKeys))]
    public async Task SlowLargeBody_WithoutUsableKey_IsRefusedOverH2c_WhileTheClientIsStillSending(string key)
    {
        var tenant = await fixture.CreateTenantAsync();
        var authorization = await AuthorizationAsync(key, tenant);
        // 3.9 MB in 16 KB chunks every 50 ms: the whole upload would take about 12 s.
        var body = new SlowFrameContent(LargeMessage, 16 * 1024, TimeSpan.FromMilliseconds(50));
        using var http = GrpcWire.Http2Client();
        using var request = GrpcWire.Request(fixture.Host.GrpcUrl, GrpcWire.CreateOffer, body, grpcWeb: false, authorization);

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var sentWhenAnswered = body.BytesSent;
        var status = await GrpcWire.ReadStatusAsync(response);

        Assert.Equal(HttpStatusCode.OK, status.HttpStatus);
        Assert.Equal(StatusCode.Unauthenticated, status.Code);
        Assert.Equal("UNAUTHENTICATED", status.Reason);
        Assert.Equal(RpcAssert.Domain, status.Domain);
        Assert.True(sentWhenAnswered < body.Length / 4, $"answered after {sentWhenAnswered} of {body.Length} bytes were sent");
    }

    [Theory]
    [MemberData(nameof(UnusableKeys))]
    public async Task HeadOfLargeGrpcWebBody_WithoutUsableKey_IsAnsweredWithoutTheRest(string key)
    {
        var tenant = await fixture.CreateTenantAsync();
        var authorization = await AuthorizationAsync(key, tenant);

        // 64 KB of 3.9 MB are sent, the rest never: only a server that did not wait for the body can answer.
        var status = await GrpcWire.SendHeadOfGrpcWebRequestAsync(
            fixture.Host.HttpUrl, GrpcWire.CreateOffer, authorization, LargeMessage, 64 * 1024, TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, status.HttpStatus);
        Assert.Equal(StatusCode.Unauthenticated, status.Code);
        Assert.Equal("UNAUTHENTICATED", status.Reason);
        Assert.Equal(RpcAssert.Domain, status.Domain);
    }

    [Fact]
    public async Task SlowBody_WithValidKey_IsReadToTheEndBeforeTheAnswer()
    {
        // The control of the test above: with a usable key the server waits for the message (and then finds
        // the zero bytes are not a protobuf message).
        var tenant = await fixture.CreateTenantAsync();
        var body = new SlowFrameContent(256 * 1024, 16 * 1024, TimeSpan.FromMilliseconds(20));
        using var http = GrpcWire.Http2Client();
        using var request = GrpcWire.Request(fixture.Host.GrpcUrl, GrpcWire.CreateOffer, body, grpcWeb: false, "Bearer " + tenant.ApiKey);

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var sentWhenAnswered = body.BytesSent;
        var status = await GrpcWire.ReadStatusAsync(response);

        Assert.Equal(body.Length, sentWhenAnswered);
        Assert.Equal(StatusCode.InvalidArgument, status.Code);
        Assert.Equal("MALFORMED_REQUEST", status.Reason);
    }

    [Fact]
    public async Task GrpcWeb_WithoutKey_AnswersTrailersOnlyWithTheErrorInfo()
    {
        var tenant = await fixture.CreateTenantAsync();
        using var web = GrpcWebChannel(fixture.Host.HttpUrl);
        var profiles = Clients.For(web, null).Profiles;

        var refusal = await RpcAssert.UnauthenticatedAsync(async () =>
            await profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name }));

        Assert.Equal("Send the API key as \"authorization: Bearer <key>\".", refusal.Status.Detail);
    }

    private async Task<string?> AuthorizationAsync(string key, TestTenant tenant)
    {
        switch (key)
        {
            case "none":
                return null;
            case "wrong":
                return "Bearer " + TestEnvironment.NewAdminKey();
            case "revoked":
                var created = await fixture.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "revoked" });
                await fixture.Admin.Tenants.RevokeApiKeyAsync(new RevokeApiKeyRequest { Name = created.ApiKey.Name });
                return "Bearer " + created.Key;
            default:
                throw new ArgumentOutOfRangeException(nameof(key), key, "none, wrong or revoked");
        }
    }

    private static GrpcChannel GrpcWebChannel(string httpUrl) =>
        GrpcChannel.ForAddress(httpUrl, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
            MaxSendMessageSize = 8 * 1024 * 1024,
        });
}

public sealed class AuthenticationBeforeBodyTests_Sqlite(SqliteServerFixture fixture)
    : AuthenticationBeforeBodyTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class AuthenticationBeforeBodyTests_Postgres(PostgresServerFixture fixture)
    : AuthenticationBeforeBodyTests(fixture), IClassFixture<PostgresServerFixture>;
