/**
 * `runc start`, and the one race it can lose to conmon's exit command.
 *
 * A container whose process exits at once (`sh -c 'exit 7'`) can be gone
 * before `runc start` returns: conmon writes the exit file and its exit
 * command runs `runc delete`, which removes the state directory while `runc
 * start` is still removing its `exec.fifo`. runc then fails with
 * `remove .../exec.fifo: no such file or directory` although the container
 * did start (libpod never meets this: its cleanup waits for the container
 * lock that the start holds). An exit file written for this container during
 * the start means it ran, so the start succeeded.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import type { LibpodError } from '../../define/errors.js';
import { pathExists } from '../../util/fs.js';
import type { ConmonContext } from './runtime-context.js';

/**
 * `runc start <id>`; Ok as well when it failed only because the container
 * ran and exited meanwhile: its exit file appeared during the start. One that
 * was there before (a container that already stopped) leaves runc's error.
 */
export function startContainer(ctx: ConmonContext, id: string): ResultAsync<void, LibpodError> {
  const exited = (): ResultAsync<boolean, never> => ResultAsync.fromSafePromise(pathExists(ctx.layout.exitFile(id)));
  return exited().andThen((before) =>
    ctx.runc.start(id).orElse((e) => (before ? errAsync(e) : exited().andThen((after) => (after ? okAsync(undefined) : errAsync(e))))),
  );
}
