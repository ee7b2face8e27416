/**
 * Whiteouts of an extracted layer (the OCI layer spec's `.wh.<name>` and
 * `.wh..wh..opq` marker files) and their two representations:
 *
 * - overlay: `.wh.X` becomes a char 0/0 device `X` and `.wh..wh..opq` the
 *   `trusted.overlay.opaque=y` xattr of its directory (what overlayfs reads);
 * - vfs: they are applied as deletions when the layer is merged onto its
 *   parent's copy (see `drivers/vfs.ts`).
 * @module
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setAttribute } from '@napi-rs/xattr';
import tarStream from 'tar-stream';
import { untar } from './untar.js';

/** Prefix of a whiteout file name. */
export const WHITEOUT_PREFIX = '.wh.';
/** Name of the opaque-directory marker. */
export const OPAQUE_MARKER = '.wh..wh..opq';
/** The xattr overlayfs reads for an opaque directory. */
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

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

/** A tar holding a char 0/0 device for each path (how GNU tar makes them for us: Node has no mknod). */
function deviceTar(paths: readonly string[]): Readable {
  const pack = tarStream.pack();
  for (const p of paths) pack.entry({ name: p, type: 'character-device', devmajor: 0, devminor: 0, mode: 0, uid: 0, gid: 0 });
  pack.finalize();
  return pack as unknown as Readable;
}

/**
 * Converts the markers of the layer extracted at `root` to overlayfs's form:
 * each `.wh.X` file to a char 0/0 device `X`, each `.wh..wh..opq` to the
 * opaque xattr of its directory. Needs root (mknod, trusted xattrs).
 */
export async function toOverlayWhiteouts(root: string, found: FoundWhiteouts): Promise<void> {
  const devices: string[] = [];
  for (const marker of found.whiteouts) {
    const hidden = hiddenPath(marker);
    await rm(join(root, marker), { force: true });
    // A layer naming both X and .wh.X is malformed; the whiteout wins, as in containers/storage.
    await rm(join(root, hidden), { recursive: true, force: true });
    devices.push(hidden);
  }
  if (devices.length > 0) await untar(deviceTar(devices), root, { sameOwner: true });
  for (const dir of found.opaques) {
    await rm(join(root, dir, OPAQUE_MARKER), { force: true });
    const target = join(root, dir);
    if ((await lstat(target)).isDirectory()) await setAttribute(target, OPAQUE_XATTR, 'y');
  }
}
