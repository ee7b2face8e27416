/**
 * The overlay driver (containers/storage's `overlay`, root only).
 *
 * ```
 * <storage>/overlay/<chainId>/diff     the layer's own files (whiteouts: char 0/0, opaque xattr)
 * <storage>/overlay/<chainId>/link     short name of its link
 * <storage>/overlay/l/<link>           -> ../<chainId>/diff
 * <storage>/overlay-containers/<id>/   diff (upper), work, merged, empty (lower of a layerless image)
 * <storage>/overlay/.tmp-<pid>-layer-* a layer being extracted (renamed to <chainId> when whole)
 * ```
 *
 * `overlay/` and `overlay-containers/` are marked as tops of directory
 * hierarchies (`host/top-dir.ts`): every layer and container tree gets a
 * block group of its own, away from the churn of the rest of the host.
 * Layers are extracted under a random temporary name and renamed, so the
 * group does not depend on the layer's id either (ext4 starts its search
 * at a hash of the name: a layer removed and loaded again would land among
 * its own recently deleted inodes).
 *
 * mount(2) takes at most a page of options. Lower layers are named by their
 * 10-character links, relative to `overlay/l`, and `mount` runs with that
 * directory as its working directory (containers/storage re-executes itself
 * and chdirs for the same reason): 11 bytes per layer, so ~350 layers fit.
 * When the links fit as absolute paths (a few dozen layers), mount(2) is
 * called directly (`host/mount.ts`), without a `mount` process.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chown, lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { libpodError } from '../../../define/errors.js';
import { runChecked } from '../../../host/command.js';
import { unmountOverlay } from '../../../container/rootfs.js';
import { isMountPoint } from '../../../host/mountinfo.js';
import { mountSyscall } from '../../../host/mount.js';
import { markTopDir } from '../../../host/top-dir.js';
import { sweepTemps, TMP_PREFIX } from '../atomic.js';
import { extractLayer } from '../layer-extract.js';
import { orThrow } from '../results.js';
import type { StorageDriver } from './driver.js';

const LINK_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const LINK_LENGTH = 10;
/** mount(2)'s limit on the option string (a page, NUL included). */
const PAGE = 4096;

function linkName(): string {
  const bytes = randomBytes(LINK_LENGTH);
  let s = '';
  for (const b of bytes) s += LINK_CHARS[b % 32];
  return s;
}

/** The overlay driver. */
export class OverlayDriver implements StorageDriver {
  readonly name = 'overlay' as const;
  readonly #home: string;
  readonly #links: string;
  readonly #ctrs: string;

  constructor(storageRoot: string) {
    this.#home = join(storageRoot, 'overlay');
    this.#links = join(this.#home, 'l');
    this.#ctrs = join(storageRoot, 'overlay-containers');
  }

  async init(): Promise<void> {
    for (const dir of [this.#home, this.#ctrs]) {
      if ((await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined) await markTopDir(dir);
    }
    await mkdir(this.#links, { recursive: true, mode: 0o700 });
    await sweepTemps(this.#home);
    await this.#sweepLinks();
  }

  /** Links whose layer is gone (a removal that crashed between its steps). */
  async #sweepLinks(): Promise<void> {
    for (const l of await readdir(this.#links)) {
      try {
        await stat(join(this.#links, l));
      } catch {
        await rm(join(this.#links, l), { force: true });
      }
    }
  }

  #diff(id: string): string {
    return join(this.#home, id, 'diff');
  }

  /** A new directory with the mode and owner of `like` (0755 root when absent). */
  async #mkdirLike(dir: string, like: string | undefined): Promise<void> {
    let mode = 0o755;
    let uid = 0;
    let gid = 0;
    if (like !== undefined) {
      const st = await stat(like);
      mode = st.mode & 0o7777;
      uid = st.uid;
      gid = st.gid;
    }
    await mkdir(dir, { mode });
    await chown(dir, uid, gid);
  }

  async applyLayer(id: string, parent: string | undefined, tar: Readable): Promise<void> {
    await this.removeLayer(id);
    const dir = join(this.#home, id);
    const staging = join(this.#home, `${TMP_PREFIX}${process.pid}-layer-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(staging, { mode: 0o700 });
      await this.#mkdirLike(join(staging, 'diff'), parent === undefined ? undefined : this.#diff(parent));
      await extractLayer(tar, join(staging, 'diff'), 'overlay');
      await rename(staging, dir);
    } catch (e) {
      await rm(staging, { recursive: true, force: true, maxRetries: 5 });
      throw e;
    }
    // The link last: a layer dir with a link file is complete as far as the driver is concerned.
    for (;;) {
      const name = linkName();
      try {
        await symlink(join('..', id, 'diff'), join(this.#links, name));
        await writeFile(join(dir, 'link'), name);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  }

  async removeLayer(id: string): Promise<void> {
    const dir = join(this.#home, id);
    try {
      const name = (await readFile(join(dir, 'link'), 'utf8')).trim();
      if (/^[A-Z2-7]+$/.test(name)) await unlink(join(this.#links, name)).catch(() => undefined);
    } catch {
      // no link yet
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }

  #ctrDir(id: string): string {
    return join(this.#ctrs, id);
  }

  async createContainer(id: string, layers: readonly string[]): Promise<void> {
    const dir = this.#ctrDir(id);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // an earlier attempt's directories: redo them
      await this.removeContainer(id);
      await mkdir(dir, { mode: 0o700 });
    }
    const top = layers.at(-1);
    await Promise.all([
      // The merged root shows the upper dir's mode and owner: take the image's.
      this.#mkdirLike(join(dir, 'diff'), top === undefined ? undefined : this.#diff(top)),
      mkdir(join(dir, 'work'), { mode: 0o700 }),
      mkdir(join(dir, 'merged'), { mode: 0o700 }),
      top === undefined ? mkdir(join(dir, 'empty'), { mode: 0o700 }) : undefined,
    ]);
  }

  async #lowerdir(id: string, layers: readonly string[]): Promise<string> {
    if (layers.length === 0) return join(this.#ctrDir(id), 'empty');
    const links = await Promise.all([...layers].reverse().map(async (l) => (await readFile(join(this.#home, l, 'link'), 'utf8')).trim()));
    return links.join(':');
  }

  async mountContainer(id: string, layers: readonly string[]): Promise<string> {
    const dir = this.#ctrDir(id);
    const merged = join(dir, 'merged');
    if (await orThrow(isMountPoint(merged))) return merged;
    const lowers = await this.#lowerdir(id, layers);
    const rest = `upperdir=${join(dir, 'diff')},workdir=${join(dir, 'work')}`;
    // mount(2) itself when the links fit in a page as absolute paths (no process, no cwd needed)
    const absolute = layers.length === 0 ? lowers : lowers.split(':').map((l) => join(this.#links, l)).join(':');
    const direct = `lowerdir=${absolute},${rest}`;
    if (direct.length < PAGE && (await mountSyscall('overlay', merged, direct))) return merged;
    const options = `lowerdir=${lowers},${rest}`;
    if (options.length >= PAGE) {
      throw libpodError('InvalidArg', `image of container ${id} has ${layers.length} layers: too many for one overlay mount`);
    }
    await orThrow(runChecked('mount', ['-t', 'overlay', 'overlay', '-o', options, merged], { cwd: this.#links, errorCode: 'Internal', notFoundCode: 'Internal' }));
    return merged;
  }

  async unmountContainer(id: string): Promise<void> {
    await orThrow(unmountOverlay(join(this.#ctrDir(id), 'merged')));
  }

  async removeContainer(id: string): Promise<void> {
    const dir = this.#ctrDir(id);
    try {
      await lstat(dir);
    } catch {
      return;
    }
    await this.unmountContainer(id);
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }

  containerChangesDir(id: string): string {
    return join(this.#ctrDir(id), 'diff');
  }

  async layerIds(): Promise<string[]> {
    return (await readdir(this.#home)).filter((n) => n !== 'l' && !n.startsWith(TMP_PREFIX));
  }

  async containerIds(): Promise<string[]> {
    return readdir(this.#ctrs);
  }
}
