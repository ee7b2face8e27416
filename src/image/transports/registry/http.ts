/**
 * HTTP for the registry client, on Node's `fetch`: bounded retries with
 * exponential backoff on 5xx, 429 and connection failures (as c/image's
 * docker client retries), redirects followed by hand (at most
 * {@link MAX_REDIRECTS}; `Authorization` is dropped when the origin
 * changes, so a blob redirected to a CDN does not leak credentials), and an
 * `AbortSignal` that ends any wait or transfer.
 *
 * Errors are {@link LibpodError}s: `Registry` for transport failures (the
 * last one, after the retries), the signal's reason when aborted (a
 * `LibpodError` reason is kept; a timeout is `Timeout`; anything else
 * `Registry`).
 * @module
 */
import { isLibpodError, libpodError, type LibpodError } from '../../../define/errors.js';
import { logger } from '../../../util/log.js';

const log = logger('image:registry');

/** Redirect hops followed per request. */
export const MAX_REDIRECTS = 5;

/** How a request is retried. */
export interface RetryPolicy {
  /** Attempts in all (1 = no retry). */
  attempts: number;
  /** First backoff in ms; doubled each time, capped at {@link RetryPolicy.maxDelayMs}. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** c/image retries 5 times from 2 s; loopback tests need shorter waits, so the base is small. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 200, maxDelayMs: 5_000 };

/** The methods the client sends. */
export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/**
 * A streamed request body: called for each attempt (a retry or a redirect
 * calls it again; a body that cannot be produced twice throws a LibpodError
 * then, which ends the request).
 */
export type BodySource = () => AsyncIterable<Uint8Array>;

/** A request as the client makes it. */
export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array | BodySource;
  signal?: AbortSignal | undefined;
  retry?: RetryPolicy;
}

/** Whether a status is worth retrying. */
export function retryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504 || status === 500;
}

/** The error an aborted signal stands for. */
export function abortError(signal: AbortSignal, what: string): LibpodError {
  const reason: unknown = signal.reason;
  if (isLibpodError(reason)) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return libpodError('Timeout', `${what}: timed out`, reason);
  return libpodError('Registry', `${what}: aborted`, reason);
}

/** Sleeps `ms`, or until `signal` aborts (then rejects with its error). */
export function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal, what));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError(signal as AbortSignal, what));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Milliseconds of a `Retry-After` header (seconds form), bounded. */
function retryAfterMs(res: Response, cap: number): number | undefined {
  const v = res.headers.get('retry-after');
  if (v === null || !/^\d+$/.test(v.trim())) return undefined;
  return Math.min(Number(v) * 1000, cap);
}

function describe(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

/** One fetch with redirects followed by hand. Throws fetch's errors. */
async function fetchFollowing(req: HttpRequest): Promise<Response> {
  let url = req.url;
  let headers = { ...(req.headers ?? {}) };
  let method = req.method;
  let body = req.body;
  for (let hop = 0; ; hop++) {
    const init: RequestInit = { method, headers, redirect: 'manual' };
    // undici streams an async iterable body (chunked) when told the request is half duplex
    if (typeof body === 'function') Object.assign(init, { body: body(), duplex: 'half' });
    else if (body !== undefined) init.body = body;
    if (req.signal !== undefined) init.signal = req.signal;
    const res = await fetch(url, init);
    if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
    const location = res.headers.get('location');
    if (location === null) return res;
    await res.body?.cancel().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) throw libpodError('Registry', `${req.method} ${req.url}: more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, url);
    if (next.protocol !== 'https:' && next.protocol !== 'http:') throw libpodError('Registry', `${req.method} ${req.url}: redirect to ${next.protocol} refused`);
    if (next.origin !== new URL(url).origin) {
      const { Authorization: _a, authorization: _b, ...rest } = headers;
      headers = rest;
    }
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
    url = next.toString();
  }
}

/**
 * Sends `req`, retrying retryable statuses and connection failures. The
 * response of the last attempt is returned whatever its status (the caller
 * maps statuses to errors); only transport failures reject.
 */
export async function send(req: HttpRequest): Promise<Response> {
  const policy = req.retry ?? DEFAULT_RETRY;
  const what = `${req.method} ${req.url}`;
  let delay = policy.baseDelayMs;
  for (let attempt = 1; ; attempt++) {
    if (req.signal?.aborted) throw abortError(req.signal, what);
    let res: Response | undefined;
    let failure: unknown;
    try {
      res = await fetchFollowing(req);
    } catch (e) {
      if (req.signal?.aborted) throw abortError(req.signal, what);
      if (isLibpodError(e)) throw e;
      failure = e;
    }
    const last = attempt >= policy.attempts;
    if (res !== undefined && (!retryableStatus(res.status) || last)) return res;
    if (res === undefined && last) throw libpodError('Registry', `${what}: ${describe(failure)} (after ${attempt} attempts)`, failure);
    const wait = (res && retryAfterMs(res, policy.maxDelayMs)) ?? delay;
    log('%s: %s; retrying in %d ms (attempt %d of %d)', what, res ? `HTTP ${res.status}` : describe(failure), wait, attempt, policy.attempts);
    await res?.body?.cancel().catch(() => undefined);
    await sleep(wait, req.signal, what);
    delay = Math.min(delay * 2, policy.maxDelayMs);
  }
}

/** Reads a response body up to `max` bytes (`Registry` beyond it). */
export async function readBody(res: Response, max: number, what: string): Promise<Buffer> {
  const len = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(len) && len > max) {
    await res.body?.cancel().catch(() => undefined);
    throw libpodError('Registry', `${what}: ${len} bytes, more than the ${max} allowed`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  if (res.body) {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
      n += c.length;
      if (n > max) throw libpodError('Registry', `${what}: more than the ${max} bytes allowed`);
      chunks.push(Buffer.from(c.buffer, c.byteOffset, c.length));
    }
  }
  return Buffer.concat(chunks);
}
