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
import { createInRuntime, startInRuntime } from './runtime-ops.js';
import { queueEvent, save, type CtrSession, type SyncFn } from './session.js';
import { mountStorage, unmountStorage } from './storage.js';
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

/** libpod `cleanup`: release storage, then remove from the runtime; every step runs. */
export function cleanupContainer(s: CtrSession): ResultAsync<void, LibpodError> {
  return sequenceAll([() => unmountStorage(s, false), () => cleanupRuntime(s)]);
}

/**
 * Applies the restart policy after an exit (libpod `handleRestartPolicy`).
 * Resolves to whether the container was restarted. `sync` syncs the
 * containers it depends on (see {@link checkDependenciesRunning}).
 */
export function handleRestartPolicy(s: CtrSession, sync: SyncFn): ResultAsync<boolean, LibpodError> {
  const { config, state: st } = s.rec;
  if (!st.restartPolicyMatch || config.restartPolicy === 'no') return okAsync(false);
  if (config.restartPolicy === 'on-failure') {
    if (st.exitCode === 0) return okAsync(false);
    if (config.restartRetries > 0 && st.restartCount >= config.restartRetries) {
      log('%s: restart retries exhausted (%d)', s.rec.id, st.restartCount);
      return okAsync(false);
    }
  }
  return checkDependenciesRunning(s, sync).andThen(() => {
    if (inState(st.state, 'running', 'paused')) return okAsync(false);
    if (st.state === 'unknown') return errAsync(libpodError('Internal', 'invalid container state encountered in restart attempt!'));
    queueEvent(s, 'restart');
    st.restartCount += 1;
    log('%s: restarting (policy %s), retry %d', s.rec.id, config.restartPolicy, st.restartCount);
    return save(s)
      .andThen(() => initAndStartAfterPrepare(s, true))
      .map(() => true);
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
  return handleRestartPolicy(s, sync).andThen((restarted) => {
    if (restarted) return okAsync(undefined);
    return reapExecSessions(s).andThen(() => {
      if (Object.keys(s.rec.state.execSessions).length > 0) {
        return improper(`container ${s.rec.id} has active exec sessions, refusing to clean up`);
      }
      return cleanupContainer(s).map(() => queueEvent(s, 'cleanup'));
    });
  });
}

/** The Cleanup path run when an exit is observed (`sync`: as for {@link cleanupVerb}). */
export function cleanupAfterExit(s: CtrSession, sync: SyncFn): ResultAsync<void, LibpodError> {
  return cleanupVerb(s, sync);
}
