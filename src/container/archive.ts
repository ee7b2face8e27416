/**
 * Tar archives of directory trees: the one home of `tar-fs`.
 *
 * Packing never follows symlinks (they are stored as links), keeps uid, gid
 * and mode bits, and stores names relative to the packed directory. Sockets,
 * FIFOs and device nodes are skipped.
 *
 * Extraction never writes outside its target directory: entries named with
 * an absolute path or a `..` that leaves the tree, hard links to outside,
 * relative symlinks that climb out of the tree, and writes through an
 * existing symlink are refused with `InvalidArg`. Absolute symlink targets
 * are kept as they are: they are meaningful inside the container, where `/`
 * is the tree's root, and extraction never follows them.
 * @module
 */
import { createWriteStream, lstatSync, type Stats } from 'node:fs';
import { chmod, chown, lstat, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import tarFs from 'tar-fs';
import { errAsync, ResultAsync } from 'neverthrow';
import { isLibpodError, libpodError, toLibpodError, type LibpodError } from '../define/errors.js';

/** tar-fs 3 options the bundled typings (written for tar-fs 2) do not declare. */
interface TarFs3Options {
  umask?: number;
  sort?: boolean;
  chown?: boolean;
  validateSymlinks?: boolean;
}

/** The fields of a tar header that extraction checks. */
interface EntryHeader {
  name: string;
  type?: string | null;
  linkname?: string | null;
  mode?: number;
}

/** How extraction treats symlink targets. */
export type SymlinkPolicy =
  /** Relative targets must stay inside the tree; absolute targets are allowed (default). */
  | 'rootfs'
  /** Every target must stay inside the tree: absolute targets are refused too. */
  | 'contained'
  /** Any target (for trusted local copies; links are still never followed). */
  | 'any';

/** Options of {@link extractTar}. */
export interface ExtractOptions {
  /** Which symlink targets are accepted (default `'rootfs'`). */
  symlinks?: SymlinkPolicy;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Whether a normalized relative path climbs out of its root. */
function escapes(normalized: string): boolean {
  return normalized === '..' || normalized.startsWith('../');
}

/** Why `header` must not be extracted into `dir`; `undefined` when it is fine. */
function entryProblem(header: EntryHeader, dir: string, policy: SymlinkPolicy): string | undefined {
  const name = header.name;
  if (name.includes('\0')) return 'a name containing NUL';
  if (posix.isAbsolute(name)) return 'an absolute path';
  const norm = posix.normalize(name);
  if (escapes(norm)) return 'a path outside the target directory';
  const link = header.linkname ?? '';
  if (header.type === 'link') {
    if (link === '' || posix.isAbsolute(link) || escapes(posix.normalize(link))) return `a hard link to ${JSON.stringify(link)} outside the target directory`;
  }
  if (header.type === 'symlink' && policy !== 'any') {
    if (posix.isAbsolute(link)) {
      if (policy === 'contained') return `a symlink to the absolute path ${JSON.stringify(link)}`;
    } else if (escapes(posix.normalize(posix.join(posix.dirname(norm), link)))) {
      return `a symlink to ${JSON.stringify(link)} outside the target directory`;
    }
  }
  if (header.type === 'directory' && norm !== '.') {
    // tar-fs would chmod/chown through an existing symlink at a directory's path
    const existing = lstatSync(join(dir, norm), { throwIfNoEntry: false });
    if (existing?.isSymbolicLink()) return 'a directory over an existing symlink';
  }
  return undefined;
}

function mapTarError(e: unknown, what: string): LibpodError {
  if (isLibpodError(e)) return e;
  // tar-fs / tar-stream refusals and parse errors carry no errno code; I/O errors do
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return toLibpodError(e, typeof code === 'string' ? 'Internal' : 'InvalidArg', what);
}

/**
 * A tar stream of `dir` (or of `entries`, paths relative to `dir`): names
 * relative to `dir`, symlinks stored as links, ownership and modes kept.
 * Errors (such as an unreadable file) are emitted on the stream.
 */
export function tarDirectory(dir: string, opts: { entries?: string[] } = {}): Readable {
  const options: tarFs.PackOptions & TarFs3Options = { umask: 0, strict: false, sort: true, dereference: false };
  if (opts.entries) options.entries = [...opts.entries];
  // a streamx Readable: works with stream.pipeline and pipe(), typed as Node's
  return tarFs.pack(dir, options) as unknown as Readable;
}

/** One tree of {@link tarTrees}. */
export interface TarTree {
  /** The directory to pack. */
  dir: string;
  /** Only these paths (relative to `dir`); default: the whole tree. */
  entries?: string[];
  /** Directory name the tree's entries are stored under (default: none). */
  prefix?: string;
}

/**
 * One tar stream of several trees, in order, each under its own prefix
 * (same storage rules as {@link tarDirectory}).
 */
export function tarTrees(trees: readonly [TarTree, ...TarTree[]]): Readable {
  const build = (i: number, into?: tarFs.Pack): tarFs.Pack => {
    const tree = trees[i] as TarTree;
    const last = i === trees.length - 1;
    const options: tarFs.PackOptions & TarFs3Options = { umask: 0, strict: false, sort: true, dereference: false, finalize: last };
    if (tree.entries) options.entries = [...tree.entries];
    if (into) options.pack = into;
    const prefix = tree.prefix;
    if (prefix !== undefined) options.map = (h) => ({ ...h, name: posix.join(prefix, h.name) });
    if (!last) options.finish = (p) => void build(i + 1, p);
    return tarFs.pack(tree.dir, options);
  };
  return build(0) as unknown as Readable;
}

async function restoreSpecialModes(dir: string, modes: Map<string, { mode: number; type: string }>): Promise<void> {
  for (const [rel, { mode, type }] of modes) {
    const path = join(dir, rel);
    const st = await lstat(path).catch(() => undefined);
    if (!st || st.isSymbolicLink() || (type === 'directory') !== st.isDirectory()) continue;
    await chmod(path, mode & 0o7777);
  }
}

async function extractInto(src: Readable | NodeJS.ReadableStream, dir: string, policy: SymlinkPolicy): Promise<void> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  // tar-fs never extracts setuid/setgid/sticky bits; they are restored afterwards
  const special = new Map<string, { mode: number; type: string }>();
  let refused: LibpodError | undefined;
  const options: tarFs.ExtractOptions & TarFs3Options = {
    umask: 0,
    strict: false,
    validateSymlinks: policy === 'contained',
    ignore: (_path, h) => {
      const header = h as EntryHeader | undefined;
      if (refused || !header) return true;
      const problem = entryProblem(header, root, policy);
      if (problem) {
        // skip this and every later entry; the refusal is reported once the stream is consumed
        // (destroying the extractor here would surface the error on an entry stream nobody listens to)
        refused = libpodError('InvalidArg', `refusing to extract ${JSON.stringify(header.name)} into ${root}: ${problem}`);
        return true;
      }
      if (header.mode !== undefined && (header.mode & 0o7000) !== 0 && (header.type === 'file' || header.type === 'directory')) {
        special.set(posix.normalize(header.name), { mode: header.mode, type: header.type });
      }
      return false;
    },
  };
  try {
    await pipeline(src, tarFs.extract(root, options as tarFs.ExtractOptions));
  } catch (e) {
    throw refused ?? e;
  }
  if (refused) throw refused;
  await restoreSpecialModes(root, special);
}

/**
 * Extracts the tar stream `src` into `dir` (created when missing). Entries
 * that would land outside `dir` are refused with `InvalidArg` (see the
 * module comment); what was extracted before a refusal stays inside `dir`.
 * Ownership is kept when running as root; modes are kept.
 */
export function extractTar(src: Readable | NodeJS.ReadableStream, dir: string, opts: ExtractOptions = {}): ResultAsync<void, LibpodError> {
  return ResultAsync.fromPromise(extractInto(src, dir, opts.symlinks ?? 'rootfs'), (e) => mapTarError(e, `extracting into ${dir}`));
}

async function checkExportTarget(dest: string): Promise<void> {
  const target = await stat(dest).catch(() => undefined);
  if (target?.isDirectory()) throw libpodError('InvalidArg', `export destination ${dest} is a directory`);
  const parent = await stat(dirname(resolve(dest))).catch(() => undefined);
  if (!parent?.isDirectory()) throw libpodError('InvalidArg', `export destination ${dest}: directory ${dirname(resolve(dest))} does not exist`);
}

async function checkSourceDir(dir: string): Promise<Stats> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw libpodError('InvalidArg', `${dir} is not a directory`);
  return st;
}

async function exportToFile(dir: string, dest: string): Promise<void> {
  await checkSourceDir(dir);
  await checkExportTarget(dest);
  const final = resolve(dest);
  const tmp = join(dirname(final), `.${basename(final)}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await pipeline(tarDirectory(dir), createWriteStream(tmp, { mode: 0o644, flags: 'wx' }));
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes `dir` as a tar archive to the file `dest` (atomically: a temporary
 * file renamed into place; `dest` must not be a directory and its parent
 * must exist, else `InvalidArg`) or to the stream `dest` (ended afterwards,
 * except the process's stdout and stderr).
 */
export function exportRootfs(dir: string, dest: string | NodeJS.WritableStream): ResultAsync<void, LibpodError> {
  if (typeof dest === 'string') {
    if (dest === '' || dest.includes('\0')) return errAsync(libpodError('InvalidArg', 'export destination must be a file path'));
    return ResultAsync.fromPromise(exportToFile(dir, dest), (e) => mapTarError(e, `exporting ${dir} to ${dest}`));
  }
  const keepOpen = dest === process.stdout || dest === process.stderr;
  return ResultAsync.fromPromise(
    (async () => {
      await checkSourceDir(dir);
      await pipeline(tarDirectory(dir), dest, { end: !keepOpen });
    })(),
    (e) => mapTarError(e, `exporting ${dir}`),
  );
}

/**
 * Copies the tree `src` into `dest` (created when missing) through a tar
 * pipe: ownership (as root) and modes kept, symlinks copied as links, the
 * root's mode and owner applied to `dest`. Used for volume copy-up.
 */
export function copyTree(src: string, dest: string): ResultAsync<void, LibpodError> {
  return ResultAsync.fromPromise(
    (async () => {
      const st = await checkSourceDir(src);
      await extractInto(tarDirectory(src), dest, 'any');
      if (isRoot()) await chown(dest, st.uid, st.gid);
      await chmod(dest, st.mode & 0o7777);
    })(),
    (e) => mapTarError(e, `copying ${src} to ${dest}`),
  );
}
