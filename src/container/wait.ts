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

/** Default wait interval in milliseconds (libpod's `DefaultWaitInterval`). */
export const DEFAULT_WAIT_INTERVAL_MS = 250;

function snapshot(access: ContainerAccess): ResultAsync<{ state: ContainerState; exitCode: number }, LibpodError> {
  return access.run((s) => okAsync({ state: s.rec.state.state, exitCode: s.rec.state.exitCode }));
}

function sleep(ms: number): ResultAsync<void, LibpodError> {
  return ResultAsync.fromSafePromise(new Promise<void>((r) => setTimeout(r, ms)));
}

/**
 * Resolves to the exit code once the container is not running or paused
 * (`condition` absent, `stopped` or `exited`), or once it reaches `condition`.
 */
export function waitFor(ctx: EngineContext, id: string, access: ContainerAccess, intervalMs: number, condition?: ContainerState): ResultAsync<number, LibpodError> {
  const untilStopped = condition === undefined || condition === 'stopped' || condition === 'exited';
  const loop = (): ResultAsync<number, LibpodError> =>
    snapshot(access).andThen(({ state, exitCode }) => {
      if (untilStopped ? !inState(state, 'running', 'paused') : state === condition) return okAsync(exitCode);
      const pause = untilStopped && inState(state, 'running', 'paused') ? ctx.oci.waitExit(id, intervalMs).map(() => undefined) : sleep(intervalMs);
      return pause.andThen(loop);
    });
  return loop();
}
