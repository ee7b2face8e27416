/**
 * One archive entry as the archive module shows it to callers (`onEntry`,
 * `filter`): read-only, decoded from the entry's headers.
 * @module
 */
import type { EntryType, PaxRecord } from './tar-format.js';

export type { EntryType, PaxRecord } from './tar-format.js';

/** One entry of a tar stream, decoded (PAX and GNU long names applied). */
export interface ArchiveEntry {
  /** The entry's path as stored (PAX `path`, else GNU long name, else the header's). */
  readonly name: string;
  /** Every name the headers give (header, GNU long name, PAX `path`): all are checked. */
  readonly allNames: readonly string[];
  readonly type: EntryType;
  /** Mode bits, setuid / setgid / sticky included. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Size of the data (0 for everything but regular files). */
  readonly size: number;
  /** Modification time, seconds since the epoch (PAX may carry a finer `mtime`). */
  readonly mtime: number;
  /** Target of a symlink or hard link (`''` otherwise). */
  readonly linkname: string;
  /** Device numbers of char / block devices (an overlay whiteout is char 0/0). */
  readonly devmajor: number;
  readonly devminor: number;
  /** The entry's own PAX records, raw (xattrs are `SCHILY.xattr.<name>`). */
  readonly pax: readonly PaxRecord[];
}

/** PAX key prefix GNU tar and containers/storage use for extended attributes. */
export const XATTR_PREFIX = 'SCHILY.xattr.';

/** The entry's extended attributes, name to raw value. */
export function entryXattrs(entry: ArchiveEntry): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const r of entry.pax) if (r.key.startsWith(XATTR_PREFIX)) out.set(r.key.slice(XATTR_PREFIX.length), r.value);
  return out;
}
