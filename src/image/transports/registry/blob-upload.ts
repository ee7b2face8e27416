/**
 * The push side of the distribution API, as c/image's docker destination
 * speaks it:
 *
 * - a blob's presence: `HEAD /v2/<name>/blobs/<digest>` (200 with its size);
 * - a cross-repository mount: `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo>`,
 *   201 when mounted; 202 means the registry started an ordinary upload
 *   instead, which is cancelled (`DELETE`, best effort);
 * - an upload: `POST /v2/<name>/blobs/uploads/` (202 + `Location`), one
 *   `PATCH` streaming the whole blob (its digest and size computed as it
 *   goes), then `PUT <location>&digest=<digest>` (201). Locations may be
 *   relative or absolute; each response's `Location` is the next URL;
 * - a manifest: `PUT /v2/<name>/manifests/<tag or digest>` with its media type.
 *
 * Every request asks for `pull,push` on the destination. Errors: 401/403
 * `Unauthorized`, anything else unexpected `Registry`.
 * @module
 */
import { createHash } from 'node:crypto';
import { libpodError, type LibpodError } from '../../../define/errors.js';
import { logger } from '../../../util/log.js';
import type { Digest } from '../../formats/digest.js';
import type { RegistryClient } from './client.js';
import type { BodySource } from './http.js';

const log = logger('image:push');

/** The actions a push needs on its destination repository. */
export const PUSH_ACTIONS = 'pull,push';

/** One attempt only: a streamed blob (compressed on the fly) cannot be sent twice. */
const ONCE = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

function pushError(status: number, what: string): LibpodError {
  if (status === 401 || status === 403) return libpodError('Unauthorized', `${what}: the registry refused access (HTTP ${status}): unauthorized`);
  return libpodError('Registry', `${what}: HTTP ${status}`);
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

/** The `Location` of `res`, resolved against the URL it answered. */
function nextLocation(res: Response, requestUrl: string, what: string): string {
  const loc = res.headers.get('location');
  if (loc === null || loc === '') throw libpodError('Registry', `${what}: the registry sent no upload location`);
  let url: URL;
  try {
    url = new URL(loc, requestUrl);
  } catch (e) {
    throw libpodError('Registry', `${what}: upload location ${JSON.stringify(loc)} is not a URL`, e);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw libpodError('Registry', `${what}: upload location ${url.protocol} refused`);
  return url.toString();
}

/** The size of blob `digest` in `repo`, or undefined when the repository does not have it. */
export async function blobSize(client: RegistryClient, repo: string, digest: string): Promise<number | undefined> {
  const what = `checking blob ${digest} in ${client.domain}/${repo}`;
  const res = await client.request(repo, 'HEAD', `blobs/${digest}`, { actions: PUSH_ACTIONS });
  await discard(res);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw pushError(res.status, what);
  const size = Number(res.headers.get('content-length') ?? NaN);
  if (!Number.isSafeInteger(size) || size < 0) throw libpodError('Registry', `${what}: no valid Content-Length`);
  return size;
}

/**
 * Mounts blob `digest` from repository `from` (same registry) into `repo`;
 * true when the registry did. Refusals (no access to `from`, unknown blob,
 * no mount support) are false: the caller uploads instead.
 */
export async function mountBlob(client: RegistryClient, repo: string, digest: string, from: string): Promise<boolean> {
  const what = `mounting ${digest} from ${from} into ${client.domain}/${repo}`;
  const query = new URLSearchParams({ mount: digest, from }).toString();
  const res = await client.request(repo, 'POST', `blobs/uploads/?${query}`, { actions: PUSH_ACTIONS, extraScopes: [`repository:${from}:pull`] });
  await discard(res);
  if (res.status === 201) return true;
  log('%s: HTTP %d', what, res.status);
  if (res.status === 202) {
    // the registry ignored the mount and opened an upload session: close it (distribution often refuses; harmless)
    try {
      const base = await client.base();
      const cancel = await client.request(repo, 'DELETE', '', { actions: PUSH_ACTIONS, url: nextLocation(res, `${base}/v2/${repo}/blobs/uploads/`, what) });
      await discard(cancel);
    } catch (e) {
      log('%s: cancelling the upload it started: %O', what, e);
    }
  }
  return false;
}

/** What an upload sent. */
export interface UploadedBlob {
  digest: Digest;
  size: number;
}

/**
 * Uploads the blob `body` streams (POST, one PATCH, PUT with the digest
 * computed while streaming). When `expected` is given the digest must
 * match (`ImageCorrupt` otherwise, before the PUT commits anything).
 * `onBytes` sees each chunk's length as it is sent.
 */
export async function uploadBlob(
  client: RegistryClient,
  repo: string,
  body: BodySource,
  opts: { expected?: string; onBytes?: (n: number) => void } = {},
): Promise<UploadedBlob> {
  const what = `uploading a blob to ${client.domain}/${repo}`;
  const base = await client.base();
  const startUrl = `${base}/v2/${repo}/blobs/uploads/`;
  const start = await client.request(repo, 'POST', 'blobs/uploads/', { actions: PUSH_ACTIONS });
  await discard(start);
  if (start.status !== 202) throw pushError(start.status, `${what} (starting)`);
  const patchUrl = nextLocation(start, startUrl, what);
  let hash = createHash('sha256');
  let size = 0;
  const onBytes = opts.onBytes;
  // a fresh count per attempt (a 401 renewing the token sends the body again, when `body` can)
  const metered: BodySource = () => {
    hash = createHash('sha256');
    size = 0;
    const src = body();
    return (async function* (): AsyncGenerator<Uint8Array> {
      for await (const c of src) {
        hash.update(c);
        size += c.length;
        onBytes?.(c.length);
        yield c;
      }
    })();
  };
  const patch = await client.request(repo, 'PATCH', '', { actions: PUSH_ACTIONS, url: patchUrl, headers: { 'Content-Type': 'application/octet-stream' }, body: metered, retry: ONCE });
  await discard(patch);
  if (patch.status < 200 || patch.status > 299) throw pushError(patch.status, `${what} (sending)`);
  const digest: Digest = `sha256:${hash.digest('hex')}`;
  if (opts.expected !== undefined && opts.expected !== digest) throw libpodError('ImageCorrupt', `${what}: the blob read has digest ${digest}, expected ${opts.expected}`);
  const put = new URL(nextLocation(patch, patchUrl, what));
  put.searchParams.set('digest', digest);
  const done = await client.request(repo, 'PUT', '', { actions: PUSH_ACTIONS, url: put.toString(), headers: { 'Content-Type': 'application/octet-stream' } });
  await discard(done);
  if (done.status !== 201) throw pushError(done.status, `${what} (committing ${digest})`);
  return { digest, size };
}

/** Puts a manifest under `reference` (a tag or its digest). */
export async function putManifest(client: RegistryClient, repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<void> {
  const what = `putting manifest ${client.domain}/${repo}:${reference}`;
  const res = await client.request(repo, 'PUT', `manifests/${reference}`, { actions: PUSH_ACTIONS, headers: { 'Content-Type': mediaType }, body: bytes });
  await discard(res);
  if (res.status < 200 || res.status > 299) throw pushError(res.status, what);
}
