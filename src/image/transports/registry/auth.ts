/**
 * Registry authentication as the distribution spec and c/image's docker
 * client do it: a `WWW-Authenticate` challenge from `/v2/` (or any 401)
 * says `Basic` (send the credentials on every request) or `Bearer realm=...,
 * service=...` (get a token for the scope `repository:<name>:pull` from
 * the realm, with the credentials as Basic auth when there are any, and
 * send it as `Bearer`). Tokens are cached per scope until shortly before
 * they expire.
 * @module
 */
import { libpodError } from '../../../define/errors.js';
import { readBody, send, type RetryPolicy } from './http.js';

/** A username and password (or identity token as password with username `<token>`). */
export interface Credentials {
  username: string;
  password: string;
}

/** A parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header: one challenge per scheme word, each
 * with its `key=value` / `key="quoted"` parameters.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  const token = /\s*,?\s*(?:([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))|([\w-]+))/y;
  let cur: Challenge | undefined;
  token.lastIndex = 0;
  for (let m = token.exec(header); m && m[0] !== ''; m = token.exec(header)) {
    if (m[4] !== undefined) {
      cur = { scheme: m[4].toLowerCase(), params: {} };
      out.push(cur);
    } else if (m[1] !== undefined && cur) {
      cur.params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    }
  }
  return out;
}

interface CachedToken {
  token: string;
  expires: number;
}

/** Seconds a token without `expires_in` is assumed valid (the spec's default is 60). */
const DEFAULT_TOKEN_LIFETIME_S = 60;

/** Authorization for one registry: the challenge it gave and the tokens got so far. */
export class RegistryAuth {
  #challenge: Challenge | undefined;
  readonly #tokens = new Map<string, CachedToken>();
  readonly #creds: Credentials | undefined;
  readonly #retry: RetryPolicy | undefined;

  constructor(creds: Credentials | undefined, retry?: RetryPolicy) {
    this.#creds = creds;
    this.#retry = retry;
  }

  /** Whether credentials were given. */
  get hasCredentials(): boolean {
    return this.#creds !== undefined;
  }

  /** Records the challenge of a 401 response (Bearer preferred over Basic). */
  setChallenge(header: string | null): void {
    if (header === null) return;
    const all = parseChallenges(header);
    const chosen = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
    if (chosen) this.#challenge = chosen;
  }

  /** Whether a challenge is known. */
  get challenged(): boolean {
    return this.#challenge !== undefined;
  }

  /** Forgets the cached token for `scope` (after a 401 with it). */
  dropToken(scope: string): void {
    this.#tokens.delete(scope);
  }

  /** The `Authorization` header for `scope` (one or more scopes, space-separated), getting a token when needed; none when not challenged. */
  async header(scope: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    const c = this.#challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') return this.#creds ? basic(this.#creds) : undefined;
    if (c.scheme !== 'bearer') throw libpodError('Registry', `registry asks for unsupported authentication scheme ${c.scheme}`);
    const cached = this.#tokens.get(scope);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.#fetchToken(c, scope, signal);
    return `Bearer ${token}`;
  }

  async #fetchToken(c: Challenge, scope: string, signal: AbortSignal | undefined): Promise<string> {
    const realm = c.params.realm;
    if (!realm) throw libpodError('Registry', 'registry Bearer challenge has no realm');
    let url: URL;
    try {
      url = new URL(realm);
    } catch (e) {
      throw libpodError('Registry', `registry token realm ${JSON.stringify(realm)} is not a URL`, e);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw libpodError('Registry', `registry token realm ${realm}: not http(s)`);
    if (c.params.service) url.searchParams.set('service', c.params.service);
    // several scopes (a mount also needs pull on the source repository) are several `scope` parameters
    for (const s of scope.split(' ')) if (s) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.#creds) headers.Authorization = basic(this.#creds);
    const res = await send({ method: 'GET', url: url.toString(), headers, signal, ...(this.#retry ? { retry: this.#retry } : {}) });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => undefined);
      throw libpodError('Unauthorized', `token server ${url.origin} refused the credentials (HTTP ${res.status}): unauthorized`);
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw libpodError('Registry', `token server ${url.origin}: HTTP ${res.status}`);
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse((await readBody(res, 1024 * 1024, 'token response')).toString('utf8')) as typeof body;
    } catch (e) {
      throw libpodError('Registry', `token server ${url.origin}: response is not JSON`, e);
    }
    const token = typeof body.token === 'string' && body.token !== '' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') throw libpodError('Registry', `token server ${url.origin}: response has no token`);
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    this.#tokens.set(scope, { token, expires: Date.now() + Math.max(lifetime - 10, 1) * 1000 });
    return token;
  }
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
