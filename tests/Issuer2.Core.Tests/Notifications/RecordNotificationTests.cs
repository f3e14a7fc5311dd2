using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Notifications;
using Issuer2.Core.Offers;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Notifications;

public sealed class RecordNotificationTests : IDisposable
{
    private readonly TestBed _bed = TestBed.WithEmployeeProfile();
    private readonly HolderKey _holder = new();

    public void Dispose() => _holder.Dispose();

    private DateTimeOffset Now => _bed.Clock.GetUtcNow();

    /// <summary>A notification request: its access token read afresh, as the endpoint reads it, then the notification.</summary>
    private async Task<Result<bool, WalletError>> Notify(TokenResponse token, string notificationId, string notificationEvent) =>
        await _bed.RecordNotification.ExecuteAsync(await _bed.AuthorizeAsync(token), new NotificationRequest(notificationId, notificationEvent, null), default);

    /// <summary>The token of a session that received its credential, and the notification id the credential response carried.</summary>
    private async Task<(TokenResponse Token, string NotificationId)> IssuedAsync(CreatedOffer? offer = null)
    {
        var token = await _bed.TokenAsync(offer ?? await _bed.OfferAsync());
        var response = await _bed.CredentialAsync(await _bed.AuthorizeAsync(token), _holder);
        return (token, response.NotificationId);
    }

    private IssuedCredential StoredCredential(string notificationId) => _bed.Db.IssuedCredentials.Single(c => c.NotificationId == notificationId);

    [Fact]
    public async Task Notify_UnknownNotificationId_IsInvalidNotificationIdAndAppendsNothing()
    {
        var (session, _) = await IssuedAsync();
        var before = _bed.CommittedEventTypes();

        var result = await Notify(session, "not-an-id", NotificationEvents.CredentialAccepted);

        Assert.Equal(WalletErrors.InvalidNotificationId, result.Error?.SpecCode);
        Assert.Equal(before, _bed.CommittedEventTypes());
    }

    [Fact]
    public async Task Notify_AnotherSessionsNotificationId_IsInvalidNotificationIdAndRecordsNothing()
    {
        var offer = await _bed.OfferAsync(TestBed.Command(maxUses: 2));
        var (_, theirs) = await IssuedAsync(offer);
        var (mine, _) = await IssuedAsync(offer);

        var result = await Notify(mine, theirs, NotificationEvents.CredentialAccepted);

        Assert.Equal(WalletErrors.InvalidNotificationId, result.Error?.SpecCode);
        Assert.Null(StoredCredential(theirs).NotificationEvent);
    }

    [Fact]
    public async Task Notify_NotificationIdOverTheLengthLimit_IsInvalidNotificationId()
    {
        var (session, _) = await IssuedAsync();
        var longId = new string('n', 65);
        var issued = _bed.Db.IssuedCredentials[0];
        _bed.Db.IssuedCredentials.Add(new IssuedCredential
        {
            Id = "second", TenantId = issued.TenantId, SessionId = issued.SessionId, OfferId = issued.OfferId, ConfigurationId = "badge",
            Format = issued.Format, HolderKeyThumbprint = issued.HolderKeyThumbprint, IssuedAt = Now, ExpiresAt = issued.ExpiresAt, NotificationId = longId,
        });

        var result = await Notify(session, longId, NotificationEvents.CredentialAccepted);

        Assert.Equal(WalletErrors.InvalidNotificationId, result.Error?.SpecCode);
        Assert.Null(StoredCredential(longId).NotificationEvent);
    }

    [Fact]
    public async Task Notify_FirstNotification_RecordsTheEventAndTimeAndAppendsNotificationReceived()
    {
        var (session, notificationId) = await IssuedAsync();
        _bed.Clock.Advance(TimeSpan.FromSeconds(30));

        var result = await Notify(session, notificationId, NotificationEvents.CredentialAccepted);

        var stored = StoredCredential(notificationId);
        var received = _bed.Db.Events[^1];
        Assert.True(result.Value);
        Assert.Equal(NotificationEvents.CredentialAccepted, stored.NotificationEvent);
        Assert.Equal(Now, stored.NotifiedAt);
        Assert.Equal(EventTypes.NotificationReceived, received.Type);
        Assert.Equal(new EventDetails.NotificationReceived(NotificationEvents.CredentialAccepted, stored.Id), TestBed.Detail<EventDetails.NotificationReceived>(received));
        var access = (await _bed.AuthorizeAsync(session)).Access;
        Assert.Equal(access.Session.Id, received.SessionId);
        Assert.Equal(access.Offer!.Id, received.OfferId);
    }

    [Fact]
    public async Task Notify_TheSameEventAgain_ChangesNothingAndAppendsNothing()
    {
        var (session, notificationId) = await IssuedAsync();
        await Notify(session, notificationId, NotificationEvents.CredentialAccepted);
        var firstAt = Now;
        var before = _bed.CommittedEventTypes();
        _bed.Clock.Advance(TimeSpan.FromMinutes(1));

        var result = await Notify(session, notificationId, NotificationEvents.CredentialAccepted);

        Assert.True(result.Value);
        Assert.Equal(firstAt, StoredCredential(notificationId).NotifiedAt);
        Assert.Equal(before, _bed.CommittedEventTypes());
    }

    [Fact]
    public async Task Notify_ADifferentEventLater_IsRecordedAgain()
    {
        var (session, notificationId) = await IssuedAsync();
        await Notify(session, notificationId, NotificationEvents.CredentialAccepted);
        _bed.Clock.Advance(TimeSpan.FromMinutes(1));

        await Notify(session, notificationId, NotificationEvents.CredentialDeleted);

        var stored = StoredCredential(notificationId);
        var received = _bed.Db.Events.Where(e => e.Type == EventTypes.NotificationReceived).Select(TestBed.Detail<EventDetails.NotificationReceived>).ToArray();
        Assert.Equal(NotificationEvents.CredentialDeleted, stored.NotificationEvent);
        Assert.Equal(Now, stored.NotifiedAt);
        Assert.Equal([new(NotificationEvents.CredentialAccepted, stored.Id), new EventDetails.NotificationReceived(NotificationEvents.CredentialDeleted, stored.Id)], received);
    }
}
