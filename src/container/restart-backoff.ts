/**
 * Restart throttling for the restart policy, as Docker's restart manager
 * does it (moby `restartmanager.ShouldRestart`; podman 4 has none): the first
 * restart waits 100 ms, each consecutive one twice as long as the previous,
 * at most one minute; a container that stayed up 10 s or more starts again
 * from 100 ms.
 *
 * No daemon: the exit watcher's Cleanup path schedules the restart
 * ({@link scheduleRestart}) and releases the lock; the container waits out
 * the delay `exited`, so every verb works meanwhile. The due time is saved
 * first (`restartAt`), so a process that dies during the backoff leaves it
 * for the next `Runtime.open`. A user's stop, start, refresh or removal ends
 * the wait.
 * @module
 */
import type { ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { ContainerStateRecord } from '../define/records.js';
import { logger } from '../util/log.js';
import { queueEvent, save, type CtrSession } from './session.js';

const log = logger('container:restart');

/** The first delay (moby `defaultTimeout`). */
export const RESTART_BACKOFF_INITIAL_MS = 100;
/** The longest delay (moby `maxRestartTimeout`). */
export const RESTART_BACKOFF_MAX_MS = 60_000;
/** A run at least this long resets the delay to the first one (moby: `executionDuration.Seconds() >= 10`). */
export const RESTART_BACKOFF_RESET_AFTER_MS = 10_000;

/**
 * The delay before the next restart, given the previous delay (0: none yet)
 * and how long the container ran before this exit (moby `ShouldRestart`).
 */
export function nextRestartDelay(previousMs: number, ranMs: number): number {
  const previous = ranMs >= RESTART_BACKOFF_RESET_AFTER_MS ? 0 : previousMs;
  if (!(previous > 0)) return RESTART_BACKOFF_INITIAL_MS;
  return Math.min(previous * 2, RESTART_BACKOFF_MAX_MS);
}

/** How long the container ran before its last exit, in ms (0 when unknown). */
export function ranFor(st: ContainerStateRecord): number {
  const started = st.startedAt ? Date.parse(st.startedAt) : NaN;
  const finished = st.finishedAt ? Date.parse(st.finishedAt) : NaN;
  const ran = finished - started;
  return Number.isFinite(ran) && ran > 0 ? ran : 0;
}

/** Whether a policy restart waits out its backoff. */
export function restartPending(st: ContainerStateRecord): boolean {
  return st.restartAt !== undefined;
}

/** Milliseconds until a pending restart is due (0 when overdue or unreadable). */
export function restartDueIn(st: ContainerStateRecord, now = Date.now()): number {
  const at = st.restartAt ? Date.parse(st.restartAt) : NaN;
  return Number.isFinite(at) ? Math.max(0, at - now) : 0;
}

/**
 * Saves when the restart is due, then arms the timer (libpod's
 * `handleRestartPolicy`, delayed as Docker delays it).
 */
export function scheduleRestart(s: CtrSession): ResultAsync<void, LibpodError> {
  const st = s.rec.state;
  const delay = nextRestartDelay(st.restartBackoffMs ?? 0, ranFor(st));
  st.restartBackoffMs = delay;
  st.restartAt = new Date(Date.now() + delay).toISOString();
  log('%s: restart (policy %s) in %d ms', s.rec.id, s.rec.config.restartPolicy, delay);
  return save(s).map(() => s.ctx.restarts.schedule(s.rec.id, delay));
}

/**
 * A user's stop during the backoff: the restart is called off (Docker: a
 * stop ends the restart loop), and the exit counts as the user's.
 */
export function cancelPendingRestart(s: CtrSession): ResultAsync<void, LibpodError> {
  const st = s.rec.state;
  s.ctx.restarts.cancel(s.rec.id);
  delete st.restartAt;
  st.restartPolicyMatch = false;
  st.stoppedByUser = true;
  queueEvent(s, 'stop');
  return save(s);
}

/** Forgets a pending restart without saving (the caller saves): a create, a reset or a removal ends it. */
export function forgetPendingRestart(s: CtrSession): void {
  s.ctx.restarts.cancel(s.rec.id);
  delete s.rec.state.restartAt;
}
