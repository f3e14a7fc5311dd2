using System.Text.Json;
using Issuer2.Core.Jose;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.IdentityProviders;

/// <summary>What an ID token must match: the provider's issuer and keys, our client id, the nonce we sent, the time.</summary>
public sealed record IdTokenExpectations(
    string Issuer, string ClientId, string Nonce, IReadOnlyList<JsonWebKey> Keys, IReadOnlyList<string>? AdvertisedAlgorithms, DateTimeOffset Now);

/// <summary>Why an ID token was refused; <see cref="UnknownKey"/> asks the caller to fetch the provider's keys again once.</summary>
public enum IdTokenProblem
{
    Malformed,
    Algorithm,
    UnknownKey,
    Signature,
    Issuer,
    Audience,
    AuthorizedParty,
    Expired,
    IssuedAt,
    Nonce,
    Subject,
}

/// <summary>A validated ID token: its subject and its claims as JSON.</summary>
public sealed record ValidatedIdToken(string Subject, JsonElement Claims);

/// <summary>
/// Validates an ID token per OpenID Connect Core 1.0 §3.1.3.7, as a function of the token and the provider's keys (the
/// discovery, the key fetching and the code exchange are the adapter's): an asymmetric <c>alg</c> only (never
/// <c>none</c> or an HMAC, which a public key would let anyone forge), the signature by a key of the provider's JWKS,
/// <c>iss</c> exactly the provider's issuer, <c>aud</c> holding our client id, <c>azp</c> our client id when present or
/// when there are several audiences, <c>exp</c> not passed, <c>iat</c> not in the future, and the <c>nonce</c> we sent.
/// </summary>
public static class IdTokenValidator
{
    /// <summary>The asymmetric JWS algorithms accepted (RFC 7518 §3.1), whatever else a provider advertises.</summary>
    public static readonly IReadOnlySet<string> AsymmetricAlgorithms = new HashSet<string>(StringComparer.Ordinal)
    {
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    };

    /// <summary>How far the provider's clock may run ahead of ours, for <c>iat</c> and <c>exp</c>.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public static async Task<(ValidatedIdToken? Token, IdTokenProblem? Problem)> ValidateAsync(string? idToken, IdTokenExpectations expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        // The strict reader's rules, but exp checked here, so an expired token is told apart from a malformed one.
        var (read, _) = WalletJwt.Read(idToken, times: null);
        if (read is null) return Refused(IdTokenProblem.Malformed);
        using var jwt = read;

        // The algorithm before anything else: asymmetric, and one the provider says it uses.
        var alg = jwt.Alg;
        if (alg is null || !AsymmetricAlgorithms.Contains(alg) || (expected.AdvertisedAlgorithms is { Count: > 0 } advertised && !advertised.Contains(alg)))
            return Refused(IdTokenProblem.Algorithm);
        var kid = WalletJwt.StringMember(jwt.Header, "kid");
        var candidates = expected.Keys.Where(k => kid is null || k.KeyId == kid).ToList();
        if (candidates.Count == 0) return Refused(IdTokenProblem.UnknownKey);

        var result = await Handler.ValidateTokenAsync(jwt.Compact, new TokenValidationParameters
        {
            IssuerSigningKeys = candidates,
            TryAllIssuerSigningKeys = kid is null,
            ValidAlgorithms = [alg],
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
        });
        if (!result.IsValid) return Refused(IdTokenProblem.Signature);

        var claims = jwt.Payload;
        if (jwt.Issuer != expected.Issuer) return Refused(IdTokenProblem.Issuer);
        var audiences = Audiences(claims);
        if (!audiences.Contains(expected.ClientId, StringComparer.Ordinal)) return Refused(IdTokenProblem.Audience);
        var azp = claims.TryGetProperty("azp", out var azpElement) ? azpElement.ValueKind == JsonValueKind.String ? azpElement.GetString() : "" : null;
        if ((azp is not null || audiences.Count > 1) && azp != expected.ClientId) return Refused(IdTokenProblem.AuthorizedParty);
        if (WalletJwt.NumericDate(claims, "exp") is not { } exp || exp <= expected.Now - ClockSkew) return Refused(IdTokenProblem.Expired);
        if (jwt.IssuedAt is not { } iat || iat > expected.Now + ClockSkew) return Refused(IdTokenProblem.IssuedAt);
        if (!claims.TryGetProperty("nonce", out var nonce) || nonce.ValueKind != JsonValueKind.String || nonce.GetString() != expected.Nonce)
            return Refused(IdTokenProblem.Nonce);
        if (!claims.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(sub.GetString()))
            return Refused(IdTokenProblem.Subject);
        return (new ValidatedIdToken(sub.GetString()!, claims.Clone()), null);
    }

    private static (ValidatedIdToken?, IdTokenProblem?) Refused(IdTokenProblem problem) => (null, problem);

    private static List<string> Audiences(JsonElement claims)
    {
        if (!claims.TryGetProperty("aud", out var aud)) return [];
        return aud.ValueKind == JsonValueKind.String ? [aud.GetString()!] : [.. aud.EnumerateArray().Select(a => a.GetString()!)];
    }
}
