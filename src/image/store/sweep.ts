/**
 * Sweeping at open (containers/storage's incomplete-layer cleanup): records
 * left `incomplete` by a writer that is gone (its lock is free) are removed
 * with their directories; temporaries of dead processes go too. A writer
 * that is alive holds its lock, so its work in progress is never touched.
 * @module
 */
import { sweepTemps } from './atomic.js';
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

/** Removes what crashed writers left; resolves to the ids of swept layers and containers. */
export async function sweep(core: StoreCore): Promise<string[]> {
  return core.locks.with(STORE_LOCK, async () => {
    const swept = [...(await sweepKind(core, 'layers')), ...(await sweepKind(core, 'containers'))];
    await sweepTemps(core.layout.tmp, '');
    for (const dir of [core.layout.layers, core.layout.images, core.layout.containers]) await sweepTemps(dir);
    return swept;
  });
}
