/**
 * A container's network teardown that does not need the Node process
 * (libpod's `podman container cleanup`, network part): everything a
 * teardown needs is written, at setup, to a file in the network run
 * directory, so conmon's exit command (`cleanup/exit-command.ts`) can undo
 * the networking of a container that exits while no Runtime is open,
 * without the state store.
 *
 * ```
 * <runRoot>/networks/exit-teardown/<ctr id>.json   one per container with live networking
 * ```
 *
 * The file is the mark "netavark's part is still to undo": written before
 * netavark's setup, deleted once netavark's teardown ran and the namespace
 * is gone (before the addresses are released: releasing again is harmless,
 * a second netavark teardown is not). Whoever tears down (the Runtime or
 * the exit command) holds the `teardown/<id>` lock (`run-locks.ts`). Each
 * OCI create gets a fresh `token`, passed to that create's exit command: an
 * exit command whose token is no longer the file's (the container was
 * created again since) does nothing.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { okAsync, ResultAsync } from 'neverthrow';
import { attempt, type LibpodError } from '../define/errors.js';
import { runCommand } from '../host/command.js';
import { LockManager } from '../locks/lock-manager.js';
import { logger } from '../util/log.js';
import { sequenceAll } from '../util/safe.js';
import type { DetachedTeardown } from './backend.js';
import { Ipam } from './ipam.js';
import { removeNetns } from './netns.js';
import { NETAVARK_LOCK, teardownLockKey, withRunDirLock } from './run-locks.js';

const log = logger('network:exit-teardown');

/** What undoes one container's networking (the file's content). */
export interface PendingTeardown {
  /** Names the OCI create whose exit command may run it. */
  token: string;
  /** The network namespace (a bind mount). */
  netns: string;
  /** Networks the container holds addresses on. */
  networks: string[];
  /** The backend's teardown; absent: the backend has none (nothing to run). */
  command?: DetachedTeardown;
}

/** The pending teardown file of container `id`. */
export function pendingTeardownPath(runDir: string, id: string): string {
  return join(runDir, 'exit-teardown', `${id}.json`);
}

/** A fresh token. */
export function newTeardownToken(): string {
  return randomBytes(16).toString('hex');
}

/** Writes the file of container `id` atomically (temporary file renamed into place). */
export function writePendingTeardown(runDir: string, id: string, p: PendingTeardown): ResultAsync<void, LibpodError> {
  const path = pendingTeardownPath(runDir, id);
  return attempt(async () => {
    await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
    await writeFile(`${path}.tmp`, JSON.stringify(p), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }, 'Internal', `writing ${path}`);
}

function isPending(v: unknown): v is PendingTeardown {
  const p = v as Partial<PendingTeardown> | null;
  return typeof p === 'object' && p !== null && typeof p.token === 'string' && typeof p.netns === 'string' && Array.isArray(p.networks);
}

/** The file of container `id`; `undefined` when absent (or unreadable: a torn write never got renamed into place). */
export function readPendingTeardown(runDir: string, id: string): ResultAsync<PendingTeardown | undefined, LibpodError> {
  const path = pendingTeardownPath(runDir, id);
  return attempt(async () => {
    try {
      const v: unknown = JSON.parse(await readFile(path, 'utf8'));
      return isPending(v) ? v : undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError) return undefined;
      throw e;
    }
  }, 'Internal', `reading ${path}`);
}

/** Deletes the file of container `id` (absent: nothing to do). */
export function removePendingTeardown(runDir: string, id: string): ResultAsync<void, LibpodError> {
  const path = pendingTeardownPath(runDir, id);
  return attempt(() => rm(path, { force: true }), 'Internal', `removing ${path}`);
}

/** Runs the backend's teardown command under the `netavark` lock; a failure is logged, as libpod does. */
function runDetached(runDir: string, id: string, cmd: DetachedTeardown): ResultAsync<void, LibpodError> {
  const [program, ...args] = cmd.argv;
  if (program === undefined) return okAsync(undefined);
  return withRunDirLock(runDir, NETAVARK_LOCK, () => runCommand(program, args, { input: cmd.input, env: { ...process.env, ...cmd.env } }))
    .map((out) => {
      if (out.code !== 0) log('teardown of %s exited %d: %s', id, out.code, (out.stdout || out.stderr).trim());
    })
    .orElse((e) => {
      log('teardown of %s failed: %s', id, e.message);
      return okAsync(undefined);
    });
}

/**
 * conmon's exit command: undoes the networking of the container whose file
 * is `path`, if the file still names `token`. `'skipped'` when there is
 * nothing to do (the Runtime did it, or the container was created again).
 */
export function runExitTeardown(path: string, token: string): ResultAsync<'done' | 'skipped', LibpodError> {
  const id = basename(path, '.json');
  const runDir = join(path, '..', '..');
  // Gone is final (a later setup writes another token): no lock needed, and nothing is created for a root removed meanwhile.
  if (!existsSync(path)) return okAsync('skipped');
  return withRunDirLock(runDir, teardownLockKey(id), () =>
    readPendingTeardown(runDir, id).andThen((p) => {
      if (!p || p.token !== token) return okAsync('skipped' as const);
      const ipam = new Ipam(join(runDir, 'ipam'), new LockManager());
      return (p.command ? runDetached(runDir, id, p.command) : okAsync(undefined))
        .andThen(() => removeNetns(p.netns))
        .andThen(() => removePendingTeardown(runDir, id))
        .andThen(() => sequenceAll(p.networks.map((n) => () => ipam.release(id, n))))
        .map(() => 'done' as const);
    }),
  );
}
