/**
 * Exec session bookkeeping (libpod `reapExecSessions`): sessions whose
 * process is gone are cleaned up and dropped from the state.
 * @module
 */
import { okAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import { logger } from '../util/log.js';
import { pathsOf, save, type CtrSession } from './session.js';

const log = logger('container:exec');

/** Drops every exec session whose process no longer runs; saves once. */
export function reapExecSessions(s: CtrSession): ResultAsync<void, LibpodError> {
  const ids = Object.keys(s.rec.state.execSessions);
  if (ids.length === 0) return okAsync(undefined);
  const bundle = pathsOf(s).bundlePath;
  let changed = false;
  const reap = ids.reduce<ResultAsync<void, LibpodError>>(
    (acc, sid) =>
      acc.andThen(() =>
        s.ctx.oci.execAlive(s.rec.id, sid).andThen((alive) => {
          if (alive) return okAsync(undefined);
          return s.ctx.oci
            .execCleanup(s.rec.id, sid, bundle)
            .mapErr((e) => libpodError(e.code, `error cleaning up container ${s.rec.id} exec session ${sid} files: ${e.message}`, e))
            .map(() => {
              log('reaped exec session %s of %s', sid, s.rec.id);
              delete s.rec.state.execSessions[sid];
              changed = true;
            });
        }),
      ),
    okAsync(undefined),
  );
  return reap.andThen(() => (changed ? save(s) : okAsync(undefined)));
}

/** Stops every live exec session (forced removal): SIGTERM, SIGKILL after `timeout`. */
export function stopExecSessions(s: CtrSession, timeout: number): ResultAsync<void, LibpodError> {
  const ids = Object.keys(s.rec.state.execSessions);
  return ids
    .reduce<ResultAsync<void, LibpodError>>((acc, sid) => acc.andThen(() => s.ctx.oci.execStop(s.rec.id, sid, timeout)), okAsync(undefined))
    .andThen(() => reapExecSessions(s));
}
