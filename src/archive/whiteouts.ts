/**
 * Overlay whiteouts in image layers (the OCI image spec's "whiteouts"
 * section, as containers/storage converts them):
 *
 * | in a layer tar               | in an overlay upper / layer directory          |
 * | ---------------------------- | ---------------------------------------------- |
 * | `dir/.wh.name` (empty file)  | `dir/name`: char device 0/0                    |
 * | `dir/.wh..wh..opq`           | `dir` has xattr `trusted.overlay.opaque=y`     |
 *
 * Extraction with `whiteouts: 'overlay'` turns the left column into the
 * right and drops the archive's own `trusted.overlay.*` xattrs; packing with it turns the right into the left and leaves out every
 * other `trusted.overlay.*` xattr (overlay's own bookkeeping). Without the
 * option both columns pass through as they are (a checkpoint's rootfs diff
 * keeps its char 0/0 devices and opaque xattrs verbatim).
 * @module
 */
import type { ArchiveEntry } from './entry.js';
import { XATTR_PREFIX } from './entry.js';
import { encodeEntry, type EntryType, type PaxRecord } from './tar-format.js';

/** Prefix of a whiteout file's name. */
export const WHITEOUT_PREFIX = '.wh.';
/** Name of the opaque-directory marker. */
export const OPAQUE_MARKER = '.wh..wh..opq';
/** The overlay xattr that marks a directory opaque. */
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

const TYPEFLAG: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };

const OVERLAY_XATTRS = `${XATTR_PREFIX}trusted.overlay.`;
/** PAX keys encodeEntry writes itself. */
const REGENERATED = new Set(['path', 'linkpath', 'size', 'uid', 'gid']);

/** Header blocks for `entry` with some fields changed (its data, if any, follows unchanged). */
export function reencode(entry: ArchiveEntry, change: Partial<Omit<ArchiveEntry, 'allNames'>>): Buffer {
  const e = { ...entry, ...change };
  return encodeEntry({
    name: e.type === 'directory' && !e.name.endsWith('/') ? `${e.name}/` : e.name,
    typeflag: TYPEFLAG[e.type],
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    mtime: e.mtime,
    size: e.size,
    linkname: e.linkname === '' ? undefined : e.linkname,
    devmajor: e.devmajor,
    devminor: e.devminor,
    pax: e.pax.filter((r) => !REGENERATED.has(r.key)),
  });
}

/** Splits `a/b/c` into `['a/b', 'c']` (`''` for no directory). */
export function splitName(name: string): [string, string] {
  const trimmed = name.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? ['', trimmed] : [trimmed.slice(0, i), trimmed.slice(i + 1)];
}

const join = (dir: string, base: string): string => (dir === '' ? base : `${dir}/${base}`);

/** An overlay whiteout: a char device 0/0. */
export function isWhiteoutDevice(entry: ArchiveEntry): boolean {
  return entry.type === 'char' && entry.devmajor === 0 && entry.devminor === 0;
}

/** Whether a directory entry carries `trusted.overlay.opaque=y`. */
export function isOpaqueDir(entry: ArchiveEntry): boolean {
  return entry.type === 'directory' && entry.pax.some((r) => r.key === `${XATTR_PREFIX}${OPAQUE_XATTR}` && r.value.toString() === 'y');
}

/**
 * Packing side: the layer-tar form of one entry of an overlay upper
 * directory; `undefined` when it stays as it is.
 */
export function toLayerForm(entry: ArchiveEntry): { headers: Buffer; append?: Buffer } | undefined {
  const [dir, base] = splitName(entry.name);
  if (isWhiteoutDevice(entry)) {
    return { headers: reencode(entry, { name: join(dir, `${WHITEOUT_PREFIX}${base}`), type: 'file', size: 0, devmajor: 0, devminor: 0, pax: [] }) };
  }
  const hasOverlayXattrs = entry.pax.some((r) => r.key.startsWith(OVERLAY_XATTRS));
  if (!hasOverlayXattrs) return undefined;
  const pax = entry.pax.filter((r) => !r.key.startsWith(OVERLAY_XATTRS));
  const headers = reencode(entry, { pax });
  if (!isOpaqueDir(entry)) return { headers };
  const marker = reencode(entry, { name: join(entry.name.replace(/\/+$/, ''), OPAQUE_MARKER), type: 'file', size: 0, pax: [], mode: 0o644 });
  return { headers, append: marker };
}

/** Extraction side: what a layer-tar entry becomes in an overlay layer directory. */
export type OverlayForm =
  /** Not a whiteout: extract as is. */
  | { kind: 'plain' }
  /** A whiteout: extract these headers (a char device 0/0) instead. */
  | { kind: 'whiteout'; headers: Buffer }
  /** An opaque marker: drop it and mark `dir` opaque. */
  | { kind: 'opaque'; dir: string };

/**
 * Extraction side: `entry` without the `trusted.overlay.*` xattrs a layer
 * tar carries (they would steer overlayfs: redirects, metacopy, opaque
 * markers; only the layer's own `.wh..wh..opq` makes a directory opaque);
 * `undefined` when it has none.
 */
export function withoutOverlayXattrs(entry: ArchiveEntry): ArchiveEntry | undefined {
  if (!entry.pax.some((r) => r.key.startsWith(OVERLAY_XATTRS))) return undefined;
  return { ...entry, pax: entry.pax.filter((r) => !r.key.startsWith(OVERLAY_XATTRS)) };
}

/** Classifies one layer-tar entry for extraction with overlay whiteouts. */
export function toOverlayForm(entry: ArchiveEntry): OverlayForm {
  const [dir, base] = splitName(entry.name);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'plain' };
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir };
  const name = join(dir, base.slice(WHITEOUT_PREFIX.length));
  return { kind: 'whiteout', headers: reencode(entry, { name, type: 'char', mode: 0, size: 0, devmajor: 0, devminor: 0, linkname: '', pax: [] }) };
}

/**
 * Header blocks that (re)create directory `dir` with the opaque xattr:
 * `like` is the directory's own entry when the archive had one (its mode,
 * owner, mtime and xattrs are kept), else `fallback` (the directory on
 * disk, or 0755 root).
 */
export function opaqueDirEntry(dir: string, like: ArchiveEntry | undefined, fallback: { mode: number; uid: number; gid: number; mtime: number }): Buffer {
  const opaque: PaxRecord = { key: `${XATTR_PREFIX}${OPAQUE_XATTR}`, value: Buffer.from('y') };
  const base: ArchiveEntry = like ?? { name: dir, allNames: [dir], type: 'directory', size: 0, linkname: '', devmajor: 0, devminor: 0, pax: [], ...fallback };
  return reencode(base, { name: dir === '' ? './' : dir, pax: [...base.pax.filter((r) => r.key !== opaque.key), opaque] });
}
