using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Wallet;

namespace Issuer2.Server.Wallet;

/// <summary>
/// The two shapes a credential request and its answer may have on the same offer (docs/wallet-endpoints.md): the
/// request's shape decides its version, each shape is read into the same Core <see cref="CredentialRequest"/>, and
/// the answer is written in the shape the request spoke. No rule about proofs, nonces or sessions lives here.
/// </summary>
public static class CredentialShapes
{
    /// <summary>Members only draft 13 has (§7.2, Appendix A.3.4): the singular key proof, and a format with its type.</summary>
    public static readonly IReadOnlyList<string> Draft13Members = ["proof", "format", "vct"];

    /// <summary>Members only OID4VCI 1.0 has (§8.2).</summary>
    public static readonly IReadOnlyList<string> V1Members = ["proofs", "credential_configuration_id"];

    /// <summary>
    /// The version a body speaks: draft 13 when it carries a member only draft 13 has, 1.0 otherwise (a request with
    /// <c>credential_identifier</c> alone, the one name both share, is read as 1.0); null when it carries members only
    /// one version has of both, or is no JSON object.
    /// </summary>
    public static Oid4vciVersion? VersionOf(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) return null;
        var draft13 = Draft13Members.Any(m => body.TryGetProperty(m, out _));
        var v1 = V1Members.Any(m => body.TryGetProperty(m, out _));
        if (draft13 && v1) return null;
        return draft13 ? Oid4vciVersion.Draft13 : Oid4vciVersion.V1;
    }

    /// <summary>What a request that mixes both shapes is told.</summary>
    public static WalletError Mixed() => WalletError.InvalidCredentialRequest(
        $"The request mixes OID4VCI 1.0 members ({string.Join(", ", V1Members)}) with draft 13 members ({string.Join(", ", Draft13Members)}): send one version's shape.");

    /// <summary>
    /// A draft-13 credential request (§7.2): exactly one of <c>format</c> (with its format's members, <c>vct</c> for
    /// SD-JWT VC) and <c>credential_identifier</c>; <c>proof</c> an object of <c>proof_type</c> <c>jwt</c> and a compact
    /// <c>jwt</c>. <c>claims</c> (Appendix A.3.4), if sent, must be an object; every claim of the profile is issued.
    /// </summary>
    public static Result<CredentialRequest, WalletError> Draft13(JsonElement body)
    {
        var format = OptionalString(body, "format", out var badFormat);
        var vct = OptionalString(body, "vct", out var badVct);
        var identifier = OptionalString(body, "credential_identifier", out var badIdentifier);
        if (badFormat || badVct || badIdentifier) return WalletError.InvalidCredentialRequest("format, vct and credential_identifier must be strings.");
        if ((format is null) == (identifier is null))
            return WalletError.InvalidCredentialRequest("Send exactly one of format (with vct) and credential_identifier (OID4VCI draft 13 section 7.2).");
        if (identifier is not null && vct is not null) return WalletError.InvalidCredentialRequest("vct goes with format, never with credential_identifier.");
        if (body.TryGetProperty("claims", out var claims) && claims.ValueKind != JsonValueKind.Object)
            return WalletError.InvalidCredentialRequest("claims must be an object.");
        if (body.TryGetProperty("credential_response_encryption", out _))
            return new WalletError(WalletErrorCode.InvalidEncryptionParameters, "This issuer does not encrypt credential responses.");

        if (!body.TryGetProperty("proof", out var proof)) return WalletError.InvalidProof("proof is required.");
        if (proof.ValueKind != JsonValueKind.Object) return WalletError.InvalidProof("proof must be an object with proof_type and jwt.");
        if (!proof.TryGetProperty("proof_type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != Oid4vci.JwtProofType)
            return WalletError.InvalidProof($"proof.proof_type must be {Oid4vci.JwtProofType}, the one proof type this issuer takes.");
        if (!proof.TryGetProperty(Oid4vci.JwtProofType, out var jwt) || jwt.ValueKind != JsonValueKind.String)
            return WalletError.InvalidProof("proof.jwt must be a compact JWT string.");
        return new CredentialRequest(null, identifier, [jwt.GetString()!])
        {
            Version = Oid4vciVersion.Draft13,
            Type = format is null ? null : new RequestedCredentialType(format, vct),
        };
    }

    /// <summary>The answer in the request's shape: 1.0 §8.3 (<c>credentials</c>) or draft 13 §7.3 (<c>credential</c> and the next c_nonce).</summary>
    public static string Response(Oid4vciVersion version, CredentialResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (version == Oid4vciVersion.V1)
        {
            return new JsonObject
            {
                ["credentials"] = new JsonArray(new JsonObject { ["credential"] = response.Credential }),
                ["notification_id"] = response.NotificationId,
            }.ToJsonString();
        }
        var draft13 = new JsonObject { ["credential"] = response.Credential };
        if (response.CNonce is { } cNonce)
        {
            draft13["c_nonce"] = cNonce.Value;
            draft13["c_nonce_expires_in"] = cNonce.ExpiresIn;
        }
        draft13["notification_id"] = response.NotificationId;
        return draft13.ToJsonString();
    }

    internal static string? OptionalString(JsonElement body, string name, out bool wrongType)
    {
        wrongType = false;
        if (!body.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        wrongType = true;
        return null;
    }
}
