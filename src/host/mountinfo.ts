/**
 * The one reader of `/proc/<pid>/mountinfo` (proc(5)). Each line is
 * `id parent major:minor root mountpoint options [optional fields...] -
 * fstype source superoptions`; paths escape space, tab, newline and
 * backslash as octal (`\040`, `\011`, `\012`, `\134`).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ResultAsync } from 'neverthrow';
import { attempt, type LibpodError } from '../define/errors.js';

/** One line of `/proc/<pid>/mountinfo`. */
export interface MountEntry {
  /** The mount's id. */
  id: number;
  /** The id of the mount it sits on. */
  parentId: number;
  /** The directory of the source filesystem that is mounted (field 4). */
  root: string;
  /** Where it is mounted (field 5). */
  mountPoint: string;
  /** Filesystem type (after the `-` separator). */
  fsType: string;
  /** Mount source (device, `overlay`, `tmpfs`, ...). */
  source: string;
}

/** Undoes mountinfo's octal escapes. */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses a mountinfo text; malformed lines are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    // The optional fields end at a lone '-', which comes at index 6 at the earliest.
    const dash = fields.indexOf('-', 6);
    const [id, parentId, , root, mountPoint] = fields;
    const fsType = fields[dash + 1];
    const source = fields[dash + 2];
    if (dash < 0 || root === undefined || mountPoint === undefined || fsType === undefined || source === undefined) continue;
    mounts.push({
      id: Number(id),
      parentId: Number(parentId),
      root: unescapeMountPath(root),
      mountPoint: unescapeMountPath(mountPoint),
      fsType,
      source: unescapeMountPath(source),
    });
  }
  return mounts;
}

/** The mounts of this process's mount namespace. */
export function readMounts(): ResultAsync<MountEntry[], LibpodError> {
  return attempt(async () => parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')), 'Internal', 'reading /proc/self/mountinfo');
}

/** Whether something is mounted exactly at `path` in this process's mount namespace. */
export function isMountPoint(path: string): ResultAsync<boolean, LibpodError> {
  const target = resolve(path);
  return readMounts().map((mounts) => mounts.some((m) => m.mountPoint === target));
}
