/**
 * A client for one registry speaking the OCI distribution API (Docker
 * Registry HTTP API v2): ping and authentication (`auth.ts`), manifests and
 * indexes with the `Accept` types c/image sends, and blobs, streamed (never
 * buffered whole) and resumed with `Range` after a dropped connection.
 *
 * Transport (as c/image's docker client): https; plain http only when the
 * caller allows it (`tlsVerify: false` or the registry is in
 * `registries.insecure`), and then only after https fails to connect.
 * `docker.io` is served by `registry-1.docker.io`.
 * @module
 */
import { Readable } from 'node:stream';
import { isLibpodError, libpodError, type LibpodError } from '../../../define/errors.js';
import { sha256Digest, type Digest } from '../../formats/digest.js';
import type { Descriptor } from '../../formats/manifest.js';
import { MAX_MANIFEST_SIZE } from '../../formats/manifest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../../formats/media-types.js';
import { RegistryAuth, type Credentials } from './auth.js';
import { abortError, readBody, send, sleep, DEFAULT_RETRY, type BodySource, type HttpMethod, type RetryPolicy } from './http.js';

/** The manifest types a pull accepts, best first. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST].join(', ');

/** Resumptions of one blob after dropped connections. */
const MAX_BLOB_RESUMES = 3;

/** Options of a {@link RegistryClient}. */
export interface RegistryClientOptions {
  credentials?: Credentials;
  /** Allow plain http after https fails (tlsVerify false or an insecure registry). */
  allowHttp?: boolean;
  signal?: AbortSignal;
  retry?: RetryPolicy;
}

/** A manifest or index as fetched. */
export interface FetchedManifest {
  bytes: Buffer;
  /** Content-Type as the registry sent it (without parameters). */
  mediaType: string;
  digest: Digest;
}

/** The host serving a registry domain. */
export function registryHost(domain: string): string {
  return domain === 'docker.io' ? 'registry-1.docker.io' : domain;
}

function statusError(status: number, what: string, notFound: LibpodError['code'] = 'NoSuchImage'): LibpodError {
  if (status === 401 || status === 403) return libpodError('Unauthorized', `${what}: the registry refused access (HTTP ${status}): unauthorized`);
  if (status === 404) return libpodError(notFound, `${what}: not found in the registry (HTTP 404)`);
  return libpodError('Registry', `${what}: HTTP ${status}`);
}

/** A client for one registry (see the module comment). */
export class RegistryClient {
  readonly domain: string;
  readonly #opts: RegistryClientOptions;
  readonly #auth: RegistryAuth;
  #base: Promise<string> | undefined;

  constructor(domain: string, opts: RegistryClientOptions = {}) {
    this.domain = domain;
    this.#opts = opts;
    this.#auth = new RegistryAuth(opts.credentials, opts.retry);
  }

  get #retry(): RetryPolicy {
    return this.#opts.retry ?? DEFAULT_RETRY;
  }

  /** `scheme://host` of the registry, found by pinging `/v2/` (cached; a failed ping is retried next time). */
  base(): Promise<string> {
    this.#base ??= this.#ping().catch((e: unknown) => {
      this.#base = undefined;
      throw e;
    });
    return this.#base;
  }

  async #pingAt(base: string, retry: RetryPolicy): Promise<void> {
    const res = await send({ method: 'GET', url: `${base}/v2/`, signal: this.#opts.signal, retry });
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 401) this.#auth.setChallenge(res.headers.get('www-authenticate'));
    else if (res.status !== 200) throw libpodError('Registry', `pinging registry ${this.domain}: HTTP ${res.status}`);
  }

  async #ping(): Promise<string> {
    const host = registryHost(this.domain);
    const https = `https://${host}`;
    if (!this.#opts.allowHttp) {
      await this.#pingAt(https, this.#retry);
      return https;
    }
    try {
      await this.#pingAt(https, { ...this.#retry, attempts: 1 });
      return https;
    } catch (e) {
      if (this.#opts.signal?.aborted) throw e;
      const http = `http://${host}`;
      await this.#pingAt(http, this.#retry);
      return http;
    }
  }

  /**
   * A request to `/v2/<repo>/<path>` (or to `init.url`, an upload location)
   * with authorization for `actions` (`pull`, `pull,push`) plus
   * `extraScopes` (`repository:<other>:pull` for a mount); a 401 renews
   * the token (or learns the challenge) once. Credentials go only to the
   * registry's own origin. `retry` overrides the client's policy (a body
   * streamed once cannot be retried).
   */
  async request(
    repo: string,
    method: HttpMethod,
    path: string,
    init: { headers?: Record<string, string>; body?: Uint8Array | BodySource; actions?: string; extraScopes?: string[]; url?: string; retry?: RetryPolicy } = {},
  ): Promise<Response> {
    const base = await this.base();
    const scope = [`repository:${repo}:${init.actions ?? 'pull'}`, ...(init.extraScopes ?? [])].join(' ');
    const url = init.url ?? `${base}/v2/${repo}/${path}`;
    const ownOrigin = new URL(url).origin === new URL(base).origin;
    for (let round = 0; ; round++) {
      const headers = { ...(init.headers ?? {}) };
      const auth = ownOrigin ? await this.#auth.header(scope, this.#opts.signal) : undefined;
      if (auth !== undefined) headers.Authorization = auth;
      const res = await send({ method, url, headers, signal: this.#opts.signal, retry: init.retry ?? this.#retry, ...(init.body ? { body: init.body } : {}) });
      if (res.status !== 401 || round > 0) return res;
      const challenge = res.headers.get('www-authenticate');
      const hadAuth = auth !== undefined;
      if (hadAuth && !challenge) return res;
      await res.body?.cancel().catch(() => undefined);
      this.#auth.setChallenge(challenge);
      this.#auth.dropToken(scope);
      if (!this.#auth.challenged) return res;
    }
  }

  /** The manifest or index `reference` (tag or digest) of `repo`; a digest reference is checked. */
  async manifest(repo: string, reference: string): Promise<FetchedManifest> {
    const what = `manifest ${this.domain}/${repo}:${reference}`;
    const res = await this.request(repo, 'GET', `manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT } });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw statusError(res.status, what);
    }
    const bytes = await readBody(res, MAX_MANIFEST_SIZE, what);
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) throw libpodError('ImageCorrupt', `${what}: content has digest ${digest}`);
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    return { bytes, mediaType, digest };
  }

  /** The digest of manifest `reference` without fetching it (HEAD; `Docker-Content-Digest`), or undefined when the registry does not say. */
  async manifestDigest(repo: string, reference: string): Promise<Digest | undefined> {
    const what = `manifest ${this.domain}/${repo}:${reference}`;
    const res = await this.request(repo, 'HEAD', `manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT } });
    await res.body?.cancel().catch(() => undefined);
    if (res.status !== 200) throw statusError(res.status, what);
    const d = res.headers.get('docker-content-digest');
    return d !== null && /^sha256:[0-9a-f]{64}$/.test(d) ? (d as Digest) : undefined;
  }

  /** A small blob (config), read whole and checked against `desc`. */
  async blobBytes(repo: string, desc: Descriptor, max: number): Promise<Buffer> {
    const what = `blob ${desc.digest} of ${this.domain}/${repo}`;
    if (desc.size > max) throw libpodError('ImageCorrupt', `${what}: ${desc.size} bytes, more than ${max}`);
    const res = await this.request(repo, 'GET', `blobs/${desc.digest}`);
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw statusError(res.status, what, 'Registry');
    }
    const bytes = await readBody(res, desc.size, what).catch((e: unknown) => {
      throw isLibpodError(e) && e.code === 'Registry' && /more than/.test(e.message) ? libpodError('ImageCorrupt', `${what}: longer than its ${desc.size} bytes`) : e;
    });
    if (bytes.length !== desc.size) throw libpodError('ImageCorrupt', `${what}: ${bytes.length} bytes, expected ${desc.size}`);
    if (sha256Digest(bytes) !== desc.digest) throw libpodError('ImageCorrupt', `${what}: content does not match its digest`);
    return bytes;
  }

  /**
   * A layer blob as a stream, not verified here (the store checks digest
   * and size); reading stops with `ImageCorrupt` past `desc.size` bytes. A
   * connection dropped mid-blob is resumed with `Range` (at most
   * {@link MAX_BLOB_RESUMES} times). `onBytes` sees each chunk's length.
   */
  blobStream(repo: string, desc: Descriptor, onBytes: (n: number) => void = () => undefined): Readable {
    const what = `blob ${desc.digest} of ${this.domain}/${repo}`;
    const signal = this.#opts.signal;
    const retry = this.#retry;
    const self = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      let offset = 0;
      let delay = retry.baseDelayMs;
      for (let resumes = 0; ; resumes++) {
        const res = await self.request(repo, 'GET', `blobs/${desc.digest}`, offset > 0 ? { headers: { Range: `bytes=${offset}-` } } : {});
        if (offset > 0 && res.status !== 206) {
          await res.body?.cancel().catch(() => undefined);
          throw libpodError('Registry', `${what}: connection lost at byte ${offset} and the registry cannot resume (HTTP ${res.status})`);
        }
        if (offset === 0 && res.status !== 200) {
          await res.body?.cancel().catch(() => undefined);
          throw statusError(res.status, what, 'Registry');
        }
        try {
          for await (const c of (res.body ?? []) as AsyncIterable<Uint8Array>) {
            offset += c.length;
            if (offset > desc.size) throw libpodError('ImageCorrupt', `${what}: longer than its ${desc.size} bytes`);
            onBytes(c.length);
            yield Buffer.from(c.buffer, c.byteOffset, c.length);
          }
          return;
        } catch (e) {
          if (signal?.aborted) throw abortError(signal, what);
          if (isLibpodError(e)) throw e;
          if (resumes >= MAX_BLOB_RESUMES || offset >= desc.size) throw libpodError('Registry', `${what}: connection lost at byte ${offset}`, e);
          await sleep(delay, signal, what);
          delay = Math.min(delay * 2, retry.maxDelayMs);
        }
      }
    }
    return Readable.from(chunks(), { objectMode: false, highWaterMark: 256 * 1024 });
  }
}
