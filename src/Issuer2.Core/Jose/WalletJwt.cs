using System.Buffers.Text;
using System.Text.Json;
using Issuer2.Core.Common;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Jose;

/// <summary>The header and claims of a compact JWS a wallet sent, as read by <see cref="WalletJwt.Read"/>.</summary>
public sealed class ReadJwt : IDisposable
{
    private readonly JsonDocument _header;
    private readonly JsonDocument _payload;

    internal ReadJwt(string compact, JsonDocument header, JsonDocument payload)
    {
        Compact = compact;
        _header = header;
        _payload = payload;
    }

    public string Compact { get; }

    public JsonElement Header => _header.RootElement;

    public JsonElement Payload => _payload.RootElement;

    public string? Typ => WalletJwt.StringMember(Header, "typ");

    public string? Alg => WalletJwt.StringMember(Header, "alg");

    public DateTimeOffset? IssuedAt => WalletJwt.NumericDate(Payload, "iat");

    public string? Issuer => WalletJwt.StringMember(Payload, "iss");

    public void Dispose()
    {
        _header.Dispose();
        _payload.Dispose();
    }
}

/// <summary>What a JWT's time claims are checked against.</summary>
public sealed record JwtTimes(DateTimeOffset Now, TimeSpan ClockSkew);

/// <summary>
/// The one strict reader of every JWT a wallet sends (key proofs now; DPoP proofs and attestations later), by the
/// rules of RFC 7515 and RFC 7519 that Microsoft.IdentityModel leaves to the application: a compact JWS of three
/// parts whose header and claims are UTF-8 JSON objects without repeated members, within the JSON text rules of
/// every wallet request (<see cref="JsonText"/>); no <c>crit</c> header naming an
/// extension this issuer does not understand (it understands none, RFC 7515 §4.1.11); registered claims of their
/// registered types (<c>iat</c>, <c>exp</c>, <c>nbf</c> numbers; <c>iss</c>, <c>sub</c>, <c>jti</c> strings;
/// <c>aud</c> a string or an array of strings); an <c>exp</c> not passed and an <c>nbf</c> reached, within the clock
/// skew. The signature is checked afterwards by Microsoft.IdentityModel; the claims each JWT type requires are its
/// validator's.
/// </summary>
public static class WalletJwt
{
    public const int MaxLength = 16_384;

    /// <summary>Extensions named in <c>crit</c> this issuer understands: none.</summary>
    public static readonly IReadOnlySet<string> UnderstoodCriticalHeaders = new HashSet<string>(StringComparer.Ordinal);

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 16 };

    // Note: each wallet key is used for one check and disposed, so no signature provider is cached for it.
    private static readonly CryptoProviderFactory Providers = new() { CacheSignatureProviders = false };

    private static readonly string[] NumericClaims = ["iat", "exp", "nbf"];
    private static readonly string[] StringClaims = ["iss", "sub", "jti"];

    /// <summary>The JWT, or why it is not one this issuer reads (a sentence for error_description).</summary>
    /// <summary>
    /// Reads <paramref name="compact"/>; with <paramref name="times"/> null, <c>exp</c> and <c>nbf</c> are left to the
    /// caller (a validator that must tell an expired token from a malformed one).
    /// </summary>
    public static (ReadJwt? Jwt, string? Problem) Read(string? compact, JwtTimes? times)
    {
        if (string.IsNullOrEmpty(compact) || compact.Length > MaxLength) return (null, "is not a compact JWT");
        var parts = compact.Split('.');
        if (parts.Length != 3 || parts[0].Length == 0 || parts[1].Length == 0 || parts[2].Length == 0) return (null, "is not a compact JWS of three parts");

        var header = Object(parts[0]);
        if (header is null) return (null, "has a header that is not a base64url JSON object without repeated members");
        var payload = Object(parts[1]);
        if (payload is null)
        {
            header.Dispose();
            return (null, "has claims that are not a base64url JSON object without repeated members");
        }
        var jwt = new ReadJwt(compact, header, payload);
        var problem = HeaderProblem(jwt.Header) ?? ClaimsProblem(jwt.Payload, times);
        if (problem is null) return (jwt, null);
        jwt.Dispose();
        return (null, problem);
    }

    /// <summary>
    /// Whether the JWS's signature verifies with the P-256 key <paramref name="key"/> by its header's alg, which must be
    /// one of <paramref name="algorithms"/> (RFC 7515 §5.2, by Microsoft.IdentityModel's signature provider over the
    /// signing input). Only the signature: typ and the claims each JWT type requires are its validator's, on what the
    /// strict reader read.
    /// </summary>
    public static bool SignatureVerifies(ReadJwt jwt, JsonWebKey key, IReadOnlyList<string> algorithms)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(algorithms);
        if (jwt.Alg is not { } alg || !algorithms.Contains(alg, StringComparer.Ordinal)) return false;
        var compact = jwt.Compact;
        var signatureStart = compact.LastIndexOf('.') + 1;
        try
        {
            var signature = Base64Url.DecodeFromChars(compact.AsSpan(signatureStart));
            // The signing input: ASCII(BASE64URL(header) || '.' || BASE64URL(payload)); the strict reader checked its characters.
            var input = System.Text.Encoding.ASCII.GetBytes(compact, 0, signatureStart - 1);
            using var ecdsa = EcPublicKey.P256(Base64Url.DecodeFromChars(key.X), Base64Url.DecodeFromChars(key.Y));
            var provider = Providers.CreateForVerifying(new ECDsaSecurityKey(ecdsa), alg);
            try
            {
                return provider.Verify(input, signature);
            }
            finally
            {
                Providers.ReleaseSignatureProvider(provider);
            }
        }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException or ArgumentException or NotSupportedException)
        {
            return false;
        }
    }

    private static string? HeaderProblem(JsonElement header)
    {
        if (!header.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String) return "has no alg header";
        if (header.TryGetProperty("typ", out var typ) && typ.ValueKind != JsonValueKind.String) return "has a typ header that is not a string";
        if (header.TryGetProperty("crit", out var crit))
        {
            // RFC 7515 §4.1.11: a non-empty array of names, each understood, or the JWS is invalid.
            if (crit.ValueKind != JsonValueKind.Array || crit.GetArrayLength() == 0) return "has a crit header that is not a non-empty array";
            foreach (var name in crit.EnumerateArray())
            {
                if (name.ValueKind != JsonValueKind.String || !UnderstoodCriticalHeaders.Contains(name.GetString()!))
                    return "names a critical header extension (crit) this issuer does not understand";
            }
        }
        return null;
    }

    private static string? ClaimsProblem(JsonElement claims, JwtTimes? times)
    {
        foreach (var name in NumericClaims)
        {
            if (claims.TryGetProperty(name, out var value) && (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out _)))
                return $"has a {name} claim that is not a NumericDate (a number)";
        }
        foreach (var name in StringClaims)
        {
            if (claims.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.String) return $"has a {name} claim that is not a string";
        }
        if (claims.TryGetProperty("aud", out var aud)
            && aud.ValueKind != JsonValueKind.String
            && !(aud.ValueKind == JsonValueKind.Array && aud.EnumerateArray().All(a => a.ValueKind == JsonValueKind.String)))
            return "has an aud claim that is neither a string nor an array of strings";
        if (times is null) return null;
        if (NumericDate(claims, "exp") is { } exp && exp <= times.Now - times.ClockSkew) return "has expired (exp)";
        if (NumericDate(claims, "nbf") is { } nbf && nbf > times.Now + times.ClockSkew) return "is not valid yet (nbf)";
        return null;
    }

    private static JsonDocument? Object(string part)
    {
        try
        {
            var json = Base64Url.DecodeFromChars(part);
            // The JSON text rules of every wallet request: no lone surrogate or control character in a string, no
            // overlong number or container, so no later reader of a member can fail on it.
            if (!System.Text.Unicode.Utf8.IsValid(json) || JsonText.Problem(json, Strict.MaxDepth, out _) is not null) return null;
            var doc = JsonDocument.Parse(json, Strict);
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
            doc.Dispose();
            return null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    internal static string? StringMember(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A NumericDate claim (RFC 7519 §2): seconds since the epoch, fractions allowed; null when absent or out of range.</summary>
    internal static DateTimeOffset? NumericDate(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var seconds)) return null;
        const double Min = -62135596800, Max = 253402300799;
        return seconds is >= Min and <= Max ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)) : null;
    }
}
