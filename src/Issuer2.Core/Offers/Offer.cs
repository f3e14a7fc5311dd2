using Issuer2.Core.Claims;
using Issuer2.Core.Tenants;

namespace Issuer2.Core.Offers;

/// <summary>How the offer reaches the wallet (OID4VCI 1.0 §4.1).</summary>
public enum DeliveryMode
{
    ByReference,
    ByValue,
}

/// <summary>Whether an authorization code offer carries issuer_state.</summary>
public enum IssuerStateMode
{
    Omit,
    Include,
}

/// <summary>OID4VCI 1.0 §4.1.1 tx_code.input_mode.</summary>
public enum TxCodeInputMode
{
    Numeric,
    Text,
}

/// <summary>The state of an offer, computed from its record and the time by <see cref="OfferRules"/>; first match wins in this order.</summary>
public enum OfferState
{
    Revoked,
    Locked,
    UsedUp,
    Expired,
    Active,
}

/// <summary>
/// A credential offer. Its URL is a bearer secret: only the hash of the URI token (and of a BY_VALUE
/// offer's pre-authorized code) is stored, and the PIN only as a keyed hash.
/// </summary>
public sealed class Offer
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string ProfileId { get; init; }
    public required Guid ProfileUid { get; init; }
    public required int ProfileVersion { get; init; }
    public required AuthenticationMethod Method { get; init; }
    public required DeliveryMode Delivery { get; init; }
    public required IssuerStateMode IssuerStateMode { get; init; }

    /// <summary>SHA-256 of the URI token of a BY_REFERENCE offer; null for BY_VALUE.</summary>
    public byte[]? UriTokenHash { get; init; }

    /// <summary>Keyed hash of the PIN; null when the offer has none.</summary>
    public byte[]? PinHash { get; init; }

    public TxCodeInputMode? PinInputMode { get; init; }
    public int? PinLength { get; init; }
    public string? PinDescription { get; init; }
    /// <summary>How many tokens the offer may give; <see cref="OfferRules.CountsNoUses"/> (0) for wallet-initiated issuance.</summary>
    public required int MaxUses { get; init; }
    public int UseCount { get; set; }
    public int PinFailedAttempts { get; set; }

    /// <summary>How many times wallets resolved the offer URI.</summary>
    public int ResolutionCount { get; set; }

    /// <summary>How many credentials were issued from the offer.</summary>
    public int IssuedCount { get; set; }
    public List<ClaimValue> Overrides { get; init; } = [];
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? LockedAt { get; set; }
    public string? RequestId { get; init; }

    public bool PinRequired => PinHash is not null;

    /// <summary>The state at <paramref name="now"/>, by <see cref="OfferRules"/>.</summary>
    public OfferState StateAt(DateTimeOffset now) => OfferRules.StateOf(this, now);

    /// <summary>The context PIN hashes are keyed under: a hash copied to another offer does not verify.</summary>
    public static string PinContext(string tenantId, string offerId) => $"pin/{tenantId}/{offerId}";
}

/// <summary>A single-use, short-lived pre-authorized code (OID4VCI 1.0 §4.1.1), stored as its hash.</summary>
public sealed class PreAuthorizedCode
{
    public required byte[] CodeHash { get; init; }
    public required string TenantId { get; init; }
    public required string OfferId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? ConsumedAt { get; set; }
}

/// <summary>
/// An issuer_state of an offer (OID4VCI 1.0 §4.1.1), stored as its hash: a BY_REFERENCE offer mints a fresh, short-lived,
/// single-use one per resolution; a BY_VALUE offer has one, valid for each of its uses until the offer expires.
/// </summary>
public sealed class IssuerState
{
    public required byte[] StateHash { get; init; }
    public required string TenantId { get; init; }
    public required string OfferId { get; init; }
    public required bool SingleUse { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? ConsumedAt { get; set; }
}

/// <summary>
/// The record of a create with a request_id: a fingerprint of its parameters and, encrypted, the URL and PIN
/// it returned, so a retry within 24 hours gets the identical answer. Purged when it expires.
/// </summary>
public sealed class OfferRequest
{
    public required string TenantId { get; init; }
    public required string RequestId { get; init; }
    public required byte[] Fingerprint { get; set; }
    public required string OfferId { get; set; }
    public required byte[] EncryptedReplay { get; set; }
    public required DateTimeOffset CreatedAt { get; set; }
    public required DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>A filtered, keyset-paged query of a tenant's offers, newest first.</summary>
public sealed record OfferQuery(
    string TenantId, OfferState? State, string? ProfileId, DateTimeOffset Now, (DateTimeOffset CreatedAt, string Id)? After, int Limit);

/// <summary>An offer a lowered PIN limit locked, as the commit found it.</summary>
public sealed record LockedOffer(string OfferId, string ProfileId, int Attempts);

/// <summary>A session of an offer with the credentials it received.</summary>
public sealed record SessionView(Sessions.IssuanceSession Session, IReadOnlyList<Sessions.IssuedCredential> Credentials);

/// <summary>Persistence of offers, their codes and their create requests.</summary>
public interface IOfferStore
{
    /// <summary>An offer's sessions, oldest first, after the given position, with their credentials.</summary>
    Task<IReadOnlyList<SessionView>> ListSessionsAsync(string tenantId, string offerId, (DateTimeOffset CreatedAt, string Id)? after, int limit, CancellationToken ct);

    /// <summary>An offer, tracked for update.</summary>
    Task<Offer?> FindAsync(string tenantId, string offerId, CancellationToken ct);

    Task<IReadOnlyList<Offer>> ListAsync(OfferQuery query, CancellationToken ct);

    /// <summary>The active offers made from a profile, tracked for update.</summary>
    Task<IReadOnlyList<Offer>> ListActiveForProfileAsync(string tenantId, string profileId, DateTimeOffset now, CancellationToken ct);

    /// <summary>The create request with this id, expired or not, tracked for update.</summary>
    Task<OfferRequest?> FindRequestAsync(string tenantId, string requestId, CancellationToken ct);

    /// <summary>
    /// Stages for the coming commit, after the tenant's own change: locks every offer of the tenant that
    /// <see cref="OfferRules.ReachedPinLimit"/> under <paramref name="limit"/>, appending the event
    /// <paramref name="locked"/> makes for each. Set-based inside the commit, so an attempt counted concurrently is
    /// either seen by it or counted under the new limit.
    /// </summary>
    void LockAtPinLimit(string tenantId, int limit, DateTimeOffset now, Func<LockedOffer, Events.IssuerEvent> locked);

    /// <summary>Deletes up to <paramref name="batchSize"/> expired create requests; returns how many.</summary>
    Task<int> PurgeExpiredRequestsAsync(DateTimeOffset now, int batchSize, CancellationToken ct);

    void Add(Offer offer);

    void Add(PreAuthorizedCode code);

    void Add(IssuerState state);

    void Add(OfferRequest request);
}
