// A real OpenID Provider for tests: oidc-provider (a certified OpenID Connect implementation) on 127.0.0.1, with its
// own development login and consent pages, two users, PKCE (S256) required, ES256 ID tokens, and RFC 9207's `iss` in
// authorization responses (oidc-provider always adds it and advertises authorization_response_iss_parameter_supported).
//
//   node tests/interop/idp/provider.mjs [PORT] [TAG]      (PORT 0 or none: a free port)
//
// With TAG, every user's given_name carries it, e.g. "Alice (B)", and every other claim is as below: tests that run two
// providers tell by a credential which one signed the user in.
//
// When ready it prints one JSON line to stdout: {"issuer":"http://127.0.0.1:PORT"}. It runs until killed.
//
// A test-only admin surface lives under /__test/ (oidc-provider uses no such path), in front of the provider:
//   PUT  /__test/clients/{client_id}   {client_secret, redirect_uris, token_endpoint_auth_method?}  registers or replaces
//   POST /__test/rotate-keys                                   a new signing key; the old one leaves the JWKS  → {kid}
//   GET  /__test/keys                                           the kids in the JWKS now                       → {kids}
//   POST /__test/down   /   POST /__test/up                     503 for every provider request, or not
//   GET  /__test/requests                                       requests per path so far                  → {"/jwks": 3, …}
//   GET  /__test/mirror/.well-known/openid-configuration        the discovery document, served at another path
//
// Users (login / password): alice / secret and bob / secret. Their claims are in ACCOUNTS below; membership_number is
// a claim of the "membership" scope that the provider returns from userinfo only, never in the ID token.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import * as querystring from 'node:querystring';

import Provider from 'oidc-provider';

export const PASSWORD = 'secret';

export const ACCOUNTS = {
  alice: {
    given_name: 'Alice',
    family_name: 'Andersson',
    email: 'alice@example.com',
    email_verified: true,
    birthdate: '1990-04-12',
    address: { locality: 'Uppsala', country: 'SE' },
    membership_number: 'M-1001',
  },
  bob: {
    given_name: 'Bob',
    family_name: 'Brown',
    email: 'bob@example.org',
    email_verified: false,
    birthdate: '1985-11-30',
    address: { locality: 'Bristol', country: 'GB' },
    membership_number: 'M-2002',
  },
};

// Claims only ever returned by the userinfo endpoint.
const USERINFO_ONLY = new Set(['membership_number']);

const port = Number.parseInt(process.argv[2] ?? '0', 10);
const tag = process.argv[3];
if (!Number.isInteger(port) || port < 0 || port > 65535 || tag === '') {
  console.error(`usage: node provider.mjs [PORT] [TAG]  (got ${process.argv.slice(2).join(' ')})`);
  process.exit(2);
}

// The users as this provider signs them in: ACCOUNTS, with the tag in given_name when there is one.
const accounts = Object.fromEntries(Object.entries(ACCOUNTS).map(([login, claims]) => [
  login, tag === undefined ? claims : { ...claims, given_name: `${claims.given_name} (${tag})` },
]));

function newSigningKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' };
}

// The provider's state that outlives a rebuild: oidc-provider fixes its clients and keys at construction, so
// registering a client or rotating the key builds a new Provider. Sessions, interactions, codes and tokens live in
// oidc-provider's default in-memory adapter, which is shared by every instance of this process, so a flow started
// before a rebuild finishes after it.
const state = {
  clients: new Map(),
  signingKey: newSigningKey(),
  cookieKeys: [randomBytes(32).toString('base64url')],
  down: false,
  requests: new Map(),
};

let issuer;
let handler;

function build() {
  const provider = new Provider(issuer, {
    clients: [...state.clients.values()],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    jwks: { keys: [state.signingKey] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    cookies: { keys: state.cookieKeys },
    claims: {
      openid: ['sub'],
      profile: ['given_name', 'family_name', 'birthdate'],
      email: ['email', 'email_verified'],
      address: ['address'],
      membership: ['membership_number'],
    },
    scopes: ['openid', 'profile', 'email', 'address', 'membership'],
    // Note: with the default (true) and an access token issued, oidc-provider puts no scope claims in the ID token at
    // all (OIDC Core §5.4). Off, the ID token carries the granted scopes' claims; userinfo-only claims are held back
    // by the account below.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // Seconds; set, so that oidc-provider does not print a notice for each default it uses.
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600, RefreshToken: 3600 },
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: true },
    },
    async findAccount(ctx, sub) {
      const account = Object.hasOwn(accounts, sub) ? accounts[sub] : undefined;
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims(use) {
          const claims = { sub };
          for (const [name, value] of Object.entries(account)) {
            if (use === 'id_token' && USERINFO_ONLY.has(name)) continue;
            claims[name] = value;
          }
          return claims;
        },
      };
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><head><title>oops</title></head><body><h1>${escapeHtml(out.error)}</h1>`
        + `<p>${escapeHtml(out.error_description ?? '')}</p></body></html>`;
    },
  });
  handler = provider.callback();
  return provider;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(type === 'application/json' ? JSON.stringify(body) : body);
}

async function admin(req, res, path) {
  const clientMatch = /^\/__test\/clients\/([^/]+)$/.exec(path);
  if (clientMatch && req.method === 'PUT') {
    const body = JSON.parse(await readBody(req) || '{}');
    const clientId = decodeURIComponent(clientMatch[1]);
    if (typeof body.client_secret !== 'string' || !Array.isArray(body.redirect_uris) || body.redirect_uris.length === 0) {
      return send(res, 400, { error: 'client_secret (string) and redirect_uris (non-empty array) are required' });
    }
    const client = { client_id: clientId, client_secret: body.client_secret, redirect_uris: body.redirect_uris };
    if (body.token_endpoint_auth_method) client.token_endpoint_auth_method = body.token_endpoint_auth_method;
    const previous = state.clients.get(clientId);
    state.clients.set(clientId, client);
    try {
      // oidc-provider checks a client's metadata when it first loads it: load it now, so a bad one fails here.
      if (!(await build().Client.find(clientId))) throw new Error(`the client ${clientId} did not load`);
    } catch (error) {
      // An invalid client: keep the provider as it was.
      if (previous) state.clients.set(clientId, previous); else state.clients.delete(clientId);
      build();
      return send(res, 400, { error: [error.message, error.error_description].filter(Boolean).join(': ') || String(error) });
    }
    return send(res, 200, { client_id: clientId });
  }
  if (path === '/__test/rotate-keys' && req.method === 'POST') {
    state.signingKey = newSigningKey();
    build();
    return send(res, 200, { kid: state.signingKey.kid });
  }
  if (path === '/__test/keys' && req.method === 'GET') {
    return send(res, 200, { kids: [state.signingKey.kid] });
  }
  if (path === '/__test/down' && req.method === 'POST') {
    state.down = true;
    return send(res, 200, { down: true });
  }
  if (path === '/__test/up' && req.method === 'POST') {
    state.down = false;
    return send(res, 200, { down: false });
  }
  if (path === '/__test/mirror/.well-known/openid-configuration' && req.method === 'GET') {
    // The real discovery document under another path: an issuer configured as {issuer}/__test/mirror finds a
    // document naming {issuer}.
    const document = await fetch(`${issuer}/.well-known/openid-configuration`);
    return send(res, document.status, await document.json());
  }
  if (path === '/__test/requests' && req.method === 'GET') {
    return send(res, 200, Object.fromEntries(state.requests));
  }
  return send(res, 404, { error: `no admin route ${req.method} ${path}` });
}

// The development login page takes any login and ignores the password: here only the two users with their
// password get through; anything else answers 401 with a page saying so (and the interaction stays open).
async function checkLogin(req, res) {
  const raw = await readBody(req);
  const form = querystring.parse(raw);
  if (form.prompt === 'login') {
    const login = typeof form.login === 'string' ? form.login : '';
    if (!Object.hasOwn(accounts, login) || form.password !== PASSWORD) {
      send(res, 401, '<!DOCTYPE html><html><head><title>Sign-in failed</title></head><body>'
        + '<p id="error">Invalid login or password.</p>'
        + `<p><a href="${escapeHtml(req.url)}">Try again</a></p></body></html>`, 'text/html; charset=utf-8');
      return false;
    }
  }
  // oidc-provider reads an already consumed body from req.body.
  req.body = raw;
  return true;
}

const server = createServer(async (req, res) => {
  try {
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    if (path.startsWith('/__test/')) {
      await admin(req, res, path);
      return;
    }
    state.requests.set(path, (state.requests.get(path) ?? 0) + 1);
    if (state.down) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      res.end('the provider is down (test mode)');
      return;
    }
    if (req.method === 'POST' && /^\/interaction\/[^/]+$/.test(path) && !(await checkLogin(req, res))) {
      return;
    }
    handler(req, res);
  } catch (error) {
    if (!res.headersSent) send(res, 500, { error: String(error?.message ?? error) });
    else res.end();
  }
});

server.listen(port, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  build();
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
