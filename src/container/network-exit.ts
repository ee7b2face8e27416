/**
 * The engine's half of the exit teardown (`network/exit-teardown.ts`):
 * writing the pending teardown at setup, giving each OCI create a fresh
 * token (and so its own exit command), keeping the file current when
 * networks are connected or disconnected, and holding the container's
 * teardown lock around the engine's own teardown.
 * @module
 */
import { join } from 'node:path';
import { okAsync, type ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import { exitTeardownCommand } from '../cleanup/exit-hook.js';
import type { DetachedTeardown, SetupRequest } from '../network/backend.js';
import {
  newTeardownToken,
  pendingTeardownPath,
  readPendingTeardown,
  removePendingTeardown,
  writePendingTeardown,
  type PendingTeardown,
} from '../network/exit-teardown.js';
import { teardownLockKey, withRunDirLock } from '../network/run-locks.js';
import type { CtrSession } from './session.js';

/** The network run directory (the backend's `runDir`). */
function runDirOf(s: CtrSession): string {
  return join(s.ctx.runRoot, 'networks');
}

/** Runs `fn` holding the container's teardown lock (shared with its exit command). */
export function withTeardownLock<T>(s: CtrSession, fn: () => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
  return withRunDirLock(runDirOf(s), teardownLockKey(s.rec.id), fn);
}

/** The pending teardown of the container, if any (call with the teardown lock held). */
export function pendingTeardownOf(s: CtrSession): ResultAsync<PendingTeardown | undefined, LibpodError> {
  return readPendingTeardown(runDirOf(s), s.rec.id);
}

/** Deletes the pending teardown (netavark's part is undone). */
export function dropPendingTeardown(s: CtrSession): ResultAsync<void, LibpodError> {
  return removePendingTeardown(runDirOf(s), s.rec.id);
}

/** Writes the pending teardown of the live networking for the request `req` (its networks), under `token`. */
function writePending(s: CtrSession, req: SetupRequest, token: string): ResultAsync<string, LibpodError> {
  const net = s.rec.state.network;
  if (!net) return okAsync(token);
  const command: ResultAsync<DetachedTeardown | undefined, LibpodError> = s.ctx.network.detachedTeardown
    ? s.ctx.network.detachedTeardown(net.netns, req)
    : okAsync(undefined);
  return command
    .andThen((cmd) => writePendingTeardown(runDirOf(s), s.rec.id, { token, netns: net.netns, networks: Object.keys(net.addresses), ...(cmd ? { command: cmd } : {}) }))
    .map(() => token);
}

/** Arms the teardown of a new setup (before netavark's setup runs); returns its token. */
export function armExitTeardown(s: CtrSession, req: SetupRequest): ResultAsync<string, LibpodError> {
  return writePending(s, req, newTeardownToken());
}

/**
 * Gives kept networking (set up before, never torn down) a fresh token for
 * the next OCI create; `undefined` when its exit command tore it down
 * meanwhile (the caller tears down what is left and sets up again).
 */
export function rearmExitTeardown(s: CtrSession): ResultAsync<string | undefined, LibpodError> {
  return withTeardownLock(s, () =>
    pendingTeardownOf(s).andThen((p) => {
      if (!p) return okAsync(undefined);
      const token = newTeardownToken();
      return writePendingTeardown(runDirOf(s), s.rec.id, { ...p, token }).map(() => token);
    }),
  );
}

/** Rewrites a pending teardown for the networks of `req` (connect, disconnect), keeping its token; none: nothing to do. */
export function rewriteExitTeardown(s: CtrSession, req: SetupRequest): ResultAsync<void, LibpodError> {
  return withTeardownLock(s, () => pendingTeardownOf(s).andThen((p) => (p ? writePending(s, req, p.token).map(() => undefined) : okAsync(undefined))));
}

/** The exit command for an OCI create under `token`; `undefined` when the backend has no detached teardown. */
export function exitHookFor(s: CtrSession, token: string): string[] | undefined {
  return s.ctx.network.detachedTeardown ? exitTeardownCommand(pendingTeardownPath(runDirOf(s), s.rec.id), token) : undefined;
}
