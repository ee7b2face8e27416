/**
 * Containers' writable layers. The record lives in the store, so an image
 * in use is known to every Runtime sharing the storage directory.
 *
 * Crash safety without an `incomplete` record: the record is written once,
 * after the driver's directories exist, and removed before they go; both
 * under the container's lock. Directories without a record are never used
 * (every use reads the record first); a crash between the two steps leaves
 * such directories, which the next open sweeps once their container's lock
 * is free (`sweep.ts`). The image is checked again in the store-lock
 * section that writes the record, so an image removal in another process
 * either ran before (the make fails `NoSuchImage`) or sees the record
 * (`ImageInUse`).
 * @module
 */
import { libpodError } from '../../define/errors.js';
import type { ContainerLayerRecord } from './records.js';
import { containerLock, readRecord, removeRecord, STORE_LOCK, writeRecord, type StoreCore } from './store-core.js';

function noImage(imageId: string): Error {
  return libpodError('NoSuchImage', `image ${imageId} is not in the store`);
}

/** Creates container `id`'s layer on image `imageId`. */
export async function createContainerLayer(core: StoreCore, id: string, imageId: string, owner?: string): Promise<ContainerLayerRecord> {
  return core.locks.with(containerLock(id), async () => {
    // records are replaced atomically: read without the store lock, checked again under it
    const [image, existing] = await Promise.all([readRecord(core, 'images', imageId), readRecord(core, 'containers', id)]);
    if (!image) throw noImage(imageId);
    if (existing && !existing.incomplete) throw libpodError('CtrExists', `container ${id} already has a layer`);
    const rec: ContainerLayerRecord = { id, imageId, layers: image.layers, createdAt: new Date().toISOString(), ...(owner === undefined ? {} : { owner }) };
    try {
      try {
        await core.driver.createContainer(id, rec.layers);
      } catch (e) {
        // the image went meanwhile (its layers with it): say so
        throw (await readRecord(core, 'images', imageId)) ? e : noImage(imageId);
      }
      await core.locks.with(STORE_LOCK, async () => {
        // an image removal either ran before (no image now) or runs after and sees this record
        if (!(await readRecord(core, 'images', imageId))) throw noImage(imageId);
        await writeRecord(core, 'containers', rec);
      });
    } catch (e) {
      await core.driver.removeContainer(id).catch(() => undefined);
      throw e;
    }
    return rec;
  });
}

/** The complete layer record of container `id`; `NoSuchCtr` when it has none. */
export async function containerLayer(core: StoreCore, id: string): Promise<ContainerLayerRecord> {
  const rec = await readRecord(core, 'containers', id);
  if (!rec || rec.incomplete) throw libpodError('NoSuchCtr', `container ${id} has no layer in the image store`);
  return rec;
}

/** Unmounts and removes container `id`'s layer; none is fine (directories left by a crash included). */
export async function removeContainerLayer(core: StoreCore, id: string): Promise<void> {
  await core.locks.with(containerLock(id), async () => {
    // unmounted first: while the record stays, the layer is whole and usable if this fails
    await core.driver.unmountContainer(id);
    await core.locks.with(STORE_LOCK, () => removeRecord(core, 'containers', id));
    await core.driver.removeContainer(id);
  });
}
