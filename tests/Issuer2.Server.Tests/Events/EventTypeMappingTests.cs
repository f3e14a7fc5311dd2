using System.Reflection;
using Issuer2.Core.Events;
using DeliveryMode = Issuer2.Core.Offers.DeliveryMode;
using AuthenticationMethod = Issuer2.Core.Tenants.AuthenticationMethod;
using Issuer2.Grpc.V1;
using Issuer2.Server.Grpc;

namespace Issuer2.Server.Tests.Events;

/// <summary>Every event type Core writes streams as its own proto type with its typed detail, and back.</summary>
public sealed class EventTypeMappingTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A detail per Core event type; a type added without one fails <see cref="EveryCoreType_HasASampleHere"/>.</summary>
    private static readonly Dictionary<string, object> _details = new()
    {
        [EventTypes.TenantCreated] = new EventDetails.TenantChanged(1),
        [EventTypes.TenantUpdated] = new EventDetails.TenantChanged(2),
        [EventTypes.TenantDeleted] = new EventDetails.TenantChanged(3),
        [EventTypes.ApiKeyCreated] = new EventDetails.ApiKeyChanged("k1"),
        [EventTypes.ApiKeyRevoked] = new EventDetails.ApiKeyChanged("k1"),
        [EventTypes.ProfileCreated] = new EventDetails.ProfileChanged(1),
        [EventTypes.ProfileUpdated] = new EventDetails.ProfileChanged(2),
        [EventTypes.ProfileDeleted] = new EventDetails.ProfileChanged(2, 4),
        [EventTypes.OfferCreated] = new EventDetails.OfferCreated(1, AuthenticationMethod.PreAuthorized, DeliveryMode.ByReference, 3, true, At),
        [EventTypes.OfferRevoked] = new EventDetails.OfferRevoked("revoked"),
        [EventTypes.OfferResolved] = new EventDetails.OfferResolved(At),
        [EventTypes.OfferLocked] = new EventDetails.OfferLocked(5),
        [EventTypes.TokenIssued] = new EventDetails.TokenIssued(1, 3),
        [EventTypes.TokenRefused] = new EventDetails.TokenRefused("wrong_pin", 2),
        [EventTypes.CredentialIssued] = new EventDetails.CredentialIssued("employee", "dc+sd-jwt", "c1"),
        [EventTypes.CredentialRefused] = new EventDetails.CredentialRefused("invalid_proof"),
        [EventTypes.NotificationReceived] = new EventDetails.NotificationReceived("credential_accepted", "c1"),
        [EventTypes.SessionCompleted] = new EventDetails.SessionCompleted(1),
        [EventTypes.AuthorizationRequested] = new EventDetails.Authorization("a1", "wallet", "wallet.example"),
        [EventTypes.UserAuthenticated] = new EventDetails.Authorization("a1", "wallet", "wallet.example"),
        [EventTypes.AuthorizationRefused] = new EventDetails.Authorization("a1", "wallet", "wallet.example", "consent_refused", "access_denied"),
        [EventTypes.AuthorizationCodeIssued] = new EventDetails.Authorization("a1", "wallet", "wallet.example"),
    };

    public static TheoryData<string> CoreTypes()
    {
        var data = new TheoryData<string>();
        foreach (var type in AllCoreTypes()) data.Add(type);
        return data;
    }

    [Fact]
    public void EveryCoreType_HasASampleHere() => Assert.Equal(AllCoreTypes().Order(), _details.Keys.Order());

    [Theory]
    [MemberData(nameof(CoreTypes))]
    public void CoreType_StreamsAsItsOwnProtoTypeWithATypedDetail_AndFiltersBack(string type)
    {
        var e = IssuerEvent.Create("acme", type, At, _details[type], "o1", "s1", "p1");

        var proto = SessionEventsGrpcService.ToProto(e, "cursor");

        Assert.NotEqual(EventType.Unspecified, proto.Type);
        Assert.NotEqual(Event.DetailOneofCase.None, proto.DetailCase);
        Assert.Equal(type, EventTypeNames.ToCore(proto.Type));
    }

    [Fact]
    public void EveryProtoType_NamesACoreType()
    {
        var protoTypes = Enum.GetValues<EventType>().Where(t => t != EventType.Unspecified);

        Assert.All(protoTypes, t => Assert.Contains(EventTypeNames.ToCore(t), AllCoreTypes()));
        Assert.Equal(AllCoreTypes().Count, protoTypes.Count());
    }

    [Fact]
    public void TenantDeleted_CarriesItsMetadataVersion()
    {
        var proto = SessionEventsGrpcService.ToProto(IssuerEvent.Create("acme", EventTypes.TenantDeleted, At, new EventDetails.TenantChanged(7)), "cursor");

        Assert.Equal(EventType.TenantDeleted, proto.Type);
        Assert.Equal(7, proto.TenantChanged.MetadataVersion);
    }

    [Fact]
    public void OfferResolved_OfAnOfferWithoutIssuerState_HasNoExpireTime_AndWithOneHasIt()
    {
        var none = SessionEventsGrpcService.ToProto(IssuerEvent.Create("acme", EventTypes.OfferResolved, At, new EventDetails.OfferResolved(null), "o1"), "cursor");
        var minted = SessionEventsGrpcService.ToProto(IssuerEvent.Create("acme", EventTypes.OfferResolved, At, new EventDetails.OfferResolved(At.AddMinutes(10)), "o1"), "cursor");

        Assert.Equal(Event.DetailOneofCase.OfferResolved, none.DetailCase);
        Assert.Null(none.OfferResolved.CodeExpireTime);
        Assert.Equal(At.AddMinutes(10), minted.OfferResolved.CodeExpireTime.ToDateTimeOffset());
    }

    private static List<string> AllCoreTypes() =>
        [.. typeof(EventTypes).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!)];
}
