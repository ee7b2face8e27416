/**
 * The Runtime's side of restart throttling: what runs when a container's
 * backoff is over, and what `Runtime.open` resumes from the state (restarts
 * a closed or killed process left waiting, and exits whose restart policy
 * was never applied).
 * @module
 */
import type { ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { ContainerRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { logger } from '../util/log.js';
import { cleanupVerb, restartWhenDue } from './cleanup.js';
import { restartDueIn, restartPending } from './restart-backoff.js';
import { withContainer } from './session.js';
import { syncContainer } from './sync.js';

const log = logger('container:restart');

/** Codes that only mean the container or the runtime went away meanwhile. */
const GONE = ['CtrRemoved', 'NoSuchCtr', 'RuntimeFinalized', 'DBClosed'];

function quietly(id: string, what: string, r: ResultAsync<void, LibpodError>): Promise<void> {
  return Promise.resolve(r).then((res) => {
    if (res.isErr() && !GONE.includes(res.error.code)) log('%s of %s: %s', what, id, res.error.message);
  });
}

/** The timer of container `id` went off: restart it under its lock if the wait still stands. */
export function onRestartDue(ctx: EngineContext, id: string): Promise<void> {
  return quietly(id, 'policy restart', withContainer(ctx, id, (s) => restartWhenDue(s, syncContainer), syncContainer));
}

/** A stopped container whose exit matched the policy but whose Cleanup never ran (the process died first). */
function cleanupNeverRan(rec: ContainerRecord): boolean {
  const st = rec.state;
  return st.state === 'stopped' && st.restartPolicyMatch && !st.stoppedByUser && !restartPending(st);
}

/**
 * After `Runtime.open`: arms the timers of the restarts waiting in the state
 * (at their saved due time, at once when overdue) and runs the Cleanup path
 * of recorded exits it never reached, so the policy applies as if the
 * process had not gone away.
 */
export async function resumeRestarts(ctx: EngineContext): Promise<void> {
  const recs = await ctx.index.allContainers();
  if (recs.isErr()) {
    if (!GONE.includes(recs.error.code)) log('resuming restarts: %s', recs.error.message);
    return;
  }
  const now = Date.now();
  const cleanups: Promise<void>[] = [];
  for (const rec of recs.value) {
    if (restartPending(rec.state)) ctx.restarts.schedule(rec.id, restartDueIn(rec.state, now));
    else if (cleanupNeverRan(rec)) cleanups.push(quietly(rec.id, 'cleanup', withContainer(ctx, rec.id, (s) => cleanupVerb(s, syncContainer), syncContainer)));
  }
  await Promise.all(cleanups);
}
