using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Sessions;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Notifications;

/// <summary>The notification events of OID4VCI 1.0 §11.1.</summary>
public static class NotificationEvents
{
    public const string CredentialAccepted = "credential_accepted";
    public const string CredentialFailure = "credential_failure";
    public const string CredentialDeleted = "credential_deleted";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        CredentialAccepted, CredentialFailure, CredentialDeleted,
    };
}

/// <summary>A notification request (OID4VCI 1.0 §11.1), shape-checked at the edge.</summary>
public sealed record NotificationRequest(string NotificationId, string Event, string? EventDescription);

/// <summary>What recording a notification writes, through this one port (the credential comes with the session's access).</summary>
public interface INotificationStore
{
    /// <summary>One transaction: the credential's notification event and time, and the event.</summary>
    Task RecordAsync(IssuedCredential credential, string notificationEvent, DateTimeOffset now, IssuerEvent received, CancellationToken ct);
}

/// <summary>
/// The notification endpoint (OID4VCI 1.0 §11): the wallet says what became of a credential. Recorded on the
/// issued credential; repeating the same notification changes nothing (idempotent).
/// </summary>
public sealed class RecordNotification(INotificationStore store, TimeProvider clock)
{
    public const int MaxNotificationIdLength = 64;

    /// <summary>Records a notification for a session <see cref="AuthorizeAccessToken"/> found.</summary>
    public async Task<Result<bool, WalletError>> ExecuteAsync(AuthorizedSession authorized, NotificationRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(authorized);
        ArgumentNullException.ThrowIfNull(request);
        var session = authorized.Access.Session;

        // The session's one credential, read with the access token; a notification id names it or nothing.
        var credential = authorized.Access.Issued;
        if (credential is null || request.NotificationId.Length > MaxNotificationIdLength
            || !string.Equals(credential.NotificationId, request.NotificationId, StringComparison.Ordinal)) return new WalletError(WalletErrorCode.InvalidNotificationId, "The notification_id is unknown.");
        if (credential.NotificationEvent == request.Event) return true;

        var now = clock.UtcNow();
        await store.RecordAsync(credential, request.Event, now, IssuerEvent.Create(session.TenantId, EventTypes.NotificationReceived, now,
            new EventDetails.NotificationReceived(request.Event, credential.Id), session.OfferId, session.Id, session.ConfigurationId), ct);
        return true;
    }
}
