/**
 * `ctr.refresh()` as in the older seeds (stop, reset, re-create, return the
 * container to its previous state), and `resetState`, which the runtime also
 * applies to every container after a reboot (runRoot wiped).
 * @module
 */
import { okAsync, type ResultAsync } from 'neverthrow';
import { improper, type LibpodError } from '../define/errors.js';
import type { ContainerStateRecord } from '../define/records.js';
import { cleanupContainer } from './cleanup.js';
import { checkDependenciesRunning } from './dependencies.js';
import { stopExecSessions } from './exec-sessions.js';
import { pauseVerb, stopInner, unpauseVerb } from './lifecycle.js';
import { createInRuntime, startInRuntime } from './runtime-ops.js';
import { queueEvent, save, type CtrSession } from './session.js';
import { mountStorage, unmountStorage } from './storage.js';
import { syncContainer } from './sync.js';

/**
 * libpod `resetState`: forget everything that lived in the runtime. Exited
 * containers stay exited; every other state becomes configured.
 */
export function resetState(st: ContainerStateRecord): void {
  st.pid = 0;
  st.monitorPid = 0;
  delete st.mountPoint;
  st.mountCount = 0;
  if (st.state !== 'exited') st.state = 'configured';
  st.execSessions = {};
  // Namespaces and firewall rules live in the volatile root and the kernel: gone with them.
  delete st.network;
  st.stoppedByUser = false;
  st.restartPolicyMatch = false;
  st.restartCount = 0;
  delete st.restartAt;
  delete st.restartBackoffMs;
}

/** `refresh()`. */
export function refreshVerb(s: CtrSession): ResultAsync<void, LibpodError> {
  const st = s.rec.state;
  if (st.state === 'removing') {
    return improper('cannot refresh containers that are being removed');
  }
  const was = st.state;
  const step = (cond: boolean, fn: () => ResultAsync<void, LibpodError>) => (cond ? fn() : okAsync<void, LibpodError>(undefined));
  const recreate = was === 'created' || was === 'running' || was === 'paused';
  // A container re-created in the runtime needs its dependencies running, as start does
  // (checkDependenciesAndHandleError); checked first, so a refused refresh changes nothing.
  return step(recreate, () => checkDependenciesRunning(s, syncContainer))
    .andThen(() => step(was === 'paused', () => unpauseVerb(s)))
    .andThen(() => stopExecSessions(s, s.rec.config.stopTimeout))
    .andThen(() => step(st.state === 'running', () => stopInner(s, s.rec.config.stopTimeout)))
    .andThen(() => cleanupContainer(s))
    // User mounts too: resetState forgets the mount point, so nothing may stay mounted behind it.
    .andThen(() => unmountStorage(s, true))
    .andThen(() => {
      resetState(st);
      queueEvent(s, 'refresh');
      return save(s);
    })
    .andThen(() => step(recreate, () => mountStorage(s).andThen(() => createInRuntime(s, false))))
    .andThen(() => step(was === 'running' || was === 'paused', () => startInRuntime(s)))
    .andThen(() => step(was === 'paused', () => pauseVerb(s)));
}
