/**
 * The storage side of load and save (c/image's storage transport): images
 * read from an archive go into the image store, layer by layer (each blob
 * streams from the archive into the store, which checks its digest, size and
 * diffID while it extracts it), then the image record; images to save are
 * read back from the store as {@link ImageToSave}.
 *
 * A load that fails part way removes the images and layers it created, so
 * malformed or tampered input stores nothing. A kill -9 part way leaves at
 * most complete, verified layers (as containers/storage keeps them) and the
 * store's own incomplete markers, which it sweeps at the next open.
 * @module
 */
import type { Readable } from 'node:stream';
import { errAsync, ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../../define/errors.js';
import { chainIds, digestHex, isDigest, type Digest } from '../formats/digest.js';
import { parseManifest, type Descriptor } from '../formats/manifest.js';
import { DOCKER_LAYER, OCI_LAYER, sniffCompression, type LayerCompression } from '../formats/media-types.js';
import { decompressor } from '../store/decompress.js';
import type { PutImageInput, PutLayerInput, PutLayerResult } from '../store/image-store.js';
import type { ImageRecord, LayerRecord } from '../store/records.js';
import type { ImageToSave, LayerToSave, SourceImage } from './types.js';

/** A stored image (the store's record). */
export type StoredImage = ImageRecord;

/**
 * The image store operations load and save use (the image store's own
 * methods, structurally): put and read layers, blobs and images.
 */
export interface ImageStorage {
  layer(id: string): ResultAsync<LayerRecord, LibpodError>;
  hasBlob(digest: string): ResultAsync<boolean, LibpodError>;
  putLayer(input: PutLayerInput): ResultAsync<PutLayerResult, LibpodError>;
  putImage(input: PutImageInput): ResultAsync<ImageRecord, LibpodError>;
  image(id: string): ResultAsync<StoredImage, LibpodError>;
  removeImage(id: string): ResultAsync<string[], LibpodError>;
  blob(digest: string): ResultAsync<Readable, LibpodError>;
  blobBytes(digest: string): ResultAsync<Buffer, LibpodError>;
  blobSize(digest: string): ResultAsync<number, LibpodError>;
  /** Removes a layer (and the given blobs) no image, child layer or container uses. */
  removeUnusedLayer(id: string, blobs?: readonly string[]): ResultAsync<boolean, LibpodError>;
}

/** Images of an archive with the same config merged (names united). */
export function mergeByConfig(images: readonly SourceImage[]): SourceImage[] {
  const byId = new Map<string, SourceImage>();
  for (const img of images) {
    const prev = byId.get(img.config.digest);
    if (!prev) byId.set(img.config.digest, { ...img, names: [...img.names] });
    else for (const n of img.names) if (!prev.names.includes(n)) prev.names.push(n);
  }
  return [...byId.values()];
}

async function unwrap<T>(r: ResultAsync<T, LibpodError>): Promise<T> {
  const v = await r;
  if (v.isErr()) throw v.error;
  return v.value;
}

async function exists<T>(r: ResultAsync<T, LibpodError>): Promise<boolean> {
  const v = await r;
  if (v.isOk()) return true;
  if (v.error.code === 'NoSuchImage') return false;
  throw v.error;
}

interface LoadProgress {
  newImages: string[];
  newLayers: { id: string; blob: string }[];
}

async function storeOne(store: ImageStorage, img: SourceImage, progress: LoadProgress): Promise<StoredImage> {
  const ids = chainIds(img.layers.map((l) => l.diffId));
  for (const [i, l] of img.layers.entries()) {
    const id = digestHex(ids[i] as Digest);
    const haveLayer = await exists(store.layer(id));
    if (haveLayer && (await unwrap(store.hasBlob(l.blob.digest)))) continue;
    const blob = await unwrap(l.open());
    const parent = i === 0 ? undefined : digestHex(ids[i - 1] as Digest);
    await unwrap(store.putLayer({ ...(parent ? { parent } : {}), blob, diffId: l.diffId, digest: l.blob.digest, size: l.blob.size }));
    if (!haveLayer) progress.newLayers.push({ id, blob: l.blob.digest });
  }
  const id = digestHex(img.config.digest);
  const had = await exists(store.image(id));
  const rec = await unwrap(store.putImage({ manifest: img.manifest.bytes, manifestMediaType: img.manifest.mediaType, config: img.config.bytes, names: img.names, digests: img.otherDigests }));
  if (!had) progress.newImages.push(id);
  return rec;
}

/**
 * Stores `images` (merged by config); on failure removes the images (and,
 * when the store can, the layers) this call created, and fails with the
 * first error (cleanup errors attached).
 */
export function storeImages(store: ImageStorage, images: readonly SourceImage[]): ResultAsync<StoredImage[], LibpodError> {
  const progress: LoadProgress = { newImages: [], newLayers: [] };
  const cleanup = async (): Promise<LibpodError[]> => {
    const related: LibpodError[] = [];
    for (const id of [...progress.newImages].reverse()) {
      const r = await store.removeImage(id);
      if (r.isErr() && r.error.code !== 'NoSuchImage') related.push(r.error);
    }
    for (const { id, blob } of [...progress.newLayers].reverse()) {
      const r = await store.removeUnusedLayer(id, [blob]);
      if (r.isErr()) related.push(r.error);
    }
    return related;
  };
  const work = async (): Promise<StoredImage[]> => {
    try {
      const out: StoredImage[] = [];
      for (const img of mergeByConfig(images)) out.push(await storeOne(store, img, progress));
      return out;
    } catch (e) {
      const primary = toLibpodError(e, 'Internal', 'loading images');
      throw primary.withRelated(...(await cleanup()));
    }
  };
  return ResultAsync.fromPromise(work(), (e) => toLibpodError(e, 'Internal', 'loading images'));
}

/** The media type of a stored layer blob, from the image's manifest or sniffed from its first bytes. */
function blobDescriptor(digest: string, size: number, manifestLayer: Descriptor | undefined, head: Buffer): Descriptor {
  if (manifestLayer && manifestLayer.digest === digest) return { mediaType: manifestLayer.mediaType, digest: digest as Digest, size };
  const c = sniffCompression(head);
  return { mediaType: c === 'none' ? OCI_LAYER : c === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar+zstd', digest: digest as Digest, size };
}

async function firstBytes(s: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  for await (const c of s as AsyncIterable<Buffer>) {
    chunks.push(c);
    have += c.length;
    if (have >= n) break;
  }
  s.destroy();
  return Buffer.concat(chunks).subarray(0, n);
}

/** `blob` through a decompressor for `c` (errors of either end the result). */
function decompressed(blob: Readable, c: LayerCompression): Readable {
  const d = decompressor(c);
  blob.on('error', (e) => d.destroy(e));
  return blob.pipe(d);
}

/**
 * Reads a stored image back for saving. `openDiff` gives the uncompressed
 * layer: the stored blob itself when it is uncompressed, else the blob
 * decompressed.
 */
export function imageToSave(store: ImageStorage, rec: StoredImage, names: string[]): ResultAsync<ImageToSave, LibpodError> {
  return ResultAsync.fromPromise(
    (async (): Promise<ImageToSave> => {
      if (!isDigest(rec.configDigest) || !isDigest(rec.digest)) throw libpodError('ImageCorrupt', `image ${rec.id}: record has no valid digests`);
      const config = await unwrap(store.blobBytes(rec.configDigest));
      const manifestBytes = await unwrap(store.blobBytes(rec.digest));
      const parsed = parseManifest(manifestBytes);
      const manifestLayers = parsed.isOk() && parsed.value.kind === 'manifest' ? parsed.value.manifest.layers : [];
      const layers: LayerToSave[] = [];
      for (const [i, layerId] of rec.layers.entries()) {
        const l = await unwrap(store.layer(layerId));
        const blobDigest = rec.layerBlobs[i];
        const diffId = l.diffId as Digest;
        let blob: LayerToSave['blob'];
        let compression: LayerCompression = 'none';
        if (blobDigest !== undefined && (await unwrap(store.hasBlob(blobDigest)))) {
          const size = await unwrap(store.blobSize(blobDigest));
          const head = await firstBytes(await unwrap(store.blob(blobDigest)), 4);
          compression = sniffCompression(head);
          const descriptor = blobDescriptor(blobDigest, size, manifestLayers[i], head);
          blob = { descriptor, open: () => store.blob(blobDigest) };
        }
        const b = blob;
        const openDiff = (): ResultAsync<Readable, LibpodError> => {
          if (!b) return errAsync(libpodError('ImageCorrupt', `layer ${layerId}: its blob is not in the store`));
          return compression === 'none' ? b.open() : b.open().map((s) => decompressed(s, compression));
        };
        layers.push({ diffId, diffSize: l.diffSize, openDiff, ...(blob ? { blob } : {}) });
      }
      const mt = parsed.isOk() ? parsed.value.mediaType : DOCKER_LAYER;
      return {
        id: rec.id,
        names,
        config: { bytes: config, digest: rec.configDigest as Digest },
        ...(parsed.isOk() && parsed.value.kind === 'manifest' ? { manifest: { bytes: manifestBytes, mediaType: mt, digest: rec.digest as Digest } } : {}),
        layers,
      };
    })(),
    (e) => toLibpodError(e, 'Internal', `reading image ${rec.id} for saving`),
  );
}
