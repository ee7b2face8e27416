/**
 * The `local` volume driver's mounts: a volume with a `type` or `device`
 * option is a filesystem mounted on its directory while in use (e.g. tmpfs
 * with `o=size=64m`); a plain volume is just the directory.
 * @module
 */
import { okAsync, type ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { VolumeRecord } from '../define/records.js';
import { runChecked } from '../host/command.js';

/** Whether the volume is a filesystem that must be mounted while in use. */
export function needsMount(vol: VolumeRecord): boolean {
  return vol.options.type !== undefined || vol.options.device !== undefined;
}

/** Mounts the volume's filesystem on its directory. */
export function mountVolumeFilesystem(vol: VolumeRecord): ResultAsync<void, LibpodError> {
  const type = vol.options.type ?? 'none';
  const device = vol.options.device ?? type;
  const args = ['-t', type];
  if (vol.options.o) args.push('-o', vol.options.o);
  args.push(device, vol.mountPoint);
  return runChecked('mount', args, { errorCode: 'Internal', notFoundCode: 'Internal' }).map(() => undefined);
}

/** Unmounts the volume's filesystem. */
export function unmountVolumeFilesystem(vol: VolumeRecord): ResultAsync<void, LibpodError> {
  if (!needsMount(vol)) return okAsync(undefined);
  return runChecked('umount', [vol.mountPoint], { errorCode: 'Internal', notFoundCode: 'Internal' }).map(() => undefined);
}
