/**
 * Volume removal and pruning (libpod `removeVolume`, `PruneVolumes`).
 *
 * Lock order is pod → volume → container, and a container holding its lock
 * takes a volume's lock to mount it. So a forced removal removes the
 * containers using the volume first, each under its own lock, BEFORE taking
 * the volume's lock; under the volume lock it only re-checks, unmounts and
 * drops the record.
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { LibpodError, libpodError } from '../define/errors.js';
import type { VolumeEventStatus } from '../define/events.js';
import type { VolumeRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { admitted } from '../engine/operation-gate.js';
import { removeVerb } from '../container/remove.js';
import { withContainer } from '../container/session.js';
import { syncContainer } from '../container/sync.js';
import { logger } from '../util/log.js';
import { removeVolumeRecord } from './volume-create.js';
import { needsMount, unmountVolumeFilesystem } from './volume-driver.js';
import { volumeEvent } from './volume-events.js';

const log = logger('volume');

type R<T> = ResultAsync<T, LibpodError>;

/** Options of `runtime.removeVolume`. */
export interface RemoveVolumeOptions {
  /** Remove the containers using the volume first (forcing their removal). */
  force?: boolean;
  /** Seconds each container's stop waits before SIGKILL (with `force`). */
  timeout?: number;
}

function beingUsed(name: string, users: readonly string[]): LibpodError {
  return libpodError('VolumeBeingUsed', `volume ${name} is being used by the following container(s): ${users.join(', ')}: volume is being used`);
}

/** Removes the containers using the volume, one after the other, each under its own lock. */
function removeUsers(ctx: EngineContext, name: string, users: readonly string[], timeout: number | undefined): R<void> {
  const opts = { force: true, ...(timeout === undefined ? {} : { timeout }) };
  return users.reduce<R<void>>(
    (acc, id) =>
      acc.andThen(() =>
        withContainer(ctx, id, (s) => removeVerb(s, opts), syncContainer).orElse((e) =>
          e.code === 'CtrRemoved' || e.code === 'NoSuchCtr'
            ? okAsync(undefined)
            : errAsync(libpodError(e.code, `removing container ${id} that depends on volume ${name}: ${e.message}`, e)),
        ),
      ),
    okAsync(undefined),
  );
}

/** Under the volume lock: re-check users, unmount, drop record and directory. */
function dropVolume(ctx: EngineContext, name: string, force: boolean): R<VolumeRecord> {
  return ctx.locks.withLock({ kind: 'volume', id: name }, () =>
    ctx.index.getVolume(name).andThen((vol) =>
      ctx.index.volumeUsers(name).andThen((users) => {
        if (users.length > 0) return errAsync(beingUsed(name, users));
        const unmount = needsMount(vol) && vol.mountCount > 0 ? unmountVolumeFilesystem(vol) : okAsync<void, LibpodError>(undefined);
        return unmount
          .orElse((e) => {
            if (!force) return errAsync(libpodError(e.code, `unmounting volume ${name}: ${e.message}`, e));
            // Forced: evict the volume anyway, or it could never be removed.
            log('unmounting volume %s: %s', name, e.message);
            return okAsync(undefined);
          })
          .andThen(() => removeVolumeRecord(ctx, name))
          .map(() => vol);
      }),
    ),
  );
}

/**
 * Removes volume `name`. Used volumes are `VolumeBeingUsed` unless `force`,
 * which removes the containers using it first. Publishes `remove`
 * (and `extra`, e.g. `prune`) after unlocking.
 */
export function removeVolumeVerb(ctx: EngineContext, name: string, opts: RemoveVolumeOptions, extra?: VolumeEventStatus): R<void> {
  return admitted(ctx, (op) => removeVolume(op, name, opts, extra));
}

function removeVolume(ctx: EngineContext, name: string, opts: RemoveVolumeOptions, extra?: VolumeEventStatus): R<void> {
  const force = opts.force === true;
  return ctx.index
    .volumeUsers(name)
    .andThen((users) => {
      if (users.length === 0) return okAsync(undefined);
      return force ? removeUsers(ctx, name, users, opts.timeout) : errAsync(beingUsed(name, users));
    })
    .andThen(() => dropVolume(ctx, name, force))
    .map((vol) => {
      ctx.locks.forget({ kind: 'volume', id: name });
      ctx.publish([volumeEvent(vol, 'remove'), ...(extra ? [volumeEvent(vol, extra)] : [])]);
    });
}

/**
 * Removes every volume no container uses (libpod `PruneVolumes`); resolves
 * to their names. A volume that got a user meanwhile is skipped; other
 * failures are reported together (first failure's code, all in `related`).
 */
export function pruneVolumesVerb(ctx: EngineContext): R<string[]> {
  return ctx.index.allVolumes().andThen((vols) => {
    const removed: string[] = [];
    const failures: LibpodError[] = [];
    const run = vols.reduce<R<void>>(
      (acc, v) =>
        acc.andThen(() =>
          removeVolumeVerb(ctx, v.name, {}, 'prune')
            .map(() => void removed.push(v.name))
            .orElse((e) => {
              if (!['VolumeBeingUsed', 'NoSuchVolume'].includes(e.code)) failures.push(e);
              return okAsync(undefined);
            }),
        ),
      okAsync(undefined),
    );
    return run.andThen(() => {
      const [first] = failures;
      if (!first) return okAsync(removed);
      return errAsync(
        new LibpodError(first.code, `error pruning some volumes (removed: ${removed.join(', ') || 'none'}): ${first.message}`, { cause: first, related: failures }),
      );
    });
  });
}
