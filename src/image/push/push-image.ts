/**
 * `pushImage`: c/image's copy from the store to a registry (its docker
 * destination). For each layer, at most three at once:
 *
 * 1. the blob to send: the stored blob as it came (pulled or loaded) when it
 *    is compressed and the caller asked for no compression or the same
 *    one; else the layer's tar compressed (gzip by default, or the
 *    `compression` asked for) — the digest of an earlier compression of the
 *    same tar is known from the blob info cache;
 * 2. reuse before upload: a `HEAD` in the destination (present: nothing
 *    sent); else a cross-repository mount from a repository of the same
 *    registry known to hold it (the blob info cache, and the names of the
 *    local images that have the blob: a pulled image is named by the
 *    repository it came from);
 * 3. else an upload streamed from the store (compressed on the fly: never a
 *    whole layer in memory), the digest computed as it goes.
 *
 * Then the config blob, then the manifest under the tag (or digest). When
 * every layer went as stored, the stored manifest is pushed byte for byte
 * (the image keeps its digest, as c/image does); else a new one in the
 * stored manifest's format (Docker schema 2 stays Docker unless a layer is
 * zstd, which only OCI can describe).
 * @module
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import type { ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import { sha256Digest, type Digest } from '../formats/digest.js';
import { parseManifest, serializeDockerManifest, serializeOciManifest, type Descriptor } from '../formats/manifest.js';
import { DOCKER_CONFIG, DOCKER_MANIFEST, dockerLayerMediaType, layerCompression, OCI_CONFIG, OCI_MANIFEST, ociLayerMediaType, type LayerCompression } from '../formats/media-types.js';
import { clientFor, type PullContext } from '../pull.js';
import type { ImageReference } from '../reference.js';
import type { BlobInfoCache, PushCompression } from '../store/blob-info.js';
import type { ImageRecord } from '../store/records.js';
import type { Credentials } from '../transports/registry/auth.js';
import { blobSize, mountBlob, putManifest, uploadBlob } from '../transports/registry/blob-upload.js';
import type { RegistryClient } from '../transports/registry/client.js';
import type { BodySource } from '../transports/registry/http.js';
import { imageToSave, type ImageStorage } from '../transports/storage.js';
import type { LayerToSave } from '../transports/types.js';
import { compressor } from './compress.js';

/** Layers pushed at once (c/image's default for registries). */
const LAYER_CONCURRENCY = 3;
/** Repositories tried for a mount, per blob. */
const MAX_MOUNT_SOURCES = 3;

/** Options of `pushImage` (see the contract's "Images"). */
export interface PushOptions {
  auth?: Credentials;
  authFile?: string;
  /** Default true; false allows plain HTTP. */
  tlsVerify?: boolean;
  /** Compression of the pushed layers: stored compressed blobs go as they are when unset; uncompressed ones are gzipped. */
  compression?: PushCompression;
  signal?: AbortSignal;
}

/** What a push needs from the runtime. */
export interface PushContext extends Pick<PullContext, 'registries' | 'retry' | 'env'> {
  storage: ImageStorage & { images(): ResultAsync<ImageRecord[], LibpodError> };
  blobInfo: BlobInfoCache;
}

/** A layer as pushed. */
interface PushedLayer {
  digest: Digest;
  size: number;
  compression: LayerCompression;
}

async function unwrap<T>(r: ResultAsync<T, LibpodError>): Promise<T> {
  const v = await r;
  if (v.isErr()) throw v.error;
  return v.value;
}

/** A body source reading what `open` gives, each time anew. */
function streamed(open: () => ResultAsync<Readable, LibpodError>, through?: () => NodeJS.ReadWriteStream): BodySource {
  return () =>
    (async function* (): AsyncGenerator<Uint8Array> {
      const src = await unwrap(open());
      if (!through) {
        yield* src as AsyncIterable<Uint8Array>;
        return;
      }
      const t = through();
      pipeline(src, t, () => undefined);
      yield* t as unknown as AsyncIterable<Uint8Array>;
    })();
}

/** One push: the destination, its client, and where blobs may be mounted from. */
class PushSession {
  readonly #ctx: PushContext;
  readonly #client: RegistryClient;
  readonly #dest: ImageReference;
  readonly #here: string;
  readonly #localImages: readonly ImageRecord[];

  constructor(ctx: PushContext, client: RegistryClient, dest: ImageReference, localImages: readonly ImageRecord[]) {
    this.#ctx = ctx;
    this.#client = client;
    this.#dest = dest;
    this.#here = `${dest.domain}/${dest.path}`;
    this.#localImages = localImages;
  }

  /** Other repositories of the destination registry known to hold `digest`. */
  async #mountSources(digest: string): Promise<string[]> {
    const prefix = `${this.#dest.domain}/`;
    const out: string[] = [];
    const add = (repo: string): void => {
      if (repo.startsWith(prefix) && repo !== this.#here && !out.includes(repo)) out.push(repo);
    };
    for (const l of (await this.#ctx.blobInfo.get(digest)).locations ?? []) add(l);
    for (const img of this.#localImages) {
      if (!img.layerBlobs.includes(digest) && img.configDigest !== digest) continue;
      for (const n of img.names) add(n.replace(/@.*$/, '').replace(/:[^:/]*$/, ''));
    }
    return out.slice(0, MAX_MOUNT_SOURCES).map((r) => r.slice(prefix.length));
  }

  /** The size of `digest` once it is in the destination without an upload (present, or mounted), else undefined. */
  async reuse(digest: string, knownSize?: number): Promise<number | undefined> {
    const repo = this.#dest.path;
    let size = await blobSize(this.#client, repo, digest);
    if (size === undefined) {
      for (const from of await this.#mountSources(digest)) {
        if (await mountBlob(this.#client, repo, digest, from)) {
          size = knownSize ?? (await blobSize(this.#client, repo, digest));
          break;
        }
      }
    }
    if (size !== undefined) await this.#ctx.blobInfo.record(digest, { location: this.#here });
    return size;
  }

  /** Uploads what `body` streams; records where it went. */
  async upload(body: BodySource, expected?: string): Promise<{ digest: Digest; size: number }> {
    const up = await uploadBlob(this.#client, this.#dest.path, body, expected === undefined ? {} : { expected });
    await this.#ctx.blobInfo.record(up.digest, { location: this.#here });
    return up;
  }

  /** Pushes one layer (see the module comment). */
  async layer(layer: LayerToSave, want: PushCompression | undefined): Promise<PushedLayer> {
    const stored = layer.blob;
    const storedKind = stored ? (layerCompression(stored.descriptor.mediaType) ?? 'none') : 'none';
    if (stored && storedKind !== 'none' && (want === undefined || want === storedKind)) {
      const d = stored.descriptor;
      const size = (await this.reuse(d.digest, d.size)) ?? (await this.upload(streamed(stored.open), d.digest)).size;
      return { digest: d.digest, size, compression: storedKind };
    }
    const kind = want ?? 'gzip';
    const known = (await this.#ctx.blobInfo.get(layer.diffId)).compressed?.[kind];
    if (known !== undefined) {
      const size = await this.reuse(known);
      if (size !== undefined) return { digest: known as Digest, size, compression: kind };
    }
    const up = await this.upload(streamed(layer.openDiff, () => compressor(kind)));
    await this.#ctx.blobInfo.record(up.digest, { uncompressed: layer.diffId });
    await this.#ctx.blobInfo.record(layer.diffId, { compressed: { kind, digest: up.digest } });
    return { ...up, compression: kind };
  }
}

/**
 * Runs `fn` over `items` with at most `limit` at once; results in order.
 * On the first failure no new item starts, `onFailure` is told (to abort
 * the items running), and the failure is thrown once every running item
 * has settled: nothing keeps working after the call returned.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>, onFailure: (e: unknown) => void = () => undefined): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T);
      } catch (e) {
        if (failure === undefined) {
          failure = { error: e };
          onFailure(e);
        }
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return out;
}

/** The manifest to push: the stored one when every layer went as stored, else a new one. */
function manifestFor(stored: { bytes: Buffer; mediaType: string; digest: Digest } | undefined, config: Descriptor, layers: readonly PushedLayer[]): { bytes: Buffer; mediaType: string } {
  const parsed = stored ? parseManifest(stored.bytes) : undefined;
  if (stored && parsed?.isOk() && parsed.value.kind === 'manifest') {
    const old = parsed.value.manifest.layers;
    if (old.length === layers.length && old.every((l, i) => l.digest === layers[i]?.digest)) return { bytes: stored.bytes, mediaType: parsed.value.mediaType };
  }
  const docker = stored?.mediaType === DOCKER_MANIFEST && layers.every((l) => l.compression !== 'zstd');
  const descs = layers.map((l) => ({ mediaType: docker ? dockerLayerMediaType(l.compression) : ociLayerMediaType(l.compression), digest: l.digest, size: l.size }));
  const cfg = { ...config, mediaType: docker ? DOCKER_CONFIG : OCI_CONFIG };
  return docker ? { bytes: serializeDockerManifest(cfg, descs), mediaType: DOCKER_MANIFEST } : { bytes: serializeOciManifest(cfg, descs), mediaType: OCI_MANIFEST };
}

/**
 * Pushes stored image `rec` to `dest` (which has a tag or a digest);
 * resolves to the pushed manifest's digest. Throws LibpodErrors.
 */
export async function pushImage(ctx: PushContext, rec: ImageRecord, dest: ImageReference, opts: PushOptions): Promise<Digest> {
  const reference = dest.digest ?? dest.tag;
  if (reference === undefined) throw libpodError('InvalidArg', 'push destination has neither tag nor digest');
  const image = await unwrap(imageToSave(ctx.storage, rec, []));
  // a failed layer aborts the other layers' transfers (the caller's signal aborts everything)
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const client = await clientFor(ctx, dest, { ...opts, signal });
  const session = new PushSession(ctx, client, dest, await unwrap(ctx.storage.images()));
  const layers = await mapLimited(image.layers, LAYER_CONCURRENCY, (l) => session.layer(l, opts.compression), (e) => stop.abort(e));
  const config = image.config;
  if ((await session.reuse(config.digest, config.bytes.length)) === undefined) {
    await session.upload(async function* () {
      yield config.bytes;
    }, config.digest);
  }
  const manifest = manifestFor(image.manifest, { mediaType: OCI_CONFIG, digest: config.digest, size: config.bytes.length }, layers);
  const digest = sha256Digest(manifest.bytes);
  if (dest.digest !== undefined && dest.digest !== digest) {
    throw libpodError('InvalidArg', `push destination names digest ${dest.digest}, but the manifest to push has digest ${digest}`);
  }
  await putManifest(client, dest.path, reference, manifest.bytes, manifest.mediaType);
  return digest;
}
