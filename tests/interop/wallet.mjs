// A wallet built only from independent libraries: @openid4vc/openid4vci drives the protocol, node:crypto holds
// the key, @sd-jwt/sd-jwt-vc verifies what the issuer returns. Nothing here comes from Issuer2's code.
import { createHash, generateKeyPairSync, randomBytes, sign, verify, createPublicKey } from 'node:crypto';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { clientAuthenticationAnonymous, clientAuthenticationNone, setGlobalConfig } from '@openid4vc/oauth2';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';

// Tests run on loopback over http; the library insists on https otherwise.
setGlobalConfig({ allowInsecureUrls: true });

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A holder key pair (P-256) and the wallet's client around it; with `clientId`, a public OAuth client of that id. */
export function newWallet({ clientId } = {}) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  // A second key for DPoP proofs (RFC 9449): the access token is bound to it, the credential to the holder key.
  const dpopPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dpopJwk = dpopPair.publicKey.export({ format: 'jwk' });
  const client = new Openid4vciClient({
    callbacks: {
      hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
      generateRandom: (n) => randomBytes(n),
      clientAuthentication: clientId ? clientAuthenticationNone({ clientId }) : clientAuthenticationAnonymous(),
      signJwt: async (signer, { header, payload }) => {
        const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
        const dpop = signer?.publicJwk?.x === dpopJwk.x;
        const signature = sign('sha256', Buffer.from(input), { key: dpop ? dpopPair.privateKey : privateKey, dsaEncoding: 'ieee-p1363' });
        return { jwt: `${input}.${b64url(signature)}`, signerJwk: dpop ? dpopJwk : publicJwk };
      },
    },
  });
  return { client, privateKey, publicJwk, dpopJwk, dpop: { signer: { method: 'jwk', alg: 'ES256', publicJwk: dpopJwk } } };
}

/** Claims one credential from an offer URL, as a wallet would; returns everything a test may check. */
export async function claim(offerUrl, { txCode, wallet = newWallet(), notify = 'credential_accepted', useDpop = false } = {}) {
  const { client, publicJwk } = wallet;
  const credentialOffer = await client.resolveCredentialOffer(offerUrl);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  // With DPoP the library retries once on use_dpop_nonce with the server's DPoP-Nonce, and hands back the nonce to use next.
  const tokenAnswer = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode, ...(useDpop ? { dpop: wallet.dpop } : {}),
  });
  const { accessTokenResponse } = tokenAnswer;
  // RFC 9449 §5: the token is bound only when token_type says DPoP; a bearer token goes out as Bearer.
  let dpop = useDpop && accessTokenResponse.token_type === 'DPoP' ? tokenAnswer.dpop : undefined;
  const credentialConfigurationId = credentialOffer.credential_configuration_ids[0];
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId, nonce: c_nonce,
    signer: { method: 'jwk', alg: 'ES256', publicJwk },
  });
  const response = await client.retrieveCredentials({
    issuerMetadata, credentialConfigurationId, accessToken: accessTokenResponse.access_token, proofs: { jwt: [jwt] }, ...(dpop ? { dpop } : {}),
  });
  // The library answers a resource request with { nonce } alone: keep the signer, take the fresh DPoP-Nonce.
  if (dpop && response.dpop) dpop = { ...dpop, ...response.dpop };
  const body = response.credentialResponse;
  if (notify && body.notification_id) {
    await client.sendNotification({
      issuerMetadata, accessToken: accessTokenResponse.access_token,
      notification: { notificationId: body.notification_id, event: notify }, ...(dpop ? { dpop } : {}),
    });
  }
  return { credentialOffer, issuerMetadata, accessTokenResponse, credential: body.credentials[0].credential, notificationId: body.notification_id, publicJwk, dpopJwk: wallet.dpopJwk };
}

/** Verifies an SD-JWT VC the way a verifier would: the issuer key found through /.well-known/jwt-vc-issuer. */
export async function verifyCredential(credential, { expectedHolderJwk } = {}) {
  const issuerJwt = credential.split('~')[0];
  const header = JSON.parse(Buffer.from(issuerJwt.split('.')[0], 'base64url'));
  const payload = JSON.parse(Buffer.from(issuerJwt.split('.')[1], 'base64url'));
  const iss = new URL(payload.iss);
  const wellKnown = `${iss.origin}/.well-known/jwt-vc-issuer${iss.pathname}`;
  const metadata = await (await fetch(wellKnown)).json();
  if (metadata.issuer !== payload.iss) throw new Error(`jwt-vc-issuer metadata names ${metadata.issuer}, not ${payload.iss}`);
  const issuerJwk = metadata.jwks.keys.find((k) => k.kid === header.kid);
  if (!issuerJwk) throw new Error(`no key ${header.kid} in ${wellKnown}`);
  const issuerKey = createPublicKey({ key: issuerJwk, format: 'jwk' });

  const sdjwt = new SDJwtVcInstance({
    hasher: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    verifier: (data, signature) => verify('sha256', Buffer.from(data), { key: issuerKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url')),
    hashAlg: 'sha-256',
  });
  const verified = await sdjwt.verify(credential);
  const claims = verified.payload;
  if (expectedHolderJwk) {
    const cnf = claims.cnf?.jwk;
    if (!cnf || cnf.x !== expectedHolderJwk.x || cnf.y !== expectedHolderJwk.y) throw new Error('cnf.jwk is not the wallet key');
  }
  const decoded = await sdjwt.decode(credential);
  const disclosed = decoded.disclosures.map((d) => d.key);
  return { header, claims, disclosed, issuerJwk };
}
