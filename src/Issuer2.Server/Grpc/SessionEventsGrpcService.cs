using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Grpc.V1;
using Issuer2.Server.Auth;
using Issuer2.Server.Hosting;
using Microsoft.Extensions.Options;
using CoreEventFilter = Issuer2.Core.Events.EventFilter;
using Error = Issuer2.Core.Common.Error;
using EventFilter = Issuer2.Grpc.V1.EventFilter;

namespace Issuer2.Server.Grpc;

/// <summary>
/// SessionEventsService: proto ↔ Core for the event log; the stream's policy is Core's (<see cref="SessionEvents"/>).
/// When the host begins to stop, every open stream ends at once with UNAVAILABLE <c>HOST_STOPPING</c>, so its client
/// resumes from its last cursor on another host instead of holding this one for the whole drain time.
/// </summary>
public sealed class SessionEventsGrpcService(SessionEvents events, IOptions<IssuerOptions> options, QuotaLimits quotas, IHostApplicationLifetime lifetime)
    : SessionEventsService.SessionEventsServiceBase
{
    private static readonly Error HostStopping = new(ErrorKind.Unavailable, ErrorReasons.HostStopping,
        "This host is stopping; resume from the last cursor received, on another host or once it is back.", []);

    public override async Task SubscribeEvents(SubscribeEventsRequest request, IServerStreamWriter<SubscribeEventsResponse> responseStream, ServerCallContext context)
    {
        var tenantId = ProtoMapping.TenantIdOf(request.Parent, "parent");
        var filter = ToCore(request.Filter, tenantId);
        var settings = options.Value.Events;
        var policy = new EventStreamPolicy(quotas.EventStreams, settings.StreamBuffer, settings.LagTimeout, settings.HeartbeatInterval, settings.StuckWriteTimeout);
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        Error? ended;
        try
        {
            ended = await events.StreamAsync(context.Caller(), tenantId, filter,
                new FeedStart(ProtoMapping.NullIfEmpty(request.AfterCursor), request.FromOldestRetained), policy,
                (item, ct) => responseStream.WriteAsync(ToProto(item), ct), ending.Token);
        }
        catch (OperationCanceledException) when (Stopping(context))
        {
            ended = HostStopping;
        }
        if (ended is null && Stopping(context)) ended = HostStopping;
        if (ended is not null) throw ended.ToRpcException();
    }

    /// <summary>The host, not the client, ended the call.</summary>
    private bool Stopping(ServerCallContext context) =>
        lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested;

    /// <summary>Stands in for an event's cursor when a page's size is counted: every cursor has this length.</summary>
    private static readonly string CursorOfLength = new('c', EventCursors.TextLength);

    public override async Task<ListEventsResponse> ListEvents(ListEventsRequest request, ServerCallContext context)
    {
        var tenantId = ProtoMapping.TenantIdOf(request.Parent, "parent");
        var filter = ToCore(request.Filter, tenantId);
        var page = (await events.ListAsync(context.Caller(), tenantId, filter, request.PageSize,
            ProtoMapping.NullIfEmpty(request.PageToken), ProtoMapping.NullIfEmpty(request.AfterCursor),
            new PageBudget<IssuerEvent>(quotas.MaxPageBytes, e => ToProto(e, CursorOfLength).CalculateSize()), context.CancellationToken)).Unwrap();
        var response = new ListEventsResponse();
        response.Events.AddRange(page.Events.Select(e => ToProto(e.Event, e.Cursor)));
        if (page.NextPageToken is { } next) response.NextPageToken = next;
        return response;
    }

    private static CoreEventFilter ToCore(EventFilter? filter, string tenantId)
    {
        if (filter is null) return CoreEventFilter.All;
        string? offerId = null, sessionId = null, profileId = null;
        if (!string.IsNullOrEmpty(filter.Offer))
        {
            var (t, id) = ProtoMapping.ChildOf(filter.Offer, ResourceNames.Offers, "filter.offer");
            offerId = t == tenantId ? id : throw Errors.Invalid("filter.offer", "must be an offer of the parent tenant");
        }
        if (!string.IsNullOrEmpty(filter.Session))
        {
            var parts = filter.Session.Split('/');
            if (parts is not [ "tenants", var t, "offers" or "profiles", _, "sessions", var id ] || t != tenantId || id.Length == 0)
                throw Errors.Invalid("filter.session",
                    "must be \"tenants/{tenant_id}/offers/{offer_id}/sessions/{session_id}\" or \"tenants/{tenant_id}/profiles/{profile_id}/sessions/{session_id}\" of the parent tenant");
            sessionId = id;
        }
        if (!string.IsNullOrEmpty(filter.Profile))
        {
            var (t, id) = ProtoMapping.ChildOf(filter.Profile, ResourceNames.Profiles, "filter.profile");
            profileId = t == tenantId ? id : throw Errors.Invalid("filter.profile", "must be a profile of the parent tenant");
        }
        HashSet<string>? types = null;
        if (filter.EventTypes.Count > 0)
        {
            types = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < filter.EventTypes.Count; i++)
                types.Add(EventTypeNames.ToCore(filter.EventTypes[i]) ?? throw Errors.Invalid($"filter.event_types[{i}]", "is not a known event type"));
        }
        return new CoreEventFilter(offerId, sessionId, profileId, types);
    }

    private static SubscribeEventsResponse ToProto(FeedItem item) => item switch
    {
        FeedItem.Event e => new SubscribeEventsResponse { Event = ToProto(e.Value, e.Cursor) },
        FeedItem.Heartbeat h => new SubscribeEventsResponse { Heartbeat = new Heartbeat { Cursor = h.Cursor, Time = Timestamp.FromDateTimeOffset(h.At) } },
        _ => throw new InvalidOperationException("Unknown feed item."),
    };

    internal static Event ToProto(IssuerEvent e, string cursor)
    {
        var proto = new Event
        {
            Cursor = cursor,
            Type = EventTypeNames.ToProto(e.Type),
            Time = Timestamp.FromDateTimeOffset(e.OccurredAt),
            Offer = e.OfferId is null ? "" : ResourceNames.Child(e.TenantId, ResourceNames.Offers, e.OfferId),
            Session = e.SessionId is null || (e.OfferId is null && e.ProfileId is null) ? "" : ResourceNames.Session(e.TenantId, e.OfferId, e.ProfileId!, e.SessionId),
            Profile = e.ProfileId is null ? "" : ResourceNames.Child(e.TenantId, ResourceNames.Profiles, e.ProfileId),
            ApiKey = e.Actor ?? "",
        };
        EventTypeNames.FillDetail(proto, e);
        return proto;
    }
}

/// <summary>Core event type names ↔ the proto enum, and the typed details.</summary>
internal static class EventTypeNames
{
    private static readonly Dictionary<string, EventType> ToProtoMap = new(StringComparer.Ordinal)
    {
        [EventTypes.OfferCreated] = EventType.OfferCreated,
        [EventTypes.OfferResolved] = EventType.OfferResolved,
        [EventTypes.OfferRevoked] = EventType.OfferRevoked,
        [EventTypes.OfferLocked] = EventType.OfferLocked,
        [EventTypes.TokenIssued] = EventType.TokenIssued,
        [EventTypes.TokenRefused] = EventType.TokenRefused,
        [EventTypes.CredentialIssued] = EventType.CredentialIssued,
        [EventTypes.CredentialRefused] = EventType.CredentialRefused,
        [EventTypes.NotificationReceived] = EventType.NotificationReceived,
        [EventTypes.SessionCompleted] = EventType.SessionCompleted,
        [EventTypes.ProfileCreated] = EventType.ProfileCreated,
        [EventTypes.ProfileUpdated] = EventType.ProfileUpdated,
        [EventTypes.ProfileDeleted] = EventType.ProfileDeleted,
        [EventTypes.TenantCreated] = EventType.TenantCreated,
        [EventTypes.TenantUpdated] = EventType.TenantUpdated,
        [EventTypes.TenantDeleted] = EventType.TenantDeleted,
        [EventTypes.ApiKeyCreated] = EventType.ApiKeyCreated,
        [EventTypes.ApiKeyRevoked] = EventType.ApiKeyRevoked,
        [EventTypes.AuthorizationRequested] = EventType.AuthorizationRequested,
        [EventTypes.UserAuthenticated] = EventType.UserAuthenticated,
        [EventTypes.AuthorizationRefused] = EventType.AuthorizationRefused,
        [EventTypes.AuthorizationCodeIssued] = EventType.AuthorizationCodeIssued,
    };

    private static readonly Dictionary<EventType, string> ToCoreMap = ToProtoMap.ToDictionary(p => p.Value, p => p.Key);

    public static EventType ToProto(string type) => ToProtoMap.GetValueOrDefault(type, EventType.Unspecified);

    public static string? ToCore(EventType type) => ToCoreMap.GetValueOrDefault(type);

    private static T Detail<T>(IssuerEvent e) => JsonSerializer.Deserialize<T>(e.Detail, CoreJson.Options)!;

    /// <summary>The proto's name of the version a credential request spoke; unspecified when none is recorded.</summary>
    private static ProtocolVersion ProtocolVersionOf(Core.Wallet.Oid4vciVersion? version) => version switch
    {
        Core.Wallet.Oid4vciVersion.V1 => ProtocolVersion.Oid4Vci10,
        Core.Wallet.Oid4vciVersion.Draft13 => ProtocolVersion.Oid4VciDraft13,
        null => ProtocolVersion.Unspecified,
    };

    public static void FillDetail(Event proto, IssuerEvent e)
    {
        switch (e.Type)
        {
            case EventTypes.OfferCreated:
                var created = Detail<EventDetails.OfferCreated>(e);
                proto.OfferCreated = new OfferCreatedDetail
                {
                    ProfileVersion = created.ProfileVersion,
                    AuthenticationMethod = created.AuthenticationMethod.ToProto(),
                    DeliveryMode = created.DeliveryMode == Core.Offers.DeliveryMode.ByReference ? "BY_REFERENCE" : "BY_VALUE",
                    MaxUses = created.MaxUses,
                    PinRequired = created.PinRequired,
                    ExpireTime = Timestamp.FromDateTimeOffset(created.ExpiresAt),
                };
                break;
            case EventTypes.OfferResolved:
                proto.OfferResolved = new OfferResolvedDetail { CodeExpireTime = Detail<EventDetails.OfferResolved>(e).CodeExpiresAt.ToTimestamp() };
                break;
            case EventTypes.OfferRevoked:
                proto.OfferRevoked = new OfferRevokedDetail { Cause = Detail<EventDetails.OfferRevoked>(e).Cause };
                break;
            case EventTypes.OfferLocked:
                proto.OfferLocked = new OfferLockedDetail { Attempts = Detail<EventDetails.OfferLocked>(e).Attempts };
                break;
            case EventTypes.TokenIssued:
                var issued = Detail<EventDetails.TokenIssued>(e);
                proto.TokenIssued = new TokenIssuedDetail
                {
                    Use = issued.Use, MaxUses = issued.MaxUses, GrantType = issued.GrantType ?? Core.Offers.CredentialOfferDocument.PreAuthorizedGrant,
                };
                break;
            case EventTypes.TokenRefused:
                var refused = Detail<EventDetails.TokenRefused>(e);
                proto.TokenRefused = new TokenRefusedDetail { Reason = refused.Reason, AttemptsLeft = refused.AttemptsLeft ?? 0, Repeats = refused.Repeats ?? 1 };
                break;
            case EventTypes.CredentialIssued:
                var credential = Detail<EventDetails.CredentialIssued>(e);
                proto.CredentialIssued = new CredentialIssuedDetail
                {
                    CredentialConfigurationId = credential.ConfigurationId, Format = credential.Format, CredentialId = credential.CredentialId,
                    ProtocolVersion = ProtocolVersionOf(credential.Version),
                };
                break;
            case EventTypes.CredentialRefused:
                var credentialRefused = Detail<EventDetails.CredentialRefused>(e);
                proto.CredentialRefused = new CredentialRefusedDetail
                {
                    Error = credentialRefused.Error, ProtocolVersion = ProtocolVersionOf(credentialRefused.Version), Repeats = credentialRefused.Repeats ?? 1,
                };
                break;
            case EventTypes.NotificationReceived:
                var notification = Detail<EventDetails.NotificationReceived>(e);
                proto.NotificationReceived = new NotificationReceivedDetail { Event = notification.Event, CredentialId = notification.CredentialId };
                break;
            case EventTypes.SessionCompleted:
                proto.SessionCompleted = new SessionCompletedDetail { CredentialCount = Detail<EventDetails.SessionCompleted>(e).Credentials };
                break;
            case EventTypes.ProfileCreated or EventTypes.ProfileUpdated or EventTypes.ProfileDeleted:
                var profile = Detail<EventDetails.ProfileChanged>(e);
                proto.ProfileChanged = new ProfileChangedDetail { Version = profile.Version, RevokedOfferCount = profile.RevokedOffers };
                break;
            case EventTypes.TenantCreated or EventTypes.TenantUpdated or EventTypes.TenantDeleted:
                proto.TenantChanged = new TenantChangedDetail { MetadataVersion = Detail<EventDetails.TenantChanged>(e).MetadataVersion };
                break;
            case EventTypes.AuthorizationRequested or EventTypes.UserAuthenticated or EventTypes.AuthorizationRefused or EventTypes.AuthorizationCodeIssued:
                var authorization = Detail<EventDetails.Authorization>(e);
                proto.Authorization = new AuthorizationDetail
                {
                    AuthorizationId = authorization.AuthorizationId,
                    ClientId = authorization.ClientId,
                    RedirectHost = authorization.RedirectHost,
                    Reason = authorization.Reason ?? "",
                    Error = authorization.Error ?? "",
                };
                break;
            case EventTypes.ApiKeyCreated or EventTypes.ApiKeyRevoked:
                proto.ApiKeyChanged = new ApiKeyChangedDetail { ApiKey = ResourceNames.Child(e.TenantId, ResourceNames.ApiKeys, Detail<EventDetails.ApiKeyChanged>(e).ApiKeyId) };
                break;
        }
    }
}
