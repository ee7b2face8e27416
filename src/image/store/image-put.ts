/**
 * Image records: put (from a manifest and a config whose layers are in the
 * store), names (unique across images: a name given to one image is taken
 * from any other, as containers/storage does), and removal with the layers
 * and blobs nothing else uses.
 * @module
 */
import { libpodError } from '../../define/errors.js';
import { chainIds, digestHex, isDigest, sha256Digest } from './digest.js';
import type { ImageRecord } from './records.js';
import { layerLock, listRecords, readRecord, removeRecord, writeRecord, type StoreCore } from './store-core.js';

/** What `ImageStore.putImage` takes. */
export interface PutImageInput {
  /** The manifest's bytes, as pulled or loaded (OCI or Docker schema 2): its digest is the image's `digest`. */
  manifest: Uint8Array;
  /** The manifest's media type; default: its `mediaType` field, else OCI's. */
  manifestMediaType?: string;
  /** The config's bytes: their digest's hex is the image id. */
  config: Uint8Array;
  /** Fully qualified names to give the image (taken away from other images). */
  names?: string[];
  /**
   * Other manifest digests the image is known by, recorded after its
   * manifest's: the index it was chosen from (as containers/storage lists
   * a manifest list's digest among the image's digests).
   */
  digests?: string[];
}

interface ParsedManifest {
  mediaType: string;
  configDigest: string;
  layerDigests: string[];
}

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw libpodError('ImageCorrupt', `${what} is not valid JSON`, e);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw libpodError('ImageCorrupt', `${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function parseManifest(bytes: Uint8Array, mediaType: string | undefined): ParsedManifest {
  const m = parseJson(bytes, 'image manifest');
  const config = m.config as { digest?: unknown } | undefined;
  const layers = m.layers;
  if (!config || !isDigest(config.digest) || !Array.isArray(layers)) throw libpodError('ImageCorrupt', 'image manifest lacks a sha256 config digest or a layers list');
  const layerDigests = layers.map((l: { digest?: unknown }) => {
    if (!isDigest(l?.digest)) throw libpodError('ImageCorrupt', 'image manifest has a layer without a sha256 digest');
    return l.digest;
  });
  const mt = mediaType ?? (typeof m.mediaType === 'string' ? m.mediaType : 'application/vnd.oci.image.manifest.v1+json');
  return { mediaType: mt, configDigest: config.digest, layerDigests };
}

function diffIdsOf(config: Uint8Array): string[] {
  const c = parseJson(config, 'image config');
  const rootfs = c.rootfs as { diff_ids?: unknown } | undefined;
  const ids = rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.some((d) => !isDigest(d))) throw libpodError('ImageCorrupt', 'image config lacks rootfs.diff_ids of sha256 digests');
  return ids as string[];
}

/** Takes `names` away from every image but `keep` (caller holds the store lock). */
async function takeNames(core: StoreCore, names: readonly string[], keep: string): Promise<void> {
  if (names.length === 0) return;
  for (const other of await listRecords(core, 'images')) {
    if (other.id === keep || !other.names.some((n) => names.includes(n))) continue;
    await writeRecord(core, 'images', { ...other, names: other.names.filter((n) => !names.includes(n)) });
  }
}

/** Stores an image record (caller holds the store lock); an existing one gains the names and digest. */
export async function putImage(core: StoreCore, input: PutImageInput): Promise<ImageRecord> {
  const manifest = parseManifest(input.manifest, input.manifestMediaType);
  const configDigest = sha256Digest(input.config);
  if (configDigest !== manifest.configDigest) throw libpodError('ImageCorrupt', `image config digest mismatch: manifest says ${manifest.configDigest}, config is ${configDigest}`);
  const diffIds = diffIdsOf(input.config);
  if (diffIds.length !== manifest.layerDigests.length) {
    throw libpodError('ImageCorrupt', `image manifest lists ${manifest.layerDigests.length} layers, its config ${diffIds.length}`);
  }
  const layers = chainIds(diffIds);
  for (const id of layers) {
    const l = await readRecord(core, 'layers', id);
    if (!l || l.incomplete) throw libpodError('NoSuchImage', `layer ${id} is not in the store: put the layers first`);
  }
  for (const d of manifest.layerDigests) {
    if (!(await core.blobs.has(d))) throw libpodError('NoSuchImage', `layer blob ${d} is not in the store: put the layers first`);
  }
  // A blob under its digest is complete and checked (see blobs.ts): a re-pull need not write it again.
  if (!(await core.blobs.has(configDigest))) await core.blobs.put(input.config, configDigest);
  const digest = sha256Digest(input.manifest);
  if (!(await core.blobs.has(digest))) await core.blobs.put(input.manifest, digest);
  const id = digestHex(configDigest);
  const names = [...new Set(input.names ?? [])];
  const extra = input.digests ?? [];
  if (!extra.every(isDigest)) throw libpodError('InvalidArg', 'image digests must be sha256 digests');
  const old = await readRecord(core, 'images', id);
  const rec: ImageRecord = old
    ? { ...old, names: [...new Set([...old.names, ...names])], digests: [...new Set([...old.digests, digest, ...extra])] }
    : {
        id,
        names,
        digest,
        digests: [...new Set([digest, ...extra])],
        manifestMediaType: manifest.mediaType,
        configDigest,
        layers,
        layerBlobs: manifest.layerDigests,
        createdAt: new Date().toISOString(),
      };
  // Nothing new (a re-pull): names are unique across images, so no other image has these.
  if (old && rec.names.length === old.names.length && rec.digests.length === old.digests.length) return old;
  await takeNames(core, names, id);
  await writeRecord(core, 'images', rec);
  return rec;
}

/** Adds names to image `id` (caller holds the store lock). */
export async function addNames(core: StoreCore, id: string, names: readonly string[]): Promise<ImageRecord> {
  const rec = await readRecord(core, 'images', id);
  if (!rec) throw libpodError('NoSuchImage', `image ${id} is not in the store`);
  await takeNames(core, names, id);
  const next = { ...rec, names: [...new Set([...rec.names, ...names])] };
  await writeRecord(core, 'images', next);
  return next;
}

/** Removes names from image `id` (caller holds the store lock). */
export async function removeNames(core: StoreCore, id: string, names: readonly string[]): Promise<ImageRecord> {
  const rec = await readRecord(core, 'images', id);
  if (!rec) throw libpodError('NoSuchImage', `image ${id} is not in the store`);
  const next = { ...rec, names: rec.names.filter((n) => !names.includes(n)) };
  await writeRecord(core, 'images', next);
  return next;
}

/** Removes layer `id` if nobody is making or using it right now (caller holds the store lock). */
async function removeLayer(core: StoreCore, id: string): Promise<boolean> {
  const lock = await core.locks.tryAcquire(layerLock(id));
  if (!lock) return false;
  try {
    const rec = await readRecord(core, 'layers', id);
    if (!rec) return false;
    await writeRecord(core, 'layers', { ...rec, incomplete: true });
    await core.driver.removeLayer(id);
    await removeRecord(core, 'layers', id);
    return true;
  } finally {
    await lock.release();
  }
}

/**
 * Removes layer `id` (and the given blobs) when no image, child layer or
 * container layer uses it (caller holds the store lock): what a failed load
 * put before it failed. Resolves to whether the layer was removed.
 */
export async function removeUnusedLayer(core: StoreCore, id: string, blobs: readonly string[]): Promise<boolean> {
  const images = await listRecords(core, 'images');
  if (images.some((i) => i.layers.includes(id))) return false;
  if ((await listRecords(core, 'layers')).some((l) => l.parent === id)) return false;
  if ((await listRecords(core, 'containers')).some((c) => c.layers.includes(id))) return false;
  const removed = await removeLayer(core, id);
  const keepBlobs = new Set(images.flatMap((o) => [o.configDigest, ...o.digests, ...o.layerBlobs]));
  if (removed) for (const b of blobs) if (!keepBlobs.has(b)) await core.blobs.remove(b);
  return removed;
}

/**
 * Removes image `id` with the layers and blobs no other image uses (caller
 * holds the store lock). `ImageInUse` while a container layer uses it.
 * Resolves to the chain ids of the removed layers.
 */
export async function removeImage(core: StoreCore, id: string): Promise<string[]> {
  const rec = await readRecord(core, 'images', id);
  if (!rec) throw libpodError('NoSuchImage', `image ${id} is not in the store`);
  const users = (await listRecords(core, 'containers')).filter((c) => c.imageId === id).map((c) => c.id);
  if (users.length > 0) throw libpodError('ImageInUse', `image ${id} is in use by container(s) ${users.join(', ')}: image is being used`);
  await removeRecord(core, 'images', id);
  const others = await listRecords(core, 'images');
  const keepLayers = new Set(others.flatMap((o) => o.layers));
  const keepBlobs = new Set(others.flatMap((o) => [o.configDigest, ...o.digests, ...o.layerBlobs]));
  const removed: string[] = [];
  for (const l of [...rec.layers].reverse()) {
    if (!keepLayers.has(l) && (await removeLayer(core, l))) removed.push(l);
  }
  for (const b of [rec.configDigest, ...rec.digests, ...rec.layerBlobs]) {
    if (!keepBlobs.has(b)) await core.blobs.remove(b);
  }
  return removed;
}
