/**
 * Exec sessions after they started: liveness, stop, cleanup, resize. The pid
 * comes from this instance's map or from the session's `exec_pid` file, so a
 * later process can manage sessions an earlier one started. The session's
 * exit file is trusted over the pid (which may be a zombie for a while).
 * @module
 */
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../../define/errors.js';
import type { TerminalSize } from '../../define/streams.js';
import { pathExists } from '../../util/fs.js';
import { logger } from '../../util/log.js';
import { resizeTerminal } from './ctl-fifo.js';
import { readExitFile, waitFor } from './exit-files.js';
import type { ExecPaths } from './layout.js';
import { isAlive, readPidFile, signalPid } from './pids.js';
import { execKey, nameError, type ConmonContext } from './runtime-context.js';

const log = logger('oci:conmon');

/** How long the process may take to die after SIGKILL. */
const KILL_WAIT_MS = 5_000;

/** `rm -rf dir`, retried up to 50 x 100 ms on EBUSY/ENOTEMPTY (conmon may still be writing). */
export async function removeExecDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await rm(dir, { recursive: true, force: true });
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'EBUSY' && code !== 'ENOTEMPTY') || attempt >= 50) throw e;
      await sleep(100);
    }
  }
}

interface SessionRef {
  paths: ExecPaths;
  /** `undefined` when the session never got a pid (or its files are gone). */
  pid: number | undefined;
}

async function lookup(ctx: ConmonContext, id: string, sessionId: string): Promise<SessionRef> {
  const bad = nameError('container id', id) ?? nameError('exec session id', sessionId);
  if (bad) throw bad;
  if (!(await pathExists(ctx.layout.ctrDir(id)))) throw libpodError('NoSuchExecSession', `no exec session ${sessionId} known for container ${id}`);
  const paths = ctx.layout.execPaths(id, sessionId);
  const pid = ctx.execPids.get(execKey(id, sessionId)) ?? (await readPidFile(paths.pidFile));
  return { paths, pid };
}

/** Whether the session's process runs: no exit file, pid alive and not a zombie. */
async function sessionAlive(id: string, ref: SessionRef): Promise<boolean> {
  if (ref.pid === undefined) return false;
  if (await readExitFile(ref.paths.exitDir, id)) return false;
  return isAlive(ref.pid);
}

/** Waits up to `ms` for the session's process to end. */
function waitGone(id: string, ref: SessionRef, ms: number): Promise<true | undefined> {
  return waitFor(async () => ((await sessionAlive(id, ref)) ? undefined : (true as const)), { timeoutMs: ms, dir: ref.paths.exitDir, name: id });
}

/** libpod `ExecUpdateStatus`. */
export function execAlive(ctx: ConmonContext, id: string, sessionId: string): ResultAsync<boolean, LibpodError> {
  return ResultAsync.fromPromise(
    (async () => sessionAlive(id, await lookup(ctx, id, sessionId)))(),
    (e) => toLibpodError(e, 'Internal', `checking exec session ${sessionId}`),
  );
}

/** libpod `ExecStopContainer` (with SIGKILL as the second signal, not libpod's repeated SIGTERM). */
export function execStop(ctx: ConmonContext, id: string, sessionId: string, timeout: number): ResultAsync<void, LibpodError> {
  const run = async (): Promise<void> => {
    const ref = await lookup(ctx, id, sessionId);
    if (ref.pid === undefined || !(await sessionAlive(id, ref))) return;
    if (timeout > 0) {
      log('stopping exec session %s (pid %d) with SIGTERM', sessionId, ref.pid);
      if (!signalPid(ref.pid, 'SIGTERM')) return;
      if (await waitGone(id, ref, timeout * 1000)) return;
    }
    log('killing exec session %s (pid %d) with SIGKILL', sessionId, ref.pid);
    if (!signalPid(ref.pid, 'SIGKILL')) return;
    if (!(await waitGone(id, ref, KILL_WAIT_MS))) {
      throw libpodError('Timeout', `exec session ${sessionId} of container ${id} (pid ${ref.pid}) did not exit within ${KILL_WAIT_MS / 1000} seconds of SIGKILL`);
    }
  };
  return ResultAsync.fromPromise(run(), (e) => toLibpodError(e, 'OCIRuntime', `stopping exec session ${sessionId}`));
}

/** Removes the session directory (and forgets its pid). */
export function execCleanup(ctx: ConmonContext, id: string, sessionId: string): ResultAsync<void, LibpodError> {
  const bad = nameError('container id', id) ?? nameError('exec session id', sessionId);
  if (bad) return errAsync(bad);
  ctx.execPids.delete(execKey(id, sessionId));
  return ResultAsync.fromPromise(removeExecDir(ctx.layout.execPaths(id, sessionId).dir), (e) =>
    toLibpodError(e, 'Internal', `removing exec session ${sessionId} of container ${id}`),
  ).andThen(() => okAsync(undefined));
}

/** Resizes the session's terminal through its own ctl FIFO. */
export function execResize(ctx: ConmonContext, id: string, sessionId: string, size: TerminalSize): ResultAsync<void, LibpodError> {
  const bad = nameError('container id', id) ?? nameError('exec session id', sessionId);
  if (bad) return errAsync(bad);
  return resizeTerminal(ctx.layout.execPaths(id, sessionId).dir, size);
}
