// Wallet scenarios the xunit interop tests run as child processes:
//
//   node scenarios.mjs '<json>'
//
// The JSON names a scenario and its inputs; the script prints exactly one JSON line on stdout with what a wallet
// observed: the verified credential (by @sd-jwt/sd-jwt-vc, the issuer key found through /.well-known/jwt-vc-issuer)
// or the error each step met ({ stage, status, error, error_description }). A refused step is an outcome, not a
// crash: the script exits 0 whenever the scenario ran to its end, and 1 (with { crashed: true }) when it did not.
//
// Only independent libraries act for the wallet here: @openid4vc/openid4vci for the protocol, node:crypto for keys.
import { claim, newWallet, verifyCredential } from './wallet.mjs';
import { claimAuthorized } from './authorized.mjs';

/** What a failed step looked like on the wire, whichever library error carried it. */
function refusal(stage, e) {
  const wire = e?.response;
  const status = wire?.status ?? wire?.response?.status ?? null;
  const body = e?.errorResponse
    ?? wire?.credentialErrorResponseResult?.data
    ?? parseJson(e?.textResponse)
    ?? null;
  return {
    stage,
    status,
    error: body?.error ?? null,
    error_description: body?.error_description ?? null,
    message: String(e?.message ?? e).split('\n')[0],
  };
}

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Runs one step; a refusal becomes { refused } instead of an exception. */
async function step(stage, action) {
  try {
    return { value: await action() };
  } catch (e) {
    return { refused: refusal(stage, e) };
  }
}

/** A wallet session over one offer URL, step by step, so a scenario can stop, repeat or tamper at any step. */
class Session {
  constructor(offerUrl, wallet = newWallet()) {
    this.offerUrl = offerUrl;
    this.wallet = wallet;
  }

  get client() {
    return this.wallet.client;
  }

  async resolve() {
    const r = await step('resolve', async () => {
      this.offer = await this.client.resolveCredentialOffer(this.offerUrl);
      this.metadata = await this.client.resolveIssuerMetadata(this.offer.credential_issuer);
      this.configurationId = this.offer.credential_configuration_ids[0];
    });
    return r.refused;
  }

  async token(txCode) {
    // A JSON null means "no PIN": the library wants it absent.
    const r = await step('token', () =>
      this.client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer: this.offer, issuerMetadata: this.metadata, txCode: txCode ?? undefined }));
    if (r.value) this.accessToken = r.value.accessTokenResponse.access_token;
    return r.refused;
  }

  async nonce() {
    const r = await step('nonce', () => this.client.requestNonce({ issuerMetadata: this.metadata }));
    if (r.value) this.cNonce = r.value.c_nonce;
    return r.refused;
  }

  /** Requests the credential with a proof over the given nonce (default: the last one fetched). */
  async credential(nonce = this.cNonce) {
    const r = await step('credential', async () => {
      const { jwt } = await this.client.createCredentialRequestJwtProof({
        issuerMetadata: this.metadata,
        credentialConfigurationId: this.configurationId,
        nonce,
        signer: { method: 'jwk', alg: 'ES256', publicJwk: this.wallet.publicJwk },
      });
      return this.client.retrieveCredentials({
        issuerMetadata: this.metadata,
        credentialConfigurationId: this.configurationId,
        accessToken: this.accessToken,
        proofs: { jwt: [jwt] },
      });
    });
    if (r.value) {
      const body = r.value.credentialResponse;
      this.credentialValue = body.credentials[0].credential;
      this.notificationId = body.notification_id;
    }
    return r.refused;
  }

  async notify(event) {
    const r = await step('notification', () => this.client.sendNotification({
      issuerMetadata: this.metadata,
      accessToken: this.accessToken,
      notification: { notificationId: this.notificationId, event },
    }));
    return r.refused;
  }

  /** Resolve, token, nonce, credential, notification; stops at the first refusal. */
  async claim({ txCode, notify = 'credential_accepted' } = {}) {
    return (await this.resolve())
      ?? (await this.token(txCode))
      ?? (await this.nonce())
      ?? (await this.credential())
      ?? (notify ? await this.notify(notify) : undefined);
  }

  /** What a verifier sees: the credential checked by @sd-jwt/sd-jwt-vc, plus the issuer-signed payload as sent. */
  async verified() {
    const checked = await step('verify', () => verifyCredential(this.credentialValue, { expectedHolderJwk: this.wallet.publicJwk }));
    if (checked.refused) return { refused: checked.refused };
    const issuerJwt = this.credentialValue.split('~')[0];
    const signedPayload = JSON.parse(Buffer.from(issuerJwt.split('.')[1], 'base64url'));
    return {
      header: checked.value.header,
      claims: checked.value.claims,
      disclosed: checked.value.disclosed,
      signedPayload,
      issuerKid: checked.value.issuerJwk.kid ?? null,
      holderJwk: this.wallet.publicJwk,
      notificationId: this.notificationId,
    };
  }
}

/** One wallet claims one credential and verifies it. */
async function claimOne({ offerUrl, txCode, notify }) {
  const session = new Session(offerUrl);
  const refused = await session.claim({ txCode, notify });
  if (refused) return { ok: false, refused };
  return { ok: true, ...(await session.verified()) };
}

/** A wrong PIN first (refused), then the right PIN with the same code; then the rest of the flow. */
async function wrongThenRightPin({ offerUrl, wrongTxCode, txCode }) {
  const session = new Session(offerUrl);
  const resolveRefused = await session.resolve();
  if (resolveRefused) return { ok: false, refused: resolveRefused };
  const wrongPin = await session.token(wrongTxCode);
  const refused = (await session.token(txCode)) ?? (await session.nonce()) ?? (await session.credential()) ?? (await session.notify('credential_accepted'));
  if (refused) return { ok: false, wrongPin, refused };
  return { ok: true, wrongPin, ...(await session.verified()) };
}

/** Several wallets, one after another, each with its own key, claim from the same offer URL. */
async function manyWallets({ offerUrl, wallets, txCode }) {
  const results = [];
  for (let i = 0; i < wallets; i++) results.push(await claimOne({ offerUrl, txCode }));
  return { ok: true, results };
}

/**
 * A full claim from a BY_VALUE offer, then three replays: the same offer (its one code) again, the same access token
 * for a second credential, and the first proof's nonce used by another wallet's session (from a second offer).
 */
async function replays({ offerUrl, otherOfferUrl }) {
  const first = new Session(offerUrl);
  const refused = await first.claim();
  if (refused) return { ok: false, refused };
  const firstCredential = await first.verified();
  const usedNonce = first.cNonce;

  const again = new Session(offerUrl);
  const sameOffer = (await again.resolve()) ?? (await again.token()) ?? null;

  const sameTokenRefused = (await first.nonce()) ?? (await first.credential()) ?? null;

  const other = new Session(otherOfferUrl);
  const otherSetup = (await other.resolve()) ?? (await other.token());
  if (otherSetup) return { ok: false, refused: otherSetup };
  const sameNonce = (await other.credential(usedNonce)) ?? null;

  return { ok: true, firstCredential, sameOffer, sameToken: sameTokenRefused, sameNonce };
}

/** One pre-authorized claim with a DPoP-bound access token (RFC 9449), as the library does it when asked to. */
async function claimWithDpop({ offerUrl, txCode, notify = 'credential_accepted' }) {
  try {
    const result = await claim(offerUrl, { txCode, notify, useDpop: true });
    const verified = await verifyCredential(result.credential, { expectedHolderJwk: result.publicJwk });
    return { ok: true, tokenType: result.accessTokenResponse.token_type, dpopJwk: result.dpopJwk, notificationId: result.notificationId, ...verified };
  } catch (e) {
    return { ok: false, refused: refusal('dpop', e) };
  }
}

const scenarios = { claimOne, wrongThenRightPin, manyWallets, replays, claimAuthorized, claimWithDpop };

try {
  const input = JSON.parse(process.argv[2] ?? '{}');
  const scenario = scenarios[input.scenario];
  if (!scenario) throw new Error(`unknown scenario '${input.scenario}'; known: ${Object.keys(scenarios).join(', ')}`);
  console.log(JSON.stringify(await scenario(input)));
} catch (e) {
  console.log(JSON.stringify({ ok: false, crashed: true, message: String(e?.stack ?? e) }));
  process.exitCode = 1;
}
