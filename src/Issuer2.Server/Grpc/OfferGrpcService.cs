using Google.Protobuf;
using Grpc.Core;
using Issuer2.Core.Common;
using Issuer2.Core.Offers;
using Issuer2.Grpc.V1;
using Issuer2.Server.Auth;
using CoreTxCodeOptions = Issuer2.Core.Offers.TxCodeOptions;

namespace Issuer2.Server.Grpc;

/// <summary>OfferService: proto ↔ Core for credential offers, plus the QR rendering of the offer URL.</summary>
public sealed class OfferGrpcService(OfferManagement offers, QrCodes qrCodes, QuotaLimits quotas, TimeProvider clock) : OfferService.OfferServiceBase
{
    public override async Task<CreateOfferResponse> CreateOffer(CreateOfferRequest request, ServerCallContext context)
    {
        var tenantId = ProtoMapping.TenantIdOf(request.Parent, "parent");
        var profileId = ProfileIdOf(request.Profile, tenantId, "profile") ?? throw Errors.Invalid("profile", "is required");
        var command = new CreateOfferCommand(
            profileId,
            request.AuthenticationMethod.ToCore("authentication_method"),
            request.DeliveryMode.ToCore(),
            request.Lifetime.AsTimeSpan(),
            request.ExpireTime.AsDateTimeOffset(),
            request.MaxUses,
            request.TxCode is null
                ? null
                : new CoreTxCodeOptions(ProtoMapping.NullIfEmpty(request.TxCode.Value), request.TxCode.Length, request.TxCode.InputMode.ToCore(),
                    ProtoMapping.NullIfEmpty(request.TxCode.Description)),
            request.Overrides.ToCore(),
            request.IssuerStateMode.ToCore(),
            ProtoMapping.NullIfEmpty(request.RequestId),
            request.IncludeQrCode);
        var created = (await offers.CreateAsync(context.Caller(), tenantId, command, context.CancellationToken)).Unwrap();

        var response = new CreateOfferResponse
        {
            Offer = created.Offer.ToProto(clock.GetUtcNow()),
            OfferUrl = created.OfferUrl,
            TxCode = created.Pin ?? "",
        };
        if (request.IncludeQrCode)
        {
            var (png, svg) = qrCodes.Render(created.OfferUrl);
            response.QrCode = new QrCode { Png = ByteString.CopyFrom(png), Svg = svg };
        }
        return response;
    }

    public override async Task<GetOfferResponse> GetOffer(GetOfferRequest request, ServerCallContext context)
    {
        var (tenantId, offerId) = ProtoMapping.ChildOf(request.Name, ResourceNames.Offers, "name");
        var offer = (await offers.GetAsync(context.Caller(), tenantId, offerId, context.CancellationToken)).Unwrap();
        return new GetOfferResponse { Offer = offer.ToProto(clock.GetUtcNow()) };
    }

    public override async Task<ListOffersResponse> ListOffers(ListOffersRequest request, ServerCallContext context)
    {
        var tenantId = ProtoMapping.TenantIdOf(request.Parent, "parent");
        var profileId = ProfileIdOf(request.Profile, tenantId, "profile");
        var now = clock.GetUtcNow();
        var page = (await offers.ListAsync(context.Caller(), tenantId, request.State.ToCore(), profileId, request.PageSize, request.PageToken,
            new PageBudget<Issuer2.Core.Offers.Offer>(quotas.MaxPageBytes, o => o.ToProto(now).CalculateSize()), context.CancellationToken)).Unwrap();
        var response = new ListOffersResponse { NextPageToken = page.NextPageToken };
        response.Offers.AddRange(page.Items.Select(o => o.ToProto(now)));
        return response;
    }

    public override async Task<RevokeOfferResponse> RevokeOffer(RevokeOfferRequest request, ServerCallContext context)
    {
        var (tenantId, offerId) = ProtoMapping.ChildOf(request.Name, ResourceNames.Offers, "name");
        var offer = (await offers.RevokeAsync(context.Caller(), tenantId, offerId, context.CancellationToken)).Unwrap();
        return new RevokeOfferResponse { Offer = offer.ToProto(clock.GetUtcNow()) };
    }

    public override async Task<ListOfferSessionsResponse> ListOfferSessions(ListOfferSessionsRequest request, ServerCallContext context)
    {
        var (tenantId, offerId) = ProtoMapping.ChildOf(request.Parent, ResourceNames.Offers, "parent");
        var page = (await offers.ListSessionsAsync(context.Caller(), tenantId, offerId, request.PageSize, request.PageToken,
            new PageBudget<SessionView>(quotas.MaxPageBytes, v => v.ToProto().CalculateSize()), context.CancellationToken)).Unwrap();
        var response = new ListOfferSessionsResponse { NextPageToken = page.NextPageToken };
        response.Sessions.AddRange(page.Items.Select(v => v.ToProto()));
        return response;
    }

    /// <summary>A profile reference: its resource name under the same tenant (or, leniently, its bare id); null when empty.</summary>
    private static string? ProfileIdOf(string? reference, string tenantId, string field)
    {
        if (string.IsNullOrEmpty(reference)) return null;
        if (!reference.Contains('/', StringComparison.Ordinal)) return reference;
        var (profileTenant, profileId) = ProtoMapping.ChildOf(reference, ResourceNames.Profiles, field);
        return profileTenant == tenantId ? profileId : throw Errors.Invalid(field, "must be a profile of the parent tenant");
    }
}
