// A small wallet written from OpenID for Verifiable Credential Issuance draft 13
// (openid-4-verifiable-credential-issuance-1_0-13, February 2024) alone: fetch and node:crypto speak the protocol,
// @sd-jwt/sd-jwt-vc verifies what the issuer returns. Nothing here comes from Issuer2's code, and none of it from the
// @openid4vc libraries, whose modes are 1.0 and drafts 15, 14 and 11 (not 13).
//
//   node draft13-wallet.mjs '<json>'
//
// Input: { offerUrl, txCode?, format?: 'vc+sd-jwt' | 'dc+sd-jwt', byIdentifier?: bool, nonceFrom?: 'token' | 'error',
//          notify?: event | null, requestAgain?: bool }.
// Prints one JSON line: { ok: true, ... what the wallet saw } or { ok: false, refused: { stage, status, error, ... } };
// exits 1 (with { crashed: true }) only when the script itself failed.
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';

const b64url = (data) => Buffer.from(data).toString('base64url');
const PRE_AUTHORIZED = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

/** A refused step: what came over the wire. */
class Refused extends Error {
  constructor(stage, status, body) {
    super(`${stage}: ${status} ${JSON.stringify(body)}`);
    this.refusal = { stage, status, error: body?.error ?? null, error_description: body?.error_description ?? null, body };
  }
}

async function json(stage, response, expected = 200) {
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (response.status !== expected) throw new Refused(stage, response.status, body);
  return body;
}

/** §4.1: the offer, by value (credential_offer) or by reference (credential_offer_uri, fetched with GET). */
async function resolveOffer(offerUrl) {
  const query = new URL(offerUrl).searchParams;
  if (query.has('credential_offer')) return JSON.parse(query.get('credential_offer'));
  return json('offer', await fetch(query.get('credential_offer_uri')));
}

/** §11.2.2: "/.well-known/openid-credential-issuer" appended to the Credential Issuer Identifier. */
async function issuerMetadata(issuer) {
  return json('metadata', await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-credential-issuer`));
}

/** §11.3: no authorization_servers, so the issuer is its own; RFC 8414 §3 inserts the well-known path. */
async function authorizationServerMetadata(issuer) {
  const url = new URL(issuer);
  return json('metadata', await fetch(`${url.origin}/.well-known/oauth-authorization-server${url.pathname.replace(/\/$/, '')}`));
}

/** §7.2.1.1: a jwt proof: typ openid4vci-proof+jwt, the key in jwk; aud the issuer, iat, the server's c_nonce; no iss (anonymous). */
function proofJwt(holder, audience, nonce) {
  const header = { typ: 'openid4vci-proof+jwt', alg: 'ES256', jwk: holder.publicJwk };
  const payload = { aud: audience, iat: Math.floor(Date.now() / 1000), ...(nonce ? { nonce } : {}) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), { key: holder.privateKey, dsaEncoding: 'ieee-p1363' }))}`;
}

/** A verifier's check: the issuer key from /.well-known/jwt-vc-issuer, the SD-JWT by @sd-jwt/sd-jwt-vc. */
async function verifyCredential(credential, holderJwk) {
  const issuerJwt = credential.split('~')[0];
  const header = JSON.parse(Buffer.from(issuerJwt.split('.')[0], 'base64url'));
  const signedPayload = JSON.parse(Buffer.from(issuerJwt.split('.')[1], 'base64url'));
  const iss = new URL(signedPayload.iss);
  const metadata = await json('verify', await fetch(`${iss.origin}/.well-known/jwt-vc-issuer${iss.pathname}`));
  const issuerJwk = metadata.jwks.keys.find((k) => k.kid === header.kid);
  if (!issuerJwk) throw new Error(`no key ${header.kid} in the jwt-vc-issuer metadata`);
  const issuerKey = createPublicKey({ key: issuerJwk, format: 'jwk' });
  const sdjwt = new SDJwtVcInstance({
    hasher: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    verifier: (data, signature) => verify('sha256', Buffer.from(data), { key: issuerKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url')),
    hashAlg: 'sha-256',
  });
  const verified = await sdjwt.verify(credential);
  const cnf = verified.payload.cnf?.jwk;
  if (!cnf || cnf.x !== holderJwk.x || cnf.y !== holderJwk.y) throw new Error('cnf.jwk is not the wallet key');
  // SD-JWT VC (then draft-ietf-oauth-sd-jwt-vc) typed its JWT vc+sd-jwt; today's drafts say dc+sd-jwt and ask holders to take both.
  if (!['vc+sd-jwt', 'dc+sd-jwt'].includes(header.typ)) throw new Error(`typ ${header.typ} is no SD-JWT VC's`);
  const decoded = await sdjwt.decode(credential);
  return { header, claims: verified.payload, signedPayload, disclosed: decoded.disclosures.map((d) => d.key), issuerKid: issuerJwk.kid };
}

async function claim({ offerUrl, txCode, format = 'vc+sd-jwt', byIdentifier = false, nonceFrom = 'token', notify = 'credential_accepted', requestAgain = false }) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const holder = { privateKey, publicJwk: publicKey.export({ format: 'jwk' }) };

  const offer = await resolveOffer(offerUrl);
  const metadata = await issuerMetadata(offer.credential_issuer);
  const as = await authorizationServerMetadata(offer.credential_issuer);
  const configurationId = offer.credential_configuration_ids[0];
  const configuration = metadata.credential_configurations_supported[configurationId];
  const grant = offer.grants[PRE_AUTHORIZED];

  // §6.1: the pre-authorized code, the tx_code when the offer asked for one, and (§5.1.1) authorization_details to get credential_identifiers.
  const form = new URLSearchParams({ grant_type: PRE_AUTHORIZED, 'pre-authorized_code': grant['pre-authorized_code'] });
  if (grant.tx_code) form.set('tx_code', txCode);
  if (byIdentifier) form.set('authorization_details', JSON.stringify([{ type: 'openid_credential', credential_configuration_id: configurationId }]));
  const token = await json('token', await fetch(as.token_endpoint, { method: 'POST', body: form }));
  // §6.2: the wallet takes its first c_nonce from the token response.
  let nonce = token.c_nonce;
  const identifier = byIdentifier ? token.authorization_details?.[0]?.credential_identifiers?.[0] : undefined;

  const request = (proofNonce) => fetch(metadata.credential_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token.access_token}` },
    body: JSON.stringify({
      // §7.2: format and its parameters (vct for SD-JWT VC, Appendix A.3.4), or the credential_identifier the token response returned.
      ...(identifier ? { credential_identifier: identifier } : { format, vct: configuration.vct }),
      proof: { proof_type: 'jwt', jwt: proofJwt(holder, offer.credential_issuer, proofNonce) },
    }),
  });

  // §7.3.2: a proof without the issuer's nonce is refused with invalid_proof and a fresh c_nonce to prove with.
  let nonceRefusal = null;
  if (nonceFrom === 'error') {
    const refused = await request('a-nonce-this-issuer-never-gave');
    nonceRefusal = { status: refused.status, body: await refused.json() };
    nonce = nonceRefusal.body.c_nonce;
  }

  const response = await json('credential', await request(nonce));
  const verified = await verifyCredential(response.credential, holder.publicJwk);

  // §10.1: the notification, 204 expected.
  let notificationStatus = null;
  if (notify && response.notification_id) {
    const sent = await fetch(metadata.notification_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.access_token}` },
      body: JSON.stringify({ notification_id: response.notification_id, event: notify }),
    });
    notificationStatus = sent.status;
    if (sent.status !== 204) throw new Refused('notification', sent.status, await sent.json());
  }

  // The next request goes with the c_nonce the credential response brought (§7.3).
  let again = null;
  if (requestAgain) {
    const second = await request(response.c_nonce);
    again = { status: second.status, body: await second.json() };
  }

  return {
    ok: true,
    configuration,
    tokenResponse: token,
    credentialResponseMembers: Object.keys(response).sort(),
    credentialResponse: { c_nonce: response.c_nonce, c_nonce_expires_in: response.c_nonce_expires_in, notification_id: response.notification_id },
    usedIdentifier: identifier ?? null,
    nonceRefusal,
    notificationStatus,
    again,
    holderJwk: holder.publicJwk,
    ...verified,
  };
}

try {
  const input = JSON.parse(process.argv[2] ?? '{}');
  try {
    console.log(JSON.stringify(await claim(input)));
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    console.log(JSON.stringify({ ok: false, refused: e.refusal }));
  }
} catch (e) {
  console.log(JSON.stringify({ ok: false, crashed: true, message: String(e?.stack ?? e) }));
  process.exitCode = 1;
}
