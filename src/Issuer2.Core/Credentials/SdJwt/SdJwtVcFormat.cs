using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Profiles;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Credentials.SdJwt;

/// <summary>
/// IETF SD-JWT VC (<c>dc+sd-jwt</c>): a profile names its type (<c>vct</c>) and may not declare the claim names
/// the format reserves; the metadata entry carries <c>vct</c>; credentials come from <see cref="SdJwtVcIssuer"/>.
/// </summary>
public sealed class SdJwtVcFormat : ICredentialFormat
{
    public const int MaxVctLength = 2048;

    /// <summary>
    /// Top-level names the SD-JWT VC format (RFC 9901 §4.2, SD-JWT VC §3.2.2) reserves: the issuer sets them
    /// itself and never makes them selectively disclosable, so no profile may declare them.
    /// </summary>
    public static readonly FrozenSet<string> ReservedTopLevelNames = new[]
    {
        "iss", "nbf", "exp", "iat", "cnf", "vct", "vct#integrity", "status", "jti", "aud", "_sd", "_sd_alg", "...",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Names SD-JWT gives a meaning at any depth.</summary>
    public static readonly FrozenSet<string> ReservedAnyDepth = new[] { "_sd", "..." }.ToFrozenSet(StringComparer.Ordinal);

    public string Identifier => CredentialFormats.SdJwtVc;

    public void Check(Violations v, string prefix, ProfileDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(definition);
        v.Require(!string.IsNullOrWhiteSpace(definition.Vct) && definition.Vct.Length <= MaxVctLength, prefix + "vct",
            $"is required for SD-JWT VC, at most {MaxVctLength} characters");
        v.Require(definition.Doctype is null, prefix + "doctype", "applies to MSO_MDOC only");
        v.Require(definition.CredentialTypes is not { Count: > 0 }, prefix + "credential_types", "apply to JWT_VC_JSON only");
    }

    public string? ClaimPathProblem(IReadOnlyList<string> path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (ReservedTopLevelNames.Contains(path[0])) return $"\"{path[0]}\" is reserved by SD-JWT VC: the issuer sets it, always visible";
        return path.Any(ReservedAnyDepth.Contains) ? "\"_sd\" and \"...\" are reserved by SD-JWT" : null;
    }

    public void WriteMetadata(JsonObject configuration, ProfileDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(definition);
        configuration["vct"] = definition.Vct;
    }

    public string Issue(CredentialToIssue credential, SigningCredentials signer)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return SdJwtVcIssuer.Issue(
            new SdJwtVcEnvelope(credential.Issuer, credential.Definition.Vct, credential.IssuedAt, credential.ExpiresAt, credential.HolderKeyJson,
                credential.IssuedAs == CredentialFormats.LegacySdJwtVc ? SdJwtVcIssuer.LegacyType : SdJwtVcIssuer.Type),
            credential.Claims, signer);
    }
}
