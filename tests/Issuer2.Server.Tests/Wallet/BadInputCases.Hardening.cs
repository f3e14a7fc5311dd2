using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Issuer2.Server.Tests.Infrastructure;
using static Issuer2.Server.Tests.Wallet.BadInputWorld;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>The rows of issue 9's hardening: client authentication, the strict JWT rules, nonce spellings.</summary>
public static partial class BadInputCases
{
    private static readonly Dictionary<string, Func<BadInputWorld, Task<PreparedRequest>>> HardeningTable = new(StringComparer.Ordinal)
    {
        // ---- token endpoint: client authentication is refused, never ignored (RFC 6749 §2.3, §5.2) ----
        ["token: client authentication by an Authorization header"] = async w =>
        {
            var request = w.Token(Form(PreAuthorized((await w.CodeAsync()).Code)));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("wallet:secret")));
            return new(request, 401, "invalid_client");
        },
        ["token: client_secret in the body"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("client_id", "wallet"), ("client_secret", "secret")))), 401, "invalid_client"),
        ["token: client_assertion in the body"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("client_id", "wallet"),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), ("client_assertion", "a.b.c")))), 401, "invalid_client"),
        ["token: client_id with a control character"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("client_id", "wallet\u0001")))), 400, "invalid_request"),
        ["token: oversized client_id"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("client_id", new string('w', 256))))), 400, "invalid_request"),

        // ---- credential endpoint: JWS and JWT rules of the key proof (RFC 7515, RFC 7519, OID4VCI 1.0 Appendix F.1) ----
        ["credential: proof with a crit header naming an unknown extension"] = w =>
            RefusedProofAsync(w, (key, nonce) => Tweaked(key, w, nonce, h => { h["crit"] = new JsonArray("urn:example:unknown"); h["urn:example:unknown"] = true; }), "invalid_proof"),
        ["credential: proof with an empty crit header"] = w =>
            RefusedProofAsync(w, (key, nonce) => Tweaked(key, w, nonce, h => h["crit"] = new JsonArray()), "invalid_proof"),
        ["credential: proof with iat as a string"] = w =>
            RefusedProofAsync(w, (key, nonce) => WithClaims(key, w, nonce, p => p["iat"] = w.Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)), "invalid_proof"),
        ["credential: proof with an exp in the past"] = w =>
            RefusedProofAsync(w, (key, nonce) => WithClaims(key, w, nonce, p => p["exp"] = (w.Now - TimeSpan.FromMinutes(2)).ToUnixTimeSeconds()), "invalid_proof"),
        ["credential: proof with an nbf in the future"] = w =>
            RefusedProofAsync(w, (key, nonce) => WithClaims(key, w, nonce, p => p["nbf"] = (w.Now + TimeSpan.FromMinutes(2)).ToUnixTimeSeconds()), "invalid_proof"),
        ["credential: proof with exp as a string"] = w =>
            RefusedProofAsync(w, (key, nonce) => WithClaims(key, w, nonce, p => p["exp"] = "tomorrow"), "invalid_proof"),
        ["credential: proof with aud as an array holding the issuer"] = w =>
            RefusedProofAsync(w, (key, nonce) => WithClaims(key, w, nonce, p => p["aud"] = new JsonArray(w.Issuer)), "invalid_proof"),
        ["credential: proof with iss for an anonymous token"] = w =>
            RefusedProofAsync(w, (key, nonce) => WithClaims(key, w, nonce, p => p["iss"] = "some-wallet"), "invalid_proof"),
        ["credential: proof with iss as a number"] = w =>
            RefusedProofAsync(w, (key, nonce) => WithClaims(key, w, nonce, p => p["iss"] = 42), "invalid_proof"),
        ["credential: proof whose claims repeat a member"] = w =>
            RefusedProofAsync(w, (key, nonce) => key.SignRaw(key.ProofHeader().ToJsonString(),
                $"{{\"aud\":\"{w.Issuer}\",\"aud\":\"{w.Issuer}\",\"iat\":{w.Now.ToUnixTimeSeconds()},\"nonce\":\"{nonce}\"}}"), "invalid_proof"),
        ["credential: proof iss other than the token's client_id"] = async w =>
        {
            var offer = await w.OfferAsync();
            var token = await w.Wallet.TokenAsync(w.A.TenantId, PreAuthorized(await w.Wallet.ResolveCodeAsync(offer.OfferUrl), ("client_id", "wallet-a")));
            Assert.True(token.StatusCode == 200, $"token: {token}");
            var proof = WithClaims(w.Key, w, await w.NonceAsync(), p => p["iss"] = "wallet-b");
            return new(w.Credential(token.Text("access_token"), w.CredentialBody(proof)), 400, "invalid_proof", AllowedChange.CredentialRefusal, offer.Offer.OfferId);
        },

        // ---- credential endpoint: a used nonce stays used however it is spelled ----
        ["credential: used nonce with a space appended"] = w => UsedNonceSpelledAsync(w, n => n + " "),
        ["credential: used nonce with a leading space"] = w => UsedNonceSpelledAsync(w, n => " " + n),
        ["credential: used nonce with a newline inside"] = w => UsedNonceSpelledAsync(w, n => n[..10] + "\n" + n[10..]),
    };

    /// <summary>A proof with the valid claims changed by <paramref name="change"/>, signed by the holder key.</summary>
    private static string WithClaims(HolderKey key, BadInputWorld w, string nonce, Action<JsonObject> change)
    {
        var payload = HolderKey.ProofPayload(w.Issuer, nonce, w.Now);
        change(payload);
        return key.Sign(key.ProofHeader(), payload);
    }

    /// <summary>A credential issued with a nonce; a new session then sends that nonce respelled: invalid_nonce.</summary>
    private static async Task<PreparedRequest> UsedNonceSpelledAsync(BadInputWorld w, Func<string, string> respell)
    {
        var nonce = await w.NonceAsync();
        var (first, _) = await w.SessionAsync();
        var issued = await w.Wallet.CredentialAsync(w.A.TenantId, first, w.CredentialBody(w.ValidProof(nonce)));
        Assert.True(issued.StatusCode == 200, $"credential: {issued}");
        var (token, offer) = await w.SessionAsync();
        return new(w.Credential(token, w.CredentialBody(w.ValidProof(respell(nonce)))), 400, "invalid_nonce", AllowedChange.CredentialRefusal, offer.Offer.OfferId);
    }
}
