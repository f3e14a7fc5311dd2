using System.Text.Json.Nodes;

namespace Issuer2.Core.Offers;

/// <summary>The Credential Offer object (OID4VCI 1.0 §4.1.1) and the URL that carries it.</summary>
public static class CredentialOfferDocument
{
    public const string Scheme = "openid-credential-offer://";
    public const string PreAuthorizedGrant = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
    public const string AuthorizationCodeGrant = "authorization_code";

    /// <summary>The tx_code object: what the wallet needs to prompt for the PIN (never the PIN).</summary>
    public sealed record TxCode(TxCodeInputMode InputMode, int Length, string? Description);

    /// <summary>A pre-authorized offer: the issuer, the configuration and a single-use code.</summary>
    public static JsonObject PreAuthorized(string credentialIssuer, string configurationId, string preAuthorizedCode, TxCode? txCode)
    {
        var grant = new JsonObject { ["pre-authorized_code"] = preAuthorizedCode };
        if (txCode is not null)
        {
            var tx = new JsonObject
            {
                ["input_mode"] = txCode.InputMode == TxCodeInputMode.Numeric ? "numeric" : "text",
                ["length"] = txCode.Length,
            };
            if (!string.IsNullOrEmpty(txCode.Description)) tx["description"] = txCode.Description;
            grant["tx_code"] = tx;
        }
        return new JsonObject
        {
            ["credential_issuer"] = credentialIssuer,
            ["credential_configuration_ids"] = new JsonArray(configurationId),
            ["grants"] = new JsonObject { [PreAuthorizedGrant] = grant },
        };
    }

    /// <summary>
    /// An authorization code offer: the issuer, the configuration and, when the offer ties flows to itself, its
    /// issuer_state; no pre-authorized grant (OID4VCI 1.0 §4.1.1). Issuer2 is the tenant's authorization server, so the
    /// grant names no authorization_server (§12.2.4). Without issuer_state the grant object is empty.
    /// </summary>
    public static JsonObject AuthorizationCode(string credentialIssuer, string configurationId, string? issuerState)
    {
        var grant = new JsonObject();
        if (issuerState is not null) grant["issuer_state"] = issuerState;
        return new JsonObject
        {
            ["credential_issuer"] = credentialIssuer,
            ["credential_configuration_ids"] = new JsonArray(configurationId),
            ["grants"] = new JsonObject { [AuthorizationCodeGrant] = grant },
        };
    }

    /// <summary>The same-device deep link of a BY_VALUE offer.</summary>
    public static string ByValueUrl(JsonObject offer) =>
        $"{Scheme}?credential_offer={Uri.EscapeDataString(offer.ToJsonString())}";

    /// <summary>The same-device deep link of a BY_REFERENCE offer.</summary>
    public static string ByReferenceUrl(string credentialOfferUri) =>
        $"{Scheme}?credential_offer_uri={Uri.EscapeDataString(credentialOfferUri)}";

    /// <summary>Where a wallet resolves a BY_REFERENCE offer: under the tenant's credential issuer identifier.</summary>
    public static string OfferUri(string credentialIssuer, string uriToken) => $"{credentialIssuer}/offers/{uriToken}";
}
