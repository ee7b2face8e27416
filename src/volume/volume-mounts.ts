/**
 * Volume use by containers (libpod `mountNamedVolume` and the volume half of
 * `cleanupStorage`): mount on first use, unmount when the last user leaves,
 * and copy image content up into a new, empty volume on its first mount.
 * @module
 */
import { lstat, readdir } from 'node:fs/promises';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { attempt, type LibpodError } from '../define/errors.js';
import type { VolumeRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { copyTree } from '../archive/index.js';
import { failAfter } from '../util/safe.js';
import { secureJoin } from '../util/secure-join.js';
import { volumeEvent } from './volume-events.js';
import { mountVolumeFilesystem, needsMount, unmountVolumeFilesystem } from './volume-driver.js';

/** Where a container's image content for a volume comes from. */
export interface CopyUpSource {
  /** The container's mounted root filesystem. */
  rootfs: string;
  /** The volume's destination inside the container. */
  dest: string;
}

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch {
    return true;
  }
}

/**
 * Copies `<rootfs>/<dest>` into the volume when the volume is new and empty.
 * The source is resolved inside the rootfs (libpod: `securejoin`), so a
 * symlink on the way never points the copy at the host.
 */
function copyUp(vol: VolumeRecord, from: CopyUpSource): ResultAsync<void, LibpodError> {
  const resolved = secureJoin(from.rootfs, from.dest);
  if (resolved.isErr()) return errAsync(resolved.error);
  const src = resolved.value;
  return attempt(async () => {
    const st = await lstat(src).catch(() => undefined);
    return st?.isDirectory() === true && (await isEmptyDir(vol.mountPoint));
  }, 'Internal', `checking copy-up source ${src}`).andThen((should) => (should ? copyTree(src, vol.mountPoint) : okAsync(undefined)));
}

/**
 * A container starts using volume `name`: mounts it when it needs a mount and
 * is not mounted, copies content up on first use. Takes the volume's lock;
 * a `mount` event is published (after unlocking) when it was mounted.
 */
export function acquireVolume(ctx: EngineContext, name: string, from?: CopyUpSource): ResultAsync<void, LibpodError> {
  let mounted: VolumeRecord | undefined;
  return ctx.locks
    .withLock({ kind: 'volume', id: name }, () =>
      ctx.index.getVolume(name).andThen((vol) => {
        const mountNow = needsMount(vol) && vol.mountCount === 0;
        const mount = mountNow ? mountVolumeFilesystem(vol) : okAsync(undefined);
        return mount.andThen(() =>
          (vol.needsCopyUp && from ? copyUp(vol, from) : okAsync(undefined))
            .andThen(() => {
              vol.needsCopyUp = false;
              if (needsMount(vol)) vol.mountCount += 1;
              return ctx.index.saveVolume(vol);
            })
            .map(() => {
              if (mountNow) mounted = vol;
            })
            .orElse((e) => (mountNow ? failAfter(e, () => unmountVolumeFilesystem(vol)) : errAsync(e))),
        );
      }),
    )
    .map(() => {
      if (mounted) ctx.publish([volumeEvent(mounted, 'mount')]);
    });
}

/**
 * A container stops using volume `name`: unmounts it when it was the last
 * user (an `unmount` event is published then, after unlocking).
 */
export function releaseVolume(ctx: EngineContext, name: string): ResultAsync<void, LibpodError> {
  let unmounted: VolumeRecord | undefined;
  return ctx.locks
    .withLock({ kind: 'volume', id: name }, () =>
      ctx.index.getVolume(name).andThen((vol) => {
        if (!needsMount(vol) || vol.mountCount === 0) return okAsync(undefined);
        vol.mountCount -= 1;
        const last = vol.mountCount === 0;
        const unmount = last ? unmountVolumeFilesystem(vol) : okAsync(undefined);
        return unmount.andThen(() => ctx.index.saveVolume(vol)).map(() => {
          if (last) unmounted = vol;
        });
      }),
    )
    .map(() => {
      if (unmounted) ctx.publish([volumeEvent(unmounted, 'unmount')]);
    });
}
