using System.Collections.Frozen;
using Grpc.Core;
using Issuer2.Core.ApiKeys;
using Issuer2.Core.Common;
using Issuer2.Core.Tenants;
using Issuer2.Grpc.V1;
using Issuer2.Server.Auth;
using ApiKey = Issuer2.Core.ApiKeys.ApiKey;

namespace Issuer2.Server.Grpc;

/// <summary>TenantService: proto ↔ Core for tenants and API keys.</summary>
public sealed class TenantGrpcService(TenantManagement tenants, ApiKeyManagement apiKeys, QuotaLimits quotas) : TenantService.TenantServiceBase
{
    private static readonly FrozenSet<string> UpdatableFields = new[]
    {
        "display", "allowed_authentication_methods", "require_pin", "default_offer_lifetime", "max_offer_lifetime",
        "pre_authorized_code_lifetime", "pin_attempt_limit", "identity_provider", "authorization_server", "dpop",
    }.ToFrozenSet(StringComparer.Ordinal);

    public override async Task<CreateTenantResponse> CreateTenant(CreateTenantRequest request, ServerCallContext context)
    {
        var tenant = request.Tenant ?? throw Errors.Invalid("tenant", "is required");
        var view = await tenants.CreateAsync(context.Caller(), tenant.TenantId, tenant.ToSettings(null), context.CancellationToken);
        return new CreateTenantResponse { Tenant = view.Unwrap().ToProto() };
    }

    public override async Task<GetTenantResponse> GetTenant(GetTenantRequest request, ServerCallContext context)
    {
        var tenantId = ProtoMapping.TenantIdOf(request.Name, "name");
        var view = await tenants.GetAsync(context.Caller(), tenantId, context.CancellationToken);
        return new GetTenantResponse { Tenant = view.Unwrap().ToProto() };
    }

    public override async Task<ListTenantsResponse> ListTenants(ListTenantsRequest request, ServerCallContext context)
    {
        var page = (await tenants.ListAsync(context.Caller(), request.PageSize, request.PageToken,
            new PageBudget<TenantView>(quotas.MaxPageBytes, v => v.ToProto().CalculateSize()), context.CancellationToken)).Unwrap();
        var response = new ListTenantsResponse { NextPageToken = page.NextPageToken };
        response.Tenants.AddRange(page.Items.Select(v => v.ToProto()));
        return response;
    }

    public override async Task<UpdateTenantResponse> UpdateTenant(UpdateTenantRequest request, ServerCallContext context)
    {
        var tenant = request.Tenant ?? throw Errors.Invalid("tenant", "is required");
        var tenantId = ProtoMapping.TenantIdOf(tenant.Name, "tenant.name");
        var mask = request.UpdateMask.ToMaskSet(UpdatableFields);
        var view = await tenants.UpdateAsync(context.Caller(), tenantId, tenant.ToSettings(mask), context.CancellationToken);
        return new UpdateTenantResponse { Tenant = view.Unwrap().ToProto() };
    }

    public override async Task<DeleteTenantResponse> DeleteTenant(DeleteTenantRequest request, ServerCallContext context)
    {
        var tenantId = ProtoMapping.TenantIdOf(request.Name, "name");
        (await tenants.DeleteAsync(context.Caller(), tenantId, context.CancellationToken)).Unwrap();
        return new DeleteTenantResponse();
    }

    public override async Task<CreateApiKeyResponse> CreateApiKey(CreateApiKeyRequest request, ServerCallContext context)
    {
        var tenantId = ProtoMapping.TenantIdOf(request.Parent, "parent");
        var created = (await apiKeys.CreateAsync(
            context.Caller(), tenantId, ProtoMapping.NullIfEmpty(request.DisplayName), request.ExpireTime.AsDateTimeOffset(), context.CancellationToken)).Unwrap();
        return new CreateApiKeyResponse { ApiKey = ToProto(created.Record), Key = created.Key };
    }

    public override async Task<ListApiKeysResponse> ListApiKeys(ListApiKeysRequest request, ServerCallContext context)
    {
        var tenantId = ProtoMapping.TenantIdOf(request.Parent, "parent");
        var page = (await apiKeys.ListAsync(context.Caller(), tenantId, request.PageSize, request.PageToken,
            new PageBudget<ApiKey>(quotas.MaxPageBytes, k => ToProto(k).CalculateSize()), context.CancellationToken)).Unwrap();
        var response = new ListApiKeysResponse { NextPageToken = page.NextPageToken };
        response.ApiKeys.AddRange(page.Items.Select(ToProto));
        return response;
    }

    public override async Task<RevokeApiKeyResponse> RevokeApiKey(RevokeApiKeyRequest request, ServerCallContext context)
    {
        var (tenantId, keyId) = ProtoMapping.ChildOf(request.Name, ResourceNames.ApiKeys, "name");
        var key = (await apiKeys.RevokeAsync(context.Caller(), tenantId, keyId, context.CancellationToken)).Unwrap();
        return new RevokeApiKeyResponse { ApiKey = ToProto(key) };
    }

    private static Issuer2.Grpc.V1.ApiKey ToProto(ApiKey k) => new()
    {
        Name = ResourceNames.Child(k.TenantId!, ResourceNames.ApiKeys, k.Id),
        DisplayName = k.DisplayName,
        KeyPrefix = k.KeyPrefix,
        CreateTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(k.CreatedAt),
        ExpireTime = k.ExpiresAt.ToTimestamp(),
        RevokeTime = k.RevokedAt.ToTimestamp(),
    };
}
