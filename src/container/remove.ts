/**
 * Container removal (libpod `removeContainer`): refuse dependents (always),
 * refuse running or paused containers and live exec sessions (unless forced,
 * which stops them first), mark `removing`, clean up, drop the record, then
 * the container's directories.
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { improper, libpodError, type LibpodError } from '../define/errors.js';
import { inState } from '../define/states.js';
import { cleanupContainer } from './cleanup.js';
import { reapExecSessions, stopExecSessions } from './exec-sessions.js';
import { removeContainerDirs } from './runtime-ops.js';
import { removeImageLayer } from './image-rootfs.js';
import { queueEvent, save, type CtrSession } from './session.js';
import { stopAndRecord } from './lifecycle.js';
import { sequenceAll } from '../util/safe.js';
import { logger } from '../util/log.js';

const log = logger('container:remove');

/** Options of `runtime.removeContainer`. */
export interface RemoveContainerOptions {
  /** Stop a running or paused container (and its exec sessions) first. */
  force?: boolean;
  /** Seconds to wait for the stop before SIGKILL (default: the container's stopTimeout). */
  timeout?: number;
  /** Also remove named volumes this container created implicitly, when no other container uses them. */
  removeVolumes?: boolean;
}

/** libpod `checkReadyForRemoval`. */
function checkReadyForRemoval(s: CtrSession): ResultAsync<void, LibpodError> {
  const st = s.rec.state.state;
  if (st === 'unknown') return improper(`container ${s.rec.id} is in invalid state`);
  if (inState(st, 'running', 'paused')) {
    return improper(`cannot remove container ${s.rec.id} as it is ${st} - running or paused containers cannot be removed without force`);
  }
  return reapExecSessions(s).andThen(() =>
    Object.keys(s.rec.state.execSessions).length > 0
      ? improper(`cannot remove container ${s.rec.id} as it has active exec sessions`)
      : okAsync(undefined),
  );
}

/**
 * A paused container under force (libpod `removeContainer`): SIGKILL, then
 * thaw, since a frozen task cannot act on SIGKILL under cgroup v1 (nor can
 * its exec sessions, which die with it). The stop that follows records the
 * exit. A thaw refused because the kill already ended it is fine.
 */
function killPaused(s: CtrSession): ResultAsync<void, LibpodError> {
  if (s.rec.state.state !== 'paused') return okAsync(undefined);
  const id = s.rec.id;
  return s.ctx.oci
    .kill(id, 9, false)
    .andThen(() =>
      s.ctx.oci.unpause(id).orElse((e) => {
        log('container %s: thaw after SIGKILL: %s', id, e.message);
        return okAsync(undefined);
      }),
    )
    .map(() => {
      // Thawed: what is left is a running container on its way out.
      s.rec.state.state = 'running';
    });
}

/** Stops the container for a forced removal (its stop signal; SIGKILL for a paused one). */
function forceStop(s: CtrSession, timeout: number): ResultAsync<void, LibpodError> {
  return inState(s.rec.state.state, 'running', 'paused', 'created') ? stopAndRecord(s, timeout) : okAsync(undefined);
}

/**
 * Removes the locked container. Dependents make it `DepExists`, force or not.
 * The record is dropped only after the runtime and storage were cleaned up.
 */
export function removeVerb(s: CtrSession, opts: RemoveContainerOptions): ResultAsync<void, LibpodError> {
  const force = opts.force ?? false;
  return s.ctx.index
    .containerDependents(s.rec.id)
    .andThen((deps) =>
      deps.length > 0
        ? errAsync(libpodError('DepExists', `container ${s.rec.id} has dependent containers which must be removed before it: ${deps.join(',')}: dependency exists`))
        : okAsync(undefined),
    )
    .andThen(() => (force ? killPaused(s) : okAsync(undefined)))
    .andThen(() => (force ? stopExecSessions(s, opts.timeout ?? s.rec.config.stopTimeout) : checkReadyForRemoval(s)))
    .andThen(() => (force ? forceStop(s, opts.timeout ?? s.rec.config.stopTimeout) : okAsync(undefined)))
    .andThen(() => {
      const wasState = s.rec.state.state;
      s.rec.state.state = 'removing';
      return save(s).map(() => wasState);
    })
    .andThen((wasState) => {
      // cleanupRuntime keys off stopped/created: put the pre-removal state back for it.
      s.rec.state.state = wasState;
      // User mounts do not keep the storage of a container being removed.
      s.rec.state.mountCount = 0;
      // The last delete finds nothing in the normal case (cheap); after a crash between a create
      // and its save it removes the container the record never heard of.
      return sequenceAll([() => cleanupContainer(s), () => s.ctx.oci.delete(s.rec.id)]).orElse((e) => {
        s.rec.state.state = 'removing';
        return save(s).andThen(() => errAsync(e));
      });
    })
    // The writable layer goes before the record: a failure leaves the record (removing) for a retry.
    .andThen(() => removeImageLayer(s.ctx, s.rec.id, s.rec.config))
    .andThen(() => s.ctx.index.removeContainer(s.rec.id))
    .andThen(() => {
      s.ctx.restarts.cancel(s.rec.id);
      queueEvent(s, 'remove');
      s.ctx.locks.forget({ kind: 'container', id: s.rec.id });
      // The record is gone, so the removal happened: a directory left behind is logged, as libpod does.
      return removeContainerDirs(s).orElse((e) => {
        log('container %s removed, but its directories were not: %s', s.rec.id, e.message);
        return okAsync(undefined);
      });
    });
}
