// Tests of browser.mjs: its cookie jar and form reader on their own, its provider drivers against the real
// provider.mjs, and decideAtIssuer against a page of Issuer2's consent contract. Run: node --test idp/
// (tests/Issuer2.Server.Tests runs it through BrowserScriptTests).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';

import {
  CookieJar, decideAtIssuer, follow, loginAtProvider, parseForms, providerConsentForm, providerLoginForm,
  responseParameters, signInAtProvider,
} from '../browser.mjs';

describe('CookieJar', () => {
  test('shares cookies between ports of one host and matches paths', () => {
    const jar = new CookieJar();
    jar.store('http://127.0.0.1:5000/a/b', ['s=1; Path=/a; HttpOnly', 'd=2']);
    assert.equal(jar.header('http://127.0.0.1:6000/a/c'), 's=1; d=2');
    assert.equal(jar.header('http://127.0.0.1:6000/ab'), undefined);
    assert.equal(jar.header('http://localhost:5000/a/b'), undefined);
  });

  test('ends a cookie at Max-Age=0 or a past Expires and replaces one of the same name and path', () => {
    const jar = new CookieJar();
    jar.store('http://127.0.0.1/', ['a=1; Path=/', 'b=2; Path=/', 'c=3; Path=/']);
    jar.store('http://127.0.0.1/', ['a=; Path=/; Max-Age=0', 'b=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'c=4; Path=/']);
    assert.equal(jar.header('http://127.0.0.1/x'), 'c=4');
  });

  test('sends Secure cookies over https and to loopback hosts only', () => {
    const jar = new CookieJar();
    jar.store('https://wallet.test/', ['s=1; Secure; Path=/']);
    jar.store('http://127.0.0.1/', ['l=1; Secure; Path=/']);
    assert.equal(jar.header('http://wallet.test/'), undefined);
    assert.equal(jar.header('https://wallet.test/'), 's=1');
    assert.equal(jar.header('http://127.0.0.1/'), 'l=1');
  });
});

describe('parseForms', () => {
  test('reads action, method, hidden and text inputs and named buttons, with entities decoded', () => {
    const html = `<html><body>
      <form method="post" action="/t1/authorize/consent?x=1&amp;y=2">
        <input type="hidden" name="authorization_id" value="a&quot;b">
        <input name="note" value='n'>
        <input type="checkbox" name="unchecked" value="v">
        <button type="submit" name="decision" value="issue">Issue</button>
        <button type="submit" name="decision" value="cancel">Cancel</button>
        <button type="button" name="noise">No</button>
      </form><form><input name="q"></form></body></html>`;
    const [form, search] = parseForms(html, 'http://127.0.0.1:5080/t1/authorize?request_uri=r');
    assert.equal(form.action, 'http://127.0.0.1:5080/t1/authorize/consent?x=1&y=2');
    assert.equal(form.method, 'POST');
    assert.deepEqual(form.fields, [
      { name: 'authorization_id', value: 'a"b', type: 'hidden' },
      { name: 'note', value: 'n', type: 'text' },
    ]);
    assert.deepEqual(form.buttons.map((b) => [b.name, b.value, b.text]), [['decision', 'issue', 'Issue'], ['decision', 'cancel', 'Cancel']]);
    assert.equal(search.method, 'GET');
    assert.equal(search.action, 'http://127.0.0.1:5080/t1/authorize?request_uri=r');
  });
});

describe('decideAtIssuer', () => {
  let server;
  let base;
  const posted = [];

  before(async () => {
    // A stand-in with Issuer2's consent contract: one POST form, hidden authorization_id, decision buttons; 303 to
    // the wallet's redirect_uri.
    server = createServer(async (req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'csrf=k; Path=/t1; HttpOnly' });
        res.end('<!DOCTYPE html><form method="post" action="/t1/authorize/decide"><input type="hidden" name="authorization_id" value="az-1">'
          + '<button type="submit" name="decision" value="issue">Issue</button><button type="submit" name="decision" value="cancel">Cancel</button></form>');
        return;
      }
      let body = '';
      for await (const chunk of req) body += chunk;
      posted.push({ body: Object.fromEntries(new URLSearchParams(body)), cookie: req.headers.cookie });
      const decision = new URLSearchParams(body).get('decision');
      const target = decision === 'issue'
        ? 'https://wallet.test/cb?code=c-1&state=s-1&iss=http%3A%2F%2F127.0.0.1%2Ft1'
        : 'https://wallet.test/cb?error=access_denied&state=s-1&iss=http%3A%2F%2F127.0.0.1%2Ft1';
      res.writeHead(303, { location: target });
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${server.address().port}`;
  });

  after(() => server.close());

  for (const [decision, expected] of [
    ['issue', { code: 'c-1', state: 's-1', iss: 'http://127.0.0.1/t1' }],
    ['cancel', { error: 'access_denied', state: 's-1', iss: 'http://127.0.0.1/t1' }],
  ]) {
    test(`submits "${decision}" and stops at the wallet's redirect_uri`, async () => {
      const jar = new CookieJar();
      const page = await follow(`${base}/t1/authorize?request_uri=r`, jar);
      const result = await decideAtIssuer(page, jar, decision);
      assert.equal(result.status, 303);
      assert.deepEqual(result.response, expected);
      assert.deepEqual(posted.at(-1), { body: { authorization_id: 'az-1', decision }, cookie: 'csrf=k' });
    });
  }
});

describe('provider.mjs through the drivers', () => {
  let provider;
  let issuer;
  const redirectUri = 'http://127.0.0.1:9/cb';
  const clientId = 'browser-test';

  before(async () => {
    const script = fileURLToPath(new URL('./provider.mjs', import.meta.url));
    provider = spawn(process.execPath, [script, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: provider.stdout });
    for await (const line of lines) {
      if (line.startsWith('{"issuer"')) {
        issuer = JSON.parse(line).issuer;
        break;
      }
    }
    const registered = await fetch(`${issuer}/__test/clients/${clientId}`, {
      method: 'PUT',
      body: JSON.stringify({ client_secret: 'not-used-here', redirect_uris: [redirectUri] }),
    });
    assert.equal(registered.status, 200);
  });

  after(() => provider?.kill());

  function authorizeUrl(state) {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: redirectUri,
      state,
      nonce: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    return url.href;
  }

  test('logs alice in, consents and stops at the redirect URI with code, state and iss', async () => {
    const jar = new CookieJar();
    const loginPage = await follow(authorizeUrl('st-1'), jar, { stopAt: redirectUri });
    assert.equal(loginPage.status, 200);
    assert.ok(providerLoginForm(loginPage), 'the first page is the login page');

    const consentPage = await loginAtProvider(loginPage, jar, { login: 'alice', password: 'secret', stopAt: redirectUri });
    assert.ok(providerConsentForm(consentPage), 'after login comes the consent page');

    const done = await signInAtProvider(consentPage, jar, { stopAt: redirectUri });
    const response = responseParameters(done);
    assert.ok(done.location.startsWith(`${redirectUri}?`));
    assert.equal(response.state, 'st-1');
    assert.equal(response.iss, issuer);
    assert.ok(response.code.length > 20);
  });

  test('a second authorization in the same browser needs no login', async () => {
    const jar = new CookieJar();
    const first = await follow(authorizeUrl('st-2'), jar, { stopAt: redirectUri });
    await signInAtProvider(first, jar, { login: 'bob', password: 'secret', stopAt: redirectUri });

    const again = await follow(authorizeUrl('st-3'), jar, { stopAt: redirectUri });
    assert.equal(providerLoginForm(again), undefined);
    const done = await signInAtProvider(again, jar, { stopAt: redirectUri });
    assert.equal(responseParameters(done).state, 'st-3');
  });

  for (const [login, password] of [['alice', 'wrong'], ['mallory', 'secret']]) {
    test(`refuses ${login} with password "${password}"`, async () => {
      const jar = new CookieJar();
      const loginPage = await follow(authorizeUrl('st-x'), jar, { stopAt: redirectUri });
      const refused = await loginAtProvider(loginPage, jar, { login, password, stopAt: redirectUri });
      assert.equal(refused.status, 401);
      assert.match(refused.body, /Invalid login or password/);
      await assert.rejects(signInAtProvider(loginPage, jar, { login, password, stopAt: redirectUri }), /did not end in a redirect/);
    });
  }
});
