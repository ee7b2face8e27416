/**
 * Sweeping at open (containers/storage's incomplete-layer cleanup): records
 * left `incomplete` by a writer that is gone (its lock is free) are removed
 * with their directories, and so are container layer directories without a
 * record; temporaries of dead processes go too. A writer
 * that is alive holds its lock, so its work in progress is never touched.
 * @module
 */
import { recordNames, sweepTemps } from './atomic.js';
import { containerLock, layerLock, listRecords, removeRecord, STORE_LOCK, type StoreCore } from './store-core.js';

async function sweepKind(core: StoreCore, kind: 'layers' | 'containers'): Promise<string[]> {
  const swept: string[] = [];
  for (const rec of await listRecords(core, kind)) {
    if (!rec.incomplete) continue;
    const lock = await core.locks.tryAcquire(kind === 'layers' ? layerLock(rec.id) : containerLock(rec.id));
    if (!lock) continue;
    try {
      if (kind === 'layers') await core.driver.removeLayer(rec.id);
      else await core.driver.removeContainer(rec.id);
      await removeRecord(core, kind, rec.id);
      swept.push(rec.id);
    } finally {
      await lock.release();
    }
  }
  return swept;
}

/** Container layer directories without a record (made or removed by a process that died between the two steps). */
async function sweepContainerDirs(core: StoreCore): Promise<string[]> {
  const recorded = new Set(await recordNames(core.layout.containers));
  const swept: string[] = [];
  for (const id of await core.driver.containerIds()) {
    if (recorded.has(id)) continue;
    const lock = await core.locks.tryAcquire(containerLock(id));
    if (!lock) continue;
    try {
      await core.driver.removeContainer(id);
      swept.push(id);
    } finally {
      await lock.release();
    }
  }
  return swept;
}

/** Removes what crashed writers left; resolves to the ids of swept layers and containers. */
export async function sweep(core: StoreCore): Promise<string[]> {
  return core.locks.with(STORE_LOCK, async () => {
    const swept = [...(await sweepKind(core, 'layers')), ...(await sweepKind(core, 'containers')), ...(await sweepContainerDirs(core))];
    await sweepTemps(core.layout.tmp, '');
    for (const dir of [core.layout.layers, core.layout.images, core.layout.containers]) await sweepTemps(dir);
    return swept;
  });
}
