/**
 * The lifecycle verbs on a locked container (libpod `Init`, `Start`,
 * `StopWithTimeout`, `Kill`, `Pause`, `Unpause`, `RestartWithTimeout`). Each
 * checks the transition table first, then calls the OCI runtime, then saves;
 * events are queued and published after the lock is released.
 * @module
 */
import { failAfter } from '../util/safe.js';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { improper, libpodError, type LibpodError } from '../define/errors.js';
import { parseSignal } from '../define/signals.js';
import { allows, inState } from '../define/states.js';
import { cleanupContainer, initAndStartAfterPrepare, reinitIfNeeded } from './cleanup.js';
import { checkDependenciesRunning, startDependencies } from './dependencies.js';
import { cancelPendingRestart, restartPending } from './restart-backoff.js';
import { startInRuntime } from './runtime-ops.js';
import { queueEvent, save, type CtrSession } from './session.js';
import { mountStorage } from './storage.js';
import { applyExit, saveAndCleanup, syncContainer } from './sync.js';

/** prepare + (re)init, cleaning up on failure (shared by init and start). */
function prepareAndInit(s: CtrSession): ResultAsync<void, LibpodError> {
  return mountStorage(s)
    .andThen(() => reinitIfNeeded(s, false))
    .orElse((e) => failAfter(e, () => cleanupContainer(s)));
}

/** `init()`: create the container in the runtime without starting it. */
export function initVerb(s: CtrSession): ResultAsync<void, LibpodError> {
  if (!allows('init', s.rec.state.state)) return improper(`container ${s.rec.id} has already been created in runtime`);
  return checkDependenciesRunning(s, syncContainer).andThen(() => prepareAndInit(s));
}

/** libpod `prepareToStart`: check state, dependencies (or start them), prepare and init. */
function prepareToStart(s: CtrSession, recursive: boolean): ResultAsync<void, LibpodError> {
  if (!allows('start', s.rec.state.state)) {
    return improper(`container ${s.rec.id} must be in Created or Stopped state to be started (it is ${s.rec.state.state})`);
  }
  const deps = recursive ? startDependencies(s, syncContainer, (ds) => startVerb(ds, false)) : checkDependenciesRunning(s, syncContainer);
  return deps.andThen(() => prepareAndInit(s));
}

/**
 * `start()` (libpod `Start`): prepareToStart cleans up after its own
 * failures; a failed runtime start does not (the seeds' `start()`), so the
 * container stays `created` in the runtime and a later start can retry.
 */
export function startVerb(s: CtrSession, recursive: boolean): ResultAsync<void, LibpodError> {
  return prepareToStart(s, recursive).andThen(() => startInRuntime(s));
}

/** `prepareToStart` for `startAndAttach`, which attaches between init and start. */
export { prepareToStart };

/**
 * Marks the stop as the user's and saves that before anything is signalled
 * (current podman's `stopInternal`): if this process dies while the stop
 * waits, the exit that follows is still the user's, and the restart policy
 * never undoes it. `stoppedByUser` is cleared by the next init.
 */
function markStoppedByUser(s: CtrSession): ResultAsync<void, LibpodError> {
  if (s.rec.state.stoppedByUser) return okAsync(undefined);
  s.rec.state.stoppedByUser = true;
  return save(s);
}

/**
 * Stops the container through the runtime (its stop signal, SIGKILL after
 * `timeout`; a paused one gets SIGKILL at once, it cannot handle signals) and
 * records the exit as the user's (libpod `stop` + `waitForExitFileAndSync`).
 */
export function stopAndRecord(s: CtrSession, timeout: number): ResultAsync<void, LibpodError> {
  const paused = s.rec.state.state === 'paused';
  const signal = paused ? 9 : parseSignal(s.rec.config.stopSignal).unwrapOr(15);
  return markStoppedByUser(s)
    .andThen(() => s.ctx.oci.stop(s.rec.id, { signal, timeout: paused ? 0 : timeout, all: false }))
    .map((exit) => applyExit(s, exit));
}

/**
 * Stops and records the exit, then runs the Cleanup path as an observed exit
 * does (conmon's exit command in podman): a cleanup failure is logged, not
 * returned, since the stop itself succeeded and is saved.
 */
export function stopInner(s: CtrSession, timeout: number): ResultAsync<void, LibpodError> {
  return stopAndRecord(s, timeout).andThen(() => {
    queueEvent(s, 'stop');
    return saveAndCleanup(s);
  });
}

/** `stop({timeout})`: `CtrStopped` when already stopped. */
export function stopVerb(s: CtrSession, timeout: number | undefined): ResultAsync<void, LibpodError> {
  const st = s.rec.state.state;
  // A restart waiting out its backoff is called off: the user's stop wins (Docker's stop of a restarting container).
  if (inState(st, 'stopped', 'exited') && restartPending(s.rec.state)) return cancelPendingRestart(s);
  if (inState(st, 'stopped', 'exited')) return errAsync(libpodError('CtrStopped', `container ${s.rec.id} is stopped: container already stopped`));
  if (!allows('stop', st)) return improper(`can only stop created or running containers. ${s.rec.id} is in state ${st}`);
  return stopInner(s, timeout ?? s.rec.config.stopTimeout);
}

/**
 * `kill(signal)`: only running containers; marks the stop as the user's,
 * saved before the signal is sent (see {@link markStoppedByUser}); a signal
 * the runtime refused leaves the mark as it was.
 */
export function killVerb(s: CtrSession, signal: number): ResultAsync<void, LibpodError> {
  const st = s.rec.state.state;
  if (!allows('kill', st)) return improper(`can only kill running containers. ${s.rec.id} is in state ${st}`);
  const before = s.rec.state.stoppedByUser;
  return markStoppedByUser(s)
    .andThen(() =>
      s.ctx.oci.kill(s.rec.id, signal, false).orElse((e) => {
        if (before) return errAsync(e);
        s.rec.state.stoppedByUser = false;
        return failAfter(e, () => save(s));
      }),
    )
    .map(() => queueEvent(s, 'kill', { attributes: { signal: String(signal) } }));
}

/** `pause()`. */
export function pauseVerb(s: CtrSession): ResultAsync<void, LibpodError> {
  const st = s.rec.state.state;
  if (st === 'paused') return improper(`"${s.rec.id}" is already paused`);
  if (!allows('pause', st)) return improper(`"${st}" is not running, can't pause`);
  return s.ctx.oci.pause(s.rec.id).andThen(() => {
    s.rec.state.state = 'paused';
    queueEvent(s, 'pause');
    return save(s);
  });
}

/** `unpause()`. */
export function unpauseVerb(s: CtrSession): ResultAsync<void, LibpodError> {
  if (!allows('unpause', s.rec.state.state)) return improper(`"${s.rec.id}" is not paused, can't unpause`);
  return s.ctx.oci.unpause(s.rec.id).andThen(() => {
    s.rec.state.state = 'running';
    queueEvent(s, 'unpause');
    return save(s);
  });
}

/** `restart({timeout})` (libpod `restartWithTimeout`). */
export function restartVerb(s: CtrSession, timeout: number | undefined): ResultAsync<void, LibpodError> {
  return checkDependenciesRunning(s, syncContainer).andThen(() => {
    const st = s.rec.state.state;
    if (!allows('restart', st)) return improper('unable to restart a container in a paused or unknown state');
    queueEvent(s, 'restart');
    const stop = st === 'running' ? stopInner(s, timeout ?? s.rec.config.stopTimeout) : okAsync(undefined);
    return stop.andThen(() => initAndStartAfterPrepare(s, false));
  });
}
