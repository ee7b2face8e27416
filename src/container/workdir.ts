/**
 * The working directory of a container's process inside its root
 * filesystem (libpod `resolveWorkDir`): resolved without leaving the
 * rootfs, created when missing (owned by the container's user, as podman
 * does for a working directory it creates), and refused when it is not a
 * directory. A directory on a volume or mount is left to the OCI runtime.
 * @module
 */
import { chownSync, lstatSync } from 'node:fs';
import { posix } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import { mkdirInRoot, secureJoin } from '../util/secure-join.js';

/** Whether `path` is `dest` or below it. */
function isUnder(path: string, dest: string): boolean {
  const d = posix.normalize(dest).replace(/\/+$/, '');
  return path === d || path.startsWith(`${d}/`);
}

/**
 * Makes sure `workDir` exists as a directory in `rootfs` (not when it is on
 * one of `mountDestinations`). A path that exists but is not a directory is
 * `InvalidArg`.
 */
export function ensureWorkDir(
  rootfs: string,
  workDir: string,
  mountDestinations: readonly string[],
  owner: { uid: number; gid: number },
): Result<void, LibpodError> {
  const wanted = posix.normalize(workDir || '/');
  if (mountDestinations.some((d) => d !== '/' && isUnder(wanted, d))) return ok(undefined);
  const resolved = secureJoin(rootfs, wanted);
  if (resolved.isErr()) return err(resolved.error);
  let existing;
  try {
    existing = lstatSync(resolved.value);
  } catch {
    existing = undefined;
  }
  if (existing) return existing.isDirectory() ? ok(undefined) : err(libpodError('InvalidArg', `workdir ${JSON.stringify(workDir)} exists in the root filesystem, but is not a directory`));
  const made = mkdirInRoot(rootfs, wanted, 0o755);
  if (made.isErr()) return err(made.error);
  try {
    chownSync(made.value, owner.uid, owner.gid);
  } catch (e) {
    return err(libpodError('Internal', `chowning working directory ${workDir}: ${(e as Error).message}`, e));
  }
  return ok(undefined);
}
