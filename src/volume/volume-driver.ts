/**
 * The `local` volume driver's mounts: a volume with a `type` or `device`
 * option is a filesystem mounted on its directory while in use (e.g. tmpfs
 * with `o=size=64m`); a plain volume is just the directory.
 *
 * The mount command line is podman's (`volume_internal_common.go`):
 * `mount [-o <o>] [-t <type> | -o bind] <device or type> <dir>`.
 * @module
 */
import { okAsync, type ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { VolumeRecord } from '../define/records.js';
import { runChecked } from '../host/command.js';
import { isMountPoint } from '../host/mountinfo.js';

/** Whether the volume is a filesystem that must be mounted while in use. */
export function needsMount(vol: VolumeRecord): boolean {
  return vol.options.type !== undefined || vol.options.device !== undefined;
}

/** The `mount` arguments for the volume (podman's layout). */
export function mountArgs(vol: VolumeRecord): string[] {
  const type = vol.options.type ?? '';
  // Some filesystems (tmpfs) have no device, but the kernel needs something.
  const device = vol.options.device ?? (type === '' ? 'none' : type);
  const args: string[] = [];
  if (vol.options.o) args.push('-o', vol.options.o);
  if (type === 'bind') args.push('-o', 'bind');
  else if (type !== '') args.push('-t', type);
  args.push(device, vol.mountPoint);
  return args;
}

/** Mounts the volume's filesystem on its directory. */
export function mountVolumeFilesystem(vol: VolumeRecord): ResultAsync<void, LibpodError> {
  return runChecked('mount', mountArgs(vol), { errorCode: 'Internal', notFoundCode: 'Internal' }).map(() => undefined);
}

/**
 * Unmounts the volume's filesystem (lazily, as podman's `MNT_DETACH`); a
 * volume that is not mounted (any more) is no error.
 */
export function unmountVolumeFilesystem(vol: VolumeRecord): ResultAsync<void, LibpodError> {
  if (!needsMount(vol)) return okAsync(undefined);
  return isMountPoint(vol.mountPoint).andThen((mounted) =>
    mounted ? runChecked('umount', ['-l', vol.mountPoint], { errorCode: 'Internal', notFoundCode: 'Internal' }).map(() => undefined) : okAsync(undefined),
  );
}
