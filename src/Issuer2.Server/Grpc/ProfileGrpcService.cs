using System.Collections.Frozen;
using Grpc.Core;
using Issuer2.Core.Common;
using Issuer2.Core.Profiles;
using Issuer2.Grpc.V1;
using Issuer2.Server.Auth;

namespace Issuer2.Server.Grpc;

/// <summary>ProfileService: proto ↔ Core for credential profiles.</summary>
public sealed class ProfileGrpcService(ProfileManagement profiles, QuotaLimits quotas) : ProfileService.ProfileServiceBase
{
    private static readonly FrozenSet<string> UpdatableFields =
        new[] { "scope", "vct", "display", "claims", "default_values", "credential_validity", "claim_mappings" }.ToFrozenSet(StringComparer.Ordinal);

    public override async Task<CreateProfileResponse> CreateProfile(CreateProfileRequest request, ServerCallContext context)
    {
        var tenantId = ProtoMapping.TenantIdOf(request.Parent, "parent");
        var profile = request.Profile ?? throw Errors.Invalid("profile", "is required");
        var created = await profiles.CreateAsync(context.Caller(), tenantId, profile.ProfileId, profile.ToInput(null), context.CancellationToken);
        return new CreateProfileResponse { Profile = created.Unwrap().ToProto() };
    }

    public override async Task<GetProfileResponse> GetProfile(GetProfileRequest request, ServerCallContext context)
    {
        var (tenantId, profileId) = ProtoMapping.ChildOf(request.Name, ResourceNames.Profiles, "name");
        var profile = await profiles.GetAsync(context.Caller(), tenantId, profileId, context.CancellationToken);
        return new GetProfileResponse { Profile = profile.Unwrap().ToProto() };
    }

    public override async Task<ListProfilesResponse> ListProfiles(ListProfilesRequest request, ServerCallContext context)
    {
        var tenantId = ProtoMapping.TenantIdOf(request.Parent, "parent");
        var page = (await profiles.ListAsync(context.Caller(), tenantId, request.PageSize, request.PageToken,
            new PageBudget<Issuer2.Core.Profiles.Profile>(quotas.MaxPageBytes, p => p.ToProto().CalculateSize()), context.CancellationToken)).Unwrap();
        var response = new ListProfilesResponse { NextPageToken = page.NextPageToken };
        response.Profiles.AddRange(page.Items.Select(p => p.ToProto()));
        return response;
    }

    public override async Task<UpdateProfileResponse> UpdateProfile(UpdateProfileRequest request, ServerCallContext context)
    {
        var profile = request.Profile ?? throw Errors.Invalid("profile", "is required");
        var (tenantId, profileId) = ProtoMapping.ChildOf(profile.Name, ResourceNames.Profiles, "profile.name");
        var mask = request.UpdateMask.ToMaskSet(UpdatableFields);
        var updated = await profiles.UpdateAsync(context.Caller(), tenantId, profileId, profile.ToInput(mask), context.CancellationToken);
        return new UpdateProfileResponse { Profile = updated.Unwrap().ToProto() };
    }

    public override async Task<ListProfileSessionsResponse> ListProfileSessions(ListProfileSessionsRequest request, ServerCallContext context)
    {
        var (tenantId, profileId) = ProtoMapping.ChildOf(request.Parent, ResourceNames.Profiles, "parent");
        var page = (await profiles.ListSessionsAsync(context.Caller(), tenantId, profileId, request.PageSize, request.PageToken,
            new PageBudget<Issuer2.Core.Offers.SessionView>(quotas.MaxPageBytes, v => v.ToProto().CalculateSize()), context.CancellationToken)).Unwrap();
        var response = new ListProfileSessionsResponse { NextPageToken = page.NextPageToken };
        response.Sessions.AddRange(page.Items.Select(v => v.ToProto()));
        return response;
    }

    public override async Task<DeleteProfileResponse> DeleteProfile(DeleteProfileRequest request, ServerCallContext context)
    {
        var (tenantId, profileId) = ProtoMapping.ChildOf(request.Name, ResourceNames.Profiles, "name");
        var revoked = await profiles.DeleteAsync(context.Caller(), tenantId, profileId, request.RevokeOffers, context.CancellationToken);
        return new DeleteProfileResponse { RevokedOfferCount = revoked.Unwrap() };
    }
}
