/**
 * What a push learns about blobs, kept for the next push (c/image's blob
 * info cache, `blob-info-cache-v1`): for a compressed blob, the diffID it
 * decompresses to; for a diffID, the digests of its gzip and zstd forms
 * made so far; for any blob, the registry repositories known to hold it.
 * With it a re-push of a committed image finds its compressed layers in
 * the registry without compressing them again, and a blob pushed to one
 * repository is mounted into another of the same registry.
 *
 * ```
 * <storage>/blob-info/<hex>.json   BlobInfo of blob sha256:<hex>, written atomically
 * ```
 *
 * It is a cache: an entry lost to two writers racing, or a stale location,
 * costs a compression or an upload, never correctness (every reuse is
 * checked against the registry first). Unreadable entries are ignored.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { logger } from '../../util/log.js';
import { readJsonIfExists, sweepTemps, writeJsonAtomic } from './atomic.js';
import { digestHex, isDigest } from './digest.js';

const log = logger('image:blob-info');

/** Locations kept per blob (the most recent first). */
const MAX_LOCATIONS = 16;

/** The compressions a pushed layer may have. */
export type PushCompression = 'gzip' | 'zstd';

/** What is known about one blob. */
export interface BlobInfo {
  /** For a compressed blob: the `sha256:` of its uncompressed tar. */
  uncompressed?: string;
  /** For an uncompressed tar (by diffID): the digests of its compressed forms. */
  compressed?: Partial<Record<PushCompression, string>>;
  /** Repositories known to hold the blob, as `domain/path`, most recent first. */
  locations?: string[];
}

/** An update to {@link BlobInfo}: fields given are merged in. */
export interface BlobInfoUpdate {
  uncompressed?: string;
  compressed?: { kind: PushCompression; digest: string };
  location?: string;
}

function clean(v: unknown): BlobInfo {
  if (typeof v !== 'object' || v === null) return {};
  const o = v as Record<string, unknown>;
  const out: BlobInfo = {};
  if (isDigest(o.uncompressed)) out.uncompressed = o.uncompressed;
  if (typeof o.compressed === 'object' && o.compressed !== null) {
    const c = o.compressed as Record<string, unknown>;
    out.compressed = {};
    if (isDigest(c.gzip)) out.compressed.gzip = c.gzip;
    if (isDigest(c.zstd)) out.compressed.zstd = c.zstd;
  }
  if (Array.isArray(o.locations)) out.locations = o.locations.filter((l): l is string => typeof l === 'string' && l.includes('/'));
  return out;
}

/** The blob info of one store (see the module comment). */
export class BlobInfoCache {
  readonly #dir: string;
  #ready: Promise<void> | undefined;

  /** `storeRoot` is the image store's directory. */
  constructor(storeRoot: string) {
    this.#dir = join(storeRoot, 'blob-info');
  }

  #init(): Promise<void> {
    this.#ready ??= mkdir(this.#dir, { recursive: true, mode: 0o700 }).then(() => sweepTemps(this.#dir));
    return this.#ready;
  }

  /** What is known of `digest` (empty when nothing, or when the entry is unreadable). */
  async get(digest: string): Promise<BlobInfo> {
    if (!isDigest(digest)) return {};
    try {
      return clean(await readJsonIfExists<unknown>(join(this.#dir, `${digestHex(digest)}.json`)));
    } catch (e) {
      log('blob info of %s unreadable: %O', digest, e);
      return {};
    }
  }

  /** Merges `update` into the entry of `digest`. Failures are logged, never thrown (a cache). */
  async record(digest: string, update: BlobInfoUpdate): Promise<void> {
    if (!isDigest(digest)) return;
    try {
      await this.#init();
      const cur = await this.get(digest);
      const next: BlobInfo = { ...cur };
      if (update.uncompressed !== undefined) next.uncompressed = update.uncompressed;
      if (update.compressed) next.compressed = { ...cur.compressed, [update.compressed.kind]: update.compressed.digest };
      if (update.location !== undefined) next.locations = [update.location, ...(cur.locations ?? []).filter((l) => l !== update.location)].slice(0, MAX_LOCATIONS);
      if (JSON.stringify(next) === JSON.stringify(cur)) return;
      await writeJsonAtomic(join(this.#dir, `${digestHex(digest)}.json`), next);
    } catch (e) {
      log('recording blob info of %s: %O', digest, e);
    }
  }
}
