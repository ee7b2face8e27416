/**
 * Extracting tar streams into directories: every entry is checked in JS
 * (`containment.ts`), optionally converted (`whiteouts.ts`), then GNU tar
 * writes it (`gnu-tar.ts`).
 * @module
 */
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ResultAsync } from 'neverthrow';
import { isLibpodError, libpodError, toLibpodError, type LibpodError } from '../define/errors.js';
import { streamCommand } from '../host/command.js';
import { clean, Containment, type SymlinkPolicy } from './containment.js';
import type { ArchiveEntry } from './entry.js';
import { extractArgs, isRoot, TAR, tarMessage } from './gnu-tar.js';
import { TarScanner, type EntryAction } from './tar-scanner.js';
import { opaqueDirEntry, reencode, toOverlayForm, WHITEOUT_PREFIX, withoutOverlayXattrs } from './whiteouts.js';

/** Options of {@link extractTree}. */
export interface ExtractOptions {
  /** Which symlink targets are accepted (default `'rootfs'`; image layers: `'any'`). */
  symlinks?: SymlinkPolicy;
  /**
   * `'overlay'`: the stream is an image layer and the target an overlay
   * layer directory: `.wh.name` becomes a char device 0/0 `name`,
   * `.wh..wh..opq` the xattr `trusted.overlay.opaque=y` on its directory
   * (see `whiteouts.ts`). Both need root. The archive's own
   * `trusted.overlay.*` xattrs are dropped (they would steer overlayfs).
   */
  whiteouts?: 'overlay';
  /** Entries for which this returns `false` are skipped (not checked, not written), and hard links to them. */
  filter?: (entry: ArchiveEntry) => boolean;
  /** Called with every entry that passed the checks, just before it is written, in archive order. */
  onEntry?: (entry: ArchiveEntry) => void;
}

/** What {@link extractTree} did. */
export interface ExtractSummary {
  /** Entries in the archive (written, filtered or skipped). */
  entries: number;
  /**
   * Paths (relative to the target) of device nodes left out because this
   * process is not root (it cannot `mknod`), overlay whiteouts included, and
   * of opaque markers (`dir/.wh..wh..opq`) not applied (`trusted.*` xattrs
   * need root), and of hard links to any of these. Always empty as root.
   */
  skipped: string[];
}

function ownerError(e: unknown, what: string): LibpodError {
  if (isLibpodError(e)) return e;
  return toLibpodError(e, 'Internal', what);
}

/** The per-entry step: filter, containment, whiteouts, unprivileged device skipping. */
function entryHandler(root: string, opts: ExtractOptions, skipped: string[], emptyTarget: boolean): (entry: ArchiveEntry) => Promise<EntryAction | undefined> {
  const guard = new Containment(root, opts.symlinks ?? 'rootfs', emptyTarget);
  const asRoot = isRoot();
  const dirs = new Map<string, ArchiveEntry>();
  /** What was left out: a hard link to it is left out too (GNU tar would fail on it). */
  const left = new Set<string>();
  const skip = (rel: string): EntryAction => {
    skipped.push(rel);
    left.add(rel);
    return { drop: true };
  };
  /** What the caller's filter left out: a hard link to it is left out too, silently. */
  const filtered = new Set<string>();
  return async (entry) => {
    if (opts.filter && !opts.filter(entry)) {
      filtered.add(clean(entry.name));
      return { drop: true };
    }
    const rel = await guard.check(entry);
    let action: EntryAction | undefined;
    if (opts.whiteouts === 'overlay') {
      const form = toOverlayForm(entry);
      if (form.kind === 'opaque') {
        const st = await lstat(join(root, form.dir)).catch(() => undefined);
        const fallback = st?.isDirectory()
          ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) }
          : { mode: 0o755, uid: 0, gid: 0, mtime: entry.mtime };
        if (!asRoot) return skip(rel);
        return { headers: opaqueDirEntry(form.dir, dirs.get(form.dir), fallback) };
      }
      if (form.kind === 'whiteout') {
        if (!asRoot) return skip(rel.replace(/[^/]*$/, (b) => b.slice(WHITEOUT_PREFIX.length)));
        action = { headers: form.headers };
      } else {
        const stripped = withoutOverlayXattrs(entry);
        if (stripped) {
          entry = stripped;
          action = { headers: reencode(stripped, {}) };
        }
      }
    }
    if (entry.type === 'directory') dirs.set(rel, entry);
    if (!asRoot && (entry.type === 'char' || entry.type === 'block')) return skip(rel);
    if (entry.type === 'link' && left.has(clean(entry.linkname))) return skip(rel);
    if (entry.type === 'link' && filtered.has(clean(entry.linkname))) return { drop: true };
    opts.onEntry?.(entry);
    return action;
  };
}

async function extractInto(src: NodeJS.ReadableStream, dir: string, opts: ExtractOptions): Promise<ExtractSummary> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const skipped: string[] = [];
  const emptyTarget = (await readdir(root)).length === 0;
  const scanner = new TarScanner(entryHandler(root, opts, skipped, emptyTarget));
  const tar = streamCommand(TAR, extractArgs(root, isRoot()), { notFoundCode: 'Internal' });
  const piped = pipeline(src, scanner, tar.stdin as NodeJS.WritableStream).then(
    () => undefined,
    (e: unknown) => e,
  );
  const exit = await tar.exited;
  const pipeError = await piped;
  if (scanner.refusal) throw scanner.refusal;
  if (exit.isErr()) throw exit.error;
  const brokenPipe = (pipeError as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
  if (pipeError !== undefined && !brokenPipe) throw ownerError(pipeError, `reading the archive to extract into ${root}`);
  if (exit.value.code !== 0) throw libpodError('Internal', `extracting into ${root}: tar: ${tarMessage(exit.value.stderr, exit.value.code)}`);
  return { entries: scanner.entries, skipped };
}

/**
 * Extracts the tar stream `src` into `dir` (created when missing), over
 * what is there, keeping the tree whole: hard links as links, FIFOs,
 * devices, xattrs, modes (setuid / setgid / sticky included), mtimes, and
 * numeric owners as root. Nothing is ever written outside `dir`: absolute
 * names, `..`, hard links out of it and writes through a symlink (in the
 * archive or already in `dir`) are refused with `InvalidArg` before GNU tar
 * sees them (see `containment.ts`); entries before the refused one stay
 * extracted (inside `dir`). Input that is not a (complete) tar archive is
 * `InvalidArg`; a failure of GNU tar itself is `Internal` with its message.
 *
 * As non-root: no chown (files belong to the caller), only `user.*`
 * xattrs, and device nodes (overlay whiteouts included) are skipped and
 * listed in {@link ExtractSummary.skipped}, as rootless containers/storage
 * does; everything else is extracted as it would be as root.
 */
export function extractTree(src: NodeJS.ReadableStream, dir: string, opts: ExtractOptions = {}): ResultAsync<ExtractSummary, LibpodError> {
  return ResultAsync.fromPromise(extractInto(src, dir, opts), (e) => ownerError(e, `extracting into ${dir}`));
}
