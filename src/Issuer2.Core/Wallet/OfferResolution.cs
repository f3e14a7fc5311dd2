using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Metadata;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;

namespace Issuer2.Core.Wallet;

/// <summary>
/// A wallet resolves a BY_REFERENCE offer (OID4VCI 1.0 §4.1.3): each resolution mints a fresh single-use,
/// short-lived pre-authorized code, so one offer can serve its N uses while every code is used once.
/// </summary>
public sealed class OfferResolution(TenantDirectory tenants, IWalletStore store, TimeProvider clock)
{
    public async Task<WalletResult<string>> ResolveAsync(string tenantId, string uriToken, CancellationToken ct)
    {
        // Unknown, expired, revoked, locked and used-up offers all look the same: not found.
        var notFound = WalletError.NotFound("There is no active credential offer at this URI.");
        if (uriToken.Length is 0 or > 128) return notFound;
        var found = await store.FindOfferByUriTokenAsync(tenantId, Secrets.Hash(uriToken), ct);
        var now = clock.UtcNow();
        if (found is null || found.Offer.StateAt(now) != OfferState.Active) return notFound;
        var offer = found.Offer;
        var snapshot = await tenants.GetAsync(tenantId, found.TenantVersion, ct);
        if (snapshot is null) return notFound;

        var plainCode = Secrets.NewToken();
        var expiresAt = Min(now + snapshot.Tenant.PreAuthorizedCodeLifetime, offer.ExpiresAt);
        var code = new PreAuthorizedCode { CodeHash = Secrets.Hash(plainCode), TenantId = tenantId, OfferId = offer.Id, CreatedAt = now, ExpiresAt = expiresAt };
        await store.RecordResolutionAsync(offer, code,
            IssuerEvent.Create(tenantId, EventTypes.OfferResolved, now, new EventDetails.OfferResolved(expiresAt), offer.Id, profileId: offer.ProfileId), ct);

        var txCode = offer.PinRequired
            ? new CredentialOfferDocument.TxCode(offer.PinInputMode ?? TxCodeInputMode.Numeric, offer.PinLength ?? 0, offer.PinDescription)
            : null;
        return CredentialOfferDocument.PreAuthorized(snapshot.Tenant.CredentialIssuer, offer.ProfileId, plainCode, txCode).ToJsonString();
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
