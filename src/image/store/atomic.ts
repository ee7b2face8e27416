/**
 * Crash-safe record files: a record is written to a temporary file in the
 * same directory, flushed (fsync), renamed over the final name and the
 * directory flushed, so a reader (or a later process after kill -9) sees the
 * old record or the new one, never a torn one. Without `durable` the two
 * flushes are left out: the rename alone makes the write atomic for every
 * reader and across a kill -9 (the page cache outlives the process), not
 * across a power loss. Temporaries start with `.tmp-`
 * and carry their writer's pid: readers ignore them and `sweepTemps` removes
 * those whose writer is gone.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Prefix of temporaries: never a record, always safe to sweep once its writer is gone. */
export const TMP_PREFIX = '.tmp-';

/** Flushes a directory's entries (after a rename or unlink in it). */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/** A temporary path next to `path` (same filesystem, so a rename is atomic). */
export function tempPath(path: string): string {
  return join(dirname(path), `${TMP_PREFIX}${process.pid}-${basename(path)}-${randomBytes(6).toString('hex')}`);
}

/** Writes `data` to `path` atomically and, when `durable` (the default), durably (temp + fsync + rename + fsync dir). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, durable = true): Promise<void> {
  const tmp = tempPath(path);
  const fd = await open(tmp, 'wx', mode);
  try {
    await fd.writeFile(data);
    if (durable) await fd.sync();
  } catch (e) {
    await fd.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fd.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dirname(path));
}

/** {@link writeFileAtomic} of `value` as JSON. */
export function writeJsonAtomic(path: string, value: unknown, durable = true): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value)}\n`, 0o600, durable);
}

/** Parsed JSON of `path`, or `undefined` when it does not exist. */
export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

/** Removes `path`, when `durable` (the default) durably (unlink + fsync of its directory); missing is fine. */
export async function removeFileDurably(path: string, durable = true): Promise<void> {
  await rm(path, { force: true });
  if (durable) await fsyncDir(dirname(path));
}

/** Names of the `*.json` records in `dir` (temporaries skipped); a missing dir is empty. */
export async function recordNames(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.filter((n) => n.endsWith('.json') && !n.startsWith(TMP_PREFIX)).map((n) => n.slice(0, -'.json'.length));
}

/** Whether process `pid` is alive (EPERM: alive, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporaries in `dir` (names `<prefix><pid>-...`) whose writer
 * process is gone; those of live writers stay.
 */
export async function sweepTemps(dir: string, prefix = TMP_PREFIX): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length).split('-')[0]);
    if (!pidAlive(pid)) await rm(join(dir, n), { recursive: true, force: true });
  }
}
