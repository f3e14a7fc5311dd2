using Issuer2.Core.Common;
using System.Buffers.Text;
using System.Text.Json;
using Issuer2.Core.Jose;
using Issuer2.Core.Wallet;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Credentials;

/// <summary>A key proof that passed every check but the nonce's single use, which the caller enforces next.</summary>
public sealed record ValidatedProof(JsonWebKey HolderKey, string HolderKeyJson, string Thumbprint, string Nonce);

/// <summary>
/// Checks a <c>jwt</c> key proof (OID4VCI 1.0 Appendix F.1) in the order that reveals least: the strict JWS/JWT rules
/// (<see cref="WalletJwt"/>), typ, alg, the key (exactly one of <c>jwk</c> or a <c>did:jwk</c> <c>kid</c>), signature,
/// <c>aud</c>, <c>iss</c>, <c>iat</c>, then that a <c>nonce</c> is present. Consuming the nonce is the caller's last step.
/// </summary>
public sealed class ProofValidator(TimeProvider clock)
{
    public const string ProofType = "openid4vci-proof+jwt";

    /// <summary>The algorithms the metadata lists in proof_signing_alg_values_supported: those of every wallet key (<see cref="WalletJwk"/>).</summary>
    public static readonly IReadOnlyList<string> SupportedAlgorithms = WalletJwk.Algorithms;

    /// <summary>How far in the future an iat may lie (clock skew).</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);

    /// <summary>How old a proof may be; as long as a c_nonce lives.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Validates a key proof for <paramref name="credentialIssuer"/>; <paramref name="clientId"/> is the client_id the
    /// access token was issued to, null for anonymous pre-authorized access (OID4VCI 1.0 Appendix F.1: then the proof
    /// has no <c>iss</c>; otherwise an <c>iss</c>, if present, is that client_id).
    /// </summary>
    public Task<Result<ValidatedProof, WalletError>> ValidateAsync(string? proof, string credentialIssuer, string? clientId) =>
        Task.FromResult(Validate(proof, credentialIssuer, clientId));

    private Result<ValidatedProof, WalletError> Validate(string? proof, string credentialIssuer, string? clientId)
    {
        // Shape first: the strict reader's JWS and JWT rules, then the proof's own.
        var now = clock.UtcNow();
        var (read, problem) = WalletJwt.Read(proof, new JwtTimes(now, ClockSkew));
        if (read is null) return WalletError.InvalidProof($"The proof {problem}.");
        using var jwt = read;

        // Header: typ, alg, and exactly one key reference.
        if (jwt.Typ != ProofType) return WalletError.InvalidProof($"The proof's typ must be {ProofType}.");
        if (!SupportedAlgorithms.Contains(jwt.Alg, StringComparer.Ordinal))
            return WalletError.InvalidProof($"The proof's alg must be one of: {string.Join(", ", SupportedAlgorithms)}.");
        var header = jwt.Header;
        var hasJwk = header.TryGetProperty("jwk", out var jwkElement);
        var hasKid = header.TryGetProperty("kid", out var kidElement);
        if (header.TryGetProperty("x5c", out _) || header.TryGetProperty("key_attestation", out _))
            return WalletError.InvalidProof("Only jwk and did:jwk key references are supported.");
        if (hasJwk == hasKid) return WalletError.InvalidProof("The proof header must carry exactly one of jwk or kid.");

        var keyJson = hasJwk ? jwkElement : ResolveDidJwk(kidElement);
        if (keyJson is not { ValueKind: JsonValueKind.Object } keyObject)
            return WalletError.InvalidProof("The proof's key must be a JWK, or a kid that is a did:jwk URL.");
        if (WalletJwk.HasPrivateMembers(keyObject)) return WalletError.InvalidProof("The proof's key contains private key material.");
        if (!WalletJwk.TryPublicKey(keyObject, out var holderKey, out var holderKeyJson))
            return WalletError.InvalidProof("The proof's key must be a P-256 EC public key.");

        // Signature, by Microsoft.IdentityModel; the claims are checked below on what the strict reader read.
        if (!WalletJwt.SignatureVerifies(jwt, holderKey, SupportedAlgorithms)) return WalletError.InvalidProof("The proof's signature does not verify with its key.");

        // Claims (Appendix F.1): aud the credential issuer, as a string; iss by how the token was issued.
        var claims = jwt.Payload;
        if (!claims.TryGetProperty("aud", out var aud) || aud.ValueKind != JsonValueKind.String || aud.GetString() != credentialIssuer)
            return WalletError.InvalidProof("The proof's aud must be the credential issuer identifier, as a string.");
        if (clientId is null && claims.TryGetProperty("iss", out _))
            return WalletError.InvalidProof("The token was issued for anonymous access: the proof must not carry iss.");
        if (clientId is not null && jwt.Issuer is { } iss && iss != clientId)
            return WalletError.InvalidProof("The proof's iss must be the client_id the token was issued to.");

        // Freshness: iat within the window; then the nonce must be there.
        if (jwt.IssuedAt is not { } issuedAt) return WalletError.InvalidProof("The proof has no iat.");
        if (issuedAt > now + ClockSkew) return WalletError.InvalidProof("The proof's iat lies in the future.");
        if (issuedAt < now - MaxAge) return WalletError.InvalidProof("The proof is too old; make a new one with a fresh c_nonce.");
        if (!claims.TryGetProperty("nonce", out var nonceElement) || nonceElement.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(nonceElement.GetString()))
            return WalletError.InvalidProof("The proof has no nonce; get a c_nonce from the nonce endpoint.");

        return new ValidatedProof(holderKey, holderKeyJson, WalletJwk.Thumbprint(holderKey), nonceElement.GetString()!);
    }

    /// <summary>did:jwk (https://github.com/quartzjer/did-jwk): the method-specific id is the base64url JWK.</summary>
    private static JsonElement? ResolveDidJwk(JsonElement kid)
    {
        if (kid.ValueKind != JsonValueKind.String) return null;
        var value = kid.GetString()!;
        if (!value.StartsWith("did:jwk:", StringComparison.Ordinal)) return null;
        var id = value["did:jwk:".Length..];
        var fragment = id.IndexOf('#', StringComparison.Ordinal);
        if (fragment >= 0) id = id[..fragment];
        try
        {
            var json = Base64Url.DecodeFromChars(id);
            if (!System.Text.Unicode.Utf8.IsValid(json) || JsonText.Problem(json, 16, out _) is not null) return null;
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }
}
