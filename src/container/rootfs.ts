/**
 * Root filesystem plumbing (root only for the mounts): an overlay whose
 * lower layer is the caller's rootfs and whose upper layer is the
 * container's own, mount checks (host/mountinfo.ts), and disk
 * usage of a tree.
 * @module
 */
import { lstat, readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../define/errors.js';
import { runChecked } from '../host/command.js';
import { umountSyscall } from '../host/mount.js';
import { isMountPoint } from '../host/mountinfo.js';

/** How many stacked mounts {@link unmountOverlay} removes at most. */
const MAX_STACKED_MOUNTS = 16;

function checkOverlayPath(what: string, path: string): LibpodError | undefined {
  if (typeof path !== 'string' || !isAbsolute(path)) return libpodError('InvalidArg', `overlay ${what} ${JSON.stringify(String(path))} must be an absolute path`);
  if (/[,:\0]/.test(path)) return libpodError('InvalidArg', `overlay ${what} ${path} must not contain ',' or ':'`);
  return undefined;
}

/**
 * Mounts an overlay at `merged` (`mount -t overlay`): reads come from
 * `lower` unless shadowed by `upper`, writes go to `upper`. The directories
 * must exist. Already mounted at `merged`: nothing to do.
 */
export function mountOverlay(lower: string, upper: string, work: string, merged: string): ResultAsync<void, LibpodError> {
  const bad = checkOverlayPath('lower dir', lower) ?? checkOverlayPath('upper dir', upper) ?? checkOverlayPath('work dir', work) ?? checkOverlayPath('mount point', merged);
  if (bad) return errAsync(bad);
  return isMountPoint(merged).andThen((mounted) => {
    if (mounted) return okAsync(undefined);
    const options = `lowerdir=${resolve(lower)},upperdir=${resolve(upper)},workdir=${resolve(work)}`;
    return runChecked('mount', ['-t', 'overlay', 'overlay', '-o', options, resolve(merged)], {
      errorCode: 'Internal',
      notFoundCode: 'Internal',
    }).map(() => undefined);
  });
}

function unmountOnce(merged: string): ResultAsync<void, LibpodError> {
  // umount2(2) itself first (no process); on any failure the program, which says why.
  // A busy mount (a process still has its cwd there) is detached lazily, as containers/storage does.
  return ResultAsync.fromSafePromise(umountSyscall(merged)).andThen((done) =>
    done
      ? okAsync(undefined)
      : runChecked('umount', [merged], { errorCode: 'Internal', notFoundCode: 'Internal' })
          .orElse(() => runChecked('umount', ['-l', merged], { errorCode: 'Internal', notFoundCode: 'Internal' }))
          .map(() => undefined),
  );
}

/**
 * Unmounts whatever is mounted at `merged` (stacked mounts too). Not
 * mounted: nothing to do.
 */
export function unmountOverlay(merged: string): ResultAsync<void, LibpodError> {
  const target = resolve(merged);
  const loop = (left: number): ResultAsync<void, LibpodError> =>
    isMountPoint(target).andThen((mounted) => {
      if (!mounted) return okAsync(undefined);
      if (left === 0) return errAsync(libpodError('Internal', `${target} is still mounted after ${MAX_STACKED_MOUNTS} unmounts`));
      return unmountOnce(target).andThen(() => loop(left - 1));
    });
  return loop(MAX_STACKED_MOUNTS);
}

/**
 * Bytes used by the tree at `path` (files and symlinks, each hard-linked
 * inode once; directories not counted), walked with lstat: symlinks are
 * never followed. A missing `path` is 0; entries that vanish are skipped.
 */
export function dirSize(path: string): ResultAsync<number, LibpodError> {
  return attempt(async () => {
    const seen = new Set<string>();
    let total = 0;
    const stack = [path];
    while (stack.length > 0) {
      const current = stack.pop() as string;
      let st;
      try {
        st = await lstat(current, { bigint: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      if (st.isDirectory()) {
        let names: string[];
        try {
          names = await readdir(current);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw e;
        }
        for (const name of names) stack.push(join(current, name));
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1n) {
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += Number(st.size);
    }
    return total;
  }, 'Internal', `computing the size of ${path}`);
}
