/**
 * Reconciling the record with the OCI runtime (libpod's `syncContainer`,
 * `checkExitFile`, `Sync`). An exit observed here runs the Cleanup path at
 * once, which applies the restart policy, as conmon's exit command makes
 * podman do.
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import { inState } from '../define/states.js';
import type { OciExitInfo } from '../oci/oci-runtime.js';
import { logger } from '../util/log.js';
import { cleanupAfterExit } from './cleanup.js';
import type { ContainerRecord } from '../define/records.js';
import type { Frozen } from '../state/record-cache.js';
import type { EngineContext } from '../engine/context.js';
import { queueEvent, save, withContainer, type CtrSession } from './session.js';

const log = logger('container:sync');

/**
 * The finish time to record: the runtime's, but never before the start (an
 * exit file's ctime comes from the kernel's coarse clock, which may lag ours
 * by a tick) and never an invalid date.
 */
function finishTime(startedAt: string | undefined, finishedAt: Date): string {
  const end = Number.isNaN(finishedAt.getTime()) ? Date.now() : finishedAt.getTime();
  const start = startedAt ? Date.parse(startedAt) : Number.NaN;
  return new Date(Number.isNaN(start) ? end : Math.max(start, end)).toISOString();
}

/**
 * Records an exit on the session: state `stopped`, exit code and time, OOM,
 * and whether the restart policy matches (libpod: a running/paused container
 * that stopped by itself, not through the API). Queues `died`.
 */
export function applyExit(s: CtrSession, exit: OciExitInfo): void {
  const st = s.rec.state;
  const wasLive = inState(st.state, 'running', 'paused');
  st.state = 'stopped';
  st.pid = 0;
  st.monitorPid = 0;
  st.exitCode = exit.exitCode;
  st.exited = true;
  st.oomKilled = exit.oomKilled;
  st.finishedAt = finishTime(st.startedAt, exit.finishedAt);
  st.restartPolicyMatch = s.rec.config.restartPolicy !== 'no' && wasLive && !st.stoppedByUser;
  queueEvent(s, 'died', { exitCode: exit.exitCode });
}

/**
 * The cheap sync every locked operation starts with: for a running or paused
 * container, look for its exit; when found, record it and run Cleanup.
 */
export function syncContainer(s: CtrSession): ResultAsync<void, LibpodError> {
  if (!inState(s.rec.state.state, 'running', 'paused')) return okAsync(undefined);
  return s.ctx.oci.exitStatus(s.rec.id).andThen((exit) => (exit ? observeExit(s, exit) : okAsync(undefined)));
}

/** Records an exit, saves it, then runs the Cleanup path (restart policy). */
export function observeExit(s: CtrSession, exit: OciExitInfo): ResultAsync<void, LibpodError> {
  applyExit(s, exit);
  return saveAndCleanup(s);
}

/** Saves a recorded exit, then runs the Cleanup path (see {@link runAutoCleanup}). */
export function saveAndCleanup(s: CtrSession): ResultAsync<void, LibpodError> {
  return save(s).andThen(() => runAutoCleanup(s));
}

/**
 * Cleanup after an observed exit. Its failure does not fail the operation
 * that observed the exit (the exit itself is committed); it is logged and the
 * container stays `stopped`, so an explicit `cleanup()` can retry it.
 */
function runAutoCleanup(s: CtrSession): ResultAsync<void, LibpodError> {
  return cleanupAfterExit(s, syncContainer).orElse((e) => {
    log('cleanup of %s after its exit failed: %s', s.rec.id, e.message);
    return okAsync(undefined);
  });
}

/**
 * A record as it stands after a sync (only running and paused containers can
 * have changed): `rec` itself when the runtime has no exit for it, else the
 * record synced under the container's lock; `undefined` when the container
 * was removed meanwhile. Listing thousands of running containers thus costs
 * one cheap exit check each, and a lock only for those that exited.
 */
export function syncedRecord<T extends Frozen<ContainerRecord>>(ctx: EngineContext, rec: T): ResultAsync<T | ContainerRecord | undefined, LibpodError> {
  if (!inState(rec.state.state, 'running', 'paused')) return okAsync(rec);
  return ctx.oci.exitStatus(rec.id).andThen((exit) =>
    exit === undefined
      ? okAsync<T | ContainerRecord | undefined, LibpodError>(rec)
      : withContainer(ctx, rec.id, (s) => okAsync<ContainerRecord | undefined, LibpodError>(s.rec), syncContainer).orElse((e) =>
          e.code === 'CtrRemoved' ? okAsync(undefined) : errAsync(e),
        ),
  );
}

/**
 * The full sync (`ctr.sync()`): asks the runtime for its whole view, so a
 * monitor that died without writing an exit file is noticed too.
 */
export function fullSync(s: CtrSession): ResultAsync<void, LibpodError> {
  const st = s.rec.state;
  if (!inState(st.state, 'created', 'running', 'paused', 'stopped')) return okAsync(undefined);
  const before = st.state;
  return s.ctx.oci.status(s.rec.id).andThen((status) => {
    if (status.exit && inState(st.state, 'running', 'paused')) return observeExit(s, status.exit);
    switch (status.status) {
      case 'running':
      case 'paused':
      case 'created':
        st.state = status.status;
        st.pid = status.pid;
        break;
      case 'stopped':
      case 'missing':
        if (inState(st.state, 'running', 'paused')) {
          return observeExit(s, status.exit ?? { exitCode: -1, finishedAt: new Date(), oomKilled: false });
        }
        if (st.state === 'created') st.state = status.status === 'missing' ? 'configured' : 'stopped';
        break;
    }
    return st.state === before ? okAsync(undefined) : save(s);
  });
}
