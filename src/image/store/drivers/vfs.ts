/**
 * The vfs driver (containers/storage's `vfs`): every layer is a full copy of
 * the tree at that layer, every container a full copy of its image's top
 * layer. Slow and large, but it needs no mounts and no root: for hosts
 * without overlayfs and for unit tests.
 *
 * ```
 * <storage>/vfs/<chainId>/                 the tree at that layer
 * <storage>/vfs-containers/<id>/rootfs     the container's copy
 * <storage>/tmp/<pid>-<random>/            a layer extracted before it is merged
 * ```
 *
 * A layer is extracted into an empty staging directory, then merged onto a
 * copy of its parent: `.wh..wh..opq` empties the directory, `.wh.X` deletes
 * X, and every other entry replaces what is there. The merge walks only real
 * directories of the destination (lstat, never through a symlink), so a
 * symlink of a lower layer can never redirect it outside the tree.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { runChecked } from '../../../host/command.js';
import { markTopDir } from '../../../host/top-dir.js';
import { extractLayer } from '../layer-extract.js';
import { orThrow } from '../results.js';
import { hiddenPath, findWhiteouts, OPAQUE_MARKER, WHITEOUT_PREFIX } from '../whiteouts.js';
import type { StorageDriver } from './driver.js';

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function isRealDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Copies a tree with everything (owners, modes, xattrs, links); `dest` must not exist. */
async function copyTree(src: string, dest: string): Promise<void> {
  await orThrow(runChecked('cp', ['-a', '--reflink=auto', '--', src, dest], { errorCode: 'Internal', notFoundCode: 'Internal' }));
}

async function copyDirMeta(from: string, to: string): Promise<void> {
  const st = await stat(from);
  await chmod(to, st.mode & 0o7777);
  if (process.getuid?.() === 0) await chown(to, st.uid, st.gid);
  await utimes(to, st.atime, st.mtime);
}

/** Removes the markers of a directory moved whole (nothing below it to hide). */
async function dropMarkers(dir: string): Promise<void> {
  const found = await findWhiteouts(dir);
  for (const w of found.whiteouts) await rm(join(dir, w), { force: true });
  for (const o of found.opaques) await rm(join(dir, o, OPAQUE_MARKER), { force: true });
}

/**
 * Merges the extracted layer `staged` onto `dest` (relative directory `rel`):
 * markers first (they apply to the lower content), then the entries.
 */
async function merge(staged: string, dest: string): Promise<void> {
  const names = await readdir(staged);
  if (names.includes(OPAQUE_MARKER)) {
    for (const n of await readdir(dest)) await rm(join(dest, n), { recursive: true, force: true });
  }
  for (const n of names) {
    if (n.startsWith(WHITEOUT_PREFIX) && n !== OPAQUE_MARKER) await rm(join(dest, hiddenPath(n)), { recursive: true, force: true });
  }
  for (const n of names) {
    if (n.startsWith(WHITEOUT_PREFIX)) continue;
    const from = join(staged, n);
    const to = join(dest, n);
    if ((await lstat(from)).isDirectory() && (await isRealDir(to))) {
      await merge(from, to);
      await copyDirMeta(from, to);
      continue;
    }
    if (await exists(to)) await rm(to, { recursive: true, force: true });
    await rename(from, to);
    if ((await lstat(to)).isDirectory()) await dropMarkers(to);
  }
}

/** The vfs driver. */
export class VfsDriver implements StorageDriver {
  readonly name = 'vfs' as const;
  readonly #home: string;
  readonly #ctrs: string;
  readonly #tmp: string;

  constructor(storageRoot: string) {
    this.#home = join(storageRoot, 'vfs');
    this.#ctrs = join(storageRoot, 'vfs-containers');
    this.#tmp = join(storageRoot, 'tmp');
  }

  async init(): Promise<void> {
    // tops of directory hierarchies: every layer and container copy in a block group of its own (see host/top-dir.ts)
    for (const d of [this.#home, this.#ctrs]) {
      if ((await mkdir(d, { recursive: true, mode: 0o700 })) !== undefined) await markTopDir(d);
    }
    await mkdir(this.#tmp, { recursive: true, mode: 0o700 });
  }

  async applyLayer(id: string, parent: string | undefined, tar: Readable): Promise<void> {
    await this.removeLayer(id);
    const dir = join(this.#home, id);
    const staged = join(this.#tmp, `${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      if (parent === undefined) await mkdir(dir, { mode: 0o755 });
      else await copyTree(join(this.#home, parent), dir);
      await mkdir(staged, { mode: 0o700 });
      // Without a `./` entry the root keeps the lower tree's metadata: start the staging root with it.
      await copyDirMeta(dir, staged);
      await extractLayer(tar, staged, 'markers');
      const rootMeta = await stat(staged);
      await merge(staged, dir);
      await chmod(dir, rootMeta.mode & 0o7777);
      if (process.getuid?.() === 0) await chown(dir, rootMeta.uid, rootMeta.gid);
    } finally {
      await rm(staged, { recursive: true, force: true });
    }
  }

  async removeLayer(id: string): Promise<void> {
    await rm(join(this.#home, id), { recursive: true, force: true, maxRetries: 5 });
  }

  async createContainer(id: string, layers: readonly string[]): Promise<void> {
    await this.removeContainer(id);
    const dir = join(this.#ctrs, id);
    await mkdir(dir, { mode: 0o700 });
    const top = layers.at(-1);
    if (top === undefined) await mkdir(join(dir, 'rootfs'), { mode: 0o755 });
    else await copyTree(join(this.#home, top), join(dir, 'rootfs'));
  }

  async mountContainer(id: string): Promise<string> {
    return join(this.#ctrs, id, 'rootfs');
  }

  async unmountContainer(): Promise<void> {
    // nothing is mounted
  }

  async removeContainer(id: string): Promise<void> {
    await rm(join(this.#ctrs, id), { recursive: true, force: true, maxRetries: 5 });
  }

  containerChangesDir(id: string): string {
    return join(this.#ctrs, id, 'rootfs');
  }

  async layerIds(): Promise<string[]> {
    return readdir(this.#home);
  }

  async containerIds(): Promise<string[]> {
    return readdir(this.#ctrs);
  }
}
