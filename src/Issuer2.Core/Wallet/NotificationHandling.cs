using System.Text.Json;
using Issuer2.Core.Common;
using Issuer2.Core.Events;

namespace Issuer2.Core.Wallet;

/// <summary>
/// The notification endpoint (OID4VCI 1.0 §11): the wallet says what became of a credential. Recorded on the
/// issued credential; repeating the same notification changes nothing (idempotent).
/// </summary>
public sealed class NotificationHandling(IWalletStore store, IUnitOfWork unit, IEventLog events, TimeProvider clock)
{
    public static readonly IReadOnlySet<string> Events = new HashSet<string>(StringComparer.Ordinal)
    {
        "credential_accepted", "credential_failure", "credential_deleted",
    };

    /// <summary>Records a notification for a session <see cref="CredentialIssuance.AuthorizeAsync"/> found.</summary>
    public async Task<WalletResult<bool>> NotifyAsync(AuthorizedSession authorized, JsonElement body, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(authorized);
        var session = authorized.Access.Session;
        var tenantId = session.TenantId;

        // The body: notification_id, event, and an optional ASCII event_description.
        var invalid = new WalletError(WalletErrors.InvalidNotificationRequest,
            "The body must be a JSON object with notification_id and event (credential_accepted, credential_failure or credential_deleted).");
        if (body.ValueKind != JsonValueKind.Object) return invalid;
        if (!body.TryGetProperty("notification_id", out var idElement) || idElement.ValueKind != JsonValueKind.String) return invalid;
        if (!body.TryGetProperty("event", out var eventElement) || eventElement.ValueKind != JsonValueKind.String || !Events.Contains(eventElement.GetString()!))
            return invalid;
        if (body.TryGetProperty("event_description", out var description)
            && (description.ValueKind != JsonValueKind.String || description.GetString()!.Length > 1000 || !description.GetString()!.All(c => c is >= ' ' and <= '~')))
            return new WalletError(WalletErrors.InvalidNotificationRequest, "event_description must be printable ASCII, at most 1000 characters.");

        var notificationId = idElement.GetString()!;
        var credential = notificationId.Length > 64 ? null : await store.FindByNotificationIdAsync(session.Id, notificationId, ct);
        if (credential is null) return new WalletError(WalletErrors.InvalidNotificationId, "The notification_id is unknown.");

        var kind = eventElement.GetString()!;
        if (credential.NotificationEvent == kind) return true;
        var now = clock.UtcNow();
        credential.NotificationEvent = kind;
        credential.NotifiedAt = now;
        events.Append(IssuerEvent.Create(tenantId, EventTypes.NotificationReceived, now,
            new EventDetails.NotificationReceived(kind, credential.Id), session.OfferId, session.Id, session.ConfigurationId));
        await unit.SaveChangesAsync(ct);
        return true;
    }
}
