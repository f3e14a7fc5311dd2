using System.Text.Json;
using Issuer2.Core.Claims;
using Issuer2.Core.Profiles;
using Issuer2.Core.Security;

namespace Issuer2.Core.Authorization;

/// <summary>
/// The claims a user's sign-in brings, by the profile's mappings: read from the validated ID token or the userinfo
/// response; a value of another type than the claim's counts as absent. Kept encrypted, only until issuance or expiry
/// (OID4VCI 1.0 §15.3).
/// </summary>
public static class SignInClaims
{
    /// <summary>Whether any mapping reads the userinfo response: it is fetched only then.</summary>
    public static bool NeedsUserInfo(ProfileDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.Mappings.Any(m => m.Source == ClaimSource.UserInfo);
    }

    /// <summary>The mapped values found, typed as the profile's claims.</summary>
    public static IReadOnlyList<ClaimValue> Map(ProfileDefinition definition, JsonElement idToken, JsonElement? userInfo)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var values = new List<ClaimValue>();
        foreach (var mapping in definition.Mappings)
        {
            var claim = definition.Claims.FirstOrDefault(c => ClaimPaths.SamePath(c.Path, mapping.Path));
            if (claim is null) continue;
            JsonElement? source = mapping.Source == ClaimSource.IdToken ? idToken : userInfo;
            if (source is not { } root || Find(root, mapping.SourcePath) is not { } value) continue;
            if (ClaimPaths.TypeMismatch(value, claim.ValueType) is not null) continue;
            values.Add(new ClaimValue(mapping.Path, value.Clone()));
        }
        return values;
    }

    /// <summary>Mandatory claims that neither a default, an override nor the sign-in supplies.</summary>
    public static IEnumerable<ClaimDefinition> Missing(ProfileDefinition definition, IReadOnlyList<ClaimValue> overrides, IReadOnlyList<ClaimValue> mapped)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.Claims.Where(c => c.Mandatory
            && !definition.DefaultValues.Concat(overrides).Concat(mapped).Any(v => ClaimPaths.SamePath(v.Path, c.Path)));
    }

    private static JsonElement? Find(JsonElement root, IReadOnlyList<string> path)
    {
        var current = root;
        foreach (var segment in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out var next)) return null;
            current = next;
        }
        return current.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined ? null : current;
    }
}

/// <summary>Mapped claim values at rest: encrypted under the key-encryption key, bound to the row that holds them.</summary>
public static class ClaimsAtRest
{
    public static string ForAuthorization(string tenantId, string authorizationId) => $"sign-in-claims/{tenantId}/authorization/{authorizationId}";

    public static string ForSession(string tenantId, string sessionId) => $"sign-in-claims/{tenantId}/session/{sessionId}";

    public static byte[] Seal(SecretProtector protector, IReadOnlyList<ClaimValue> claims, string context)
    {
        ArgumentNullException.ThrowIfNull(protector);
        protector.Require(KeyPurpose.SecretsAtRest);
        return protector.Encrypt(JsonSerializer.SerializeToUtf8Bytes(claims, Common.CoreJson.Options), context);
    }

    public static IReadOnlyList<ClaimValue> Open(SecretProtector protector, byte[]? sealedClaims, string context)
    {
        ArgumentNullException.ThrowIfNull(protector);
        protector.Require(KeyPurpose.SecretsAtRest);
        if (sealedClaims is null) return [];
        return JsonSerializer.Deserialize<List<ClaimValue>>(protector.Decrypt(sealedClaims, context), Common.CoreJson.Options) ?? [];
    }
}
