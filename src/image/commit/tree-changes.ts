/**
 * The changes between a layer's full tree and a container's full copy of
 * it (what the vfs driver has instead of an overlay upper dir), as
 * containers/storage's naive diff computes them: paths that are new or
 * whose type, content size, mtime, mode, owner or link target differ,
 * and paths that are gone (to become `.wh.` whiteouts).
 *
 * A new or changed directory is listed once and not descended into when
 * its whole subtree must be written (new, or of another type); a
 * directory whose mode or owner changed is listed whole as well. A
 * directory that only holds changes (mtime moves whenever an entry is
 * added) is descended into and not written itself.
 * @module
 */
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BigIntStats } from 'node:fs';

/** What changed, as paths relative to the trees' roots (`etc/passwd`). */
export interface TreeChanges {
  /** Paths to write (directories with their content). */
  changed: string[];
  /** Paths removed (or replaced by another type): whiteouts. */
  deleted: string[];
}

async function lst(p: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(p, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function kind(s: BigIntStats): string {
  return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : s.isSymbolicLink() ? 'link' : s.isCharacterDevice() ? 'char' : s.isBlockDevice() ? 'block' : s.isFIFO() ? 'fifo' : 'other';
}

function sameMeta(a: BigIntStats, b: BigIntStats): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

async function sameEntry(lower: string, upper: string, a: BigIntStats, b: BigIntStats): Promise<boolean> {
  if (!sameMeta(a, b)) return false;
  if (a.isSymbolicLink()) return (await readlink(lower)) === (await readlink(upper));
  if (a.isCharacterDevice() || a.isBlockDevice()) return a.rdev === b.rdev;
  // a copy may keep mtimes only to the millisecond (Node's cp rounds them): closer than that is the same
  if (a.isFile()) return a.size === b.size && (a.mtimeNs > b.mtimeNs ? a.mtimeNs - b.mtimeNs : b.mtimeNs - a.mtimeNs) < 1_000_000n;
  return true;
}

async function walk(lowerRoot: string, upperRoot: string, rel: string, out: TreeChanges): Promise<void> {
  const lowerDir = join(lowerRoot, rel);
  const upperDir = join(upperRoot, rel);
  const [lowerNames, upperNames] = await Promise.all([readdir(lowerDir).catch(() => [] as string[]), readdir(upperDir)]);
  const inUpper = new Set(upperNames);
  for (const name of lowerNames.sort()) if (!inUpper.has(name)) out.deleted.push(rel === '' ? name : `${rel}/${name}`);
  for (const name of upperNames.sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const [a, b] = await Promise.all([lst(join(lowerRoot, path)), lst(join(upperRoot, path))]);
    if (!b) continue;
    if (!a) {
      out.changed.push(path);
      continue;
    }
    if (kind(a) !== kind(b)) {
      out.deleted.push(path);
      out.changed.push(path);
      continue;
    }
    if (b.isDirectory()) {
      if (!sameMeta(a, b)) out.changed.push(path);
      else await walk(lowerRoot, upperRoot, path, out);
      continue;
    }
    if (!(await sameEntry(join(lowerRoot, path), join(upperRoot, path), a, b))) out.changed.push(path);
  }
}

/** The changes from the tree at `lower` (missing: empty) to the tree at `upper`. */
export async function treeChanges(lower: string | undefined, upper: string): Promise<TreeChanges> {
  const out: TreeChanges = { changed: [], deleted: [] };
  if (lower === undefined) out.changed.push(...(await readdir(upper)).sort());
  else await walk(lower, upper, '', out);
  return out;
}
