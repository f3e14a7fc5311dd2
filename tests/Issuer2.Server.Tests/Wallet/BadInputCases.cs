using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using static Issuer2.Server.Tests.Wallet.BadInputWorld;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// The table of bad wallet requests: for each, how to make it (everything it needs is set up before the database
/// snapshot) and the spec's answer — status, error code and the change it may cause.
/// </summary>
public static partial class BadInputCases
{
    private const string Json = "application/json";

    private static readonly Dictionary<string, Func<BadInputWorld, Task<PreparedRequest>>> Table = new(StringComparer.Ordinal)
    {
        // ---- token endpoint: the request's shape (RFC 6749 §5.2, OID4VCI 1.0 §6) ----
        ["token: bad form encoding (%zz)"] = async w =>
            new(w.Token(RawForm($"grant_type={Uri.EscapeDataString(TestWallet.PreAuthorizedGrant)}&pre-authorized_code=%zz{(await w.CodeAsync()).Code}")), 400, "invalid_request"),
        ["token: duplicate pre-authorized_code parameter"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("pre-authorized_code", "other")))), 400, "invalid_request"),
        ["token: duplicate grant_type parameter"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("grant_type", TestWallet.PreAuthorizedGrant)))), 400, "invalid_request"),
        ["token: JSON body instead of a form"] = async w =>
            new(w.Token(TestWallet.Raw($"{{\"grant_type\":\"{TestWallet.PreAuthorizedGrant}\",\"pre-authorized_code\":\"{(await w.CodeAsync()).Code}\"}}", Json)), 400, "invalid_request"),
        ["token: no body and no content type"] = w => Done(new(w.Token(null), 400, "invalid_request")),
        ["token: oversized body"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("padding", Oversized)))), 400, "invalid_request"),
        ["token: missing grant_type"] = async w =>
            new(w.Token(Form(("pre-authorized_code", (await w.CodeAsync()).Code))), 400, "invalid_request"),
        ["token: unsupported grant_type"] = async w =>
            new(w.Token(Form(("grant_type", "authorization_code"), ("code", (await w.CodeAsync()).Code))), 400, "unsupported_grant_type"),
        ["token: missing pre-authorized_code"] = w => Done(new(w.Token(Form(("grant_type", TestWallet.PreAuthorizedGrant))), 400, "invalid_request")),
        ["token: empty pre-authorized_code"] = w => Done(new(w.Token(Form(PreAuthorized(""))), 400, "invalid_request")),
        ["token: unknown pre-authorized_code"] = w => Done(new(w.Token(Form(PreAuthorized(TestEnvironment.RandomText(43)))), 400, "invalid_grant")),
        ["token: oversized pre-authorized_code"] = w => Done(new(w.Token(Form(PreAuthorized(TestEnvironment.RandomText(4000)))), 400, "invalid_grant")),
        ["token: another tenant's pre-authorized_code"] = async w =>
        {
            var offerOfB = await ServerFixture.CreateOfferAsync(w.B, w.ProfileOfB);
            return new(w.Token(Form(PreAuthorized(await w.Wallet.ResolveCodeAsync(offerOfB.OfferUrl)))), 400, "invalid_grant");
        },
        ["token: authorization_details not JSON"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("authorization_details", "{not json")))), 400, "invalid_authorization_details"),
        ["token: authorization_details of the wrong type"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("authorization_details", "[{\"type\":\"openid_credential\",\"credential_configuration_id\":42}]")))), 400, "invalid_authorization_details"),
        ["token: GET"] = w => Done(new(w.Send(HttpMethod.Get, $"/{w.A.TenantId}/token"), 405, "invalid_request")),
        ["token: PUT"] = w => Done(new(w.Send(HttpMethod.Put, $"/{w.A.TenantId}/token"), 405, "invalid_request")),

        // ---- token endpoint: bytes (issue 9 §1): refused by the form reader, before any code is looked up ----
        ["token: invalid UTF-8 byte in a value"] = async w => new(w.Token(Bytes([.. Ascii(PreAuthorizedForm((await w.CodeAsync()).Code)), 0xFF], FormType)), 400, "invalid_request"),
        ["token: percent-encoded invalid UTF-8 (%FF)"] = async w => new(w.Token(RawForm(PreAuthorizedForm((await w.CodeAsync()).Code) + "%FF", FormType)), 400, "invalid_request"),
        ["token: percent-encoded overlong UTF-8 (%C0%AF)"] = async w => new(w.Token(RawForm(PreAuthorizedForm((await w.CodeAsync()).Code) + "%C0%AF", FormType)), 400, "invalid_request"),
        ["token: percent-encoded UTF-8 surrogate (%ED%A0%80)"] = async w => new(w.Token(RawForm(PreAuthorizedForm((await w.CodeAsync()).Code) + "%ED%A0%80", FormType)), 400, "invalid_request"),
        ["token: %00 in pre-authorized_code"] = async w => new(w.Token(RawForm(PreAuthorizedForm((await w.CodeAsync()).Code) + "%00", FormType)), 400, "invalid_request"),
        ["token: raw NUL byte in a value"] = async w => new(w.Token(Bytes([.. Ascii(PreAuthorizedForm((await w.CodeAsync()).Code)), 0x00], FormType)), 400, "invalid_request"),
        ["token: %00 in the tx_code of an offer with a PIN"] = async w =>
        {
            var (code, offer) = await w.CodeAsync(r => r.TxCode = new TxCodeOptions { Length = 6 });
            return new(w.Token(RawForm(PreAuthorizedForm(code) + "&tx_code=" + offer.TxCode + "%00", FormType)), 400, "invalid_request");
        },
        ["token: control character (%01) in grant_type"] = async w =>
            new(w.Token(RawForm($"grant_type=%01{Uri.EscapeDataString(TestWallet.PreAuthorizedGrant)}&pre-authorized_code={(await w.CodeAsync()).Code}", FormType)), 400, "invalid_request"),
        ["token: lone surrogate in authorization_details"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("authorization_details", "[{\"type\":\"openid_credential\",\"credential_configuration_id\":\"\\ud800\"}]")))), 400, "invalid_request"),
        ["token: escaped NUL in authorization_details"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("authorization_details", $"[{{\"type\":\"openid_credential\",\"credential_configuration_id\":\"{w.Granted.ProfileId}\\u0000\"}}]")))), 400, "invalid_request"),
        ["token: 400-digit number in authorization_details"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("authorization_details", $"[{{\"type\":\"openid_credential\",\"credential_configuration_id\":{LongNumber(400)}}}]")))), 400, "invalid_request"),
        ["token: authorization_details array of 200 entries"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("authorization_details", ZerosArray(200))))), 400, "invalid_request"),
        ["token: authorization_details nested 100 deep"] = async w =>
            new(w.Token(Form(PreAuthorized((await w.CodeAsync()).Code, ("authorization_details", Nested(100))))), 400, "invalid_authorization_details"),
        ["token: charset=latin1"] = async w => new(w.Token(RawForm(PreAuthorizedForm((await w.CodeAsync()).Code), FormType + "; charset=latin1")), 400, "invalid_request"),
        ["token: charset=utf-16"] = async w => new(w.Token(RawForm(PreAuthorizedForm((await w.CodeAsync()).Code), FormType + "; charset=utf-16")), 400, "invalid_request"),
        ["token: byte order mark"] = async w => new(w.Token(Bytes([0xEF, 0xBB, 0xBF, .. Ascii(PreAuthorizedForm((await w.CodeAsync()).Code))], FormType)), 400, "invalid_request"),

        // ---- token endpoint: requests that name a known offer (one token.refused event) ----
        ["token: used pre-authorized_code"] = async w =>
        {
            var (code, offer) = await w.CodeAsync(r => r.MaxUses = 2);
            Assert.Equal(200, (await w.Wallet.RedeemCodeAsync(w.A.TenantId, code)).StatusCode);
            return new(w.Token(Form(PreAuthorized(code))), 400, "invalid_grant", AllowedChange.TokenRefusal, offer.Offer.OfferId);
        },
        ["token: code of a revoked offer"] = async w =>
        {
            var (code, offer) = await w.CodeAsync();
            await w.A.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name });
            return new(w.Token(Form(PreAuthorized(code))), 400, "invalid_grant", AllowedChange.TokenRefusal, offer.Offer.OfferId);
        },
        ["token: missing tx_code for an offer with a PIN"] = async w =>
        {
            var (code, offer) = await w.CodeAsync(r => r.TxCode = new TxCodeOptions());
            return new(w.Token(Form(PreAuthorized(code))), 400, "invalid_request", AllowedChange.TokenRefusal, offer.Offer.OfferId);
        },
        ["token: unexpected tx_code for an offer without a PIN"] = async w =>
        {
            var (code, offer) = await w.CodeAsync();
            return new(w.Token(Form(PreAuthorized(code, ("tx_code", "123456")))), 400, "invalid_request", AllowedChange.TokenRefusal, offer.Offer.OfferId);
        },
        ["token: wrong tx_code"] = async w =>
        {
            var (code, offer) = await w.CodeAsync(r => r.TxCode = new TxCodeOptions { Length = 6 });
            var wrong = offer.TxCode == "000000" ? "111111" : "000000";
            return new(w.Token(Form(PreAuthorized(code, ("tx_code", wrong)))), 400, "invalid_grant", AllowedChange.WrongPin, offer.Offer.OfferId);
        },
        ["token: authorization_details for a configuration the offer does not grant"] = async w =>
        {
            var (code, offer) = await w.CodeAsync();
            var details = new JsonArray(new JsonObject { ["type"] = "openid_credential", ["credential_configuration_id"] = w.Other.ProfileId });
            return new(w.Token(Form(PreAuthorized(code, ("authorization_details", details.ToJsonString())))), 400, "invalid_authorization_details", AllowedChange.TokenRefusal, offer.Offer.OfferId);
        },

        // ---- nonce and offer endpoints ----
        ["nonce: GET"] = w => Done(new(w.Send(HttpMethod.Get, $"/{w.A.TenantId}/nonce"), 405, "invalid_request")),
        ["nonce: unknown tenant"] = w => Done(new(w.Send(HttpMethod.Post, $"/{ServerFixture.NewTenantId()}/nonce"), 404, "not_found")),
        ["offer: POST"] = async w =>
        {
            var offer = await w.OfferAsync();
            return new(new HttpRequestMessage(HttpMethod.Post, w.Wallet.OnThisHost(OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri!)), 405, "invalid_request");
        },
        ["offer: unknown uri token"] = w => Done(new(w.Send(HttpMethod.Get, $"/{w.A.TenantId}/offers/{TestEnvironment.RandomText(43)}"), 404, "not_found")),
        ["offer: oversized uri token"] = w => Done(new(w.Send(HttpMethod.Get, $"/{w.A.TenantId}/offers/{TestEnvironment.RandomText(3000)}"), 404, "not_found")),
        ["offer: another tenant's uri token"] = async w =>
        {
            var offerOfB = await ServerFixture.CreateOfferAsync(w.B, w.ProfileOfB);
            var token = OfferUrl.Parse(offerOfB.OfferUrl).TokenUnder(w.B.Tenant.CredentialIssuer);
            return new(w.Send(HttpMethod.Get, $"/{w.A.TenantId}/offers/{token}"), 404, "not_found");
        },
        ["offer: %FF in the uri token"] = async w => new(w.SendRaw(HttpMethod.Get, $"/{w.A.TenantId}/offers/{await w.UriTokenAsync()}%FF"), 400, "invalid_request"),
        ["offer: control character (%01) in the uri token"] = async w => new(w.SendRaw(HttpMethod.Get, $"/{w.A.TenantId}/offers/{await w.UriTokenAsync()}%01"), 400, "invalid_request"),
        ["offer: encoded slash (%2F) in the uri token"] = async w => new(w.SendRaw(HttpMethod.Get, $"/{w.A.TenantId}/offers/%2F{await w.UriTokenAsync()}"), 400, "invalid_request"),
        ["offer: non-ASCII (%C3%A4) in the uri token"] = async w => new(w.SendRaw(HttpMethod.Get, $"/{w.A.TenantId}/offers/{await w.UriTokenAsync()}%C3%A4"), 400, "invalid_request"),
        ["offer: %FF in the tenant"] = async w => new(w.SendRaw(HttpMethod.Get, $"/{w.A.TenantId}%FF/offers/{await w.UriTokenAsync()}"), 400, "invalid_request"),
        ["nonce: %FF in the tenant"] = w => Done(new(w.SendRaw(HttpMethod.Post, $"/{w.A.TenantId}%FF/nonce"), 404, "not_found")),
        ["nonce: control character (%01) in the tenant"] = w => Done(new(w.SendRaw(HttpMethod.Post, $"/{w.A.TenantId}%01/nonce"), 404, "not_found")),
        ["metadata: %FF in the tenant"] = w => Done(new(w.SendRaw(HttpMethod.Get, $"/.well-known/openid-credential-issuer/{w.A.TenantId}%FF"), 404, "not_found")),
        ["metadata: control character (%01) in the tenant"] = w => Done(new(w.SendRaw(HttpMethod.Get, $"/{w.A.TenantId}%01/.well-known/oauth-authorization-server"), 404, "not_found")),
        ["metadata: POST"] = w => Done(new(w.Send(HttpMethod.Post, $"/.well-known/openid-credential-issuer/{w.A.TenantId}"), 405, "invalid_request")),
        ["metadata: unknown tenant"] = w => Done(new(w.Send(HttpMethod.Get, $"/.well-known/openid-credential-issuer/{ServerFixture.NewTenantId()}"), 404, "not_found")),

        // ---- credential endpoint: the access token (RFC 6750 §3.1) ----
        ["credential: no Authorization header"] = async w =>
            new(w.Credential(null, w.CredentialBody(w.ValidProof(await w.NonceAsync()))), 401, "invalid_token"),
        ["credential: Basic instead of Bearer"] = async w =>
        {
            var (token, _) = await w.SessionAsync();
            var request = w.Credential(null, w.CredentialBody(w.ValidProof(await w.NonceAsync())));
            request.Headers.TryAddWithoutValidation("Authorization", "Basic " + token);
            return new(request, 401, "invalid_token");
        },
        ["credential: unknown access token"] = async w =>
            new(w.Credential(TestEnvironment.RandomText(43), w.CredentialBody(w.ValidProof(await w.NonceAsync()))), 401, "invalid_token"),
        ["credential: oversized access token"] = async w =>
            new(w.Credential(TestEnvironment.RandomText(5000), w.CredentialBody(w.ValidProof(await w.NonceAsync()))), 401, "invalid_token"),
        ["credential: another tenant's access token"] = async w =>
            new(w.Credential(await w.SessionOfBAsync(), w.CredentialBody(w.ValidProof(await w.NonceAsync()))), 401, "invalid_token"),
        ["credential: GET"] = w => Done(new(w.Send(HttpMethod.Get, $"/{w.A.TenantId}/credential"), 405, "invalid_request")),

        // ---- credential endpoint: the body's shape, before it is read as a request (nothing written) ----
        ["credential: body is not JSON"] = async w =>
            new(w.Credential((await w.SessionAsync()).AccessToken, TestWallet.Raw("{\"credential_configuration_id\":", Json)), 400, "invalid_credential_request"),
        ["credential: duplicate JSON member"] = async w =>
            new(w.Credential((await w.SessionAsync()).AccessToken, TestWallet.Raw($"{{\"credential_configuration_id\":\"{w.Granted.ProfileId}\",\"credential_configuration_id\":\"{w.Granted.ProfileId}\"}}", Json)), 400, "invalid_credential_request"),
        ["credential: form content type"] = async w =>
            new(w.Credential((await w.SessionAsync()).AccessToken, Form(("credential_configuration_id", w.Granted.ProfileId))), 400, "invalid_credential_request"),
        ["credential: oversized body"] = async w =>
        {
            var (token, _) = await w.SessionAsync();
            var body = w.CredentialBody(w.ValidProof(await w.NonceAsync()));
            body["padding"] = Oversized;
            return new(w.Credential(token, body), 400, "invalid_credential_request");
        },

        // ---- credential endpoint: bytes (issue 9 §1): refused by the JSON reader, before a request is read (nothing written) ----
        ["credential: lone high surrogate in credential_configuration_id"] = w => UnreadCredentialAsync(w, (id, proof) => $"{{\"credential_configuration_id\":\"{id}\\ud800\",\"proofs\":{{\"jwt\":[\"{proof}\"]}}}}"),
        ["credential: lone low surrogate in the proof"] = w => UnreadCredentialAsync(w, (id, proof) => $"{{\"credential_configuration_id\":\"{id}\",\"proofs\":{{\"jwt\":[\"\\udc00{proof}\"]}}}}"),
        ["credential: escaped NUL in credential_configuration_id"] = w => UnreadCredentialAsync(w, (id, proof) => $"{{\"credential_configuration_id\":\"{id}\\u0000\",\"proofs\":{{\"jwt\":[\"{proof}\"]}}}}"),
        ["credential: escaped control character in a member name"] = w => UnreadCredentialAsync(w, (id, proof) => $"{{\"credential_configuration_id\\u0001\":\"{id}\",\"proofs\":{{\"jwt\":[\"{proof}\"]}}}}"),
        ["credential: raw NUL byte in a string"] = w => UnreadCredentialAsync(w, (id, proof) => $"{{\"credential_configuration_id\":\"{id}\0\",\"proofs\":{{\"jwt\":[\"{proof}\"]}}}}"),
        ["credential: invalid UTF-8 byte in a string"] = w => UnreadCredentialBytesAsync(w, [0xFF]),
        ["credential: overlong UTF-8 (C0 AF) in a string"] = w => UnreadCredentialBytesAsync(w, [0xC0, 0xAF]),
        ["credential: UTF-8-encoded surrogate (ED A0 80) in a string"] = w => UnreadCredentialBytesAsync(w, [0xED, 0xA0, 0x80]),
        ["credential: 400-digit number in an extra member"] = w => UnreadCredentialAsync(w, (id, proof) => $"{{\"n\":{LongNumber(400)},\"credential_configuration_id\":\"{id}\",\"proofs\":{{\"jwt\":[\"{proof}\"]}}}}"),
        ["credential: 400-digit number as credential_configuration_id"] = w => UnreadCredentialAsync(w, (_, proof) => $"{{\"credential_configuration_id\":{LongNumber(400)},\"proofs\":{{\"jwt\":[\"{proof}\"]}}}}"),
        ["credential: extra member nested 100 deep"] = w => UnreadCredentialAsync(w, (id, proof) => $"{{\"n\":{Nested(100)},\"credential_configuration_id\":\"{id}\",\"proofs\":{{\"jwt\":[\"{proof}\"]}}}}"),
        ["credential: extra member with an array of 5,000 entries"] = w => UnreadCredentialAsync(w, (id, proof) => $"{{\"n\":{ZerosArray(5000)},\"credential_configuration_id\":\"{id}\",\"proofs\":{{\"jwt\":[\"{proof}\"]}}}}"),
        ["credential: 101 proofs"] = w => UnreadCredentialAsync(w, (id, proof) => $"{{\"credential_configuration_id\":\"{id}\",\"proofs\":{{\"jwt\":[{string.Join(',', Enumerable.Repeat($"\"{proof}\"", 101))}]}}}}"),
        ["credential: charset=latin1"] = w => UnreadCredentialAsync(w, ValidCredentialJson, Json + "; charset=latin1"),
        ["credential: charset=utf-16"] = w => UnreadCredentialAsync(w, ValidCredentialJson, Json + "; charset=utf-16"),
        ["credential: byte order mark"] = w => UnreadCredentialAsync(w, (id, proof) => "\uFEFF" + ValidCredentialJson(id, proof)),

        // ---- credential endpoint: the request (OID4VCI 1.0 §8.2), one credential.refused event ----
        ["credential: body is an array"] = async w =>
        {
            var (token, offer) = await w.SessionAsync();
            return new(w.Credential(token, new JsonArray(w.CredentialBody(w.ValidProof(await w.NonceAsync())))), 400, "invalid_credential_request", AllowedChange.CredentialRefusal, offer.Offer.OfferId);
        },
        ["credential: credential_configuration_id is a number"] = w => RefusedCredentialAsync(w, b => b["credential_configuration_id"] = 42, "invalid_credential_request"),
        ["credential: both credential_configuration_id and credential_identifier"] = w =>
            RefusedCredentialAsync(w, b => b["credential_identifier"] = w.Granted.ProfileId, "invalid_credential_request"),
        ["credential: neither credential_configuration_id nor credential_identifier"] = w =>
            RefusedCredentialAsync(w, b => b.Remove("credential_configuration_id"), "invalid_credential_request"),
        ["credential: configuration of the tenant the token does not grant"] = w =>
            RefusedCredentialAsync(w, b => b["credential_configuration_id"] = w.Other.ProfileId, "credential_request_denied"),
        ["credential: unknown credential_configuration_id"] = w =>
            RefusedCredentialAsync(w, b => b["credential_configuration_id"] = "no-such-configuration", "unknown_credential_configuration"),
        ["credential: another tenant's credential_configuration_id"] = w =>
            RefusedCredentialAsync(w, b => b["credential_configuration_id"] = w.ProfileOfB.ProfileId, "unknown_credential_configuration"),
        ["credential: the pre-1.0 proof member"] = w =>
            RefusedCredentialAsync(w, b => b["proof"] = new JsonObject { ["proof_type"] = "jwt", ["jwt"] = b["proofs"]!["jwt"]![0]!.GetValue<string>() }, "invalid_credential_request"),
        ["credential: missing proofs"] = w => RefusedCredentialAsync(w, b => b.Remove("proofs"), "invalid_proof"),
        ["credential: proofs is a string"] = w => RefusedCredentialAsync(w, b => b["proofs"] = "jwt", "invalid_credential_request"),
        ["credential: proofs.jwt is empty"] = w => RefusedCredentialAsync(w, b => b["proofs"] = new JsonObject { ["jwt"] = new JsonArray() }, "invalid_proof"),
        ["credential: proofs of an unsupported type"] = w =>
            RefusedCredentialAsync(w, b => b["proofs"] = new JsonObject { ["ldp_vp"] = new JsonArray(new JsonObject()) }, "invalid_proof"),
        ["credential: two proofs"] = w =>
            RefusedCredentialAsync(w, b => b["proofs"]!["jwt"]!.AsArray().Add(b["proofs"]!["jwt"]![0]!.GetValue<string>()), "invalid_credential_request"),
        ["credential: proof is a number"] = w => RefusedCredentialAsync(w, b => b["proofs"] = new JsonObject { ["jwt"] = new JsonArray(42) }, "invalid_proof"),

        // ---- credential endpoint: the key proof (OID4VCI 1.0 Appendix F.1), checked before its nonce ----
        ["credential: truncated proof"] = w => RefusedProofAsync(w, (k, n) => k.Proof(w.Issuer, n, w.Now)[..^20], "invalid_proof"),
        ["credential: proof with only two parts"] = w => RefusedProofAsync(w, (k, n) => string.Join('.', k.Proof(w.Issuer, n, w.Now).Split('.').Take(2)), "invalid_proof"),
        ["credential: tampered proof payload"] = w => RefusedProofAsync(w, (k, n) =>
        {
            var parts = k.Proof(w.Issuer, n, w.Now).Split('.');
            parts[1] = HolderKey.Encode(HolderKey.ProofPayload(w.Issuer, n, w.Now.AddSeconds(-1)));
            return string.Join('.', parts);
        }, "invalid_proof"),
        ["credential: tampered proof signature"] = w => RefusedProofAsync(w, (k, n) =>
        {
            var proof = k.Proof(w.Issuer, n, w.Now);
            var flipped = proof[^5] == 'A' ? 'B' : 'A';
            return proof[..^5] + flipped + proof[^4..];
        }, "invalid_proof"),
        ["credential: proof signed by another key than its jwk"] = w => RefusedProofAsync(w, (k, n) =>
        {
            using var other = new HolderKey();
            return other.Sign(k.ProofHeader(), HolderKey.ProofPayload(w.Issuer, n, w.Now));
        }, "invalid_proof"),
        ["credential: proof with alg none"] = w => RefusedProofAsync(w, (k, n) =>
        {
            var header = k.ProofHeader();
            header["alg"] = "none";
            return HolderKey.WithoutSignature(header, HolderKey.ProofPayload(w.Issuer, n, w.Now));
        }, "invalid_proof"),
        ["credential: proof with unlisted alg ES384"] = w => RefusedProofAsync(w, (k, n) => Tweaked(k, w, n, h => h["alg"] = "ES384"), "invalid_proof"),
        ["credential: proof with unlisted alg HS256"] = w => RefusedProofAsync(w, (k, n) => Tweaked(k, w, n, h => h["alg"] = "HS256"), "invalid_proof"),
        ["credential: proof with typ JWT"] = w => RefusedProofAsync(w, (k, n) => Tweaked(k, w, n, h => h["typ"] = "JWT"), "invalid_proof"),
        ["credential: proof without typ"] = w => RefusedProofAsync(w, (k, n) => Tweaked(k, w, n, h => h.Remove("typ")), "invalid_proof"),
        ["credential: proof with a private key in jwk"] = w => RefusedProofAsync(w, (k, n) => Tweaked(k, w, n, h => h["jwk"] = k.PrivateJwk()), "invalid_proof"),
        ["credential: proof with both jwk and kid"] = w => RefusedProofAsync(w, (k, n) => Tweaked(k, w, n, h => h["kid"] = "did:jwk:" + HolderKey.Encode(k.PublicJwk())), "invalid_proof"),
        ["credential: proof with neither jwk nor kid"] = w => RefusedProofAsync(w, (k, n) => Tweaked(k, w, n, h => h.Remove("jwk")), "invalid_proof"),
        ["credential: proof with a jwk of the wrong type"] = w => RefusedProofAsync(w, (k, n) => Tweaked(k, w, n, h => h["jwk"] = "not a key"), "invalid_proof"),
        ["credential: proof with iat 10 minutes ago"] = w =>
            RefusedProofAsync(w, (k, n) => k.Proof(w.Issuer, n, w.Now.AddMinutes(-10)), "invalid_proof"),
        ["credential: proof with iat 5 minutes ahead"] = w =>
            RefusedProofAsync(w, (k, n) => k.Proof(w.Issuer, n, w.Now.AddMinutes(5)), "invalid_proof"),
        ["credential: proof without iat"] = w => RefusedProofAsync(w, (k, n) =>
        {
            var payload = HolderKey.ProofPayload(w.Issuer, n, w.Now);
            payload.Remove("iat");
            return k.Sign(k.ProofHeader(), payload);
        }, "invalid_proof"),
        ["credential: proof with iat as a string"] = w => RefusedProofAsync(w, (k, n) =>
        {
            var payload = HolderKey.ProofPayload(w.Issuer, n, w.Now);
            payload["iat"] = "yesterday";
            return k.Sign(k.ProofHeader(), payload);
        }, "invalid_proof"),
        ["credential: proof with a wrong aud"] = w => RefusedProofAsync(w, (k, n) => k.Proof("https://elsewhere.example.com", n, w.Now), "invalid_proof"),
        ["credential: proof for another tenant's issuer"] = w => RefusedProofAsync(w, (k, n) => k.Proof(w.B.Tenant.CredentialIssuer, n, w.Now), "invalid_proof"),
        ["credential: proof without nonce"] = w => RefusedProofAsync(w, (k, _) => k.Proof(w.Issuer, null, w.Now), "invalid_proof"),

        // ---- credential endpoint: the nonce (OID4VCI 1.0 §7, §8.3.1.2) ----
        ["credential: unknown nonce"] = w => RefusedProofAsync(w, (k, _) => k.Proof(w.Issuer, TestEnvironment.RandomText(40), w.Now), "invalid_nonce"),
        ["credential: another tenant's nonce"] = async w =>
        {
            var nonceOfB = await w.Wallet.FreshNonceAsync(w.B.TenantId);
            return await RefusedProofAsync(w, (k, _) => k.Proof(w.Issuer, nonceOfB, w.Now), "invalid_nonce");
        },
        ["credential: used nonce"] = async w =>
        {
            var nonce = await w.NonceAsync();
            var (first, _) = await w.SessionAsync();
            Assert.Equal(200, (await w.Wallet.CredentialAsync(w.A.TenantId, first, w.CredentialBody(w.ValidProof(nonce)))).StatusCode);
            return await RefusedProofAsync(w, (k, _) => k.Proof(w.Issuer, nonce, w.Now), "invalid_nonce");
        },
        ["credential: second credential with the same access token"] = async w =>
        {
            var (token, offer) = await w.SessionAsync();
            Assert.Equal(200, (await w.Wallet.CredentialAsync(w.A.TenantId, token, w.CredentialBody(w.ValidProof(await w.NonceAsync())))).StatusCode);
            return new(w.Credential(token, w.CredentialBody(w.ValidProof(await w.NonceAsync()))), 400, "credential_request_denied", AllowedChange.CredentialRefusal, offer.Offer.OfferId);
        },

        // ---- notification endpoint (OID4VCI 1.0 §11) ----
        ["notification: no Authorization header"] = async w =>
            new(w.Notification(null, Notice((await w.IssuedAsync()).NotificationId)), 401, "invalid_token"),
        ["notification: unknown access token"] = async w =>
            new(w.Notification(TestEnvironment.RandomText(43), Notice((await w.IssuedAsync()).NotificationId)), 401, "invalid_token"),
        ["notification: unknown notification_id"] = async w =>
            new(w.Notification((await w.IssuedAsync()).AccessToken, Notice(TestEnvironment.RandomText(22))), 400, "invalid_notification_id"),
        ["notification: another session's notification_id"] = async w =>
        {
            var (_, notificationId, _) = await w.IssuedAsync();
            var (token, _, _) = await w.IssuedAsync();
            return new(w.Notification(token, Notice(notificationId)), 400, "invalid_notification_id");
        },
        ["notification: body is not JSON"] = async w =>
            new(w.Notification((await w.IssuedAsync()).AccessToken, TestWallet.Raw("{\"notification_id\"", Json)), 400, "invalid_notification_request"),
        ["notification: form content type"] = async w =>
        {
            var (token, id, _) = await w.IssuedAsync();
            return new(w.Notification(token, Form(("notification_id", id), ("event", "credential_accepted"))), 400, "invalid_notification_request");
        },
        ["notification: missing event"] = async w =>
        {
            var (token, id, _) = await w.IssuedAsync();
            return new(w.Notification(token, new JsonObject { ["notification_id"] = id }), 400, "invalid_notification_request");
        },
        ["notification: unknown event"] = async w =>
        {
            var (token, id, _) = await w.IssuedAsync();
            return new(w.Notification(token, Notice(id, "credential_stolen")), 400, "invalid_notification_request");
        },
        ["notification: notification_id is a number"] = async w =>
        {
            var (token, _, _) = await w.IssuedAsync();
            return new(w.Notification(token, new JsonObject { ["notification_id"] = 7, ["event"] = "credential_accepted" }), 400, "invalid_notification_request");
        },
        ["notification: event_description not ASCII"] = async w =>
        {
            var (token, id, _) = await w.IssuedAsync();
            var body = Notice(id);
            body["event_description"] = "gelöscht";
            return new(w.Notification(token, body), 400, "invalid_notification_request");
        },
        ["notification: oversized body"] = async w =>
        {
            var (token, id, _) = await w.IssuedAsync();
            var body = Notice(id);
            body["padding"] = Oversized;
            return new(w.Notification(token, body), 400, "invalid_notification_request");
        },
        ["notification: lone surrogate in notification_id"] = w => UnreadNotificationAsync(w, id => $"{{\"notification_id\":\"{id}\\ud83d\",\"event\":\"credential_accepted\"}}"),
        ["notification: escaped NUL in event_description"] = w => UnreadNotificationAsync(w, id => $"{{\"notification_id\":\"{id}\",\"event\":\"credential_accepted\",\"event_description\":\"ok\\u0000\"}}"),
        ["notification: invalid UTF-8 byte in a string"] = async w =>
        {
            var (token, id, _) = await w.IssuedAsync();
            return new(w.Notification(token, Bytes([.. Ascii($"{{\"notification_id\":\"{id}"), 0xFF, .. Ascii("\",\"event\":\"credential_accepted\"}")], Json)), 400, "invalid_notification_request");
        },
        ["notification: 400-digit number as event"] = w => UnreadNotificationAsync(w, id => $"{{\"notification_id\":\"{id}\",\"event\":{LongNumber(400)}}}"),
        ["notification: extra member nested 100 deep"] = w => UnreadNotificationAsync(w, id => $"{{\"n\":{Nested(100)},\"notification_id\":\"{id}\",\"event\":\"credential_accepted\"}}"),
        ["notification: extra member with an array of 5,000 entries"] = w => UnreadNotificationAsync(w, id => $"{{\"n\":{ZerosArray(5000)},\"notification_id\":\"{id}\",\"event\":\"credential_accepted\"}}"),
        ["notification: charset=latin1"] = w => UnreadNotificationAsync(w, id => $"{{\"notification_id\":\"{id}\",\"event\":\"credential_accepted\"}}", Json + "; charset=latin1"),
        ["notification: byte order mark"] = w => UnreadNotificationAsync(w, id => $"\uFEFF{{\"notification_id\":\"{id}\",\"event\":\"credential_accepted\"}}"),
        ["notification: GET"] = w => Done(new(w.Send(HttpMethod.Get, $"/{w.A.TenantId}/notification"), 405, "invalid_request")),
    };

    /// <summary>Rows also run on PostgreSQL: one of each kind of refusal and of each allowed change, and every byte-level row.</summary>
    private static readonly string[] PostgresRows =
    [
        "token: bad form encoding (%zz)",
        "token: unknown pre-authorized_code",
        "token: another tenant's pre-authorized_code",
        "token: used pre-authorized_code",
        "token: missing tx_code for an offer with a PIN",
        "token: wrong tx_code",
        "offer: unknown uri token",
        "credential: no Authorization header",
        "credential: another tenant's access token",
        "credential: body is not JSON",
        "credential: configuration of the tenant the token does not grant",
        "credential: tampered proof signature",
        "credential: proof with alg none",
        "credential: another tenant's nonce",
        "credential: used nonce",
        "notification: unknown notification_id",

        // Bytes (issue 9 §1): every row.
        "nonce: %FF in the tenant",
        "nonce: control character (%01) in the tenant",
        "metadata: %FF in the tenant",
        "metadata: control character (%01) in the tenant",
        "token: invalid UTF-8 byte in a value",
        "token: percent-encoded invalid UTF-8 (%FF)",
        "token: percent-encoded overlong UTF-8 (%C0%AF)",
        "token: percent-encoded UTF-8 surrogate (%ED%A0%80)",
        "token: %00 in pre-authorized_code",
        "token: raw NUL byte in a value",
        "token: %00 in the tx_code of an offer with a PIN",
        "token: control character (%01) in grant_type",
        "token: lone surrogate in authorization_details",
        "token: escaped NUL in authorization_details",
        "token: 400-digit number in authorization_details",
        "token: authorization_details array of 200 entries",
        "token: authorization_details nested 100 deep",
        "token: charset=latin1",
        "token: charset=utf-16",
        "token: byte order mark",
        "offer: %FF in the uri token",
        "offer: control character (%01) in the uri token",
        "offer: encoded slash (%2F) in the uri token",
        "offer: non-ASCII (%C3%A4) in the uri token",
        "offer: %FF in the tenant",
        "credential: lone high surrogate in credential_configuration_id",
        "credential: lone low surrogate in the proof",
        "credential: escaped NUL in credential_configuration_id",
        "credential: escaped control character in a member name",
        "credential: raw NUL byte in a string",
        "credential: invalid UTF-8 byte in a string",
        "credential: overlong UTF-8 (C0 AF) in a string",
        "credential: UTF-8-encoded surrogate (ED A0 80) in a string",
        "credential: 400-digit number in an extra member",
        "credential: 400-digit number as credential_configuration_id",
        "credential: extra member nested 100 deep",
        "credential: extra member with an array of 5,000 entries",
        "credential: 101 proofs",
        "credential: charset=latin1",
        "credential: charset=utf-16",
        "credential: byte order mark",
        "notification: lone surrogate in notification_id",
        "notification: escaped NUL in event_description",
        "notification: invalid UTF-8 byte in a string",
        "notification: 400-digit number as event",
        "notification: extra member nested 100 deep",
        "notification: extra member with an array of 5,000 entries",
        "notification: charset=latin1",
        "notification: byte order mark",
    ];

    public static TheoryData<string> All => [.. Table.Keys, .. HardeningTable.Keys];

    public static TheoryData<string> PostgresSubset => [.. PostgresRows];

    public static Task<PreparedRequest> PrepareAsync(string row, BadInputWorld world) =>
        (Table.TryGetValue(row, out var prepare) ? prepare : HardeningTable[row])(world);

    private static Task<PreparedRequest> Done(PreparedRequest prepared) => Task.FromResult(prepared);

    private static JsonObject Notice(string notificationId, string kind = "credential_accepted") =>
        new() { ["notification_id"] = notificationId, ["event"] = kind };

    private const string FormType = "application/x-www-form-urlencoded";

    private static byte[] Ascii(string text) => System.Text.Encoding.ASCII.GetBytes(text);

    /// <summary>The form of a valid pre-authorized code request, percent-encoded.</summary>
    private static string PreAuthorizedForm(string code) =>
        $"grant_type={Uri.EscapeDataString(TestWallet.PreAuthorizedGrant)}&pre-authorized_code={Uri.EscapeDataString(code)}";

    private static string ValidCredentialJson(string configurationId, string proof) =>
        $"{{\"credential_configuration_id\":\"{configurationId}\",\"proofs\":{{\"jwt\":[\"{proof}\"]}}}}";

    /// <summary>A new session's credential request whose body (made from the granted configuration and a valid proof) the JSON reader refuses: nothing written.</summary>
    private static async Task<PreparedRequest> UnreadCredentialAsync(BadInputWorld w, Func<string, string, string> body, string contentType = Json)
    {
        var (token, _) = await w.SessionAsync();
        var text = body(w.Granted.ProfileId, w.ValidProof(await w.NonceAsync()));
        return new(w.Credential(token, Text(text, contentType)), 400, "invalid_credential_request");
    }

    /// <summary>A new session's valid credential request with <paramref name="bytes"/> inside credential_configuration_id: nothing written.</summary>
    private static async Task<PreparedRequest> UnreadCredentialBytesAsync(BadInputWorld w, byte[] bytes)
    {
        var (token, _) = await w.SessionAsync();
        var proof = w.ValidProof(await w.NonceAsync());
        byte[] body = [.. Ascii($"{{\"credential_configuration_id\":\"{w.Granted.ProfileId}"), .. bytes, .. Ascii($"\",\"proofs\":{{\"jwt\":[\"{proof}\"]}}}}")];
        return new(w.Credential(token, Bytes(body, Json)), 400, "invalid_credential_request");
    }

    /// <summary>A notification for an issued credential whose body (made from its notification_id) the JSON reader refuses: nothing written.</summary>
    private static async Task<PreparedRequest> UnreadNotificationAsync(BadInputWorld w, Func<string, string> body, string contentType = Json)
    {
        var (token, id, _) = await w.IssuedAsync();
        return new(w.Notification(token, Text(body(id), contentType)), 400, "invalid_notification_request");
    }

    /// <summary>A proof made from the valid header with one change, signed by the holder key.</summary>
    private static string Tweaked(HolderKey key, BadInputWorld w, string nonce, Action<JsonObject> changeHeader)
    {
        var header = key.ProofHeader();
        changeHeader(header);
        return key.Sign(header, HolderKey.ProofPayload(w.Issuer, nonce, w.Now));
    }

    /// <summary>A new session's credential request, valid but for <paramref name="change"/> to its body: one credential.refused event.</summary>
    private static async Task<PreparedRequest> RefusedCredentialAsync(BadInputWorld w, Action<JsonObject> change, string error)
    {
        var (token, offer) = await w.SessionAsync();
        var body = w.CredentialBody(w.ValidProof(await w.NonceAsync()));
        change(body);
        return new(w.Credential(token, body), 400, error, AllowedChange.CredentialRefusal, offer.Offer.OfferId);
    }

    /// <summary>A new session's credential request whose one proof <paramref name="proof"/> makes from the key and a fresh nonce.</summary>
    private static async Task<PreparedRequest> RefusedProofAsync(BadInputWorld w, Func<HolderKey, string, string> proof, string error)
    {
        var (token, offer) = await w.SessionAsync();
        var nonce = await w.NonceAsync();
        return new(w.Credential(token, w.CredentialBody(proof(w.Key, nonce))), 400, error, AllowedChange.CredentialRefusal, offer.Offer.OfferId);
    }
}
