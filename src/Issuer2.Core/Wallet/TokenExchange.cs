using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Metadata;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Sessions;

namespace Issuer2.Core.Wallet;

/// <summary>The form parameters of a token request (RFC 6749 §4.1.3 / OID4VCI 1.0 §6.1).</summary>
public sealed record TokenRequest(string? GrantType, string? PreAuthorizedCode, string? TxCode, string? AuthorizationDetails);

/// <summary>A successful token response.</summary>
public sealed record TokenResponse(string AccessToken, int ExpiresIn, JsonArray? AuthorizationDetails);

/// <summary>
/// The token endpoint for the pre-authorized code grant: the code and one use of the offer are consumed
/// atomically; a wrong PIN consumes nothing but counts an attempt, and locks the offer at the tenant's limit.
/// </summary>
public sealed class TokenExchange(TenantDirectory tenants, IWalletStore store, SecretProtector protector, TimeProvider clock)
{
    /// <summary>Access tokens live at most this long.</summary>
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromMinutes(5);

    public const string OpenIdCredential = "openid_credential";

    public async Task<WalletResult<TokenResponse>> ExchangeAsync(string tenantId, TokenRequest request, CancellationToken ct)
    {
        // The request's shape.
        if (string.IsNullOrEmpty(request.GrantType)) return WalletError.InvalidRequest("grant_type is required.");
        if (request.GrantType != CredentialOfferDocument.PreAuthorizedGrant)
            return new WalletError(WalletErrors.UnsupportedGrantType, $"Only {CredentialOfferDocument.PreAuthorizedGrant} is supported.");
        if (string.IsNullOrEmpty(request.PreAuthorizedCode)) return WalletError.InvalidRequest("pre-authorized_code is required.");
        var requested = ParseAuthorizationDetails(request.AuthorizationDetails);
        if (!requested.IsSuccess) return requested.Error;

        // The code: unknown codes (and other tenants') name nothing known and write nothing.
        var invalidCode = WalletError.InvalidGrant("The pre-authorized code is unknown, used or expired.");
        if (request.PreAuthorizedCode.Length > 128) return invalidCode;
        var found = await store.FindCodeAsync(tenantId, Secrets.Hash(request.PreAuthorizedCode), ct);
        if (found is null) return invalidCode;
        var snapshot = await tenants.GetAsync(tenantId, found.TenantVersion, ct);
        if (snapshot is null) return invalidCode;
        var (code, offer) = (found.Code, found.Offer);
        var now = clock.UtcNow();

        if (code.ConsumedAt is not null) return await RefuseAsync(offer, now, "code_used", invalidCode, ct);
        if (code.ExpiresAt <= now) return await RefuseAsync(offer, now, "code_expired", invalidCode, ct);
        var state = offer.StateAt(now);
        if (state != OfferState.Active)
        {
            var reason = state switch
            {
                OfferState.Revoked => "offer_revoked",
                OfferState.Locked => "offer_locked",
                OfferState.UsedUp => "offer_used_up",
                _ => "offer_expired",
            };
            return await RefuseAsync(offer, now, reason, WalletError.InvalidGrant($"The offer is no longer valid ({reason.Replace('_', ' ')})."), ct);
        }

        // OID4VCI §6.3: a missing or unexpected tx_code is invalid_request; a wrong one invalid_grant.
        if (offer.PinRequired && string.IsNullOrEmpty(request.TxCode))
            return await RefuseAsync(offer, now, "tx_code_missing", WalletError.InvalidRequest("tx_code is required for this offer."), ct);
        if (!offer.PinRequired && !string.IsNullOrEmpty(request.TxCode))
            return await RefuseAsync(offer, now, "tx_code_unexpected", WalletError.InvalidRequest("This offer takes no tx_code."), ct);
        if (offer.PinRequired && !protector.KeyedHashEquals(Offer.PinContext(tenantId, offer.Id), request.TxCode!, offer.PinHash!))
            return await WrongPinAsync(offer, snapshot.Tenant.PinAttemptLimit, now, ct);

        // authorization_details may only ask for what the offer grants.
        string? credentialIdentifier = null;
        JsonArray? grantedDetails = null;
        if (requested.Value is { Count: > 0 } details)
        {
            if (details.Any(id => id != offer.ProfileId))
                return await RefuseAsync(offer, now, "authorization_details_not_granted",
                    new WalletError(WalletErrors.InvalidAuthorizationDetails, "authorization_details asks for a credential configuration this offer does not grant."), ct);
            credentialIdentifier = offer.ProfileId;
            grantedDetails =
            [
                new JsonObject
                {
                    ["type"] = OpenIdCredential,
                    ["credential_configuration_id"] = offer.ProfileId,
                    ["credential_identifiers"] = new JsonArray(credentialIdentifier),
                },
            ];
        }

        // Redeem: code and one use, atomically, or nothing.
        var accessToken = Secrets.NewToken();
        var session = new IssuanceSession
        {
            Id = Ids.New(),
            TenantId = tenantId,
            OfferId = offer.Id,
            ConfigurationId = offer.ProfileId,
            ProfileUid = offer.ProfileUid,
            ProfileVersion = offer.ProfileVersion,
            CredentialIdentifier = credentialIdentifier,
            CreatedAt = now,
        };
        var token = new AccessToken { TokenHash = Secrets.Hash(accessToken), TenantId = tenantId, SessionId = session.Id, ExpiresAt = now + AccessTokenLifetime };
        var issued = IssuerEvent.Create(tenantId, EventTypes.TokenIssued, now, new EventDetails.TokenIssued(offer.UseCount + 1, offer.MaxUses), offer.Id, session.Id, offer.ProfileId);
        if (!await store.RedeemAsync(code, offer, now, session, token, issued, ct))
            return await RefuseAsync(offer, now, "redeemed_concurrently", invalidCode, ct);
        return new TokenResponse(accessToken, (int)AccessTokenLifetime.TotalSeconds, grantedDetails);
    }

    private async Task<WalletResult<TokenResponse>> WrongPinAsync(Offer offer, int limit, DateTimeOffset now, CancellationToken ct)
    {
        var outcome = await store.RecordWrongPinAsync(offer, limit, now, o =>
        {
            if (!o.Counted) return [Refusal(offer, now, "offer_locked")];
            var events = new List<IssuerEvent>
            {
                IssuerEvent.Create(offer.TenantId, EventTypes.TokenRefused, now, new EventDetails.TokenRefused("wrong_pin", Math.Max(0, limit - o.Attempts)), offer.Id, profileId: offer.ProfileId),
            };
            if (o.LockedNow) events.Add(IssuerEvent.Create(offer.TenantId, EventTypes.OfferLocked, now, new EventDetails.OfferLocked(o.Attempts), offer.Id, profileId: offer.ProfileId));
            return events;
        }, ct);
        if (!outcome.Counted) return WalletError.InvalidGrant("The offer is locked after too many wrong PINs.");
        return outcome.LockedNow
            ? WalletError.InvalidGrant("The tx_code is wrong; the offer is now locked after too many wrong PINs.")
            : WalletError.InvalidGrant("The tx_code is wrong.");
    }

    private async Task<WalletResult<TokenResponse>> RefuseAsync(Offer offer, DateTimeOffset now, string reason, WalletError error, CancellationToken ct)
    {
        await store.AppendAsync(Refusal(offer, now, reason), ct);
        return error;
    }

    private static IssuerEvent Refusal(Offer offer, DateTimeOffset now, string reason) =>
        IssuerEvent.Create(offer.TenantId, EventTypes.TokenRefused, now, new EventDetails.TokenRefused(reason), offer.Id, profileId: offer.ProfileId);

    /// <summary>RFC 9396 authorization_details of type openid_credential: the configuration ids asked for.</summary>
    private static WalletResult<IReadOnlyList<string>> ParseAuthorizationDetails(string? text)
    {
        if (string.IsNullOrEmpty(text)) return Array.Empty<string>();
        var invalid = new WalletError(WalletErrors.InvalidAuthorizationDetails,
            "authorization_details must be a JSON array of objects with type openid_credential and a credential_configuration_id.");
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Array || doc.RootElement.GetArrayLength() is 0 or > 16) return invalid;
            var ids = new List<string>();
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object
                    || !item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != OpenIdCredential
                    || !item.TryGetProperty("credential_configuration_id", out var id) || id.ValueKind != JsonValueKind.String)
                    return invalid;
                ids.Add(id.GetString()!);
            }
            return ids;
        }
        catch (JsonException)
        {
            return invalid;
        }
    }
}
