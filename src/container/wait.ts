/**
 * `ctr.wait()` (libpod `WaitWithInterval`, `WaitForConditionWithInterval`):
 * no busy polling; the runtime's exit notification (an exit-file watch)
 * wakes the loop, the interval is only a fallback.
 * @module
 */
import { okAsync, ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import { inState, type ContainerState } from '../define/states.js';
import type { EngineContext } from '../engine/context.js';
import type { ContainerAccess } from './access.js';
import { syncContainer } from './sync.js';

/** Default wait interval in milliseconds (libpod's `DefaultWaitInterval`). */
export const DEFAULT_WAIT_INTERVAL_MS = 250;

/**
 * The state and exit code, synced first. A normal handle's `run` takes the
 * lock and syncs; a batched view holds the lock already, so it syncs the
 * session itself, without taking the lock again (libpod's `isStopped` when
 * batched): otherwise the record could never show the exit.
 */
function snapshot(access: ContainerAccess): ResultAsync<{ state: ContainerState; exitCode: number }, LibpodError> {
  return access.run((s) =>
    (access.batched ? syncContainer(s) : okAsync(undefined)).map(() => ({ state: s.rec.state.state, exitCode: s.rec.state.exitCode })),
  );
}

function sleep(ms: number): ResultAsync<void, LibpodError> {
  return ResultAsync.fromSafePromise(new Promise<void>((r) => setTimeout(r, ms)));
}

/**
 * One pause of the wait loop: until the runtime reports the exit, at most
 * `ms`. `waitExit` answers at once for a process that already exited or that
 * the runtime does not know; unless `shortcut` allows an immediate look at a
 * reported exit, the pause still lasts `ms`, so a record that keeps saying
 * "running" makes the loop wait, never spin (which would starve the event
 * loop). Resolves to whether an exit was reported.
 */
function pause(ctx: EngineContext, id: string, ms: number, shortcut: boolean): ResultAsync<boolean, LibpodError> {
  const started = Date.now();
  return ctx.oci.waitExit(id, ms).andThen((exit) => {
    if (exit && shortcut) return okAsync(true);
    const left = Math.min(ms, ms - (Date.now() - started));
    return (left > 0 ? sleep(left) : okAsync(undefined)).map(() => exit !== undefined);
  });
}

/**
 * Resolves to the exit code once the container is not running or paused
 * (`condition` absent, `stopped` or `exited`), or once it reaches `condition`.
 * Every round that does not finish waits on a timer or on the runtime.
 */
export function waitFor(ctx: EngineContext, id: string, access: ContainerAccess, intervalMs: number, condition?: ContainerState): ResultAsync<number, LibpodError> {
  const untilStopped = condition === undefined || condition === 'stopped' || condition === 'exited';
  // After an exit was reported, the next round looks at once; if the record still shows the
  // process live (a restart policy restarted it, say), the round after waits a full interval.
  const loop = (shortcut: boolean): ResultAsync<number, LibpodError> =>
    snapshot(access).andThen(({ state, exitCode }) => {
      if (untilStopped ? !inState(state, 'running', 'paused') : state === condition) return okAsync(exitCode);
      const next = untilStopped && inState(state, 'running', 'paused') ? pause(ctx, id, intervalMs, shortcut) : sleep(intervalMs).map(() => false);
      return next.andThen((sawExit) => loop(!sawExit));
    });
  return loop(true);
}
