using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tenants;

namespace Issuer2.Core.Wallet;

/// <summary>A pre-authorized code with its offer and its live tenant's version stamp, as the token endpoint finds them.</summary>
public sealed record CodeWithOffer(PreAuthorizedCode Code, Offer Offer, long TenantVersion);

/// <summary>An offer with its live tenant's version stamp.</summary>
public sealed record OfferWithTenant(Offer Offer, long TenantVersion);

/// <summary>
/// What an access token opens: its session and offer, whether it still may, the live tenant's version stamp, and
/// whether the session already received its credential — all in the one read the credential endpoint makes.
/// </summary>
public sealed record SessionAccess(IssuanceSession Session, Offer Offer, DateTimeOffset TokenExpiresAt, long TenantVersion, bool AlreadyIssued);

/// <summary>The outcome of counting a wrong PIN: whether this request counted it, the count, and whether it locked the offer.</summary>
public sealed record WrongPinOutcome(bool Counted, int Attempts, bool LockedNow);

/// <summary>The outcome of recording an issuance.</summary>
public enum IssueOutcome
{
    Issued,
    NonceAlreadyUsed,
    AlreadyIssued,
}

/// <summary>
/// Persistence of the wallet flow. Every one-time rule is a conditional write or a unique key here, so any
/// number of hosts on one database behave as one.
/// </summary>
public interface IWalletStore
{
    /// <summary>The tenant's metadata version, null when it does not exist or was deleted: one cheap read keys every cache.</summary>
    Task<long?> FindTenantVersionAsync(string tenantId, CancellationToken ct);

    /// <summary>The live tenant with its profiles and signing keys, untracked.</summary>
    Task<(Tenant Tenant, IReadOnlyList<Profile> Profiles, IReadOnlyList<Keys.SigningKey> Keys)?> LoadTenantAsync(string tenantId, CancellationToken ct);

    /// <summary>The offer of a URI token, when its tenant is live.</summary>
    Task<OfferWithTenant?> FindOfferByUriTokenAsync(string tenantId, byte[] uriTokenHash, CancellationToken ct);

    /// <summary>One transaction: the new code, the offer's resolution count, the event.</summary>
    Task RecordResolutionAsync(Offer offer, PreAuthorizedCode code, IssuerEvent resolved, CancellationToken ct);

    /// <summary>A code with its offer, when its tenant is live.</summary>
    Task<CodeWithOffer?> FindCodeAsync(string tenantId, byte[] codeHash, CancellationToken ct);

    /// <summary>
    /// Counts a wrong PIN unless the offer is already locked or at its limit, locking it when this attempt
    /// reaches the limit; appends the events <paramref name="events"/> makes from the outcome, in the same transaction.
    /// </summary>
    Task<WrongPinOutcome> RecordWrongPinAsync(Offer offer, int limit, DateTimeOffset now, Func<WrongPinOutcome, IEnumerable<IssuerEvent>> events, CancellationToken ct);

    /// <summary>
    /// One transaction: consumes the code (unused, unexpired) and one use of the offer (active, under its limit),
    /// stores the session and its token, appends the event. False, and nothing written, when either was gone.
    /// </summary>
    Task<bool> RedeemAsync(PreAuthorizedCode code, Offer offer, DateTimeOffset now, IssuanceSession session, AccessToken token, IssuerEvent issued, CancellationToken ct);

    /// <summary>Appends one event on its own (a refusal).</summary>
    Task AppendAsync(IssuerEvent e, CancellationToken ct);

    /// <summary>The session an access token opens, when its tenant is live.</summary>
    Task<SessionAccess?> FindSessionByTokenAsync(string tenantId, byte[] tokenHash, CancellationToken ct);

    Task<ProfileVersion?> FindProfileVersionAsync(Guid profileUid, int version, CancellationToken ct);

    /// <summary>
    /// One transaction: consumes the nonce (a unique key), records the credential (unique per session and
    /// configuration), counts it on the offer, completes the session, appends the events.
    /// </summary>
    Task<IssueOutcome> IssueAsync(ConsumedNonce nonce, IssuedCredential credential, IssuanceSession session, IReadOnlyList<IssuerEvent> events, CancellationToken ct);

    /// <summary>A credential of the session by its notification id, tracked for update.</summary>
    Task<IssuedCredential?> FindByNotificationIdAsync(string sessionId, string notificationId, CancellationToken ct);

    /// <summary>Deletes up to <paramref name="batchSize"/> expired codes, access tokens and consumed nonces; returns how many.</summary>
    Task<int> PurgeExpiredAsync(DateTimeOffset now, int batchSize, CancellationToken ct);
}
