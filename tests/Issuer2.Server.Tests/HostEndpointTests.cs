using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Grpc.Reflection.V1Alpha;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>The host's listeners: gRPC health and reflection without a key, /healthz, gRPC-Web over HTTP/1.1.</summary>
public abstract class HostEndpointTests(ServerFixture fixture)
{
    [Fact]
    public async Task GrpcHealthCheck_WithoutKey_IsServing()
    {
        var health = new Health.HealthClient(fixture.Host.Channel);

        var response = await health.CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Healthz_OverHttp11_Is200()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.Host.HttpUrl + "/healthz"))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task GrpcReflection_WithoutKey_ListsTheIssuerServices()
    {
        var reflection = new ServerReflection.ServerReflectionClient(fixture.Host.Channel);
        using var call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        Assert.Contains("issuer2.v1.TenantService", services);
        Assert.Contains("issuer2.v1.ProfileService", services);
        Assert.Contains("issuer2.v1.OfferService", services);
    }

    [Fact]
    public async Task GrpcWeb_OverHttp11_GetTenantWorks_AndStillNeedsAKey()
    {
        var tenant = await fixture.CreateTenantAsync();
        using var channel = GrpcChannel.ForAddress(fixture.Host.HttpUrl, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
            Credentials = ChannelCredentials.Insecure,
            UnsafeUseInsecureChannelCallCredentials = true,
        });
        var client = new TenantService.TenantServiceClient(channel);
        var headers = new Metadata { { "authorization", "Bearer " + tenant.ApiKey } };

        var read = (await client.GetTenantAsync(new GetTenantRequest { Name = tenant.Name }, headers)).Tenant;

        Assert.Equal(tenant.Tenant, read);
        await RpcAssert.UnauthenticatedAsync(async () => await client.GetTenantAsync(new GetTenantRequest { Name = tenant.Name }));
    }

    [Fact]
    public async Task GrpcWebText_OverHttp11_ListTenantsWorks()
    {
        var tenant = await fixture.CreateTenantAsync();
        using var channel = GrpcChannel.ForAddress(fixture.Host.HttpUrl, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWebText, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
        });
        var client = new TenantService.TenantServiceClient(channel);
        var headers = new Metadata { { "authorization", "Bearer " + fixture.Host.Settings.AdminKey } };

        var page = await client.ListTenantsAsync(new ListTenantsRequest { PageSize = 200 }, headers);

        Assert.Contains(page.Tenants, t => t.Name == tenant.Name);
    }
}

public sealed class HostEndpointTests_Sqlite(SqliteServerFixture fixture)
    : HostEndpointTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class HostEndpointTests_Postgres(PostgresServerFixture fixture)
    : HostEndpointTests(fixture), IClassFixture<PostgresServerFixture>;
