/**
 * Removing a container from the runtime (libpod `DeleteContainer` +
 * `removeConmonFiles`): `runc delete --force`, let conmon record the death it
 * just saw (so its exit file does not reappear after we removed it), then
 * remove the exit file, `<runRoot>/oci/<id>` and conmon's bundle files.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../../define/errors.js';
import { removeConmonFiles } from './container-create.js';
import { conmonAlive } from './container-exit.js';
import { waitFor } from './exit-files.js';
import { bundleOf, nameError, type ConmonContext } from './runtime-context.js';

/** How long a dying conmon may take to finish after `delete --force`. */
const CONMON_EXIT_WAIT_MS = 5_000;

/** Deletes `id` from the runtime; a missing container is not an error. */
export function deleteContainer(ctx: ConmonContext, id: string): ResultAsync<void, LibpodError> {
  const bad = nameError('container id', id);
  if (bad) return errAsync(bad);
  // Unknown to the runtime: only our files may be left (a stat, not a runc process).
  const runtimeDelete = ResultAsync.fromSafePromise(ctx.runc.knows(id)).andThen((known) => (known ? ctx.runc.delete(id) : okAsync(undefined)));
  return runtimeDelete.andThen(() =>
    ResultAsync.fromPromise(
      (async () => {
        await waitFor(async () => ((await conmonAlive(ctx, id)) === true ? undefined : true), {
          timeoutMs: CONMON_EXIT_WAIT_MS,
          watcher: ctx.exits,
          name: id,
        });
        await removeConmonFiles(ctx, id, await bundleOf(ctx, id));
        ctx.bundles.delete(id);
        // Exec sessions die with their container: forget their pids too.
        for (const key of ctx.execPids.keys()) if (key.startsWith(`${id}/`)) ctx.execPids.delete(key);
      })(),
      (e) => toLibpodError(e, 'Internal', `removing runtime files of container ${id}`),
    ),
  );
}
