/**
 * Whole-tree operations built on {@link packTree} / {@link extractTree}:
 * writing a tree to an archive file or stream (container export, volume
 * export) and copying a tree (volume copy-up).
 * @module
 */
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { errAsync, ResultAsync } from 'neverthrow';
import { isLibpodError, libpodError, toLibpodError, type LibpodError } from '../define/errors.js';
import { extractTree } from './extract.js';
import { packTree } from './pack.js';

function toError(e: unknown, what: string): LibpodError {
  return isLibpodError(e) ? e : toLibpodError(e, 'Internal', what);
}

async function checkSourceDir(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw libpodError('InvalidArg', `${dir} is not a directory`);
}

async function checkFileTarget(dest: string): Promise<void> {
  const target = await stat(dest).catch(() => undefined);
  if (target?.isDirectory()) throw libpodError('InvalidArg', `export destination ${dest} is a directory`);
  const parent = await stat(dirname(resolve(dest))).catch(() => undefined);
  if (!parent?.isDirectory()) throw libpodError('InvalidArg', `export destination ${dest}: directory ${dirname(resolve(dest))} does not exist`);
}

async function exportToFile(dir: string, dest: string): Promise<void> {
  await checkSourceDir(dir);
  await checkFileTarget(dest);
  const final = resolve(dest);
  const tmp = join(dirname(final), `.${basename(final)}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await pipeline(packTree(dir), createWriteStream(tmp, { mode: 0o644, flags: 'wx' }));
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes `dir` as a tar archive ({@link packTree}) to the file `dest`
 * (atomically: a temporary file renamed into place; `dest` must not be a
 * directory and its parent must exist, else `InvalidArg`) or to the stream
 * `dest` (ended afterwards, except the process's stdout and stderr). A
 * missing `dir` is `InvalidArg`.
 */
export function exportTree(dir: string, dest: string | NodeJS.WritableStream): ResultAsync<void, LibpodError> {
  if (typeof dest === 'string') {
    if (dest === '' || dest.includes('\0')) return errAsync(libpodError('InvalidArg', 'export destination must be a file path'));
    return ResultAsync.fromPromise(exportToFile(dir, dest), (e) => toError(e, `exporting ${dir} to ${dest}`));
  }
  const keepOpen = dest === process.stdout || dest === process.stderr;
  return ResultAsync.fromPromise(
    (async () => {
      await checkSourceDir(dir);
      await pipeline(packTree(dir), dest, { end: !keepOpen });
    })(),
    (e) => toError(e, `exporting ${dir}`),
  );
}

/**
 * Copies the tree `src` into `dest` (created when missing) with the same
 * fidelity as an export and import: hard links, devices, FIFOs, xattrs,
 * owners (as root), modes, mtimes; symlinks copied as links whatever they
 * point to, and the root's mode, owner and xattrs applied to `dest`. Used
 * for volume copy-up. A missing `src` is `InvalidArg`.
 */
export function copyTree(src: string, dest: string): ResultAsync<void, LibpodError> {
  return ResultAsync.fromPromise(checkSourceDir(src), (e) => toError(e, `copying ${src}`))
    .andThen(() => extractTree(packTree(src), dest, { symlinks: 'any' }))
    .map(() => undefined);
}
