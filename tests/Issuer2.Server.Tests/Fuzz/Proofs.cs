using System.Security.Cryptography;
using System.Text;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>What the issuer must make of a key proof, the nonce aside: accept it, or refuse it as invalid_proof.</summary>
public enum ProofVerdict
{
    Valid,
    InvalidProof,
}

/// <summary>
/// The keys a fuzzed wallet signs with, made with System.Security.Cryptography alone: P-256 (the holder's, and
/// another), P-384, RSA-2048 and an HMAC secret, so a proof can be re-signed with another key or algorithm.
/// </summary>
public sealed class ProofKeys : IDisposable
{
    public ECDsa Holder { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ECDsa Other { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ECDsa P384 { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP384);

    public RSA Rsa { get; } = RSA.Create(2048);

    public byte[] Secret { get; } = RandomNumberGenerator.GetBytes(32);

    public static JObject Jwk(ECDsa key, bool withPrivate = false)
    {
        var p = key.ExportParameters(withPrivate);
        var crv = p.Curve.Oid.FriendlyName switch
        {
            "nistP256" or "ECDSA_P256" => "P-256",
            "nistP384" or "ECDSA_P384" => "P-384",
            var other => throw new InvalidOperationException(other),
        };
        var jwk = new JObject(("kty", JValue.Of("EC")), ("crv", JValue.Of(crv)), ("x", JValue.Of(B64(p.Q.X!))), ("y", JValue.Of(B64(p.Q.Y!))));
        return withPrivate ? jwk.Plus("d", JValue.Of(B64(p.D!))) : jwk;
    }

    public JObject RsaJwk()
    {
        var p = Rsa.ExportParameters(false);
        return new JObject(("kty", JValue.Of("RSA")), ("n", JValue.Of(B64(p.Modulus!))), ("e", JValue.Of(B64(p.Exponent!))));
    }

    public static string B64(byte[] bytes) => TestEnvironment.Base64Url(bytes);

    public static string Segment(JValue json, JsonStyle style = JsonStyle.Compact) => B64(Encoding.UTF8.GetBytes(JsonText.Write(json, style)));

    /// <summary>header.payload signed as <paramref name="alg"/> says, with the matching key ("none": no signature).</summary>
    public string Sign(string signingInput, string alg, ECDsa? ecKey = null) => signingInput + "." + alg switch
    {
        "ES256" => B64((ecKey ?? Holder).SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)),
        "ES384" => B64(P384.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)),
        "RS256" => B64(Rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)),
        "HS256" => B64(HMACSHA256.HashData(Secret, Encoding.ASCII.GetBytes(signingInput))),
        "none" => "",
        _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, null),
    };

    public void Dispose()
    {
        Holder.Dispose();
        Other.Dispose();
        P384.Dispose();
        Rsa.Dispose();
    }
}

/// <summary>One way to make a key proof (OID4VCI 1.0 Appendix F.1), valid or not, and what the issuer must say.</summary>
public sealed record ProofPlan(string Kind, ProofVerdict Verdict, Func<ProofKeys, ProofContext, string> Make)
{
    public override string ToString() => Kind;
}

/// <summary>What a proof is made for: the credential issuer (aud), the nonce, the host's clock.</summary>
public sealed record ProofContext(string Audience, string Nonce, DateTimeOffset Now, string OtherAudience);

/// <summary>The proofs the credential fuzzer sends: the valid ones a wallet may make, and every way to get one wrong.</summary>
public static class ProofPlans
{
    private const string Typ = "openid4vci-proof+jwt";

    public static JObject Header(ProofKeys k) => new(("typ", JValue.Of(Typ)), ("alg", JValue.Of("ES256")), ("jwk", ProofKeys.Jwk(k.Holder)));

    public static JObject Payload(ProofContext c) =>
        new(("aud", JValue.Of(c.Audience)), ("iat", JValue.Num(c.Now.ToUnixTimeSeconds())), ("nonce", JValue.Of(c.Nonce)));

    private static string Es256(ProofKeys k, JObject header, JObject payload, ECDsa? key = null) =>
        k.Sign(ProofKeys.Segment(header) + "." + ProofKeys.Segment(payload), "ES256", key);

    private static ProofPlan Valid(string kind, Func<ProofKeys, ProofContext, string> make) => new(kind, ProofVerdict.Valid, make);

    private static ProofPlan Invalid(string kind, Func<ProofKeys, ProofContext, string> make) => new(kind, ProofVerdict.InvalidProof, make);

    private static ProofPlan Header(string kind, ProofVerdict verdict, Func<ProofKeys, JObject, JObject> change) =>
        new(kind, verdict, (k, c) => Es256(k, change(k, Header(k)), Payload(c)));

    private static ProofPlan Payload(string kind, ProofVerdict verdict, Func<ProofContext, JObject, JObject> change) =>
        new(kind, verdict, (k, c) => Es256(k, Header(k), change(c, Payload(c))));

    private static ProofPlan Iat(string kind, ProofVerdict verdict, Func<DateTimeOffset, JValue> iat) =>
        Payload(kind, verdict, (c, p) => p.With("iat", iat(c.Now)));

    private static string DidJwk(JObject jwk) => "did:jwk:" + ProofKeys.Segment(jwk);

    private static string Tamper(string jwt, int part, Func<string, string> change)
    {
        var parts = jwt.Split('.');
        parts[part] = change(parts[part]);
        return string.Join('.', parts);
    }

    private static string Flip(string segment) => segment.Length == 0 ? "A" : segment[..^2] + (segment[^2] == 'A' ? 'B' : 'A') + segment[^1];

    /// <summary>Every plan, in a fixed order (the generator picks by index).</summary>
    public static readonly ProofPlan[] All =
    [
        // Valid: what wallets send, and the equivalent forms the issuer must accept just as well.
        Valid("valid", (k, c) => Es256(k, Header(k), Payload(c))),
        Valid("valid, spaced JSON", (k, c) => k.Sign(ProofKeys.Segment(Header(k), JsonStyle.Spaced) + "." + ProofKeys.Segment(Payload(c), JsonStyle.Spaced), "ES256")),
        Valid("valid, members in another order", (k, c) => Es256(k, new JObject([.. Header(k).Members.Reverse()]), new JObject([.. Payload(c).Members.Reverse()]))),
        Valid("valid, jti", (k, c) => Es256(k, Header(k), Payload(c).Plus("jti", JValue.Of(Guid.NewGuid().ToString())))),
        // OID4VCI 1.0 Appendix F.1: the fuzzer's tokens are anonymous (no client_id), so a proof must carry no iss.
        Invalid("iss for an anonymous token", (k, c) => Es256(k, Header(k), Payload(c).Plus("iss", JValue.Of("wallet-client")))),
        Header("valid, kid is did:jwk", ProofVerdict.Valid, (k, h) => h.Without("jwk").Plus("kid", JValue.Of(DidJwk(ProofKeys.Jwk(k.Holder))))),
        Header("valid, kid is did:jwk#0", ProofVerdict.Valid, (k, h) => h.Without("jwk").Plus("kid", JValue.Of(DidJwk(ProofKeys.Jwk(k.Holder)) + "#0"))),
        Header("valid, jwk with use and kid", ProofVerdict.Valid, (k, h) => h.With("jwk", ProofKeys.Jwk(k.Holder).Plus("use", JValue.Of("sig")).Plus("kid", JValue.Of("k1")))),
        Header("valid, header member nested 12 deep", ProofVerdict.Valid, (_, h) => h.Plus("n", JsonText.Nested(12))),
        // The JWT reader's JSON text rules: a header or claims nested deeper than 16 levels is no proof.
        Header("header member nested 40 deep", ProofVerdict.InvalidProof, (_, h) => h.Plus("n", JsonText.Nested(40))),
        Iat("valid, iat 300 s old", ProofVerdict.Valid, now => JValue.Num(now.ToUnixTimeSeconds() - 300)),
        Iat("valid, iat 60 s ahead", ProofVerdict.Valid, now => JValue.Num(now.ToUnixTimeSeconds() + 60)),

        // Re-signed with other keys and algorithms (none listed but ES256).
        new("ES384 with a P-384 jwk", ProofVerdict.InvalidProof, (k, c) =>
            k.Sign(ProofKeys.Segment(Header(k).With("alg", JValue.Of("ES384")).With("jwk", ProofKeys.Jwk(k.P384))) + "." + ProofKeys.Segment(Payload(c)), "ES384")),
        new("RS256 with an RSA jwk", ProofVerdict.InvalidProof, (k, c) =>
            k.Sign(ProofKeys.Segment(Header(k).With("alg", JValue.Of("RS256")).With("jwk", k.RsaJwk())) + "." + ProofKeys.Segment(Payload(c)), "RS256")),
        new("HS256", ProofVerdict.InvalidProof, (k, c) => k.Sign(ProofKeys.Segment(Header(k).With("alg", JValue.Of("HS256"))) + "." + ProofKeys.Segment(Payload(c)), "HS256")),
        new("alg none, no signature", ProofVerdict.InvalidProof, (k, c) => k.Sign(ProofKeys.Segment(Header(k).With("alg", JValue.Of("none"))) + "." + ProofKeys.Segment(Payload(c)), "none")),
        new("alg none with an ES256 signature", ProofVerdict.InvalidProof, (k, c) => Es256(k, Header(k).With("alg", JValue.Of("none")), Payload(c))),
        new("ES256 header, no signature", ProofVerdict.InvalidProof, (k, c) => k.Sign(ProofKeys.Segment(Header(k)) + "." + ProofKeys.Segment(Payload(c)), "none")),
        Header("alg es256 (lower case)", ProofVerdict.InvalidProof, (_, h) => h.With("alg", JValue.Of("es256"))),
        Header("alg missing", ProofVerdict.InvalidProof, (_, h) => h.Without("alg")),
        Header("alg a number", ProofVerdict.InvalidProof, (_, h) => h.With("alg", JValue.Num(256))),
        new("signed by another key than its jwk", ProofVerdict.InvalidProof, (k, c) => Es256(k, Header(k), Payload(c), k.Other)),
        Header("kid is another key's did:jwk", ProofVerdict.InvalidProof, (k, h) => h.Without("jwk").Plus("kid", JValue.Of(DidJwk(ProofKeys.Jwk(k.Other))))),
        Header("jwk of another key", ProofVerdict.InvalidProof, (k, h) => h.With("jwk", ProofKeys.Jwk(k.Other))),
        Header("jwk of the P-384 key", ProofVerdict.InvalidProof, (k, h) => h.With("jwk", ProofKeys.Jwk(k.P384))),
        Header("jwk with the private key", ProofVerdict.InvalidProof, (k, h) => h.With("jwk", ProofKeys.Jwk(k.Holder, withPrivate: true))),
        Header("jwk x too short", ProofVerdict.InvalidProof, (k, h) => h.With("jwk", ProofKeys.Jwk(k.Holder).With("x", JValue.Of("AAAA")))),
        Header("jwk x not base64url", ProofVerdict.InvalidProof, (k, h) => h.With("jwk", ProofKeys.Jwk(k.Holder).With("x", JValue.Of("!!not-base64!!")))),
        Header("jwk kty RSA", ProofVerdict.InvalidProof, (k, h) => h.With("jwk", k.RsaJwk())),
        Header("jwk a string", ProofVerdict.InvalidProof, (_, h) => h.With("jwk", JValue.Of("a key"))),
        Header("jwk and kid", ProofVerdict.InvalidProof, (k, h) => h.Plus("kid", JValue.Of(DidJwk(ProofKeys.Jwk(k.Holder))))),
        Header("neither jwk nor kid", ProofVerdict.InvalidProof, (_, h) => h.Without("jwk")),
        Header("kid not a did:jwk", ProofVerdict.InvalidProof, (_, h) => h.Without("jwk").Plus("kid", JValue.Of("https://wallet.example/keys/1"))),
        Header("kid did:jwk of no JSON", ProofVerdict.InvalidProof, (_, h) => h.Without("jwk").Plus("kid", JValue.Of("did:jwk:" + ProofKeys.B64("not json"u8.ToArray())))),
        Header("x5c", ProofVerdict.InvalidProof, (_, h) => h.Plus("x5c", new JArray(JValue.Of("MIIB")))),
        Header("typ JWT", ProofVerdict.InvalidProof, (_, h) => h.With("typ", JValue.Of("JWT"))),
        Header("typ missing", ProofVerdict.InvalidProof, (_, h) => h.Without("typ")),
        Header("typ in upper case", ProofVerdict.InvalidProof, (_, h) => h.With("typ", JValue.Of(Typ.ToUpperInvariant()))),
        Header("typ a number", ProofVerdict.InvalidProof, (_, h) => h.With("typ", JValue.Num(1))),

        // Bytes inside the JWT's JSON, which the body reader cannot see (base64url).
        Header("typ with a lone surrogate", ProofVerdict.InvalidProof, (_, h) => h.With("typ", JValue.Of(Typ + "\ud800"))),
        Header("jwk x with a lone surrogate", ProofVerdict.InvalidProof, (k, h) => h.With("jwk", ProofKeys.Jwk(k.Holder).With("x", JValue.Of("\udc00")))),
        Header("kid with a lone surrogate", ProofVerdict.InvalidProof, (k, h) => h.Without("jwk").Plus("kid", JValue.Of(DidJwk(ProofKeys.Jwk(k.Holder)) + "\ud800"))),
        Header("kid did:jwk with a lone surrogate in its jwk", ProofVerdict.InvalidProof, (k, h) => h.Without("jwk").Plus("kid", JValue.Of(DidJwk(ProofKeys.Jwk(k.Holder).With("crv", JValue.Of("P-256\ud800")))))),
        Header("header member nested 70 deep", ProofVerdict.InvalidProof, (_, h) => h.Plus("n", JsonText.Nested(70))),
        Payload("nonce with a lone surrogate", ProofVerdict.InvalidProof, (_, p) => p.With("nonce", JValue.Of("\ud800"))),
        Payload("aud with a lone surrogate", ProofVerdict.InvalidProof, (c, p) => p.With("aud", JValue.Of(c.Audience + "\udfff"))),

        // The payload's claims.
        Payload("aud of another tenant", ProofVerdict.InvalidProof, (c, p) => p.With("aud", JValue.Of(c.OtherAudience))),
        Payload("aud elsewhere", ProofVerdict.InvalidProof, (_, p) => p.With("aud", JValue.Of("https://elsewhere.example.com"))),
        Payload("aud with a trailing slash", ProofVerdict.InvalidProof, (c, p) => p.With("aud", JValue.Of(c.Audience + "/"))),
        Payload("aud missing", ProofVerdict.InvalidProof, (_, p) => p.Without("aud")),
        Payload("aud a number", ProofVerdict.InvalidProof, (_, p) => p.With("aud", JValue.Num(7))),
        Payload("iat missing", ProofVerdict.InvalidProof, (_, p) => p.Without("iat")),
        Iat("iat a string", ProofVerdict.InvalidProof, now => JValue.Of(now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture))),
        Iat("iat 301 s old", ProofVerdict.InvalidProof, now => JValue.Num(now.ToUnixTimeSeconds() - 301)),
        Iat("iat 61 s ahead", ProofVerdict.InvalidProof, now => JValue.Num(now.ToUnixTimeSeconds() + 61)),
        Iat("iat in the year 33658", ProofVerdict.InvalidProof, _ => JValue.Num(1_000_000_000_000)),
        Iat("iat before year 1", ProofVerdict.InvalidProof, _ => JValue.Num(-1_000_000_000_000)),
        Iat("iat of 400 digits", ProofVerdict.InvalidProof, _ => new JNumber("1" + new string('0', 399))),
        Payload("nonce missing", ProofVerdict.InvalidProof, (_, p) => p.Without("nonce")),
        Payload("nonce empty", ProofVerdict.InvalidProof, (_, p) => p.With("nonce", JValue.Of(""))),

        // The compact form itself.
        new("truncated", ProofVerdict.InvalidProof, (k, c) => Es256(k, Header(k), Payload(c))[..^7]),
        new("two parts", ProofVerdict.InvalidProof, (k, c) => string.Join('.', Es256(k, Header(k), Payload(c)).Split('.').Take(2))),
        new("four parts", ProofVerdict.InvalidProof, (k, c) => Es256(k, Header(k), Payload(c)) + ".AAAA"),
        new("tampered payload", ProofVerdict.InvalidProof, (k, c) => Tamper(Es256(k, Header(k), Payload(c)), 1, _ => ProofKeys.Segment(Payload(c).Plus("jti", JValue.Of("x"))))),
        new("tampered signature", ProofVerdict.InvalidProof, (k, c) => Tamper(Es256(k, Header(k), Payload(c)), 2, Flip)),
        new("signature not base64url", ProofVerdict.InvalidProof, (k, c) => Tamper(Es256(k, Header(k), Payload(c)), 2, s => s[..10] + "+/=" + s[13..])),
        new("header not base64url", ProofVerdict.InvalidProof, (k, c) => Tamper(Es256(k, Header(k), Payload(c)), 0, s => "!!" + s)),
        new("header no JSON", ProofVerdict.InvalidProof, (k, c) => k.Sign(ProofKeys.B64("typ=jwt"u8.ToArray()) + "." + ProofKeys.Segment(Payload(c)), "ES256")),
        new("payload no JSON", ProofVerdict.InvalidProof, (k, c) => k.Sign(ProofKeys.Segment(Header(k)) + "." + ProofKeys.B64("nonce"u8.ToArray()), "ES256")),
        new("header a JSON array", ProofVerdict.InvalidProof, (k, c) => k.Sign(ProofKeys.Segment(new JArray(Header(k))) + "." + ProofKeys.Segment(Payload(c)), "ES256")),
        new("empty", ProofVerdict.InvalidProof, (_, _) => ""),
        new("dots only", ProofVerdict.InvalidProof, (_, _) => ".."),
    ];
}
