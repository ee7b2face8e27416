/**
 * Whiteout marker files of a layer extracted as it is (the OCI layer
 * spec's `.wh.<name>` and `.wh..wh..opq`), for the vfs driver, which
 * applies them as deletions when it merges the layer onto its parent's
 * copy (see `drivers/vfs.ts`). The overlay driver never sees them: its
 * layers are extracted with overlayfs's form (`layer-extract.ts`).
 * @module
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from '../../archive/index.js';

export { OPAQUE_MARKER, WHITEOUT_PREFIX };

/** The markers found in an extracted layer, as paths relative to its root. */
export interface FoundWhiteouts {
  /** `dir/.wh.X` files (the path of the marker file). */
  whiteouts: string[];
  /** Directories (relative, `''` for the root) that held `.wh..wh..opq`. */
  opaques: string[];
}

/**
 * Walks `root` (never following symlinks) and lists its whiteout markers.
 * Directories reached are real directories of the tree, so acting on the
 * paths found never leaves it.
 */
export async function findWhiteouts(root: string): Promise<FoundWhiteouts> {
  const found: FoundWhiteouts = { whiteouts: [], opaques: [] };
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop() as string;
    const entries = await readdir(join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) stack.push(path);
      else if (e.name === OPAQUE_MARKER) found.opaques.push(rel);
      else if (e.name.startsWith(WHITEOUT_PREFIX)) found.whiteouts.push(path);
    }
  }
  return found;
}

/** The path a `.wh.X` marker hides: `dir/X`. */
export function hiddenPath(marker: string): string {
  const slash = marker.lastIndexOf('/');
  const dir = slash < 0 ? '' : marker.slice(0, slash + 1);
  return dir + marker.slice(slash + 1 + WHITEOUT_PREFIX.length);
}
