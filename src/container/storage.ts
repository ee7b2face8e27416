/**
 * The container's storage (libpod `mountStorage`, `cleanupStorage`,
 * `mountNamedVolume`): the root filesystem (as given, or an overlay whose
 * upper layer is the container's own) and its named volumes.
 *
 * Mount accounting: the storage is mounted while `state.mountPoint` is set.
 * The OCI lifecycle mounts it before create and releases it at cleanup;
 * `ctr.mount()` adds to `state.mountCount`, which keeps it mounted across
 * cleanups until the matching `unmount()`.
 * @module
 */
import { failAfter, sequenceAll } from '../util/safe.js';
import { chmod, chown, lstat, mkdir, rename, rm, stat } from 'node:fs/promises';
import { okAsync, ResultAsync } from 'neverthrow';
import { attempt, improper, type LibpodError } from '../define/errors.js';
import { inState } from '../define/states.js';
import { acquireVolume, releaseVolume } from '../volume/volume-mounts.js';
import { mountOverlay, unmountOverlay } from './rootfs.js';
import { mountImageRootfs, unmountImageRootfs } from './image-rootfs.js';
import { pathsOf, save, type CtrSession } from './session.js';

/**
 * Creates the overlay's upper dir with the lower root's owner and mode (its
 * own are those of the merged `/`), as containers/storage does; built under
 * a temporary name, so a crash never leaves a 0700 upper dir behind.
 */
async function makeUpperDir(upper: string, lower: string): Promise<void> {
  if (await lstat(upper).then(() => true, () => false)) return;
  const tmp = `${upper}.new`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  const st = await stat(lower);
  await chown(tmp, st.uid, st.gid);
  await chmod(tmp, st.mode & 0o7777);
  await rename(tmp, upper);
}

/** Mounts the root filesystem (overlay when configured); returns its path. */
function mountRootfs(s: CtrSession): ResultAsync<string, LibpodError> {
  const { config } = s.rec;
  if (config.image !== undefined) return mountImageRootfs(s);
  const rootfs = config.rootfs ?? '';
  if (!config.rootfsOverlay) return okAsync(rootfs);
  const p = pathsOf(s);
  return attempt(async () => {
    await makeUpperDir(p.overlayUpper, rootfs);
    for (const dir of [p.overlayWork, p.overlayMerged]) await mkdir(dir, { recursive: true, mode: 0o700 });
  }, 'Internal', `preparing overlay directories of container ${s.rec.id}`)
    .andThen(() => mountOverlay(rootfs, p.overlayUpper, p.overlayWork, p.overlayMerged))
    .map(() => p.overlayMerged);
}

/**
 * Mounts the storage if it is not mounted yet: root filesystem, then each
 * named volume (copying image content up into empty new volumes).
 */
export function mountStorage(s: CtrSession): ResultAsync<string, LibpodError> {
  const st = s.rec.state;
  if (st.mountPoint) return okAsync(st.mountPoint);
  return mountRootfs(s).andThen((mountPoint) => {
    const acquired: string[] = [];
    const volumes = s.rec.config.volumes.reduce<ResultAsync<void, LibpodError>>(
      (acc, v) => acc.andThen(() => acquireVolume(s.ctx, v.name, { rootfs: mountPoint, dest: v.dest }).map(() => void acquired.push(v.name))),
      okAsync(undefined),
    );
    return volumes
      .orElse((e) => {
        const undo = [...acquired.map((name) => () => releaseVolume(s.ctx, name)), () => unmountRootfs(s)];
        return failAfter(e, () => sequenceAll(undo));
      })
      .andThen(() => {
        st.mountPoint = mountPoint;
        return save(s).map(() => mountPoint);
      });
  });
}

function unmountRootfs(s: CtrSession): ResultAsync<void, LibpodError> {
  if (s.rec.config.image !== undefined) return unmountImageRootfs(s);
  return s.rec.config.rootfsOverlay ? unmountOverlay(pathsOf(s).overlayMerged) : okAsync(undefined);
}

/**
 * Releases the storage unless user mounts hold it (`force` ignores them).
 * Every step runs; the first failure is returned with the others attached.
 */
export function unmountStorage(s: CtrSession, force: boolean): ResultAsync<void, LibpodError> {
  const st = s.rec.state;
  if (!st.mountPoint) return okAsync(undefined);
  if (st.mountCount > 0 && !force) return okAsync(undefined);
  // Volumes are released only once the rootfs is unmounted: a failed unmount keeps mountPoint
  // for a retry, which must not release the volumes a second time.
  const releases = s.rec.config.volumes.map((v) => () => releaseVolume(s.ctx, v.name));
  return unmountRootfs(s).andThen(() => sequenceAll(releases)).andThen(() => {
    delete st.mountPoint;
    st.mountCount = 0;
    return save(s);
  });
}

/** The public `mount()`: mounts the storage and counts the user mount. */
export function mountVerb(s: CtrSession): ResultAsync<string, LibpodError> {
  if (s.rec.state.state === 'removing') {
    return improper(`cannot mount container ${s.rec.id} as it is being removed`);
  }
  return mountStorage(s).andThen((mp) => {
    s.rec.state.mountCount += 1;
    return save(s).map(() => mp);
  });
}

/**
 * The public `unmount()`: drops one user mount; the storage is released when
 * no user mount remains and no process needs it. `force` drops them all.
 */
export function unmountVerb(s: CtrSession, force: boolean): ResultAsync<void, LibpodError> {
  const st = s.rec.state;
  if (!st.mountPoint) return okAsync(undefined);
  const live = inState(st.state, 'running', 'paused', 'created');
  if (live && (force || st.mountCount <= 1)) {
    if (st.mountCount > 0) {
      st.mountCount = 0;
      return save(s);
    }
    return improper(`cannot unmount storage for container ${s.rec.id} as it is running or paused`);
  }
  if (Object.keys(st.execSessions).length > 0) {
    return improper(`container ${s.rec.id} has active exec sessions, refusing to unmount`);
  }
  st.mountCount = force ? 0 : Math.max(0, st.mountCount - 1);
  if (st.mountCount > 0) return save(s);
  return unmountStorage(s, true);
}

/** Named volumes resolved to host directories, for the spec. */
export function volumeMountsFor(s: CtrSession): ResultAsync<{ source: string; destination: string; options: string[] }[], LibpodError> {
  return ResultAsync.combine(
    s.rec.config.volumes.map((v) =>
      s.ctx.index.getVolume(v.name).map((vol) => ({ source: vol.mountPoint, destination: v.dest, options: v.options ?? [] })),
    ),
  );
}
