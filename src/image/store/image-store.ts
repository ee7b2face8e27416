/**
 * The image store (containers/storage's `Store`): layers stored once by
 * chain id and shared, image records, blobs kept byte-exact, and containers'
 * writable layers, in one directory that several Runtimes in several
 * processes may share at once. Layout: `layout.ts`; locks: `src/locks/process-locks.ts`.
 *
 * Every method returns a ResultAsync and never throws. Methods take the
 * locks they need; none may be called while the caller holds a store lock.
 * @module
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { errAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import { writeFileAtomic } from './atomic.js';
import { BlobStore } from './blobs.js';
import { containerLayer, createContainerLayer, removeContainerLayer } from './container-layers.js';
import { isDigest, isHexId } from './digest.js';
import type { StorageDriver } from './drivers/driver.js';
import { OverlayDriver } from './drivers/overlay.js';
import { VfsDriver } from './drivers/vfs.js';
import { addNames, putImage, removeImage, removeNames, removeUnusedLayer, type PutImageInput } from './image-put.js';
import { storeLayout, type StorageDriverName } from './layout.js';
import { putLayer, type PutLayerInput, type PutLayerResult } from './layer-put.js';
import type { ContainerLayerRecord, ImageRecord, LayerRecord } from './records.js';
import { fromAsync } from './results.js';
import { listRecords, readRecord, STORE_LOCK, type StoreCore } from './store-core.js';
import { StoreLocks } from '../../locks/process-locks.js';
import { sweep } from './sweep.js';

export type { PutImageInput } from './image-put.js';
export type { PutLayerInput, PutLayerResult } from './layer-put.js';
export type { ContainerLayerRecord, ImageRecord, LayerRecord } from './records.js';
export type { StorageDriverName } from './layout.js';

/** Options of {@link ImageStore.open}. */
export interface ImageStoreOptions {
  /** Driver for a new store; an existing store keeps its own (a different one asked for is `InvalidArg`). Default: overlay as root when the kernel has it, else vfs. */
  driver?: StorageDriverName;
}

/** overlay when running as root on a kernel with overlayfs, else vfs. */
export function defaultDriver(): StorageDriverName {
  if (process.getuid?.() !== 0) return 'vfs';
  try {
    return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8')) ? 'overlay' : 'vfs';
  } catch {
    return 'vfs';
  }
}

function makeDriver(name: StorageDriverName, root: string): StorageDriver {
  return name === 'overlay' ? new OverlayDriver(root) : new VfsDriver(root);
}

async function chooseDriver(driverFile: string, wanted: StorageDriverName | undefined): Promise<StorageDriverName> {
  let existing: string | undefined;
  try {
    existing = (await readFile(driverFile, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (existing === 'overlay' || existing === 'vfs') {
    if (wanted !== undefined && wanted !== existing) throw libpodError('InvalidArg', `storage ${driverFile} uses the ${existing} driver, not ${wanted}`);
    return existing;
  }
  const name = wanted ?? defaultDriver();
  await writeFileAtomic(driverFile, `${name}\n`, 0o644);
  return name;
}

function badId(what: string, v: unknown): ResultAsync<never, LibpodError> {
  return errAsync(libpodError('InvalidArg', `${what} must be 64 lowercase hex characters, got ${JSON.stringify(String(v))}`));
}

/** One open image store. Open with {@link ImageStore.open}. */
export class ImageStore {
  readonly #core: StoreCore;

  private constructor(core: StoreCore) {
    this.#core = core;
  }

  /** The storage directory. */
  get path(): string {
    return this.#core.layout.root;
  }

  /** The driver in use. */
  get driver(): StorageDriverName {
    return this.#core.driver.name;
  }

  /**
   * Opens (creating when needed) the store at `path` and sweeps what crashed
   * writers left (incomplete layers and container layers whose writer is
   * gone, temporaries of dead processes).
   */
  static open(path: string, opts: ImageStoreOptions = {}): ResultAsync<ImageStore, LibpodError> {
    return fromAsync(async () => {
      const layout = storeLayout(path);
      await mkdir(path, { recursive: true, mode: 0o700 });
      for (const d of [layout.layers, layout.images, layout.containers, layout.blobs, layout.tmp]) await mkdir(d, { recursive: true, mode: 0o700 });
      const locks = new StoreLocks(path);
      const driverName = await locks.with(STORE_LOCK, () => chooseDriver(layout.driverFile, opts.driver));
      const driver = makeDriver(driverName, path);
      await driver.init();
      const core: StoreCore = { layout, locks, blobs: new BlobStore(layout.blobs, layout.tmp), driver };
      await sweep(core);
      return new ImageStore(core);
    }, `opening image store ${path}`);
  }

  // ---- layers ----

  /**
   * Stores a layer from its blob (gzip, zstd or plain tar, detected), checking
   * the blob digest (when given) and the diffID; keeps the blob byte-exact.
   * An existing layer is not extracted again (its blob is still kept). Two
   * callers putting one layer at once (in any processes): one extracts, the
   * other waits and reuses it. `ImageCorrupt` on any mismatch or malformed
   * data, and then nothing is stored. The blob stream is always consumed.
   */
  putLayer(input: PutLayerInput): ResultAsync<PutLayerResult, LibpodError> {
    if (!isDigest(input?.diffId)) return errAsync(libpodError('InvalidArg', 'putLayer needs a sha256 diffId'));
    if (input.digest !== undefined && !isDigest(input.digest)) return errAsync(libpodError('InvalidArg', 'putLayer digest must be a sha256 digest'));
    if (input.parent !== undefined && !isHexId(input.parent)) return badId('parent layer id', input.parent);
    return fromAsync(() => putLayer(this.#core, input), 'storing layer');
  }

  /** The complete layer with chain id `id`; `NoSuchImage` when absent or incomplete. */
  layer(id: string): ResultAsync<LayerRecord, LibpodError> {
    if (!isHexId(id)) return badId('layer id', id);
    return fromAsync(async () => {
      const rec = await readRecord(this.#core, 'layers', id);
      if (!rec || rec.incomplete) throw libpodError('NoSuchImage', `layer ${id} is not in the store`);
      return rec;
    }, 'reading layer');
  }

  /** Every complete layer. */
  layers(): ResultAsync<LayerRecord[], LibpodError> {
    return fromAsync(async () => (await listRecords(this.#core, 'layers')).filter((l) => !l.incomplete), 'listing layers');
  }

  // ---- blobs ----

  /** Whether the blob `digest` is stored. */
  hasBlob(digest: string): ResultAsync<boolean, LibpodError> {
    if (!isDigest(digest)) return errAsync(libpodError('InvalidArg', `not a sha256 digest: ${String(digest)}`));
    return fromAsync(() => this.#core.blobs.has(digest), 'reading blob');
  }

  /** A stream of the stored blob `digest` (layer blobs byte-exact as they came); `NoSuchImage` when absent. */
  blob(digest: string): ResultAsync<Readable, LibpodError> {
    if (!isDigest(digest)) return errAsync(libpodError('InvalidArg', `not a sha256 digest: ${String(digest)}`));
    return fromAsync(() => this.#core.blobs.open(digest), 'reading blob');
  }

  /** The bytes of a small stored blob (config, manifest). */
  blobBytes(digest: string): ResultAsync<Buffer, LibpodError> {
    if (!isDigest(digest)) return errAsync(libpodError('InvalidArg', `not a sha256 digest: ${String(digest)}`));
    return fromAsync(() => this.#core.blobs.read(digest), 'reading blob');
  }

  /** Bytes of a stored blob. */
  blobSize(digest: string): ResultAsync<number, LibpodError> {
    if (!isDigest(digest)) return errAsync(libpodError('InvalidArg', `not a sha256 digest: ${String(digest)}`));
    return fromAsync(() => this.#core.blobs.size(digest), 'reading blob');
  }

  // ---- images ----

  /**
   * Stores an image from its manifest and config (bytes kept as given); every
   * layer (by the config's diffIDs) and layer blob (by the manifest) must be
   * stored first (`NoSuchImage` otherwise). An image already stored gains the
   * names and the manifest digest. Names are taken from other images.
   */
  putImage(input: PutImageInput): ResultAsync<ImageRecord, LibpodError> {
    return fromAsync(() => this.#core.locks.with(STORE_LOCK, () => putImage(this.#core, input)), 'storing image');
  }

  /** Image `id`; `NoSuchImage` when absent. */
  image(id: string): ResultAsync<ImageRecord, LibpodError> {
    if (!isHexId(id)) return badId('image id', id);
    return fromAsync(async () => {
      const rec = await readRecord(this.#core, 'images', id);
      if (!rec) throw libpodError('NoSuchImage', `image ${id} is not in the store`);
      return rec;
    }, 'reading image');
  }

  /** Every image. */
  images(): ResultAsync<ImageRecord[], LibpodError> {
    return fromAsync(() => listRecords(this.#core, 'images'), 'listing images');
  }

  /** The config bytes of image `id`. */
  imageConfig(id: string): ResultAsync<Buffer, LibpodError> {
    return this.image(id).andThen((rec) => this.blobBytes(rec.configDigest));
  }

  /** The manifest bytes of image `id` (its `digest`). */
  imageManifest(id: string): ResultAsync<Buffer, LibpodError> {
    return this.image(id).andThen((rec) => this.blobBytes(rec.digest));
  }

  /** Gives image `id` more names (taken from other images). */
  addNames(id: string, names: string[]): ResultAsync<ImageRecord, LibpodError> {
    if (!isHexId(id)) return badId('image id', id);
    return fromAsync(() => this.#core.locks.with(STORE_LOCK, () => addNames(this.#core, id, names)), 'naming image');
  }

  /** Takes names away from image `id`. */
  removeNames(id: string, names: string[]): ResultAsync<ImageRecord, LibpodError> {
    if (!isHexId(id)) return badId('image id', id);
    return fromAsync(() => this.#core.locks.with(STORE_LOCK, () => removeNames(this.#core, id, names)), 'untagging image');
  }

  /**
   * Removes image `id` and the layers and blobs no other image uses;
   * `ImageInUse` while any container layer (of any Runtime) uses it.
   * Resolves to the chain ids of the removed layers.
   */
  removeImage(id: string): ResultAsync<string[], LibpodError> {
    if (!isHexId(id)) return badId('image id', id);
    return fromAsync(() => this.#core.locks.with(STORE_LOCK, () => removeImage(this.#core, id)), 'removing image');
  }

  /**
   * Removes layer `id` and the given blobs when nothing uses it (no image,
   * child layer or container layer): a failed load's cleanup. Resolves to
   * whether it was removed.
   */
  removeUnusedLayer(id: string, blobs: readonly string[] = []): ResultAsync<boolean, LibpodError> {
    if (!isHexId(id)) return badId('layer id', id);
    if (blobs.some((b) => !isDigest(b))) return errAsync(libpodError('InvalidArg', 'removeUnusedLayer: blobs must be sha256 digests'));
    return fromAsync(() => this.#core.locks.with(STORE_LOCK, () => removeUnusedLayer(this.#core, id, blobs)), 'removing layer');
  }

  // ---- container layers ----

  /** Creates container `id`'s writable layer on image `imageId`; `owner` (a Runtime's root) is recorded with it. */
  createContainerLayer(id: string, imageId: string, owner?: string): ResultAsync<ContainerLayerRecord, LibpodError> {
    if (!isHexId(id)) return badId('container id', id);
    if (!isHexId(imageId)) return badId('image id', imageId);
    return fromAsync(() => createContainerLayer(this.#core, id, imageId, owner), 'creating container layer');
  }

  /** Container `id`'s layer; `NoSuchCtr` when it has none. */
  containerLayer(id: string): ResultAsync<ContainerLayerRecord, LibpodError> {
    if (!isHexId(id)) return badId('container id', id);
    return fromAsync(() => containerLayer(this.#core, id), 'reading container layer');
  }

  /** Every complete container layer (of every Runtime sharing the store). */
  containerLayers(): ResultAsync<ContainerLayerRecord[], LibpodError> {
    return fromAsync(async () => (await listRecords(this.#core, 'containers')).filter((c) => !c.incomplete), 'listing container layers');
  }

  /** Mounts (overlay; vfs: nothing to mount) container `id`'s root filesystem; resolves to its path. Idempotent. */
  mountContainer(id: string): ResultAsync<string, LibpodError> {
    if (!isHexId(id)) return badId('container id', id);
    return fromAsync(async () => this.#core.driver.mountContainer(id, (await containerLayer(this.#core, id)).layers), 'mounting container layer');
  }

  /** Unmounts container `id`'s root filesystem; not mounted is fine. */
  unmountContainer(id: string): ResultAsync<void, LibpodError> {
    if (!isHexId(id)) return badId('container id', id);
    return fromAsync(() => this.#core.driver.unmountContainer(id), 'unmounting container layer');
  }

  /** The host directory holding container `id`'s own changes (overlay: its upper dir; vfs: its full copy). */
  containerChangesDir(id: string): string {
    return this.#core.driver.containerChangesDir(id);
  }

  /** Unmounts and removes container `id`'s layer; none is fine. */
  removeContainerLayer(id: string): ResultAsync<void, LibpodError> {
    if (!isHexId(id)) return badId('container id', id);
    return fromAsync(() => removeContainerLayer(this.#core, id), 'removing container layer');
  }
}
