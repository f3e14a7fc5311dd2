using System.Net;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Dpop;

/// <summary>
/// RFC 9449 §5.1: the authorization server metadata advertises dpop_signing_alg_values_supported (["ES256"]) exactly
/// when the tenant takes DPoP, and follows the tenant's setting when it changes.
/// </summary>
public abstract class DpopMetadataTests(ServerFixture fixture)
{
    [Theory]
    [InlineData(DpopMode.Off, false, false)]
    [InlineData(DpopMode.Off, true, false)]
    [InlineData(DpopMode.Unspecified, false, true)]
    [InlineData(DpopMode.Optional, false, true)]
    [InlineData(DpopMode.Required, false, true)]
    [InlineData(DpopMode.Required, true, true)]
    public async Task AuthorizationServerMetadata_AdvertisesDpopAlgorithms_ExactlyWhenNotOff(DpopMode mode, bool requireNonce, bool advertised)
    {
        var tenant = await fixture.CreateTenantAsync(t => t.Dpop = new DpopSettings { Mode = mode, RequireNonce = requireNonce });

        var metadata = await MetadataAsync(tenant.TenantId);

        Assert.Equal(advertised ? """["ES256"]""" : null, Algorithms(metadata));
    }

    [Fact]
    public async Task AuthorizationServerMetadata_FollowsTheTenantsDpopSetting_UpdatedWithMaskDpop()
    {
        var tenant = await fixture.CreateTenantAsync();
        Assert.Equal("""["ES256"]""", Algorithms(await MetadataAsync(tenant.TenantId)));

        await UpdateAsync(tenant, DpopMode.Off);
        var off = Algorithms(await MetadataAsync(tenant.TenantId));
        await UpdateAsync(tenant, DpopMode.Required);
        var required = Algorithms(await MetadataAsync(tenant.TenantId));

        Assert.Null(off);
        Assert.Equal("""["ES256"]""", required);
        var read = (await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant;
        Assert.Equal(DpopMode.Required, read.Dpop.Mode);
    }

    private async Task UpdateAsync(TestTenant tenant, DpopMode mode)
    {
        var mask = new FieldMask();
        mask.Paths.Add("dpop");
        await fixture.Admin.Tenants.UpdateTenantAsync(new UpdateTenantRequest
        {
            Tenant = new Tenant { Name = tenant.Name, Dpop = new DpopSettings { Mode = mode } },
            UpdateMask = mask,
        });
    }

    private async Task<JsonElement> MetadataAsync(string tenantId)
    {
        var reply = await DpopHttp.GetAsync(fixture.Host.HttpUrl, $"{fixture.Host.HttpUrl}/.well-known/oauth-authorization-server/{tenantId}");
        Assert.True(reply.Status == HttpStatusCode.OK, $"metadata: {reply}");
        return reply.Json;
    }

    /// <summary>dpop_signing_alg_values_supported as a JSON array written compactly, or null when absent.</summary>
    private static string? Algorithms(JsonElement metadata) =>
        metadata.TryGetProperty("dpop_signing_alg_values_supported", out var algs) ? JsonSerializer.Serialize(algs) : null;
}

public sealed class DpopMetadataTests_Sqlite(SqliteServerFixture fixture)
    : DpopMetadataTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class DpopMetadataTests_Postgres(PostgresServerFixture fixture)
    : DpopMetadataTests(fixture), IClassFixture<PostgresServerFixture>;
