using Issuer2.Core.Authorization;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Metadata;
using Issuer2.Core.Security;
using Issuer2.Core.Tenants;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Offers;

/// <summary>An offer with its live tenant's version stamp.</summary>
public sealed record OfferWithTenant(Offer Offer, long TenantVersion);

/// <summary>What resolving an offer reads and writes.</summary>
public interface IOfferResolutionStore
{
    /// <summary>The offer of a URI token, when its tenant is live.</summary>
    Task<OfferWithTenant?> FindOfferByUriTokenAsync(string tenantId, byte[] uriTokenHash, CancellationToken ct);

    /// <summary>
    /// One transaction: what the resolution minted (a pre-authorized code, an issuer_state, or nothing: at most one of
    /// the two), the offer's resolution count, the event. A code or issuer_state is written only while the offer has
    /// fewer than <paramref name="liveCap"/> live ones (<see cref="CodeRules.Redeemable"/>,
    /// <see cref="IssuerStateRules.Live"/> at the minted secret's creation time), decided in the same transaction with
    /// the offer's row locked, so concurrent resolutions on any number of hosts never exceed it; beyond it nothing is
    /// written.
    /// </summary>
    Task<ResolutionOutcome> RecordResolutionAsync(
        Offer offer, PreAuthorizedCode? code, IssuerState? issuerState, int liveCap, IssuerEvent resolved, CancellationToken ct);
}

/// <summary>
/// A wallet resolves a BY_REFERENCE offer (OID4VCI 1.0 §4.1.3). Each resolution mints what one flow needs, so one
/// offer can serve its N uses while every secret is used once: a pre-authorized offer a fresh single-use, short-lived
/// code; an authorization code offer with issuer_state INCLUDE a fresh single-use, short-lived issuer_state (consumed
/// with one use of the offer at the token endpoint); one with OMIT nothing (wallet-initiated issuance, §3.4). The
/// live secrets of one offer are capped (<see cref="OfferCaps"/>): beyond the cap the wallet gets
/// <see cref="WalletErrorCode.TooManyRequests"/> with a Retry-After until the oldest one expires, and nothing is written
/// (no live code a wallet may hold is evicted).
/// </summary>
public sealed class ResolveOffer(TenantDirectory tenants, IOfferResolutionStore store, IRateGate gate, OfferCaps caps, TimeProvider clock)
{
    /// <summary>The Credential Offer object as JSON text.</summary>
    public async Task<Result<string, WalletError>> ExecuteAsync(string tenantId, string uriToken, CancellationToken ct)
    {
        // Unknown, expired, revoked, locked and used-up offers all look the same: not found.
        var notFound = WalletError.NotFound("There is no active credential offer at this URI.");
        if (uriToken.Length is 0 or > 128) return notFound;
        var found = await store.FindOfferByUriTokenAsync(tenantId, Secrets.Hash(uriToken), ct);
        var now = clock.UtcNow();
        if (found is null || found.Offer.StateAt(now) != OfferState.Active) return notFound;
        var offer = found.Offer;
        // One offer's link resolved too often (by any number of wallets): refused before anything is minted.
        if (gate.Refusal(OfferLimit.Resolution, tenantId, offer.Id) is { } limited) return limited;
        var snapshot = await tenants.GetAsync(tenantId, found.TenantVersion, ct);
        if (snapshot is null) return notFound;
        var credentialIssuer = snapshot.Tenant.CredentialIssuer;

        if (offer.Method == AuthenticationMethod.Authorized)
        {
            string? plainState = null;
            IssuerState? issuerState = null;
            if (offer.IssuerStateMode == IssuerStateMode.Include)
            {
                plainState = Secrets.NewToken();
                issuerState = new IssuerState
                {
                    StateHash = Secrets.Hash(plainState), TenantId = tenantId, OfferId = offer.Id, SingleUse = true, CreatedAt = now,
                    ExpiresAt = Min(now + AuthorizationLifetimes.IssuerStateByReference, offer.ExpiresAt),
                };
            }
            var recorded = await store.RecordResolutionAsync(offer, null, issuerState, caps.LiveSecretsFor(offer), Resolved(offer, now, issuerState?.ExpiresAt), ct);
            if (!recorded.Recorded) return CapReached(recorded, now);
            return CredentialOfferDocument.AuthorizationCode(credentialIssuer, offer.ProfileId, plainState).ToJsonString();
        }

        var plainCode = Secrets.NewToken();
        var expiresAt = Min(now + snapshot.Tenant.PreAuthorizedCodeLifetime, offer.ExpiresAt);
        var code = new PreAuthorizedCode { CodeHash = Secrets.Hash(plainCode), TenantId = tenantId, OfferId = offer.Id, CreatedAt = now, ExpiresAt = expiresAt };
        var minted = await store.RecordResolutionAsync(offer, code, null, caps.LiveSecretsFor(offer), Resolved(offer, now, expiresAt), ct);
        if (!minted.Recorded) return CapReached(minted, now);

        var txCode = offer.PinRequired
            ? new CredentialOfferDocument.TxCode(offer.PinInputMode ?? TxCodeInputMode.Numeric, offer.PinLength ?? 0, offer.PinDescription)
            : null;
        return CredentialOfferDocument.PreAuthorized(credentialIssuer, offer.ProfileId, plainCode, txCode).ToJsonString();
    }

    /// <summary>RFC 6585 §4: too many live secrets for this offer now; retry once the oldest has expired.</summary>
    private static WalletError CapReached(ResolutionOutcome outcome, DateTimeOffset now) =>
        WalletError.TooManyRequests(
            "This offer has as many unredeemed codes as it may have at once; try again later.", OfferCaps.RetryAfter(outcome.OldestLiveExpiry, now));

    private static IssuerEvent Resolved(Offer offer, DateTimeOffset now, DateTimeOffset? mintedExpiresAt) =>
        IssuerEvent.Create(offer.TenantId, EventTypes.OfferResolved, now, new EventDetails.OfferResolved(mintedExpiresAt), offer.Id, profileId: offer.ProfileId);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
