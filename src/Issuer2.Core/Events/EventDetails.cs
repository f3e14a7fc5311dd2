using Issuer2.Core.Offers;
using Issuer2.Core.Tenants;

namespace Issuer2.Core.Events;

/// <summary>The typed details of events, one record per type; stored as JSON, read back by type.</summary>
public static class EventDetails
{
    public sealed record OfferCreated(int ProfileVersion, AuthenticationMethod AuthenticationMethod, DeliveryMode DeliveryMode, int MaxUses, bool PinRequired, DateTimeOffset ExpiresAt);

    /// <summary>When what the resolution minted expires: a pre-authorized code or an issuer_state; null when it minted nothing (OMIT).</summary>
    public sealed record OfferResolved(DateTimeOffset? CodeExpiresAt);

    public sealed record OfferRevoked(string Cause);

    public sealed record OfferLocked(int Attempts);

    /// <summary>Use and MaxUses are 0 for a wallet-initiated session, which uses no offer.</summary>
    public sealed record TokenIssued(int Use, int MaxUses, string? GrantType = null);

    /// <summary>The authorization server's events: no subject, no claim, ever. Reason and Error only for a refusal.</summary>
    public sealed record Authorization(string AuthorizationId, string ClientId, string RedirectHost, string? Reason = null, string? Error = null);

    /// <summary>Repeats: the identical refusals this event stands for when more than one (<see cref="RefusalCoalescing"/>); null for one.</summary>
    public sealed record TokenRefused(string Reason, int? AttemptsLeft = null, int? Repeats = null);

    /// <summary>Version: the OID4VCI version the request spoke; null in events written before versions were recorded.</summary>
    public sealed record CredentialIssued(string ConfigurationId, string Format, string CredentialId, Wallet.Oid4vciVersion? Version = null);

    /// <summary>
    /// Version: the OID4VCI version the request spoke; null when its shape mixed both, or the body was no JSON object of
    /// either. Repeats as for <see cref="TokenRefused"/>.
    /// </summary>
    public sealed record CredentialRefused(string Error, Wallet.Oid4vciVersion? Version = null, int? Repeats = null);

    public sealed record NotificationReceived(string Event, string CredentialId);

    public sealed record SessionCompleted(int Credentials);

    public sealed record ProfileChanged(int Version, int RevokedOffers = 0);

    public sealed record TenantChanged(long MetadataVersion, string? SigningKeyKid = null);

    public sealed record ApiKeyChanged(string ApiKeyId, DateTimeOffset? ExpiresAt = null);
}
