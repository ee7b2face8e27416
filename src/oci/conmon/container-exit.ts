/**
 * A container's exit as libpod sees it: the exit file first (trusted over
 * pids), `runc state` for the rest, conmon's liveness (zombies count as dead)
 * to know when no exit file will ever come. Also `stop` and `delete`, which
 * are built on waiting for the exit.
 * @module
 */
import { join } from 'node:path';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../../define/errors.js';
import { pathExists } from '../../util/fs.js';
import { logger } from '../../util/log.js';
import type { OciContainerStatus, OciExitInfo, OciStopRequest } from '../oci-runtime.js';
import { readExitFile, waitFor } from './exit-files.js';
import { isAlive, readPidFile } from './pids.js';
import { bundleOf, type ConmonContext } from './runtime-context.js';

const log = logger('oci:conmon');

/** How long libpod waits for the process to die after SIGKILL, and for a late exit file. */
export const KILL_WAIT_MS = 5_000;

/** How often a dead conmon without exit file makes us ask `runc state`. */
const RUNC_RECHECK_MS = 1_000;

/** The exit file of `id` as exit info (`oomKilled` = `<bundle>/oom` exists); `undefined` when absent. */
export async function exitInfo(ctx: ConmonContext, id: string): Promise<OciExitInfo | undefined> {
  const file = await readExitFile(ctx.layout.exitsDir, id);
  if (!file) return undefined;
  return { exitCode: file.exitCode, finishedAt: file.finishedAt, oomKilled: await oomKilled(ctx, id) };
}

/** Whether conmon saw the OOM killer end `id`: it leaves `oom` in the bundle (its cwd). */
async function oomKilled(ctx: ConmonContext, id: string): Promise<boolean> {
  const bundle = await bundleOf(ctx, id);
  return bundle === undefined ? false : pathExists(join(bundle, 'oom'));
}

/** Whether the monitor of `id` runs: `undefined` when its pid is unknown. */
export async function conmonAlive(ctx: ConmonContext, id: string): Promise<boolean | undefined> {
  const pid = await readPidFile(ctx.layout.conmonPidFile(id));
  return pid === undefined ? undefined : isAlive(pid, 'conmon');
}

/** An exit nobody recorded (conmon died first): code -1, now, as libpod does. */
async function lostExit(ctx: ConmonContext, id: string): Promise<OciExitInfo> {
  return { exitCode: -1, finishedAt: new Date(), oomKilled: await oomKilled(ctx, id) };
}

/**
 * Waits up to `timeoutMs` for the exit of `id`. Ends early with a lost exit
 * (-1) when conmon is dead, wrote no exit file, and runc says the container
 * is stopped or gone.
 */
export function waitExitInfo(ctx: ConmonContext, id: string, timeoutMs: number): Promise<OciExitInfo | undefined> {
  let lastRunc = 0;
  const probe = async (): Promise<OciExitInfo | undefined> => {
    // conmon writes the exit file before it exits: check liveness first, then the file.
    const alive = await conmonAlive(ctx, id);
    const info = await exitInfo(ctx, id);
    if (info) return info;
    if (alive !== false || Date.now() - lastRunc < RUNC_RECHECK_MS) return undefined;
    lastRunc = Date.now();
    const st = await ctx.runc.state(id);
    if (st.isErr()) return undefined;
    if (st.value === undefined || st.value.status === 'stopped') {
      log('conmon of %s is gone without an exit file', id);
      return lostExit(ctx, id);
    }
    return undefined;
  };
  return waitFor(probe, { timeoutMs, watcher: ctx.exits, name: id });
}

/** `runc state` plus the exit file. */
export function containerStatus(ctx: ConmonContext, id: string): ResultAsync<OciContainerStatus, LibpodError> {
  return ctx.runc.state(id).andThen((st) =>
    ResultAsync.fromPromise(
      (async (): Promise<OciContainerStatus> => {
        const exit = await exitInfo(ctx, id);
        // Gone from the runtime after an exit: conmon's exit command deleted it; the exit file keeps it `stopped` until delete().
        if (st === undefined) return exit ? { status: 'stopped', pid: 0, exit } : { status: 'missing', pid: 0 };
        if (exit) return { status: 'stopped', pid: 0, exit };
        if (st.status === 'stopped') {
          const late = (await waitExitInfo(ctx, id, KILL_WAIT_MS)) ?? (await lostExit(ctx, id));
          return { status: 'stopped', pid: 0, exit: late };
        }
        if (st.status === 'created' || st.status === 'running' || st.status === 'paused') return { status: st.status, pid: st.pid };
        throw libpodError('Internal', `unrecognized status returned by runtime for container ${id}: ${st.status}`);
      })(),
      (e) => toLibpodError(e, 'Internal', `status of container ${id}`),
    ),
  );
}

/** Waits, as a ResultAsync. */
export function waitExitResult(ctx: ConmonContext, id: string, timeoutMs: number): ResultAsync<OciExitInfo | undefined, LibpodError> {
  return ResultAsync.fromPromise(waitExitInfo(ctx, id, timeoutMs), (e) => toLibpodError(e, 'Internal', `waiting for container ${id} to exit`));
}

/** `runc kill [--all] <id> <signal>` (signal 0 only checks that the process exists). */
export function killContainer(ctx: ConmonContext, id: string, signal: number, all: boolean): ResultAsync<void, LibpodError> {
  return ctx.runc.kill(id, signal, all).mapErr((e) => libpodError(e.code, `sending signal ${signal} to container ${id}: ${e.message}`, e));
}

/** Sends a signal as part of stop: a container that exited meanwhile is not an error. */
function stopSignal(ctx: ConmonContext, id: string, signal: number, all: boolean): ResultAsync<void, LibpodError> {
  return killContainer(ctx, id, signal, all).orElse((e) =>
    ctx.runc.state(id).andThen((st) => (st === undefined || st.status === 'stopped' ? okAsync(undefined) : errAsync(e))),
  );
}

/** libpod `StopContainer`: stop signal, wait `timeout` s, SIGKILL, wait 5 s. */
export function stopContainer(ctx: ConmonContext, id: string, req: OciStopRequest): ResultAsync<OciExitInfo, LibpodError> {
  const wait = (ms: number): ResultAsync<OciExitInfo | undefined, LibpodError> => waitExitResult(ctx, id, ms);
  const already = ResultAsync.fromPromise(exitInfo(ctx, id), (e) => toLibpodError(e, 'Internal', `reading exit file of ${id}`));
  return already.andThen((done) => {
    if (done) return okAsync(done);
    const first: ResultAsync<OciExitInfo | undefined, LibpodError> =
      req.timeout > 0 ? stopSignal(ctx, id, req.signal, req.all).andThen(() => wait(req.timeout * 1000)) : okAsync(undefined);
    return first.andThen((exited) => {
      if (exited) return okAsync(exited);
      if (req.timeout > 0) log('timed out stopping container %s with signal %d, resorting to SIGKILL', id, req.signal);
      return stopSignal(ctx, id, 9, req.all)
        .andThen(() => wait(KILL_WAIT_MS))
        .andThen((killed) =>
          killed ? okAsync(killed) : errAsync(libpodError('Timeout', `container ${id} did not exit within ${KILL_WAIT_MS / 1000} seconds of SIGKILL`)),
        );
    });
  });
}
