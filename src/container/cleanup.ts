/**
 * Cleanup and the restart policy (libpod's `Cleanup`, `cleanup`,
 * `cleanupRuntime`, `handleRestartPolicy`).
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { improper, libpodError, type LibpodError } from '../define/errors.js';
import { allows, inState } from '../define/states.js';
import { failAfter, sequenceAll } from '../util/safe.js';
import { logger } from '../util/log.js';
import { checkDependenciesRunning } from './dependencies.js';
import { reapExecSessions } from './exec-sessions.js';
import { teardownNetworking } from './networking.js';
import { createInRuntime, startInRuntime } from './runtime-ops.js';
import { queueEvent, save, type CtrSession, type SyncFn } from './session.js';
import { mountStorage, unmountStorage } from './storage.js';
import { forgetPendingRestart, restartPending, scheduleRestart } from './restart-backoff.js';
import { runPoststop } from './runtime-ops.js';

const log = logger('container:cleanup');

/**
 * Removes the container from the OCI runtime (libpod `cleanupRuntime`):
 * stopped → exited, created → configured. Other states: nothing to do.
 */
export function cleanupRuntime(s: CtrSession): ResultAsync<void, LibpodError> {
  const st = s.rec.state;
  if (!inState(st.state, 'stopped', 'created')) return okAsync(undefined);
  return s.ctx.oci
    .delete(s.rec.id)
    .mapErr((e) => libpodError(e.code, `error removing container ${s.rec.id} from runtime: ${e.message}`, e))
    .andThen(() => runPoststop(s))
    .andThen(() => {
      st.state = st.state === 'stopped' ? 'exited' : 'configured';
      st.pid = 0;
      st.monitorPid = 0;
      return save(s);
    });
}

/** libpod `cleanup`: release storage, remove from the runtime, tear networking down; every step runs. */
export function cleanupContainer(s: CtrSession): ResultAsync<void, LibpodError> {
  return sequenceAll([() => unmountStorage(s, false), () => cleanupRuntime(s), () => teardownNetworking(s)]);
}

/** Whether the restart policy wants the last exit restarted (libpod `handleRestartPolicy`'s checks). */
export function policyWantsRestart(s: CtrSession): boolean {
  const { config, state: st } = s.rec;
  if (!st.restartPolicyMatch || st.stoppedByUser || config.restartPolicy === 'no') return false;
  if (config.restartPolicy === 'on-failure') {
    if (st.exitCode === 0) return false;
    if (config.restartRetries > 0 && st.restartCount >= config.restartRetries) {
      log('%s: restart retries exhausted (%d)', s.rec.id, st.restartCount);
      return false;
    }
  }
  return true;
}

/**
 * Applies the restart policy after an exit (libpod `handleRestartPolicy`),
 * throttled as Docker throttles it: the restart is scheduled after its
 * backoff (see restart-backoff.ts) and the Cleanup path goes on, so the
 * container waits `exited`, its lock free. `sync` syncs the containers it
 * depends on (see {@link checkDependenciesRunning}).
 */
export function handleRestartPolicy(s: CtrSession, sync: SyncFn): ResultAsync<void, LibpodError> {
  const st = s.rec.state;
  if (restartPending(st) || !policyWantsRestart(s)) return okAsync(undefined);
  return checkDependenciesRunning(s, sync).andThen(() => {
    if (inState(st.state, 'running', 'paused')) return okAsync(undefined);
    if (st.state === 'unknown') return errAsync(libpodError('Internal', 'invalid container state encountered in restart attempt!'));
    return scheduleRestart(s);
  });
}

/**
 * The restart itself, once its backoff is over (the second half of libpod's
 * `handleRestartPolicy`). Does nothing when the wait was called off; when
 * the restart fails, the container stays exited and the wait is forgotten.
 */
export function restartWhenDue(s: CtrSession, sync: SyncFn): ResultAsync<void, LibpodError> {
  const st = s.rec.state;
  if (!restartPending(st)) return okAsync(undefined);
  if (!inState(st.state, 'configured', 'stopped', 'exited') || !policyWantsRestart(s)) {
    forgetPendingRestart(s);
    return save(s);
  }
  return checkDependenciesRunning(s, sync)
    .andThen(() => {
      queueEvent(s, 'restart');
      st.restartCount += 1;
      log('%s: restarting (policy %s), retry %d', s.rec.id, s.rec.config.restartPolicy, st.restartCount);
      return initAndStartAfterPrepare(s, true);
    })
    .orElse((e) => {
      forgetPendingRestart(s);
      return save(s).andThen(() => errAsync(e));
    });
}

/**
 * prepare + (re)init + start, cleaning up when any step fails (the error of
 * the cleanup is attached to the returned one).
 */
export function initAndStartAfterPrepare(s: CtrSession, retainRetries: boolean): ResultAsync<void, LibpodError> {
  return mountStorage(s)
    .andThen(() => reinitIfNeeded(s, retainRetries))
    .andThen(() => startInRuntime(s))
    .orElse((e) => failAfter(e, () => cleanupContainer(s)));
}

/** Creates the container in the runtime when it is not there (stopped: delete first). */
export function reinitIfNeeded(s: CtrSession, retainRetries: boolean): ResultAsync<void, LibpodError> {
  const st = s.rec.state.state;
  if (st === 'stopped') return cleanupRuntime(s).andThen(() => createInRuntime(s, retainRetries));
  if (inState(st, 'configured', 'exited')) return createInRuntime(s, retainRetries);
  return okAsync(undefined);
}

/**
 * The public `cleanup()` (libpod `Cleanup`): refuses running or paused
 * containers, applies the restart policy, refuses live exec sessions, then
 * releases storage and removes the container from the runtime. `sync` syncs
 * the containers it depends on, for the restart policy.
 */
export function cleanupVerb(s: CtrSession, sync: SyncFn): ResultAsync<void, LibpodError> {
  if (!allows('cleanup', s.rec.state.state)) {
    return improper(`container ${s.rec.id} is running or paused, refusing to clean up`);
  }
  return handleRestartPolicy(s, sync).andThen(() =>
    reapExecSessions(s).andThen(() => {
      if (Object.keys(s.rec.state.execSessions).length > 0) {
        return improper(`container ${s.rec.id} has active exec sessions, refusing to clean up`);
      }
      return cleanupContainer(s).map(() => queueEvent(s, 'cleanup'));
    }),
  );
}

/** The Cleanup path run when an exit is observed (`sync`: as for {@link cleanupVerb}). */
export function cleanupAfterExit(s: CtrSession, sync: SyncFn): ResultAsync<void, LibpodError> {
  return cleanupVerb(s, sync);
}
