// A small user agent for end-to-end tests: it follows redirects by hand, keeps cookies, reads HTML forms and submits
// them, as a person's browser would (no JavaScript). Drivers for oidc-provider's development login and consent pages
// (tests/interop/idp/provider.mjs) and for Issuer2's consent page sit on top.
//
//   const jar = new CookieJar();
//   let page = await follow(authorizeUrl, jar, { stopAt: redirectUri });
//   page = await signInAtProvider(page, jar, { login: 'alice', password: 'secret', stopAt: redirectUri });
//   page.location  // redirectUri?code=…&state=…&iss=…
//
// Cookies: RFC 6265 loosely. They are kept per host name (not port: 127.0.0.1:5080 and 127.0.0.1:9000 share cookies,
// as in a browser), Path is matched, Secure cookies are sent over https and to loopback hosts (browsers treat
// those as secure contexts), HttpOnly means nothing here (no scripts), Max-Age and Expires end cookies.

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Cookies by host name, each { name, value, host, domain, path, secure, expires }. */
export class CookieJar {
  #cookies = [];

  /** Stores the Set-Cookie headers of a response to `url`. */
  store(url, setCookies) {
    const target = new URL(url);
    for (const header of setCookies) {
      const cookie = parseSetCookie(header, target);
      if (!cookie) continue;
      this.#cookies = this.#cookies.filter(
        (c) => !(c.name === cookie.name && c.host === cookie.host && c.domain === cookie.domain && c.path === cookie.path));
      if (cookie.expires === undefined || cookie.expires > Date.now()) this.#cookies.push(cookie);
    }
  }

  /** The Cookie header for a request to `url`, or undefined when no cookie applies. */
  header(url) {
    const target = new URL(url);
    const now = Date.now();
    this.#cookies = this.#cookies.filter((c) => c.expires === undefined || c.expires > now);
    const secure = target.protocol === 'https:' || LOOPBACK.has(target.hostname);
    const matching = this.#cookies
      .filter((c) => hostMatches(c, target.hostname) && pathMatches(c.path, target.pathname) && (!c.secure || secure))
      // RFC 6265 §5.4: longer paths first.
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length === 0 ? undefined : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** Every cookie held now (for assertions and debugging). */
  list() {
    return this.#cookies.map((c) => ({ ...c }));
  }
}

function parseSetCookie(header, target) {
  const [pair, ...attributes] = header.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const cookie = {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    host: target.hostname,
    domain: undefined,
    path: defaultPath(target.pathname),
    secure: false,
    httpOnly: false,
    expires: undefined,
  };
  let maxAge;
  for (const attribute of attributes) {
    const [rawKey, ...rest] = attribute.split('=');
    const key = rawKey.trim().toLowerCase();
    const value = rest.join('=').trim();
    if (key === 'path' && value.startsWith('/')) cookie.path = value;
    else if (key === 'domain' && value) cookie.domain = value.replace(/^\./, '').toLowerCase();
    else if (key === 'secure') cookie.secure = true;
    else if (key === 'httponly') cookie.httpOnly = true;
    else if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
    else if (key === 'expires') {
      const time = Date.parse(value);
      if (!Number.isNaN(time)) cookie.expires = time;
    }
  }
  // Max-Age wins over Expires (RFC 6265 §5.3 step 3).
  if (maxAge !== undefined) cookie.expires = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000;
  return cookie;
}

// RFC 6265 §5.1.4: the directory of the request path.
function defaultPath(path) {
  if (!path.startsWith('/')) return '/';
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function hostMatches(cookie, hostname) {
  if (cookie.domain === undefined) return cookie.host === hostname;
  return hostname === cookie.domain || hostname.endsWith(`.${cookie.domain}`);
}

function pathMatches(cookiePath, requestPath) {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/**
 * One request, no redirect followed: { url, method, status, headers, location, body, forms }. `location` is the
 * absolute Location of a 3xx; `forms` are the HTML forms of a text/html body (see parseForms).
 */
export async function request(url, jar, { method = 'GET', body, headers = {} } = {}) {
  const sent = { ...headers };
  const cookie = jar.header(url);
  if (cookie) sent.cookie = cookie;
  if (body !== undefined && !Object.keys(sent).some((h) => h.toLowerCase() === 'content-type')) {
    sent['content-type'] = 'application/x-www-form-urlencoded';
  }
  const response = await fetch(url, { method, body, headers: sent, redirect: 'manual' });
  jar.store(url, response.headers.getSetCookie());
  const text = await response.text();
  const rawLocation = response.headers.get('location');
  const type = response.headers.get('content-type') ?? '';
  return {
    url,
    method,
    status: response.status,
    headers: response.headers,
    location: rawLocation ? new URL(rawLocation, url).href : undefined,
    body: text,
    forms: type.includes('html') ? parseForms(text, url) : [],
  };
}

/**
 * Requests `url` and follows 3xx Locations with GET (as browsers do after 301/302/303; 307/308 repeat the method and
 * body), up to `maxRedirects`. It stops without requesting a Location that starts with `stopAt` (a string, or a
 * function of the URL returning true), e.g. a wallet's redirect URI: the last page is then that 3xx, its `location`
 * the stopping URL. Every page passed through is in `chain`.
 */
export async function follow(url, jar, { method = 'GET', body, headers, stopAt, maxRedirects = 20 } = {}) {
  const stop = typeof stopAt === 'function' ? stopAt : (u) => stopAt !== undefined && u.startsWith(stopAt);
  const chain = [];
  let page = await request(url, jar, { method, body, headers });
  chain.push(page);
  for (let i = 0; page.status >= 300 && page.status < 400 && page.location; i++) {
    if (stop(page.location)) break;
    if (i >= maxRedirects) throw new Error(`more than ${maxRedirects} redirects from ${url}`);
    const keep = page.status === 307 || page.status === 308;
    page = await request(page.location, jar, keep ? { method: page.method, body, headers } : {});
    chain.push(page);
  }
  return { ...page, chain };
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decodes HTML character references (named ones of the common set, decimal and hex). */
export function decodeHtml(text) {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

function attributes(tag) {
  const result = {};
  const pattern = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  // Skip the tag name.
  const inner = tag.replace(/^<\s*[a-z0-9]+/i, '').replace(/\/?>$/, '');
  for (const match of inner.matchAll(pattern)) {
    result[match[1].toLowerCase()] = decodeHtml(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return result;
}

/**
 * The forms of an HTML page: [{ action, method, fields: [{ name, value, type }], buttons: [{ name, value, text }] }].
 * `action` is absolute (the page's URL when absent); `method` is upper case (GET when absent). Fields are inputs with
 * a name (text, hidden, password…; checkboxes and radios only when checked; submit inputs count as buttons), and
 * textareas; buttons are <button> elements and <input type=submit> of type submit.
 */
export function parseForms(html, pageUrl) {
  const forms = [];
  for (const match of html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form\s*>/gi)) {
    const open = match[0].slice(0, match[0].indexOf('>') + 1);
    const attrs = attributes(open);
    const form = {
      action: new URL(attrs.action || pageUrl, pageUrl).href,
      method: (attrs.method || 'GET').toUpperCase(),
      fields: [],
      buttons: [],
    };
    const inner = match[1];
    for (const element of inner.matchAll(/<(input|button|textarea)\b[^>]*>(?:([\s\S]*?)<\/\1\s*>)?/gi)) {
      const kind = element[1].toLowerCase();
      const tag = element[0].slice(0, element[0].indexOf('>') + 1);
      const a = attributes(tag);
      if (kind === 'button') {
        const type = (a.type || 'submit').toLowerCase();
        if (type === 'submit') form.buttons.push({ name: a.name, value: a.value ?? '', text: decodeHtml((element[2] ?? '').replace(/<[^>]*>/g, '').trim()) });
      } else if (kind === 'textarea') {
        if (a.name) form.fields.push({ name: a.name, value: decodeHtml(element[2] ?? ''), type: 'textarea' });
      } else {
        const type = (a.type || 'text').toLowerCase();
        if (type === 'submit') {
          form.buttons.push({ name: a.name, value: a.value ?? '', text: a.value ?? '' });
        } else if (a.name && !['button', 'reset', 'file', 'image'].includes(type)) {
          if ((type === 'checkbox' || type === 'radio') && !('checked' in a)) continue;
          form.fields.push({ name: a.name, value: a.value ?? (type === 'checkbox' ? 'on' : ''), type });
        }
      }
    }
    forms.push(form);
  }
  return forms;
}

/**
 * Submits `form` as a browser would: its fields, with `fields` ({ name: value }) replacing or adding values, plus the
 * clicked button's name and value (`button`: { name, value } to pick one, default the first). Then follows redirects
 * as follow() does (with `stopAt`), unless `followRedirects` is false.
 */
export async function submit(form, jar, { fields = {}, button, stopAt, followRedirects = true } = {}) {
  const values = new URLSearchParams();
  const overridden = new Set(Object.keys(fields));
  for (const field of form.fields) {
    if (!overridden.has(field.name)) values.append(field.name, field.value);
  }
  for (const [name, value] of Object.entries(fields)) values.append(name, value);
  const clicked = button
    ? form.buttons.find((b) => (button.name === undefined || b.name === button.name) && (button.value === undefined || b.value === button.value))
    : form.buttons[0];
  if (button && !clicked) throw new Error(`no button ${JSON.stringify(button)} in the form to ${form.action}`);
  if (clicked?.name) values.append(clicked.name, clicked.value);

  const options = form.method === 'POST'
    ? { method: 'POST', body: values.toString() }
    : { method: 'GET' };
  let target = form.action;
  if (form.method !== 'POST') {
    const url = new URL(form.action);
    url.search = values.toString();
    target = url.href;
  }
  if (!followRedirects) return request(target, jar, options);
  return follow(target, jar, { ...options, stopAt });
}

function describe(page) {
  return `${page.method} ${page.url} → ${page.status}${page.location ? ` (Location ${page.location})` : ''}\n${page.body.slice(0, 2000)}`;
}

function hiddenPrompt(form) {
  return form.fields.find((f) => f.name === 'prompt' && f.type === 'hidden')?.value;
}

/** oidc-provider's development login page: the form with the hidden input prompt=login. */
export function providerLoginForm(page) {
  return page.forms.find((f) => hiddenPrompt(f) === 'login');
}

/** oidc-provider's development consent page: the form with the hidden input prompt=consent. */
export function providerConsentForm(page) {
  return page.forms.find((f) => hiddenPrompt(f) === 'consent');
}

/** Fills oidc-provider's login page with `login` and `password` and follows on (to the consent page, or `stopAt`). */
export async function loginAtProvider(page, jar, { login, password, stopAt } = {}) {
  const form = providerLoginForm(page);
  if (!form) throw new Error(`not oidc-provider's login page:\n${describe(page)}`);
  return submit(form, jar, { fields: { login, password }, stopAt });
}

/** Accepts oidc-provider's consent page and follows on (to the client's redirect URI, stopping at `stopAt`). */
export async function consentAtProvider(page, jar, { stopAt } = {}) {
  const form = providerConsentForm(page);
  if (!form) throw new Error(`not oidc-provider's consent page:\n${describe(page)}`);
  return submit(form, jar, { stopAt });
}

/**
 * Goes through whatever oidc-provider asks from `page` on: the login page (with `login`, `password`), then the consent
 * page when it comes (a client already consented to skips it), until the redirect that `stopAt` matches. Returns
 * that 3xx page; its `location` holds the authorization response. Throws with the page when it ends elsewhere.
 */
export async function signInAtProvider(page, jar, { login, password, stopAt }) {
  let current = page;
  for (let step = 0; step < 4; step++) {
    if (current.status >= 300 && current.status < 400) return current;
    if (providerLoginForm(current)) current = await loginAtProvider(current, jar, { login, password, stopAt });
    else if (providerConsentForm(current)) current = await consentAtProvider(current, jar, { stopAt });
    else break;
  }
  throw new Error(`the provider's sign-in did not end in a redirect:\n${describe(current)}`);
}

/**
 * Submits Issuer2's consent page: its one POST form with the hidden authorization_id, clicking the button
 * name="decision" value=`decision` ("issue" or "cancel"). Issuer2 answers 303 to the wallet's redirect_uri, which is
 * not followed: the returned page's `location` carries code, state, iss (or error, state, iss); `response` has them
 * parsed.
 */
export async function decideAtIssuer(page, jar, decision) {
  const forms = page.forms.filter((f) => f.method === 'POST' && f.fields.some((x) => x.name === 'authorization_id' && x.type === 'hidden'));
  if (forms.length !== 1) throw new Error(`not Issuer2's consent page (${forms.length} consent forms):\n${describe(page)}`);
  const result = await submit(forms[0], jar, { button: { name: 'decision', value: decision }, followRedirects: false });
  return { ...result, response: result.location ? Object.fromEntries(new URL(result.location).searchParams) : undefined };
}

/** The query parameters of a redirect's Location (an authorization response), or undefined. */
export function responseParameters(page) {
  return page.location ? Object.fromEntries(new URL(page.location).searchParams) : undefined;
}
