/**
 * Extraction of a layer tar into an empty directory of a driver, with the
 * archive module (`src/archive`: every entry checked in JS, then written by
 * GNU tar): no entry leaves the directory (absolute names, `..`, writes
 * through a symlink and hard links out of the tree are refused), owners,
 * modes, devices, hard links and xattrs are restored.
 *
 * - `'overlay'`: whiteouts become what overlayfs reads (`.wh.X` a char 0/0
 *   device `X`, `.wh..wh..opq` the `trusted.overlay.opaque` xattr of its
 *   directory) while the stream is extracted, and the archive's own
 *   `trusted.overlay.*` xattrs are dropped;
 * - `'markers'`: `.wh.` files stay as they are (the vfs driver applies them
 *   when it merges the layer onto its parent's copy).
 *
 * Symlink targets are data (`symlinks: 'any'`): inside a container `/` is
 * the layer stack's root. Anything the extraction refuses or fails at is
 * `ImageCorrupt` (the cause attached); a failure of the stream itself
 * reaches the caller first through its own pipeline.
 * @module
 */
import type { Readable } from 'node:stream';
import { extractTree } from '../../archive/index.js';
import { libpodError } from '../../define/errors.js';

/** How whiteouts are written: overlayfs's form, or the layer's own `.wh.` files. */
export type WhiteoutForm = 'overlay' | 'markers';

/** Extracts the layer tar `tar` into the existing empty directory `dir`. */
export async function extractLayer(tar: Readable, dir: string, form: WhiteoutForm): Promise<void> {
  const r = await extractTree(tar, dir, { symlinks: 'any', ...(form === 'overlay' ? { whiteouts: 'overlay' as const } : {}) });
  if (r.isErr()) throw libpodError('ImageCorrupt', `extracting layer: ${r.error.message}`, r.error);
}
