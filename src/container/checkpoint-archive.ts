/**
 * Exported checkpoints, laid out like podman's `--export` archive:
 *
 * ```
 * config.dump        the container's configuration (JSON)
 * spec.dump          the runtime spec it ran with (JSON)
 * checkpoint/...     the CRIU image directory
 * rootfs-diff.tar    the changes to the root filesystem (when there are any)
 * ```
 * @module
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { errAsync, ResultAsync } from 'neverthrow';
import { isLibpodError, libpodError, toLibpodError, type LibpodError } from '../define/errors.js';
import { extractTree, packTree, packTrees, type PackSource } from '../archive/index.js';

/** File names inside a checkpoint archive. */
export const CHECKPOINT_ARCHIVE_FILES = {
  configDump: 'config.dump',
  specDump: 'spec.dump',
  checkpointDir: 'checkpoint',
  rootfsDiffTar: 'rootfs-diff.tar',
} as const;

/** What goes into a checkpoint archive. */
export interface CheckpointArchiveParts {
  /** The container's configuration, stored as `config.dump`. */
  configDump: object;
  /** The runtime spec, stored as `spec.dump`. */
  specDump: object;
  /** The CRIU image directory, stored as `checkpoint/` (empty when it does not exist). */
  checkpointDir: string;
  /** Directory of root filesystem changes (the overlay upper layer), stored as `rootfs-diff.tar` as it is (whiteouts stay char 0/0 devices, opaque directories keep their xattr); skipped when absent or missing. */
  rootfsDiffDir?: string;
}

/** What {@link readCheckpointArchive} unpacked. */
export interface CheckpointArchiveContents {
  configDump: Record<string, unknown>;
  specDump: Record<string, unknown>;
  /** The unpacked CRIU image directory (inside `intoDir`). */
  checkpointDir: string;
  /** The rootfs diff tar file (inside `intoDir`), when the archive has one. */
  rootfsDiffTar?: string;
}

const F = CHECKPOINT_ARCHIVE_FILES;

function toError(e: unknown, context: string): LibpodError {
  if (isLibpodError(e)) return e;
  return toLibpodError(e, 'Internal', context);
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** Writes the archive: the staged files, then the CRIU directory as `checkpoint/`. */
async function packArchive(staging: string, entries: string[], checkpointDir: string | undefined, file: string): Promise<void> {
  const trees: PackSource[] = [{ dir: staging, entries }];
  if (checkpointDir !== undefined) trees.push({ dir: checkpointDir, prefix: F.checkpointDir });
  await pipeline(packTrees(trees), createWriteStream(file, { mode: 0o600, flags: 'wx' }));
}

async function writeArchive(target: string, parts: CheckpointArchiveParts): Promise<void> {
  const final = resolve(target);
  if (await isDir(final)) throw libpodError('InvalidArg', `checkpoint archive target ${target} is a directory`);
  if (!(await isDir(dirname(final)))) throw libpodError('InvalidArg', `checkpoint archive target ${target}: directory ${dirname(final)} does not exist`);
  const staging = await mkdtemp(join(dirname(final), `.${basename(final)}.staging-`));
  const tmp = join(dirname(final), `.${basename(final)}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(join(staging, F.configDump), JSON.stringify(parts.configDump), { mode: 0o600 });
    await writeFile(join(staging, F.specDump), JSON.stringify(parts.specDump), { mode: 0o600 });
    const entries: string[] = [F.configDump, F.specDump];
    if (parts.rootfsDiffDir !== undefined && (await isDir(parts.rootfsDiffDir))) {
      await pipeline(packTree(parts.rootfsDiffDir), createWriteStream(join(staging, F.rootfsDiffTar), { mode: 0o600 }));
      entries.push(F.rootfsDiffTar);
    }
    const hasImage = await isDir(parts.checkpointDir);
    if (!hasImage) {
      await mkdir(join(staging, F.checkpointDir), { mode: 0o700 });
      entries.push(F.checkpointDir);
    }
    await packArchive(staging, entries, hasImage ? parts.checkpointDir : undefined, tmp);
    await rename(tmp, final);
  } finally {
    await rm(tmp, { force: true });
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Writes a checkpoint archive to `target` (atomically, via a temporary file
 * in the same directory). `target` must not be a directory and its parent
 * must exist (`InvalidArg` otherwise).
 */
export function writeCheckpointArchive(target: string, parts: CheckpointArchiveParts): ResultAsync<void, LibpodError> {
  if (typeof target !== 'string' || target === '' || target.includes('\0')) {
    return errAsync(libpodError('InvalidArg', 'checkpoint archive target must be a file path'));
  }
  return ResultAsync.fromPromise(writeArchive(target, parts), (e) => toError(e, `writing checkpoint archive ${target}`));
}

async function readDump(dir: string, name: string, file: string): Promise<Record<string, unknown>> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(join(dir, name), 'utf8'));
  } catch (e) {
    throw libpodError('InvalidArg', `${file} is not a checkpoint archive: cannot read ${name}`, e);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw libpodError('InvalidArg', `${file} is not a checkpoint archive: ${name} is not a JSON object`);
  }
  return data as Record<string, unknown>;
}

async function readArchive(file: string, intoDir: string): Promise<CheckpointArchiveContents> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) throw libpodError('InvalidArg', `checkpoint archive ${file} does not exist or is not a file`);
  const existing = await readdir(intoDir).catch(() => undefined);
  if (existing !== undefined && existing.length > 0) throw libpodError('InvalidArg', `cannot unpack checkpoint archive into ${intoDir}: directory not empty`);
  try {
    const extracted = await extractTree(createReadStream(file), intoDir, { symlinks: 'contained' });
    if (extracted.isErr()) throw extracted.error;
    const configDump = await readDump(intoDir, F.configDump, file);
    const specDump = await readDump(intoDir, F.specDump, file);
    const checkpointDir = join(intoDir, F.checkpointDir);
    if (!(await isDir(checkpointDir))) throw libpodError('InvalidArg', `${file} is not a checkpoint archive: no ${F.checkpointDir}/ directory`);
    const diff = join(intoDir, F.rootfsDiffTar);
    const hasDiff = (await stat(diff).catch(() => undefined))?.isFile() === true;
    return { configDump, specDump, checkpointDir, ...(hasDiff ? { rootfsDiffTar: diff } : {}) };
  } catch (e) {
    await rm(intoDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Unpacks the checkpoint archive `file` into `intoDir` (created; it must
 * not exist or be empty), refusing entries that would escape it
 * (`InvalidArg`). A file that is not such an archive is `InvalidArg`. On
 * failure `intoDir` is removed.
 */
export function readCheckpointArchive(file: string, intoDir: string): ResultAsync<CheckpointArchiveContents, LibpodError> {
  return ResultAsync.fromPromise(readArchive(file, intoDir), (e) => toError(e, `reading checkpoint archive ${file}`));
}
