using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Sessions;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tokens;

/// <summary>A session about to be opened: its record, its access token's record, and the token to hand out once.</summary>
public sealed record OpenedSession(IssuanceSession Session, AccessToken Token, string PlainToken, TokenResponse Response);

/// <summary>What a grant opens a session for: the offer it uses, if any, and the profile version the credential is issued from.</summary>
public sealed record SessionGrant(string TenantId, string? OfferId, string ConfigurationId, Guid ProfileUid, int ProfileVersion);

/// <summary>The step every grant ends in: an issuance session for one use of an offer and an opaque access token bound to it.</summary>
public static class AccessTokens
{
    /// <summary>Access tokens live at most this long.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A new session of <paramref name="offer"/> and its token, issued to <paramref name="clientId"/> (null: anonymous). With <paramref name="credentialIdentifier"/> the token
    /// response returns authorization_details, and the credential request must then name that identifier (§8.2).
    /// </summary>
    public static OpenedSession Open(Offer offer, string? clientId, string? credentialIdentifier, DateTimeOffset now, string? dpopKey = null)
    {
        ArgumentNullException.ThrowIfNull(offer);
        return Open(new SessionGrant(offer.TenantId, offer.Id, offer.ProfileId, offer.ProfileUid, offer.ProfileVersion), clientId, credentialIdentifier, now,
            dpopKey: dpopKey);
    }

    /// <summary>A new session of what a grant gives (an offer's use, or a wallet-initiated authorization) and its token.</summary>
    public static OpenedSession Open(
        SessionGrant grant, string? clientId, string? credentialIdentifier, DateTimeOffset now, string? scope = null, string? dpopKey = null)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var plain = Secrets.NewToken();
        var session = new IssuanceSession
        {
            Id = Ids.New(),
            TenantId = grant.TenantId,
            OfferId = grant.OfferId,
            ConfigurationId = grant.ConfigurationId,
            ProfileUid = grant.ProfileUid,
            ProfileVersion = grant.ProfileVersion,
            ClientId = clientId,
            CredentialIdentifier = credentialIdentifier,
            CreatedAt = now,
        };
        var token = new AccessToken
        {
            TokenHash = Secrets.Hash(plain), TenantId = grant.TenantId, SessionId = session.Id, ExpiresAt = now + Lifetime, DpopJkt = dpopKey,
        };
        JsonArray? details = credentialIdentifier is null
            ? null
            :
            [
                new JsonObject
                {
                    ["type"] = Oid4vci.AuthorizationDetailsType,
                    ["credential_configuration_id"] = grant.ConfigurationId,
                    ["credential_identifiers"] = new JsonArray(credentialIdentifier),
                },
            ];
        return new OpenedSession(session, token, plain,
            new TokenResponse(plain, (int)Lifetime.TotalSeconds, details, scope, dpopKey is null ? "Bearer" : Dpop.SenderConstraint.Scheme));
    }
}

/// <summary>RFC 9396 authorization_details of type openid_credential (OID4VCI 1.0 §5.1.1), as a token request carries them.</summary>
public static class AuthorizationDetails
{
    public const int MaxEntries = 16;

    /// <summary>The credential configuration ids asked for; empty when the parameter is absent.</summary>
    public static Result<IReadOnlyList<string>, WalletError> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return Array.Empty<string>();
        var invalid = new WalletError(WalletErrorCode.InvalidAuthorizationDetails,
            $"authorization_details must be a JSON array of objects with type {Oid4vci.AuthorizationDetailsType} and a credential_configuration_id.");
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Array || doc.RootElement.GetArrayLength() is 0 or > MaxEntries) return invalid;
            var ids = new List<string>();
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object
                    || !item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != Oid4vci.AuthorizationDetailsType
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
