/**
 * Removing a container from the runtime (libpod `DeleteContainer` +
 * `removeConmonFiles`).
 *
 * Once a container has exited, its conmon deletes it from the runtime itself
 * (the exit command, see `conmon-args.ts`): that is waited for, not raced.
 * Otherwise (still running, or the exit command failed) it is `runc delete
 * --force` here. Either way conmon is then let finish (it records the death
 * it saw and runs its exit command, which must not meet a new container of
 * the same id), then the exit file, `<runRoot>/oci/<id>` and conmon's bundle
 * files are removed.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../../define/errors.js';
import { pathExists } from '../../util/fs.js';
import { removeConmonFiles } from './conmon-files.js';
import { conmonAlive } from './container-exit.js';
import { waitFor } from './exit-files.js';
import { bundleOf, nameError, type ConmonContext } from './runtime-context.js';

/** How long a dying conmon may take to finish, exit command included. */
const CONMON_EXIT_WAIT_MS = 5_000;
/** conmon ends a moment after its exit command: poll from this interval up. */
const CONMON_EXIT_FIRST_POLL_MS = 1;

/** Resolves when conmon of `id` no longer runs (or after the timeout). */
async function conmonGone(ctx: ConmonContext, id: string): Promise<void> {
  await waitFor(async () => ((await conmonAlive(ctx, id)) === true ? undefined : true), {
    timeoutMs: CONMON_EXIT_WAIT_MS,
    watcher: ctx.exits,
    name: id,
    firstPollMs: CONMON_EXIT_FIRST_POLL_MS,
  });
}

/**
 * Whether `id` is still the runtime's to delete here: after an exit (exit
 * file present) conmon's exit command deletes it, so wait until the state
 * directory is gone or conmon ended without it going.
 */
async function leftToDelete(ctx: ConmonContext, id: string): Promise<boolean> {
  if (!(await ctx.runc.knows(id))) return false;
  if (!(await pathExists(ctx.layout.exitFile(id)))) return true;
  await waitFor(async () => (!(await ctx.runc.knows(id)) || (await conmonAlive(ctx, id)) !== true ? true : undefined), {
    timeoutMs: CONMON_EXIT_WAIT_MS,
    watcher: ctx.states,
    name: id,
    firstPollMs: CONMON_EXIT_FIRST_POLL_MS,
  });
  return ctx.runc.knows(id);
}

/** `runc delete --force`; a failure is none when the container is gone anyway (conmon's exit command won the race). */
function runtimeDelete(ctx: ConmonContext, id: string): ResultAsync<void, LibpodError> {
  return ctx.runc
    .delete(id)
    .orElse((e) => ResultAsync.fromSafePromise(ctx.runc.knows(id)).andThen((known) => (known ? errAsync(e) : okAsync(undefined))));
}

/** Deletes `id` from the runtime; a missing container is not an error. */
export function deleteContainer(ctx: ConmonContext, id: string): ResultAsync<void, LibpodError> {
  const bad = nameError('container id', id);
  if (bad) return errAsync(bad);
  return ResultAsync.fromPromise(leftToDelete(ctx, id), (e) => toLibpodError(e, 'Internal', `waiting for conmon to delete container ${id}`))
    .andThen((left) => (left ? runtimeDelete(ctx, id) : okAsync(undefined)))
    .andThen(() =>
      ResultAsync.fromPromise(
        (async () => {
          await conmonGone(ctx, id);
          await removeConmonFiles(ctx, id, await bundleOf(ctx, id));
          ctx.bundles.delete(id);
          // Exec sessions die with their container: forget their pids too.
          for (const key of ctx.execPids.keys()) if (key.startsWith(`${id}/`)) ctx.execPids.delete(key);
        })(),
        (e) => toLibpodError(e, 'Internal', `removing runtime files of container ${id}`),
      ),
    );
}
