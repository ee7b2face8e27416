/**
 * Containers' writable layers. The record lives in the store, so an image
 * in use is known to every Runtime sharing the storage directory. Made under
 * the container's lock with the record `incomplete` until the driver's
 * directories exist; removed by marking it incomplete first, so a crash at
 * any point leaves a record the next open sweeps.
 * @module
 */
import { libpodError } from '../../define/errors.js';
import type { ContainerLayerRecord } from './records.js';
import { containerLock, readRecord, removeRecord, STORE_LOCK, writeRecord, type StoreCore } from './store-core.js';

/** Creates container `id`'s layer on image `imageId`. */
export async function createContainerLayer(core: StoreCore, id: string, imageId: string, owner?: string): Promise<ContainerLayerRecord> {
  return core.locks.with(containerLock(id), async () => {
    const rec = await core.locks.with(STORE_LOCK, async () => {
      const image = await readRecord(core, 'images', imageId);
      if (!image) throw libpodError('NoSuchImage', `image ${imageId} is not in the store`);
      const existing = await readRecord(core, 'containers', id);
      if (existing && !existing.incomplete) throw libpodError('CtrExists', `container ${id} already has a layer`);
      const r: ContainerLayerRecord = { id, imageId, layers: image.layers, createdAt: new Date().toISOString(), incomplete: true, ...(owner === undefined ? {} : { owner }) };
      await writeRecord(core, 'containers', r);
      return r;
    });
    try {
      await core.driver.createContainer(id, rec.layers);
    } catch (e) {
      await core.driver.removeContainer(id).catch(() => undefined);
      await core.locks.with(STORE_LOCK, () => removeRecord(core, 'containers', id));
      throw e;
    }
    const done: ContainerLayerRecord = { ...rec };
    delete done.incomplete;
    await core.locks.with(STORE_LOCK, () => writeRecord(core, 'containers', done));
    return done;
  });
}

/** The complete layer record of container `id`; `NoSuchCtr` when it has none. */
export async function containerLayer(core: StoreCore, id: string): Promise<ContainerLayerRecord> {
  const rec = await readRecord(core, 'containers', id);
  if (!rec || rec.incomplete) throw libpodError('NoSuchCtr', `container ${id} has no layer in the image store`);
  return rec;
}

/** Unmounts and removes container `id`'s layer; none is fine. */
export async function removeContainerLayer(core: StoreCore, id: string): Promise<void> {
  await core.locks.with(containerLock(id), async () => {
    const rec = await readRecord(core, 'containers', id);
    if (!rec) return;
    if (!rec.incomplete) await core.locks.with(STORE_LOCK, () => writeRecord(core, 'containers', { ...rec, incomplete: true }));
    await core.driver.removeContainer(id);
    await core.locks.with(STORE_LOCK, () => removeRecord(core, 'containers', id));
  });
}
