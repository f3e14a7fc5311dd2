using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Issuer2.Core.Common;
using Issuer2.Core.Jose;

namespace Issuer2.Core.Dpop;

/// <summary>
/// What a DPoP proof must match: the request's HTTP method, the endpoint's public URL (the tenant's credential_issuer
/// and the endpoint's path, never the URL the server saw; without query or fragment) and, at resource endpoints, the
/// access token the request carries (for <c>ath</c>).
/// </summary>
public sealed record DpopRequest(string Method, string PublicUrl, string? AccessToken = null);

/// <summary>A proof that passed every check, its jti recorded: the key's RFC 7638 thumbprint (base64url SHA-256) and its public JWK as JSON.</summary>
public sealed record ValidatedDpopProof(string Thumbprint, string PublicJwk);

/// <summary>Why a DPoP proof was refused: invalid_dpop_proof, or use_dpop_nonce (RFC 9449 §7.1, §8, §9).</summary>
public enum DpopProblem
{
    InvalidProof,
    UseNonce,
}

/// <summary>
/// A refused DPoP proof. <see cref="Description"/> is ASCII without <c>"</c> or <c>\</c>, so it may go into a
/// WWW-Authenticate parameter as it is. For <see cref="DpopProblem.UseNonce"/>, <see cref="Nonce"/> is the fresh
/// DPoP-Nonce to send back.
/// </summary>
public sealed record DpopRefusal(DpopProblem Problem, string Description, string? Nonce = null);

/// <summary>
/// Checks the DPoP header of one request (RFC 9449 §4.3) in the order that reveals least: the strict JWS/JWT rules of
/// every wallet JWT (<see cref="WalletJwt"/>), typ, alg, a public jwk (<see cref="WalletJwk"/>, the key rule of key
/// proofs), signature, htm, htu, iat, jti, ath, the server nonce when the tenant requires one, and last the jti's
/// single use, which the database decides on every host.
/// </summary>
public sealed class DpopProofValidator(DpopNonces nonces, IDpopReplayStore replays, TimeProvider clock)
{
    public const string ProofType = "dpop+jwt";

    /// <summary>Longest jti accepted; the jti is hashed before it is stored, so this only bounds the work.</summary>
    public const int MaxJtiLength = 256;

    /// <summary>The asymmetric algorithms accepted, advertised as dpop_signing_alg_values_supported: those of every wallet key.</summary>
    public static readonly IReadOnlyList<string> Algorithms = WalletJwk.Algorithms;

    /// <summary>How old a proof's iat may be.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    /// <summary>How far ahead a proof's iat may lie (the wallet's clock skew).</summary>
    public static readonly TimeSpan MaxAhead = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long after its iat a proof's jti is kept: the end of its window (MaxAge) plus one MaxAhead, for hosts whose
    /// clocks differ by up to that much.
    /// </summary>
    public static readonly TimeSpan RecordLifetime = MaxAge + MaxAhead;

    /// <summary>
    /// Validates <paramref name="proof"/>, the one DPoP header value of a request to <paramref name="request"/>.
    /// With <paramref name="requireNonce"/>, a proof without a current DPoP-Nonce of the tenant is refused as
    /// use_dpop_nonce with a fresh one; a nonce is ignored otherwise.
    /// </summary>
    public async Task<Result<ValidatedDpopProof, DpopRefusal>> ValidateAsync(
        string tenantId, string proof, DpopRequest request, bool requireNonce, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = PublicTarget(request.PublicUrl);
        var now = clock.UtcNow();

        // Shape first: the strict reader's JWS and JWT rules (an exp or nbf, if present, holds too).
        var (read, problem) = WalletJwt.Read(proof, new JwtTimes(now, MaxAhead));
        if (read is null) return Invalid($"The DPoP proof {problem}.");
        using var jwt = read;

        // Header: typ, an asymmetric alg of the list (never none, never HMAC), a public key as jwk.
        if (jwt.Typ != ProofType) return Invalid($"The DPoP proof's typ must be {ProofType}.");
        if (!Algorithms.Contains(jwt.Alg, StringComparer.Ordinal)) return Invalid($"The DPoP proof's alg must be one of: {string.Join(", ", Algorithms)}.");
        if (!jwt.Header.TryGetProperty("jwk", out var jwk) || jwk.ValueKind != JsonValueKind.Object)
            return Invalid("The DPoP proof's header must carry the public key as a jwk object.");
        if (WalletJwk.HasPrivateMembers(jwk)) return Invalid("The DPoP proof's jwk contains private key material.");
        if (!WalletJwk.TryPublicKey(jwk, out var key, out var keyJson)) return Invalid("The DPoP proof's jwk must be an EC P-256 public key.");

        // Signature, by that key.
        if (!WalletJwt.SignatureVerifies(jwt, key, Algorithms)) return Invalid("The DPoP proof's signature does not verify with its jwk.");

        // Claims: the request it was made for.
        var claims = jwt.Payload;
        if (WalletJwt.StringMember(claims, "htm") != request.Method) return Invalid("The DPoP proof's htm is not the method of this request.");
        if (WalletJwt.StringMember(claims, "htu") is not { } htu || !SameTarget(htu, target)) return Invalid("The DPoP proof's htu is not the URL of this endpoint.");

        // Freshness: iat within the window.
        if (jwt.IssuedAt is not { } issuedAt) return Invalid("The DPoP proof has no iat.");
        if (issuedAt > now + MaxAhead) return Invalid("The DPoP proof's iat lies in the future.");
        if (issuedAt < now - MaxAge) return Invalid("The DPoP proof is too old (iat); make a new one.");

        // The proof's id, and at resources the token it goes with (§4.2: ath = base64url(SHA-256(ASCII token))).
        if (WalletJwt.StringMember(claims, "jti") is not { Length: > 0 and <= MaxJtiLength } jti)
            return Invalid($"The DPoP proof's jti must be a string of 1 to {MaxJtiLength} characters.");
        if (request.AccessToken is { } accessToken)
        {
            if (WalletJwt.StringMember(claims, "ath") is not { } ath) return Invalid("The DPoP proof has no ath; it must carry the hash of the access token.");
            if (!string.Equals(ath, TokenHash(accessToken), StringComparison.Ordinal)) return Invalid("The DPoP proof's ath is not the hash of this access token.");
        }

        // Note: RFC 9449 §8, §9: a missing or stale nonce is answered with a fresh one, for the wallet to retry.
        if (requireNonce)
        {
            if (WalletJwt.StringMember(claims, "nonce") is not { } nonce)
                return UseNonce(tenantId, "The DPoP proof has no nonce; retry with the DPoP-Nonce given.");
            if (!nonces.IsValid(tenantId, nonce))
                return UseNonce(tenantId, "The DPoP proof's nonce is stale or unknown; retry with the DPoP-Nonce given.");
        }

        // Last, the one-time rule, decided by a unique key: a proof replayed on any host is refused.
        var thumbprint = WalletJwk.Thumbprint(key);
        if (!await replays.TryRecordAsync(JtiKey(thumbprint, jti), issuedAt + RecordLifetime, ct))
            return Invalid("The DPoP proof was replayed: its jti was used before.");
        return new ValidatedDpopProof(thumbprint, keyJson);
    }

    /// <summary>The key a jti is recorded under: SHA-256 of the key's thumbprint (43 characters) and the jti, so two keys' jtis never collide.</summary>
    public static byte[] JtiKey(string thumbprint, string jti) => SHA256.HashData(Encoding.UTF8.GetBytes($"{thumbprint}\n{jti}"));

    /// <summary>The ath of an access token (RFC 9449 §4.2): base64url SHA-256 of its ASCII.</summary>
    public static string TokenHash(string accessToken) => Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(accessToken)));

    private static DpopRefusal Invalid(string description) => new(DpopProblem.InvalidProof, description);

    private DpopRefusal UseNonce(string tenantId, string description) => new(DpopProblem.UseNonce, description, nonces.Mint(tenantId));

    private static Uri PublicTarget(string publicUrl)
    {
        if (!Uri.TryCreate(publicUrl, UriKind.Absolute, out var target) || target.Query.Length > 0 || target.Fragment.Length > 0)
            throw new ArgumentException("The public URL must be absolute, without query or fragment.", nameof(publicUrl));
        return target;
    }

    /// <summary>
    /// RFC 9449 §4.3 point 9: htu without its query and fragment, compared with the endpoint's URL after RFC 3986
    /// syntax- and scheme-based normalisation (scheme and host in any case, a default port written or not, dot
    /// segments); the path otherwise exactly. An htu that is not a well-formed absolute URI, or has user information,
    /// matches nothing.
    /// </summary>
    private static bool SameTarget(string htu, Uri target)
    {
        var end = htu.AsSpan().IndexOfAny('?', '#');
        var withoutQuery = end < 0 ? htu : htu[..end];
        if (!Uri.IsWellFormedUriString(withoutQuery, UriKind.Absolute) || !Uri.TryCreate(withoutQuery, UriKind.Absolute, out var uri)) return false;
        return string.Equals(uri.Scheme, target.Scheme, StringComparison.OrdinalIgnoreCase)
            && uri.UserInfo.Length == 0
            && string.Equals(uri.IdnHost, target.IdnHost, StringComparison.OrdinalIgnoreCase)
            && uri.Port == target.Port
            && string.Equals(uri.AbsolutePath, target.AbsolutePath, StringComparison.Ordinal);
    }
}
