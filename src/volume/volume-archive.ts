/**
 * `volume.export()` / `volume.import()` (podman `volume export` / `volume
 * import`): the volume's content as a tar archive. Both hold the volume's
 * lock; a volume that needs a mount and is not mounted is mounted for the
 * duration. Import refuses entries that would land outside the volume.
 * @module
 */
import { createReadStream, statSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { VolumeRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { exportTree, extractTree } from '../archive/index.js';
import { admitted } from '../engine/operation-gate.js';
import { failAfter } from '../util/safe.js';
import { mountVolumeFilesystem, needsMount, unmountVolumeFilesystem } from './volume-driver.js';

type R<T> = ResultAsync<T, LibpodError>;

/** Where `export` writes: a file path or a writable stream. */
export type VolumeExportTarget = string | NodeJS.WritableStream;

/** What `import` reads: a tar file path or a readable stream. */
export type VolumeImportSource = string | NodeJS.ReadableStream;

/** Runs `fn` on the volume under its lock, with its filesystem mounted (temporarily, if need be). */
function withMountedVolume<T>(ctx: EngineContext, name: string, fn: (vol: VolumeRecord) => R<T>): R<T> {
  return admitted(ctx, (op) => lockMounted(op, name, fn));
}

function lockMounted<T>(ctx: EngineContext, name: string, fn: (vol: VolumeRecord) => R<T>): R<T> {
  return ctx.locks.withLock({ kind: 'volume', id: name }, () =>
    ctx.index
      .getVolume(name)
      .mapErr((e) => (e.code === 'NoSuchVolume' ? libpodError('VolumeRemoved', `volume ${name} has been removed: volume already removed`, e) : e))
      .andThen((vol) => {
        const temporary = needsMount(vol) && vol.mountCount === 0;
        if (!temporary) return fn(vol);
        return mountVolumeFilesystem(vol).andThen(() =>
          fn(vol)
            .andThen((v) => unmountVolumeFilesystem(vol).map(() => v))
            .orElse((e) => failAfter(e, () => unmountVolumeFilesystem(vol))),
        );
      }),
  );
}

/** `InvalidArg` unless `dest` is a non-empty path or a writable stream. */
export function checkExportTarget(dest: unknown): LibpodError | undefined {
  if (typeof dest === 'string' ? dest.length > 0 : dest instanceof Writable) return undefined;
  return libpodError('InvalidArg', 'volume export destination must be a file path or a Writable');
}

/** `InvalidArg` unless `src` is a non-empty path or a readable stream. */
export function checkImportSource(src: unknown): LibpodError | undefined {
  if (typeof src === 'string' ? src.length > 0 : src instanceof Readable) return undefined;
  return libpodError('InvalidArg', 'volume import source must be a file path or a Readable');
}

/** Writes the volume's content as a tar archive. */
export function exportVolume(ctx: EngineContext, name: string, dest: VolumeExportTarget): R<void> {
  return withMountedVolume(ctx, name, (vol) => exportTree(vol.mountPoint, dest));
}

/**
 * Extracts a tar archive into the volume (over what is there), keeping
 * hard links, devices, FIFOs, xattrs, owners and modes (see `archive/`).
 * Entries that escape the volume (absolute paths, `..`, links out of it,
 * writes through a symlink already in the volume) are refused with
 * `InvalidArg` (absolute symlink targets are kept: they resolve inside the
 * container). The volume counts as filled: no copy-up happens later.
 */
export function importVolume(ctx: EngineContext, name: string, src: VolumeImportSource): R<void> {
  return withMountedVolume(ctx, name, (vol) => {
    if (typeof src === 'string' && statSync(src, { throwIfNoEntry: false })?.isFile() !== true) {
      return errAsync(libpodError('InvalidArg', `volume import source ${src} is not a file`));
    }
    const stream = typeof src === 'string' ? createReadStream(src) : src;
    return extractTree(stream, vol.mountPoint).andThen(() => {
      if (!vol.needsCopyUp) return okAsync(undefined);
      vol.needsCopyUp = false;
      return ctx.index.saveVolume(vol);
    });
  });
}
