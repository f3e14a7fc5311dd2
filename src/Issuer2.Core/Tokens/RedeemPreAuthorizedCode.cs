using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Metadata;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Sessions;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tokens;

/// <summary>A pre-authorized code with its offer and its live tenant's version stamp, as the token endpoint finds them.</summary>
public sealed record CodeWithOffer(PreAuthorizedCode Code, Offer Offer, long TenantVersion);

/// <summary>An offer as it is now, with its tenant's PIN attempt limit as it is now.</summary>
public sealed record OfferWithPinLimit(Offer Offer, int PinAttemptLimit);

/// <summary>
/// What redeeming a pre-authorized code reads and writes. Every one-time rule is a conditional write here, built
/// from <see cref="OfferRules"/> and <see cref="CodeRules"/>, so any number of hosts on one database behave as one.
/// </summary>
public interface ITokenRedemptionStore
{
    /// <summary>A code with its offer, when its tenant is live.</summary>
    Task<CodeWithOffer?> FindCodeAsync(string tenantId, byte[] codeHash, CancellationToken ct);

    /// <summary>The offer and its tenant's PIN limit as they are now, untracked: read again after another request changed either.</summary>
    Task<OfferWithPinLimit?> FindOfferAsync(string tenantId, string offerId, CancellationToken ct);

    /// <summary>
    /// One transaction: counts a wrong PIN on an offer whose count is still <paramref name="seenAttempts"/>, which
    /// <see cref="OfferRules.CountsWrongPin"/> under <paramref name="limit"/>, and whose tenant's limit is still
    /// <paramref name="limit"/>; locks it at <paramref name="lockAt"/> when given, and appends <paramref name="events"/>.
    /// False, and nothing written, when the offer or the limit had moved on.
    /// </summary>
    Task<bool> CountWrongPinAsync(Offer offer, int seenAttempts, int limit, DateTimeOffset? lockAt, IReadOnlyList<IssuerEvent> events, CancellationToken ct);

    /// <summary>
    /// One transaction: consumes the code (<see cref="CodeRules.Redeemable"/>) and one use of the offer
    /// (<see cref="OfferRules.Usable"/>), stores the session and its token, appends the event. False, and nothing
    /// written, when either was gone.
    /// </summary>
    Task<bool> RedeemAsync(PreAuthorizedCode code, Offer offer, DateTimeOffset now, IssuanceSession session, AccessToken token, IssuerEvent issued, CancellationToken ct);
}

/// <summary>
/// The pre-authorized code grant (OID4VCI 1.0 §6.1): the code and one use of the offer are consumed atomically; a
/// wrong PIN consumes nothing but counts an attempt, and locks the offer at the tenant's limit.
/// </summary>
public sealed class RedeemPreAuthorizedCode(
    TenantDirectory tenants, ITokenRedemptionStore store, IEventJournal journal, KeyRing keys, Dpop.SenderConstraint sender, IRateGate gate, TimeProvider clock)
{
    private readonly SecretProtector _pins = keys.Protector(KeyPurpose.PinHashes);

    /// <summary>Redeems the code; the token is bound to the key the request's DPoP proof proved, if any (RFC 9449).</summary>
    public async Task<Result<TokenResponse, WalletError>> ExecuteAsync(string tenantId, TokenRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        // The request's shape.
        if (string.IsNullOrEmpty(request.PreAuthorizedCode)) return WalletError.InvalidRequest("pre-authorized_code is required.");
        var requested = AuthorizationDetails.Parse(request.AuthorizationDetails);
        if (!requested.IsSuccess) return requested.Error;

        // The code: unknown codes (and other tenants') name nothing known and write nothing.
        var invalidCode = WalletError.InvalidGrant("The pre-authorized code is unknown, used or expired.");
        if (request.PreAuthorizedCode.Length > 128) return invalidCode;
        var found = await store.FindCodeAsync(tenantId, Secrets.Hash(request.PreAuthorizedCode), ct);
        if (found is null) return invalidCode;
        // Too many token requests for this code's offer: refused before anything is decided or written.
        if (gate.Refusal(OfferLimit.Token, tenantId, found.Offer.Id) is { } limited) return limited;
        var snapshot = await tenants.GetAsync(tenantId, found.TenantVersion, ct);
        if (snapshot is null) return invalidCode;
        // The sender constraint before anything is decided about the code.
        var bound = await sender.AtTokenEndpointAsync(snapshot.Tenant, request.Dpop, ct);
        if (!bound.IsSuccess) return bound.Error;
        var dpopKey = bound.Value;
        var (code, offer) = (found.Code, found.Offer);
        var now = clock.UtcNow();

        if (CodeRules.Used.IsMetBy(code, now)) return await RefuseAsync(offer, now, TokenRefusalReasons.CodeUsed, invalidCode, ct);
        if (CodeRules.Expired.IsMetBy(code, now)) return await RefuseAsync(offer, now, TokenRefusalReasons.CodeExpired, invalidCode, ct);
        if (TokenRefusalReasons.ForState(offer.StateAt(now)) is { } ended) return await RefuseAsync(offer, now, ended, TokenRefusalReasons.OfferEnded(ended), ct);

        // OID4VCI §6.3: a missing or unexpected tx_code is invalid_request; a wrong one invalid_grant.
        if (offer.PinRequired && string.IsNullOrEmpty(request.TxCode))
            return await RefuseAsync(offer, now, TokenRefusalReasons.TxCodeMissing, WalletError.InvalidRequest("tx_code is required for this offer."), ct);
        if (!offer.PinRequired && !string.IsNullOrEmpty(request.TxCode))
            return await RefuseAsync(offer, now, TokenRefusalReasons.TxCodeUnexpected, WalletError.InvalidRequest("This offer takes no tx_code."), ct);
        if (offer.PinRequired && !_pins.KeyedHashEquals(Offer.PinContext(tenantId, offer.Id), request.TxCode!, offer.PinHash!))
            return await WrongPinAsync(offer, snapshot.Tenant.PinAttemptLimit, now, ct);

        // authorization_details may only ask for what the offer grants.
        string? credentialIdentifier = null;
        if (requested.Value.Count > 0)
        {
            if (requested.Value.Any(id => id != offer.ProfileId))
                return await RefuseAsync(offer, now, TokenRefusalReasons.AuthorizationDetailsNotGranted,
                    new WalletError(WalletErrorCode.InvalidAuthorizationDetails, "authorization_details asks for a credential configuration this offer does not grant."), ct);
            credentialIdentifier = offer.ProfileId;
        }

        // Redeem: code and one use, atomically, or nothing.
        var opened = AccessTokens.Open(offer, request.ClientId, credentialIdentifier, now, dpopKey);
        var issued = IssuerEvent.Create(tenantId, EventTypes.TokenIssued, now, new EventDetails.TokenIssued(offer.UseCount + 1, offer.MaxUses, CredentialOfferDocument.PreAuthorizedGrant),
            offer.Id, opened.Session.Id, offer.ProfileId);
        if (!await store.RedeemAsync(code, offer, now, opened.Session, opened.Token, issued, ct))
        {
            // Another request took the code or the last use, or ended the offer (a lock by a wrong PIN counted meanwhile
            // among them): answer as a request arriving now would be answered.
            var current = await store.FindOfferAsync(tenantId, offer.Id, ct);
            if (current is not null && TokenRefusalReasons.ForState(current.Offer.StateAt(now)) is { } endedMeanwhile)
                return await RefuseAsync(offer, now, endedMeanwhile, TokenRefusalReasons.OfferEnded(endedMeanwhile), ct);
            return await RefuseAsync(offer, now, TokenRefusalReasons.RedeemedConcurrently, invalidCode, ct);
        }
        return opened.Response with { DpopNonce = sender.FreshNonce(snapshot.Tenant) };
    }

    /// <summary>
    /// Counts the wrong PIN on the offer and under the limit as last read; when another request counted first or the
    /// tenant's limit changed, reads both again and decides afresh. Each retry follows another change, so there are few.
    /// </summary>
    private async Task<Result<TokenResponse, WalletError>> WrongPinAsync(Offer offer, int limit, DateTimeOffset now, CancellationToken ct)
    {
        var seen = new OfferWithPinLimit(offer, limit);
        for (var attempt = 0; attempt < MaxCountAttempts && OfferRules.CountsWrongPin.IsMetBy(seen.Offer, seen.PinAttemptLimit); attempt++)
        {
            var (current, currentLimit) = (seen.Offer, seen.PinAttemptLimit);
            var attempts = current.PinFailedAttempts + 1;
            var locks = OfferRules.LocksAt(attempts, currentLimit);
            List<IssuerEvent> events =
            [
                IssuerEvent.Create(offer.TenantId, EventTypes.TokenRefused, now,
                    new EventDetails.TokenRefused(TokenRefusalReasons.WrongPin, Math.Max(0, currentLimit - attempts)), offer.Id, profileId: offer.ProfileId),
            ];
            if (locks) events.Add(IssuerEvent.Create(offer.TenantId, EventTypes.OfferLocked, now, new EventDetails.OfferLocked(attempts), offer.Id, profileId: offer.ProfileId));
            if (await store.CountWrongPinAsync(current, current.PinFailedAttempts, currentLimit, locks ? now : null, events, ct))
            {
                return locks
                    ? WalletError.InvalidGrant("The tx_code is wrong; the offer is now locked after too many wrong PINs.")
                    : WalletError.InvalidGrant("The tx_code is wrong.");
            }
            seen = await store.FindOfferAsync(offer.TenantId, offer.Id, ct) ?? seen;
        }
        // Locked, revoked, or out of attempts: answered as every request after the lock is.
        await journal.RecordRefusalAsync(Refusal(offer, TokenRefusalReasons.OfferLocked), now, ct);
        return TokenRefusalReasons.LockedOut;
    }

    /// <summary>A bound on re-reads under contention: each one follows another request's change to the offer or limit.</summary>
    private const int MaxCountAttempts = 1000;

    private async Task<Result<TokenResponse, WalletError>> RefuseAsync(Offer offer, DateTimeOffset now, string reason, WalletError error, CancellationToken ct)
    {
        await journal.RecordRefusalAsync(Refusal(offer, reason), now, ct);
        return error;
    }

    private static Refusal Refusal(Offer offer, string reason) => Events.Refusal.Token(offer.TenantId, reason, offer.Id, null, offer.ProfileId);
}
