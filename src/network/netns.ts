/**
 * Network namespaces that outlive every process: a namespace bind-mounted on
 * a file (libpod's `netns.NewNS`), made by `unshare --net=<file> true`
 * (util-linux), so netavark can tear it down after the container is gone.
 *
 * ```
 * <runRoot>/netns/<container id>     nsfs bind mount while the container has networking
 * ```
 * @module
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../define/errors.js';
import { runCommand } from '../host/command.js';
import { isMountPoint } from '../host/mountinfo.js';

/** The namespace file of container `id`. */
export function netnsPath(runRoot: string, id: string): string {
  return join(runRoot, 'netns', id);
}

/** Creates the namespace at `path` (already there: kept). */
export function createNetns(path: string): ResultAsync<void, LibpodError> {
  return isMountPoint(path).andThen((mounted) => {
    if (mounted) return okAsync(undefined);
    return attempt(async () => {
      await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
      await writeFile(path, '', { mode: 0o600 });
    }, 'Internal', `creating ${path}`)
      .andThen(() => runCommand('unshare', [`--net=${path}`, 'true'], { notFoundCode: 'OCIRuntimeNotFound' }))
      .andThen((out) =>
        out.code === 0
          ? okAsync(undefined)
          : attempt(() => rm(path, { force: true }), 'Internal').andThen(() =>
              errAsync(libpodError('Internal', `creating network namespace ${path}: ${out.stderr.trim() || `unshare exit status ${out.code}`}`)),
            ),
      );
  });
}

/** Unmounts and deletes the namespace at `path` (absent: nothing to do). */
export function removeNetns(path: string): ResultAsync<void, LibpodError> {
  return isMountPoint(path)
    .andThen((mounted) =>
      mounted
        ? runCommand('umount', [path], { notFoundCode: 'Internal' }).andThen((out) =>
            out.code === 0 ? okAsync(undefined) : errAsync(libpodError('Internal', `unmounting network namespace ${path}: ${out.stderr.trim()}`)),
          )
        : okAsync(undefined),
    )
    .andThen(() => attempt(() => rm(path, { force: true }), 'Internal', `removing ${path}`));
}
