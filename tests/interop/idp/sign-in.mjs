// Signs a user in at the test OpenID Provider (provider.mjs) through its own login and consent pages, as a browser
// would, and prints the authorization response it redirects to as one JSON line:
//
//   node tests/interop/idp/sign-in.mjs '{"authorizeUrl":"…","redirectUri":"…","login":"alice","password":"secret"}'
//   → {"location":"…","response":{"code":"…","state":"…","iss":"…"}}
//
// A sign-in that ends anywhere but at the redirect URI prints {"error":"…","status":…} and exits with 1.
import { CookieJar, follow, responseParameters, signInAtProvider } from '../browser.mjs';

const input = JSON.parse(process.argv[2] ?? '{}');
const { authorizeUrl, redirectUri, login, password } = input;
if (!authorizeUrl || !redirectUri) {
  console.error('usage: node sign-in.mjs \'{"authorizeUrl":…,"redirectUri":…,"login":…,"password":…}\'');
  process.exit(2);
}

const jar = new CookieJar();
try {
  const first = await follow(authorizeUrl, jar, { stopAt: redirectUri });
  const last = await signInAtProvider(first, jar, { login, password, stopAt: redirectUri });
  process.stdout.write(`${JSON.stringify({ location: last.location, response: responseParameters(last) })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: String(error?.message ?? error) })}\n`);
  process.exit(1);
}
