/**
 * What keeps an extraction inside its target directory, checked in JS on
 * every entry BEFORE GNU tar sees it (GNU tar only gets the entries that
 * pass; see `extract.ts`).
 *
 * GNU tar 1.34 on its own strips a leading `/`, skips names with `..`, and
 * creates symlinks that are absolute or contain `..` as placeholders until
 * the end; it unlinks (never follows) an existing symlink that an entry
 * replaces. It DOES follow a symlink already in the target when it is a
 * parent of an entry (`x -> /etc` then `x/passwd` writes `/etc/passwd`),
 * which this module prevents. Refused with `InvalidArg`:
 *
 * - names (and hard link targets) that are absolute, contain a `..`
 *   component or a NUL;
 * - entries whose parent path passes through a symlink or a non-directory,
 *   whether it is already in the target or was made by an earlier entry of
 *   the same archive;
 * - hard links whose target passes through a symlink;
 * - a directory over an existing symlink, and any entry over a symlink the
 *   same archive made (GNU tar creates dangerous symlinks as placeholder
 *   files and replaces them at the end);
 * - symlink targets outside the tree, by policy ({@link SymlinkPolicy}).
 *
 * Checks read the target with `lstat` as extraction goes; a target that
 * another process changes at the same time (a running container writing
 * into a volume being imported) is outside what this can guarantee, as
 * with any extraction that does not chroot.
 * @module
 */
import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { ArchiveEntry } from './entry.js';

/** How extraction treats symlink targets (links are never followed either way). */
export type SymlinkPolicy =
  /** Relative targets must stay inside the tree; absolute ones are kept: inside a container `/` is the tree's root (default). */
  | 'rootfs'
  /** Every target must stay inside the tree: absolute targets are refused too (for trees read on the host afterwards). */
  | 'contained'
  /** Any target (image layers, trusted copies). */
  | 'any';

type Kind = 'dir' | 'symlink' | 'other' | 'absent';

/** A stored name as a path relative to the target (`''` is the target itself). */
export function clean(name: string): string {
  const n = posix.normalize(name.replace(/^(\.\/)+/, ''));
  return n === '.' || n === './' ? '' : n.replace(/\/+$/, '');
}

function hasDotDot(name: string): boolean {
  return name.split('/').includes('..');
}

/** Why `name` is not a safe relative path; `undefined` when it is. */
function nameProblem(name: string): string | undefined {
  if (name.includes('\0')) return 'a name containing NUL';
  if (name.startsWith('/')) return 'an absolute path';
  if (hasDotDot(name)) return 'a path with ".."';
  return undefined;
}

/** The containment state of one extraction: what the archive made so far, what the target had. */
export class Containment {
  /** Kinds of paths the archive itself has made (they win over the disk). */
  private readonly made = new Map<string, Kind>();
  /** Kinds of paths found on disk (read once each). */
  private readonly disk = new Map<string, Kind>();

  /**
   * `emptyTarget`: the target held nothing when the extraction started (a
   * new layer directory), so every path below it that the archive did not
   * make is absent: no `lstat` per new directory.
   */
  constructor(
    private readonly root: string,
    private readonly symlinks: SymlinkPolicy,
    private readonly emptyTarget = false,
  ) {}

  private async kind(rel: string): Promise<Kind> {
    const made = this.made.get(rel);
    if (made) return made;
    if (this.emptyTarget && rel !== '') return 'absent';
    const known = this.disk.get(rel);
    if (known) return known;
    const st = await lstat(join(this.root, rel)).catch(() => undefined);
    const k: Kind = !st ? 'absent' : st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'other';
    this.disk.set(rel, k);
    return k;
  }

  /** Why a path's parents are unsafe to write through; `undefined` when they are directories or absent. */
  private async parentsProblem(rel: string): Promise<string | undefined> {
    const parts = rel.split('/');
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i += 1) {
      prefix = prefix === '' ? (parts[i] as string) : `${prefix}/${parts[i] as string}`;
      const k = await this.kind(prefix);
      if (k === 'symlink') return `its parent ${JSON.stringify(prefix)} is a symlink`;
      if (k === 'other') return `its parent ${JSON.stringify(prefix)} is not a directory`;
    }
    return undefined;
  }

  /** Records that `rel`'s parents are directories now (GNU tar makes the missing ones). */
  private parentsAreDirs(rel: string): void {
    let i = rel.indexOf('/');
    while (i > 0) {
      const prefix = rel.slice(0, i);
      if (!this.made.has(prefix)) this.made.set(prefix, 'dir');
      i = rel.indexOf('/', i + 1);
    }
  }

  private refuse(entry: ArchiveEntry, why: string): LibpodError {
    return libpodError('InvalidArg', `refusing to extract ${JSON.stringify(entry.name)} into ${this.root}: ${why}`);
  }

  /**
   * Checks one entry and records what it makes; throws `InvalidArg` (a
   * {@link LibpodError}) when it must not be extracted. Returns the
   * entry's path relative to the target (`''` for the target itself).
   */
  async check(entry: ArchiveEntry): Promise<string> {
    for (const n of entry.allNames) {
      const p = nameProblem(n);
      if (p) throw this.refuse(entry, p);
    }
    const rel = clean(entry.name);
    if (rel === '' && entry.type !== 'directory') throw this.refuse(entry, 'a non-directory in place of the target');
    const parents = await this.parentsProblem(rel);
    if (parents) throw this.refuse(entry, parents);
    // GNU tar unlinks (never follows) what an entry replaces, but a symlink it made itself may only be a
    // placeholder it turns into the link at the end; and a directory over a symlink is no safe merge
    if (rel !== '' && this.made.get(rel) === 'symlink') throw this.refuse(entry, 'an entry over a symlink made by the same archive');
    if (entry.type === 'directory' && (await this.kind(rel)) === 'symlink') throw this.refuse(entry, 'a directory over an existing symlink');
    let made: Kind = entry.type === 'directory' ? 'dir' : entry.type === 'symlink' ? 'symlink' : 'other';
    if (entry.type === 'link') {
      const p = entry.linkname === '' ? 'a hard link without a target' : nameProblem(entry.linkname);
      if (p) throw this.refuse(entry, `hard link target: ${p}`);
      const target = clean(entry.linkname);
      const tp = await this.parentsProblem(target);
      if (tp) throw this.refuse(entry, `hard link target ${JSON.stringify(entry.linkname)}: ${tp}`);
      const targetKind = target === '' ? 'dir' : await this.kind(target);
      if (targetKind === 'dir') throw this.refuse(entry, 'a hard link to a directory');
      // a hard link to a symlink is a symlink
      if (targetKind === 'symlink') made = 'symlink';
    }
    if (entry.type === 'symlink' && this.symlinks !== 'any') {
      const link = entry.linkname;
      if (link.startsWith('/')) {
        if (this.symlinks === 'contained') throw this.refuse(entry, `a symlink to the absolute path ${JSON.stringify(link)}`);
      } else {
        const resolved = posix.normalize(posix.join(posix.dirname(rel === '' ? '.' : rel), link));
        if (resolved === '..' || resolved.startsWith('../')) throw this.refuse(entry, `a symlink to ${JSON.stringify(link)} outside the target directory`);
      }
    }
    // GNU tar replaces (unlinks, never follows) what is at the path; a directory over a directory merges
    if (rel !== '') {
      this.parentsAreDirs(rel);
      this.made.set(rel, made);
    }
    return rel;
  }
}
