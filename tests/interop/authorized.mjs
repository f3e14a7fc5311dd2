// The authorization code flow as a wallet on its own device runs it, with independent parts only:
// @openid4vc/openid4vci (PAR, PKCE, the RFC 9207 iss check, the token and credential requests), browser.mjs as the
// user agent (cookies, redirects, forms) through the tenant IdP's login and consent pages and Issuer2's consent page,
// and @sd-jwt/sd-jwt-vc to verify the credential.
import { createHash } from 'node:crypto';
import { getAuthorizationServerMetadataFromList } from '@openid4vc/oauth2';
import { newWallet, verifyCredential } from './wallet.mjs';
import {
  CookieJar, follow, loginAtProvider, consentAtProvider, providerLoginForm, providerConsentForm, decideAtIssuer, responseParameters,
} from './browser.mjs';

const REDIRECT_URI = 'https://wallet.example/callback';

/**
 * Claims a credential by the authorization code flow: from an offer URL, or wallet-initiated (credentialIssuer and
 * configurationId, no offer). Returns what the wallet saw at the step where it ended: { ok, stage, ... }.
 */
export async function claimAuthorized({
  offerUrl, offerJson, credentialIssuer, configurationId, login, password = 'secret', clientId = 'wallet-app', redirectUri = REDIRECT_URI,
  byAuthorizationDetails = false, decision = 'issue', notify = 'credential_accepted', redeem = true, useDpop = false,
}) {
  const wallet = newWallet({ clientId });
  const { client, publicJwk } = wallet;
  let credentialOffer;
  let issuerMetadata;
  if (offerUrl || offerJson) {
    // offerJson: an offer the test resolved itself, to know its issuer_state.
    credentialOffer = offerJson ? JSON.parse(offerJson) : await client.resolveCredentialOffer(offerUrl);
    issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  } else {
    issuerMetadata = await client.resolveIssuerMetadata(credentialIssuer);
    // Wallet-initiated issuance (OID4VCI 1.0 §3.4): no offer; the wallet asks for a configuration it found in the metadata.
    credentialOffer = { credential_issuer: credentialIssuer, credential_configuration_ids: [configurationId], grants: { authorization_code: {} } };
  }
  const id = credentialOffer.credential_configuration_ids[0];
  const configuration = issuerMetadata.credentialIssuer.credential_configurations_supported[id];
  const authorizationServerMetadata = getAuthorizationServerMetadataFromList(issuerMetadata.authorizationServers, issuerMetadata.authorizationServers[0].issuer);

  // PAR (the library pushes when the metadata names the endpoint), then the authorization request URL to open.
  const { authorizationRequestUrl, pkce } = await client.createAuthorizationRequestUrlFromOffer({
    credentialOffer, issuerMetadata, clientId, redirectUri, ...(useDpop ? { dpop: wallet.dpop } : {}),
    scope: byAuthorizationDetails ? undefined : configuration.scope,
    // Note: createAuthorizationRequestUrlFromOffer (0.4.6) sends no state; the tests send one with their own PAR requests.
    additionalRequestPayload: byAuthorizationDetails ? { authorization_details: [{ type: 'openid_credential', credential_configuration_id: id }] } : {},
  });

  // The user agent: to the IdP, sign in, consent there, back through Issuer2's callback to its consent page.
  const jar = new CookieJar();
  const stopAt = (u) => u.startsWith(redirectUri);
  let page = await follow(authorizationRequestUrl, jar, { stopAt });
  const pushed = new URL(authorizationRequestUrl).searchParams.has('request_uri');
  if (providerLoginForm(page)) {
    if (login === null) return { ok: true, stage: 'idp_login', pushed, cancelled: true, response: await cancelAtProvider(page, jar, stopAt) };
    page = await loginAtProvider(page, jar, { login, password, stopAt });
  }
  if (providerConsentForm(page)) page = await consentAtProvider(page, jar, { stopAt });
  let location;
  if (page.status >= 300 && page.status < 400 && stopAt(page.location)) {
    location = page.location;
  } else {
    const decided = await decideAtIssuer(page, jar, decision);
    location = decided.location;
  }
  const response = client.parseAndVerifyAuthorizationResponseRedirectUrl({ url: location, authorizationServerMetadata });
  if (response.state !== undefined) throw new Error(`the authorization response carries a state the wallet never sent: ${location}`);
  if (response.error) return { ok: false, stage: 'authorization', pushed, error: response.error, error_description: response.error_description, iss: response.iss };
  if (!redeem) {
    // For tests that then tamper with the token request: everything a wallet holds at this point.
    return { ok: true, stage: 'code', pushed, iss: response.iss, code: response.code, codeVerifier: pkce?.codeVerifier, redirectUri, clientId, tokenEndpoint: authorizationServerMetadata.token_endpoint };
  }

  const tokenAnswer = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, authorizationCode: response.code, pkceCodeVerifier: pkce?.codeVerifier, redirectUri,
    ...(useDpop ? { dpop: wallet.dpop } : {}),
  });
  const { accessTokenResponse } = tokenAnswer;
  // RFC 9449 §5: the token is bound only when token_type says DPoP; a bearer token goes out as Bearer.
  let dpop = useDpop && accessTokenResponse.token_type === 'DPoP' ? tokenAnswer.dpop : undefined;
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: id, nonce: c_nonce, signer: { method: 'jwk', alg: 'ES256', publicJwk },
  });
  const identifiers = accessTokenResponse.authorization_details?.[0]?.credential_identifiers;
  let body;
  if (identifiers) {
    // §8.2: with credential_identifiers in the token response, the request names one of them.
    const answer = await fetch(issuerMetadata.credentialIssuer.credential_endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessTokenResponse.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ credential_identifier: identifiers[0], proofs: { jwt: [jwt] } }),
    });
    body = await answer.json();
    if (!answer.ok) return { ok: false, stage: 'credential', status: answer.status, ...body };
  } else {
    const answer = await client.retrieveCredentials({
      issuerMetadata, credentialConfigurationId: id, accessToken: accessTokenResponse.access_token, proofs: { jwt: [jwt] }, ...(dpop ? { dpop } : {}),
    });
    // The library answers a resource request with { nonce } alone: keep the signer, take the fresh DPoP-Nonce.
    if (dpop && answer.dpop) dpop = { ...dpop, ...answer.dpop };
    body = answer.credentialResponse;
  }
  if (notify && body.notification_id) {
    await client.sendNotification({
      issuerMetadata, accessToken: accessTokenResponse.access_token, notification: { notificationId: body.notification_id, event: notify }, ...(dpop ? { dpop } : {}),
    });
  }
  const verified = await verifyCredential(body.credentials[0].credential, { expectedHolderJwk: publicJwk });
  return {
    ok: true,
    pushed,
    iss: response.iss,
    tokenResponse: { ...accessTokenResponse, access_token: undefined },
    dpopJwk: useDpop ? wallet.dpopJwk : undefined,
    accessToken: accessTokenResponse.access_token,
    claims: verified.claims,
    holderJwk: publicJwk,
    thumbprint: createHash('sha256').update(JSON.stringify({ crv: publicJwk.crv, kty: publicJwk.kty, x: publicJwk.x, y: publicJwk.y })).digest('base64url'),
  };
}

/** The user cancels at the IdP's login page (oidc-provider's "abort" link), ending with the wallet's error redirect. */
async function cancelAtProvider(page, jar, stopAt) {
  const abort = page.body.match(/href="([^"]*\/abort)"/);
  if (!abort) throw new Error(`no cancel link on the provider's login page:\n${page.body.slice(0, 1000)}`);
  const ended = await follow(new URL(abort[1].replace(/&amp;/g, '&'), page.url).href, jar, { stopAt });
  return responseParameters(ended);
}
