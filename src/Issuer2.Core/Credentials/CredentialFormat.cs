using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials.SdJwt;
using Issuer2.Core.Profiles;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Credentials;

/// <summary>One claim to issue: where it goes, whether the holder may withhold it, and its value.</summary>
public sealed record IssuedClaim(IReadOnlyList<string> Path, bool SelectivelyDisclosable, JsonElement Value);

/// <summary>
/// Everything a format issues from: the issuer, the profile version, the times, the holder's key and the claims;
/// <see cref="IssuedAs"/> the format identifier the wallet's protocol version names it by (null: the format's own).
/// </summary>
public sealed record CredentialToIssue(
    string Issuer, ProfileDefinition Definition, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, string HolderKeyJson, IReadOnlyList<IssuedClaim> Claims,
    string? IssuedAs = null);

/// <summary>
/// A credential format (OID4VCI 1.0 Appendix A): the part of a profile only it understands, its entry in the issuer
/// metadata, and the credential it issues. Adding a format is one more implementation listed in
/// <see cref="CredentialFormats.Issued"/>.
/// </summary>
public interface ICredentialFormat
{
    /// <summary>The format identifier wallets see, e.g. <c>dc+sd-jwt</c>.</summary>
    string Identifier { get; }

    /// <summary>Checks the format's part of a profile definition: its type and the members only it takes.</summary>
    void Check(Violations v, string prefix, ProfileDefinition definition);

    /// <summary>Why a claim may not have this path in this format (a name the format reserves); null when it may.</summary>
    string? ClaimPathProblem(IReadOnlyList<string> path);

    /// <summary>Writes the format's members of the profile's credential configuration (OID4VCI 1.0 §12.2.4).</summary>
    void WriteMetadata(JsonObject configuration, ProfileDefinition definition);

    /// <summary>Issues the credential, bound to the holder's key and signed by <paramref name="signer"/>.</summary>
    string Issue(CredentialToIssue credential, SigningCredentials signer);
}

/// <summary>The credential formats: the identifiers of OID4VCI 1.0 Appendix A, and the ones Issuer2 issues.</summary>
public static class CredentialFormats
{
    public const string SdJwtVc = "dc+sd-jwt";
    public const string MsoMdoc = "mso_mdoc";
    public const string JwtVcJson = "jwt_vc_json";

    /// <summary>
    /// SD-JWT VC's identifier in OID4VCI draft 13 (Appendix A.3.1), from the SD-JWT VC drafts that used the typ
    /// <c>vc+sd-jwt</c> until November 2024; the same format as <see cref="SdJwtVc"/>.
    /// </summary>
    public const string LegacySdJwtVc = "vc+sd-jwt";

    /// <summary>The identifiers draft-13 wallets may name a format by, each mapped to the format's identifier (itself included).</summary>
    public static readonly IReadOnlyDictionary<string, string> Draft13Identifiers =
        new Dictionary<string, string>(StringComparer.Ordinal) { [SdJwtVc] = SdJwtVc, [LegacySdJwtVc] = SdJwtVc };

    /// <summary>
    /// The identifier a draft-13 request's credential is issued as, which picks SD-JWT VC's <c>typ</c>: what the
    /// request named, and for a request that named no format (a credential_identifier) draft 13's own,
    /// <see cref="LegacySdJwtVc"/> (docs/wallet-endpoints.md says why).
    /// </summary>
    public static string Draft13IssuedAs(string format, string? named) =>
        format == SdJwtVc && named != SdJwtVc ? LegacySdJwtVc : format;

    /// <summary>The formats Issuer2 issues, by identifier.</summary>
    public static readonly IReadOnlyDictionary<string, ICredentialFormat> Issued =
        new Dictionary<string, ICredentialFormat>(StringComparer.Ordinal) { [SdJwtVc] = new SdJwtVcFormat() };

    /// <summary>The format of a profile definition that passed <see cref="ProfileRules.Check"/>.</summary>
    public static ICredentialFormat Of(ProfileDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return Issued.TryGetValue(definition.Format, out var format)
            ? format
            : throw new InvalidOperationException($"A profile in the format \"{definition.Format}\" was stored, which Issuer2 does not issue.");
    }

    /// <summary>Checks the format of a profile: one Issuer2 issues, and its part of the definition.</summary>
    public static void Check(Violations v, string prefix, ProfileDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(definition);
        if (Issued.TryGetValue(definition.Format, out var format))
        {
            format.Check(v, prefix, definition);
            return;
        }
        v.Add(prefix + "format", definition.Format is MsoMdoc or JwtVcJson
            ? $"{definition.Format} is not issued yet; use DC_SD_JWT"
            : "must be DC_SD_JWT");
    }

    /// <summary>The claims to issue: the profile's defaults, each replaced by the offer's override for the same path.</summary>
    public static IReadOnlyList<IssuedClaim> Merge(
        IReadOnlyList<ClaimDefinition> definitions, IReadOnlyList<ClaimValue> defaults, IReadOnlyList<ClaimValue> overrides, IReadOnlyList<ClaimValue>? signIn = null)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        var claims = new List<IssuedClaim>(definitions.Count);
        foreach (var claim in definitions)
        {
            var value = signIn?.FirstOrDefault(v => ClaimPaths.SamePath(v.Path, claim.Path))
                ?? overrides.FirstOrDefault(v => ClaimPaths.SamePath(v.Path, claim.Path))
                ?? defaults.FirstOrDefault(v => ClaimPaths.SamePath(v.Path, claim.Path));
            if (value is not null) claims.Add(new IssuedClaim(claim.Path, claim.SelectivelyDisclosable, value.Value));
        }
        return claims;
    }
}
