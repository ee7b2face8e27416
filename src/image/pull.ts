/**
 * `pullImage`: c/image's copy from a registry into the store, with
 * libimage's pull policies:
 *
 * - `missing` (default): a local image is used without any registry request;
 * - `always`: the manifest is fetched every time (layers already stored are
 *   not fetched again);
 * - `newer`: the registry's digest for the reference (HEAD) is compared with
 *   the local image's digests; a registry that cannot be asked keeps the
 *   local image (as libimage, which logs and goes on);
 * - `never`: local or `NoSuchImage`.
 *
 * A short name is tried on each `registries.search` entry in order. Pulls of
 * one reference and platform running at once in this process share one
 * transfer; across processes the store's layer locks make one extract and
 * the others reuse. A failed or aborted pull stores nothing (the load
 * pipeline's cleanup), and a kill -9 leaves only complete layers.
 * @module
 */
import { ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../define/errors.js';
import { logger } from '../util/log.js';
import type { PullPolicy } from '../define/config.js';
import { parseImageConfig } from './formats/config.js';
import { formatPlatform, hostPlatform, parsePlatform, matchesPlatform, wantedPlatforms, type PlatformSpec } from './formats/platform.js';
import { formatReference, isShortName, parseNormalizedReference, repositoryName, withDefaultTag, type ImageReference } from './reference.js';
import { RegistryClient } from './transports/registry/client.js';
import { findCredentials, type CredentialSources } from './transports/registry/credentials.js';
import type { RetryPolicy } from './transports/registry/http.js';
import { readRegistryImage, type LayerBytes } from './transports/registry/registry-source.js';
import { storeImages, type ImageStorage, type StoredImage } from './transports/storage.js';
import type { Credentials } from './transports/registry/auth.js';
import { findImage } from './image-lookup.js';
import type { ImageRecord } from './store/records.js';
import { join } from 'node:path';
import { chainIds, digestHex, type Digest } from './formats/digest.js';
import { prefetchLayers } from './transports/registry/prefetch.js';
import type { SourceImage } from './transports/types.js';

const log = logger('image:pull');


/** Every {@link PullPolicy}. */
export const PULL_POLICIES: readonly PullPolicy[] = ['always', 'missing', 'newer', 'never'];

/** Progress of a pull, reported as layer bytes arrive. */
export interface PullProgress {
  /** The reference being pulled, fully qualified. */
  reference: string;
  /** The layer blob this report is about. */
  layer: { digest: string; received: number; size: number };
  /** Bytes of layer blobs received so far by this pull. */
  received: number;
  /** Bytes of all the image's layer blobs (layers already stored are not fetched, so `received` may stay below it). */
  total: number;
}

/** Options of `pullImage` (see the contract's "Images"). */
export interface PullOptions {
  policy?: PullPolicy;
  /** `os/arch[/variant]`; default this host's. */
  platform?: string;
  auth?: Credentials;
  authFile?: string;
  /** Default true; false allows plain HTTP. */
  tlsVerify?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: PullProgress) => void;
}

/** Registries configuration (the runtime's `registries` option). */
export interface RegistriesConfig {
  /** Registries a short name is tried on, in order (default `['docker.io']`). */
  search?: string[];
  /** Registries reached over plain HTTP (after https fails), as `registries.conf`'s `insecure = true`. */
  insecure?: string[];
}

/** What the pull verb needs from the runtime. */
export interface PullContext {
  /** The image store; with a `path`, layers download ahead into its tmp dir. */
  storage: ImageStorage & { images(): ResultAsync<ImageRecord[], LibpodError>; readonly path?: string };
  registries: RegistriesConfig;
  /** Publishes a `pull` event once the image is stored. */
  publish(image: { id: string; name: string }): void;
  /** Retries of registry requests (tests shorten them). */
  retry?: RetryPolicy;
  /** Environment for credential files (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

function throwIt<T>(r: { isErr(): boolean; error?: unknown; value?: T }): T {
  if (r.isErr()) throw r.error;
  return r.value as T;
}

/** The fully qualified references a name stands for, in the order they are tried. */
export function pullCandidates(name: string, search: readonly string[]): ImageReference[] {
  const parsed = withDefaultTag(throwIt(parseNormalizedReference(name)));
  if (!isShortName(name)) return [parsed];
  const out: ImageReference[] = [];
  for (const domain of search) {
    const full = throwIt(parseNormalizedReference(`${domain}/${name}`));
    out.push(withDefaultTag(full));
  }
  if (out.length === 0) throw libpodError('NoSuchImage', `short name ${JSON.stringify(name)} and no search registries are configured`);
  return out;
}

/** The stored image a reference names, when there is one. */
function findLocal(images: readonly ImageRecord[], ref: ImageReference): ImageRecord | undefined {
  if (ref.digest !== undefined) {
    const repo = repositoryName(ref);
    return images.find((i) => i.digests.includes(ref.digest as string) && i.names.some((n) => n.startsWith(`${repo}:`) || n.startsWith(`${repo}@`)));
  }
  const full = formatReference(ref);
  return images.find((i) => i.names.includes(full));
}

async function platformOf(storage: ImageStorage, image: StoredImage): Promise<PlatformSpec | undefined> {
  const bytes = await storage.blobBytes(image.configDigest);
  if (bytes.isErr()) return undefined;
  const c = parseImageConfig(bytes.value);
  return c.isOk() ? { os: c.value.os, architecture: c.value.architecture, variant: c.value.variant ?? '' } : undefined;
}

/** Whether a stored image fits the platform asked for (any variant acceptable for it). */
async function fitsPlatform(storage: ImageStorage, image: StoredImage, wanted: PlatformSpec): Promise<boolean> {
  const p = await platformOf(storage, image);
  if (!p) return false;
  return wantedPlatforms(wanted).some((w) => matchesPlatform({ os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) }, w));
}

/** A client for `ref`'s registry with the credentials and transport `opts` and the runtime's registries allow. */
export async function clientFor(ctx: Pick<PullContext, 'registries' | 'retry' | 'env'>, ref: ImageReference, opts: Pick<PullOptions, 'auth' | 'authFile' | 'tlsVerify' | 'signal'>): Promise<RegistryClient> {
  const sources: CredentialSources = { ...(opts.auth ? { auth: opts.auth } : {}), ...(opts.authFile !== undefined ? { authFile: opts.authFile } : {}), ...(ctx.env ? { env: ctx.env } : {}) };
  const credentials = await findCredentials(sources, ref.domain, ref.path);
  return new RegistryClient(ref.domain, {
    ...(credentials ? { credentials } : {}),
    allowHttp: opts.tlsVerify === false || (ctx.registries.insecure ?? []).includes(ref.domain),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(ctx.retry ? { retry: ctx.retry } : {}),
  });
}

/** Which layers of `image` the store lacks (layer or blob), as `storeImages` decides. */
async function layersNeeded(storage: ImageStorage, image: SourceImage): Promise<boolean[]> {
  const ids = chainIds(image.layers.map((l) => l.diffId));
  return Promise.all(
    image.layers.map(async (l, i) => {
      const have = (await storage.layer(digestHex(ids[i] as Digest))).isOk() && (await storage.hasBlob(l.blob.digest)).unwrapOr(false);
      return !have;
    }),
  );
}

/** One registry pull of `ref` into the store; layers after the first download concurrently (`prefetch.ts`). */
async function pullFrom(ctx: PullContext, ref: ImageReference, platform: PlatformSpec, opts: PullOptions): Promise<StoredImage> {
  const name = formatReference(ref);
  const client = await clientFor(ctx, ref, opts);
  let received = 0;
  let total = 0;
  const report = opts.onProgress;
  const perLayer = new Map<string, number>();
  const localBlob = async (d: string): Promise<Buffer | undefined> => {
    const r = await ctx.storage.blobBytes(d);
    return r.isOk() ? r.value : undefined;
  };
  const image = await readRegistryImage(client, ref, platform, name, (b: LayerBytes) => {
    received += b.received - (perLayer.get(b.digest) ?? 0);
    perLayer.set(b.digest, b.received);
    if (report) {
      try {
        report({ reference: name, layer: { digest: b.digest, received: b.received, size: b.size }, received, total });
      } catch (e) {
        log('onProgress threw: %O', e);
      }
    }
  }, localBlob);
  total = image.layers.reduce((n, l) => n + l.blob.size, 0);
  const prefetched = ctx.storage.path !== undefined && image.layers.length > 1 ? prefetchLayers(image.layers, await layersNeeded(ctx.storage, image), join(ctx.storage.path, 'tmp')) : undefined;
  let stored: Awaited<ReturnType<typeof storeImages>>;
  try {
    stored = await storeImages(ctx.storage, [prefetched ? { ...image, layers: prefetched.layers } : image]);
  } finally {
    await prefetched?.close();
  }
  const rec = throwIt(stored)[0] as StoredImage;
  ctx.publish({ id: rec.id, name });
  return rec;
}

/** Keys of pulls in flight, shared by concurrent callers. */
export class Puller {
  readonly #inFlight = new Map<string, Promise<StoredImage>>();
  readonly #ctx: PullContext;

  constructor(ctx: PullContext) {
    this.#ctx = ctx;
  }

  /** Pulls `name` as `opts` says (see the module comment). */
  pull(name: string, opts: PullOptions = {}): ResultAsync<StoredImage, LibpodError> {
    return ResultAsync.fromPromise(this.#pull(name, opts), (e) => toLibpodError(e, 'Registry', `pulling ${name}`));
  }

  async #pull(name: string, opts: PullOptions): Promise<StoredImage> {
    if (typeof name !== 'string' || name === '') throw libpodError('InvalidArg', 'pullImage needs an image reference');
    const policy = opts.policy ?? 'missing';
    if (!PULL_POLICIES.includes(policy)) throw libpodError('InvalidArg', `pull policy must be one of ${PULL_POLICIES.join(', ')}, got ${JSON.stringify(policy)}`);
    const platform = opts.platform === undefined ? hostPlatform() : throwIt(parsePlatform(opts.platform));
    const candidates = pullCandidates(name, this.#ctx.registries.search ?? ['docker.io']);
    const images = throwIt(await this.#ctx.storage.images());
    // as libimage: the local lookup (names, short names against local names, digests) first
    const byLookup = findImage(images, name);
    const found = byLookup.isOk() ? [byLookup.value] : candidates.map((c) => findLocal(images, c)).filter((i): i is ImageRecord => i !== undefined);
    let local: ImageRecord | undefined;
    for (const f of found) {
      if (opts.platform === undefined || (await fitsPlatform(this.#ctx.storage, f, platform))) {
        local = f;
        break;
      }
    }
    if (policy === 'never') {
      if (local) return local;
      throw libpodError('NoSuchImage', `${name}: image not known locally and the pull policy is "never"`);
    }
    if (policy === 'missing' && local) return local;
    if (policy === 'newer' && local) {
      const same = await this.#sameAsRemote(local, candidates, opts);
      if (same) return local;
    }
    let firstError: LibpodError | undefined;
    for (const ref of candidates) {
      try {
        return await this.#shared(ref, platform, opts);
      } catch (e) {
        const err = toLibpodError(e, 'Registry', `pulling ${formatReference(ref)}`);
        if (opts.signal?.aborted || (err.code !== 'NoSuchImage' && err.code !== 'Unauthorized' && err.code !== 'Registry') || candidates.length === 1) throw err;
        log('pulling %s: %s', formatReference(ref), err.message);
        if (firstError === undefined || (firstError.code === 'NoSuchImage' && err.code !== 'NoSuchImage')) firstError = err;
      }
    }
    throw firstError ?? libpodError('NoSuchImage', `${name}: image not found`);
  }

  /** Whether the registry's current digest for `local`'s reference is one `local` has (`newer`). */
  async #sameAsRemote(local: ImageRecord, candidates: readonly ImageReference[], opts: PullOptions): Promise<boolean> {
    const ref = candidates.find((c) => findLocal([local], c)) ?? candidates[0];
    if (!ref || ref.digest !== undefined) return true;
    try {
      const client = await clientFor(this.#ctx, ref, opts);
      const remote = await client.manifestDigest(ref.path, ref.tag as string);
      if (remote === undefined) return false;
      return local.digest === remote || local.digests.includes(remote);
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      log('pull policy newer: checking %s failed (%s): keeping the local image', formatReference(ref), (e as Error).message);
      return true;
    }
  }

  /** A pull of `ref` for `platform`, shared with concurrent callers asking for the same. */
  #shared(ref: ImageReference, platform: PlatformSpec, opts: PullOptions): Promise<StoredImage> {
    const key = `${formatReference(ref)}|${formatPlatform(platform)}`;
    const running = this.#inFlight.get(key);
    if (running) return running;
    const p = pullFrom(this.#ctx, ref, platform, opts).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }
}
