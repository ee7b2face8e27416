/**
 * A container's changes as a layer tar (containers/storage's `Diff`):
 *
 * - overlay: the container's upper directory, packed with its whiteouts in
 *   layer form (char 0/0 → `.wh.name`, opaque xattr → `.wh..wh..opq`) and
 *   overlay's own `trusted.overlay.*` xattrs left out (`src/archive`).
 * - vfs: the container's full copy compared with its image's top layer
 *   tree (`<storage>/vfs/<chain id>`, see the store's layout): removed
 *   paths become `.wh.` entries (written first, so a path both removed and
 *   re-made in this layer keeps the new one), then the new and changed paths.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { packTree, packTrees, type PackSource } from '../../archive/index.js';
import type { ImageStore } from '../store/image-store.js';
import { treeChanges } from './tree-changes.js';

/** A layer tar of container `id`'s changes; `top` is its image's top layer (chain id), if any. `done` removes temporaries. */
export async function containerDiff(store: ImageStore, id: string, top: string | undefined): Promise<{ tar: Readable; done: () => Promise<void> }> {
  const changes = store.containerChangesDir(id);
  if (store.driver === 'overlay') return { tar: packTree(changes, { whiteouts: 'overlay' }), done: async () => undefined };
  const lower = top === undefined ? undefined : join(store.path, 'vfs', top);
  const { changed, deleted } = await treeChanges(lower, changes);
  const wh = join(store.path, 'tmp', `${process.pid}-commit-${randomBytes(6).toString('hex')}`);
  const done = (): Promise<void> => rm(wh, { recursive: true, force: true });
  try {
    await mkdir(wh, { mode: 0o700 });
    const markers: string[] = [];
    for (const p of deleted) {
      const m = posix.join(posix.dirname(p), `.wh.${posix.basename(p)}`);
      await mkdir(join(wh, dirname(m)), { recursive: true });
      await writeFile(join(wh, m), '');
      markers.push(m);
    }
    const sources: PackSource[] = [];
    if (markers.length > 0) sources.push({ dir: wh, entries: markers });
    if (changed.length > 0) sources.push({ dir: changes, entries: changed });
    // no change: an empty layer (just the end-of-archive blocks), as podman's commit makes one too
    return { tar: packTrees(sources), done };
  } catch (e) {
    await done();
    throw e;
  }
}
