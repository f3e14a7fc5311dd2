using System.Text.Json;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Notifications;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;

namespace Issuer2.Server.Wallet;

/// <summary>
/// The one reader of each wallet request body: it checks the shape (members, their JSON types) and hands Core a
/// typed request; what the request may ask for is Core's to decide.
/// </summary>
public static class WalletRequests
{
    public const int MaxEventDescriptionLength = 1000;

    /// <summary>A token request from its form parameters and whether it carried an Authorization header.</summary>
    public static TokenRequest Token(IReadOnlyDictionary<string, string> form, bool authorizationHeader, Core.Dpop.DpopHeader? dpop = null)
    {
        ArgumentNullException.ThrowIfNull(form);
        var authentication =
            authorizationHeader ? ClientAuthentication.AuthorizationHeader
            : form.ContainsKey("client_assertion") || form.ContainsKey("client_assertion_type") ? ClientAuthentication.ClientAssertion
            : form.ContainsKey("client_secret") ? ClientAuthentication.ClientSecret
            : ClientAuthentication.None;
        return new TokenRequest(
            form.GetValueOrDefault("grant_type"),
            form.GetValueOrDefault("pre-authorized_code"),
            form.GetValueOrDefault("tx_code"),
            form.GetValueOrDefault("authorization_details"),
            form.GetValueOrDefault("client_id"),
            authentication,
            form.GetValueOrDefault("code"),
            form.GetValueOrDefault("code_verifier"),
            form.GetValueOrDefault("redirect_uri"),
            form.GetValueOrDefault("resource"),
            dpop);
    }

    /// <summary>
    /// A credential request in the shape of the version it speaks (<see cref="CredentialShapes.VersionOf"/>):
    /// <paramref name="version"/> is that version, null for a body of no one version's shape.
    /// </summary>
    public static Result<CredentialRequest, WalletError> Credential(JsonElement body, out Oid4vciVersion? version)
    {
        version = CredentialShapes.VersionOf(body);
        if (body.ValueKind != JsonValueKind.Object) return WalletError.InvalidCredentialRequest("The body must be a JSON object.");
        return version switch
        {
            null => CredentialShapes.Mixed(),
            Oid4vciVersion.Draft13 => CredentialShapes.Draft13(body),
            _ => CredentialV1(body),
        };
    }

    /// <summary>A credential request (OID4VCI 1.0 §8.2).</summary>
    private static Result<CredentialRequest, WalletError> CredentialV1(JsonElement body)
    {
        var configurationId = OptionalString(body, "credential_configuration_id", out var badConfiguration);
        var identifier = OptionalString(body, "credential_identifier", out var badIdentifier);
        if (badConfiguration || badIdentifier) return WalletError.InvalidCredentialRequest("credential_configuration_id and credential_identifier must be strings.");
        if ((configurationId is null) == (identifier is null))
            return WalletError.InvalidCredentialRequest("Send exactly one of credential_configuration_id and credential_identifier.");
        if (body.TryGetProperty("credential_response_encryption", out _))
            return new WalletError(WalletErrorCode.InvalidEncryptionParameters, "This issuer does not encrypt credential responses.");

        if (!body.TryGetProperty("proofs", out var proofs)) return WalletError.InvalidProof("proofs is required.");
        if (proofs.ValueKind != JsonValueKind.Object) return WalletError.InvalidCredentialRequest("proofs must be an object.");
        var types = proofs.EnumerateObject().ToList();
        if (types.Count != 1 || types[0].Name != Oid4vci.JwtProofType)
            return WalletError.InvalidProof($"proofs must hold exactly one proof type, {Oid4vci.JwtProofType}.");
        var jwts = types[0].Value;
        if (jwts.ValueKind != JsonValueKind.Array || jwts.GetArrayLength() == 0) return WalletError.InvalidProof("proofs.jwt must be a non-empty array.");
        var list = new List<string>(jwts.GetArrayLength());
        foreach (var jwt in jwts.EnumerateArray())
        {
            if (jwt.ValueKind != JsonValueKind.String) return WalletError.InvalidProof("proofs.jwt must hold compact JWT strings.");
            list.Add(jwt.GetString()!);
        }
        return new CredentialRequest(configurationId, identifier, list);
    }

    /// <summary>A notification request (OID4VCI 1.0 §11.1): notification_id, event, and an optional ASCII event_description.</summary>
    public static Result<NotificationRequest, WalletError> Notification(JsonElement body)
    {
        var invalid = new WalletError(WalletErrorCode.InvalidNotificationRequest,
            $"The body must be a JSON object with notification_id and event ({string.Join(", ", NotificationEvents.All.Order(StringComparer.Ordinal))}).");
        if (body.ValueKind != JsonValueKind.Object) return invalid;
        if (!body.TryGetProperty("notification_id", out var id) || id.ValueKind != JsonValueKind.String) return invalid;
        if (!body.TryGetProperty("event", out var kind) || kind.ValueKind != JsonValueKind.String || !NotificationEvents.All.Contains(kind.GetString()!))
            return invalid;
        string? description = null;
        if (body.TryGetProperty("event_description", out var text))
        {
            description = text.ValueKind == JsonValueKind.String ? text.GetString() : null;
            if (description is null || description.Length > MaxEventDescriptionLength || !description.All(c => c is >= ' ' and <= '~'))
                return new WalletError(WalletErrorCode.InvalidNotificationRequest, $"event_description must be printable ASCII, at most {MaxEventDescriptionLength} characters.");
        }
        return new NotificationRequest(id.GetString()!, kind.GetString()!, description);
    }

    private static string? OptionalString(JsonElement body, string name, out bool wrongType) => CredentialShapes.OptionalString(body, name, out wrongType);
}
