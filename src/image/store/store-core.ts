/**
 * What every store operation shares: the layout, the locks, the blob store,
 * the driver, and typed access to the record files. Callers hold the locks
 * the operation needs: `STORE_LOCK` for any read-modify-write of records,
 * `layerLock(id)` while a layer's content is made or removed,
 * `containerLock(id)` while a container layer is made.
 * @module
 */
import { readJsonIfExists, recordNames, removeFileDurably, writeJsonAtomic } from './atomic.js';
import type { BlobStore } from './blobs.js';
import type { StorageDriver } from './drivers/driver.js';
import { recordPath, type StoreLayout } from './layout.js';
import type { ContainerLayerRecord, ImageRecord, LayerRecord } from './records.js';
import type { StoreLocks } from '../../locks/process-locks.js';

/** The lock of the store's records. */
export const STORE_LOCK = 'store';

/** The lock of one layer's content. */
export function layerLock(id: string): string {
  return `layer/${id}`;
}

/** The lock of one container layer while it is made. */
export function containerLock(id: string): string {
  return `container/${id}`;
}

/** The parts of one open store. */
export interface StoreCore {
  readonly layout: StoreLayout;
  readonly locks: StoreLocks;
  readonly blobs: BlobStore;
  readonly driver: StorageDriver;
}

type Kind = 'layers' | 'images' | 'containers';
interface KindRecord {
  layers: LayerRecord;
  images: ImageRecord;
  containers: ContainerLayerRecord;
}

/** Reads one record; `undefined` when absent. */
export function readRecord<K extends Kind>(core: StoreCore, kind: K, id: string): Promise<KindRecord[K] | undefined> {
  return readJsonIfExists<KindRecord[K]>(recordPath(core.layout[kind], id));
}

/**
 * Which records are flushed to disk (fsync) when written or removed. All are
 * atomic (temp + rename), so a reader or a later process after kill -9 sees
 * a whole record. Layers and images are also durable across a power loss
 * (they are costly to make again). A container's layer record is not: it is
 * written as the container's own record in the state store is (LevelDB,
 * not fsynced), and a container lives and goes with both; flushing it cost
 * four fsyncs per container life (tens of milliseconds on a busy disk).
 */
const DURABLE: Record<Kind, boolean> = { layers: true, images: true, containers: false };

/** Writes one record atomically (durably for {@link DURABLE} kinds). */
export function writeRecord<K extends Kind>(core: StoreCore, kind: K, rec: KindRecord[K]): Promise<void> {
  return writeJsonAtomic(recordPath(core.layout[kind], rec.id), rec, DURABLE[kind]);
}

/** Removes one record (durably for {@link DURABLE} kinds). */
export function removeRecord(core: StoreCore, kind: Kind, id: string): Promise<void> {
  return removeFileDurably(recordPath(core.layout[kind], id), DURABLE[kind]);
}

/** Every record of a kind (records removed while listing are skipped). */
export async function listRecords<K extends Kind>(core: StoreCore, kind: K): Promise<KindRecord[K][]> {
  const out: KindRecord[K][] = [];
  for (const id of await recordNames(core.layout[kind])) {
    const rec = await readRecord(core, kind, id);
    if (rec !== undefined) out.push(rec);
  }
  return out;
}
