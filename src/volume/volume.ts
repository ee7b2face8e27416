/**
 * The public Volume handle: a named volume of the `local` driver (a
 * directory under `<root>/volumes/<name>/_data`, or a filesystem mounted
 * there while in use when `type`/`device` options are given).
 * @module
 */
import { errAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { VolumeRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { safe } from '../util/safe.js';
import { hardenMethods } from '../util/harden.js';
import {
  checkExportTarget,
  checkImportSource,
  exportVolume,
  importVolume,
  type VolumeExportTarget,
  type VolumeImportSource,
} from './volume-archive.js';
import { needsMount } from './volume-driver.js';


/** What `volume.inspect()` resolves to (podman's `InspectVolumeData`, camelCase). */
export interface VolumeInspect {
  name: string;
  driver: 'local';
  /** Host directory holding the data (where the filesystem is mounted, for mounted volumes). */
  mountPoint: string;
  createdAt: Date;
  labels: Record<string, string>;
  /** Driver options (`type`, `device`, `o`, `uid`, `gid`). */
  options: Record<string, string>;
  /** Always `'local'`. */
  scope: 'local';
  /** Whether the volume is a filesystem mounted while in use. */
  needsMount: boolean;
  /** How many users have it mounted (0 for plain directories). */
  mountCount: number;
  /** Whether image content is still to be copied up on first use. */
  needsCopyUp: boolean;
  uid?: number;
  gid?: number;
}

/** A named volume. A cheap handle on its record; safe to share. */
export class Volume {
  readonly #ctx: EngineContext;
  readonly #rec: VolumeRecord;

  /** @internal Handles are made by the Runtime. */
  constructor(ctx: EngineContext, rec: VolumeRecord) {
    this.#ctx = ctx;
    this.#rec = structuredClone(rec);
  }

  /** The volume's name (its key). */
  get name(): string {
    return this.#rec.name;
  }

  /** The driver: always `'local'`. */
  get driver(): 'local' {
    return this.#rec.driver;
  }

  /** Labels (a copy). */
  get labels(): Record<string, string> {
    return { ...this.#rec.labels };
  }

  /** Driver options (a copy). */
  get options(): Record<string, string> {
    return { ...this.#rec.options };
  }

  /** The host directory holding the data. */
  mountPoint(): string {
    return this.#rec.mountPoint;
  }

  #record(): ResultAsync<VolumeRecord, LibpodError> {
    const g = this.#ctx.guard();
    if (g.isErr()) return errAsync(g.error);
    return this.#ctx.index
      .getVolume(this.#rec.name)
      .mapErr((e) => (e.code === 'NoSuchVolume' ? libpodError('VolumeRemoved', `volume ${this.#rec.name} has been removed: volume already removed`, e) : e));
  }

  /** The volume's configuration and state; `VolumeRemoved` once removed. */
  inspect(): ResultAsync<VolumeInspect, LibpodError> {
    return safe(() =>
      this.#record().map((v) => ({
        name: v.name,
        driver: v.driver,
        mountPoint: v.mountPoint,
        createdAt: new Date(v.createdAt),
        labels: { ...v.labels },
        options: { ...v.options },
        scope: 'local' as const,
        needsMount: needsMount(v),
        mountCount: v.mountCount,
        needsCopyUp: v.needsCopyUp,
        ...(v.uid === undefined ? {} : { uid: v.uid }),
        ...(v.gid === undefined ? {} : { gid: v.gid }),
      })),
    );
  }

  /** Ids of the containers using the volume. */
  inUse(): ResultAsync<string[], LibpodError> {
    return safe(() => this.#record().andThen((v) => this.#ctx.index.volumeUsers(v.name)));
  }

  /** Writes the volume's content as a tar archive to a file path or a stream. */
  export(dest: VolumeExportTarget): ResultAsync<void, LibpodError> {
    const bad = checkExportTarget(dest);
    if (bad) return errAsync(bad);
    return safe(() => this.#record().andThen(() => exportVolume(this.#ctx, this.#rec.name, dest)));
  }

  /**
   * Extracts a tar archive (file path or stream) into the volume. Entries
   * escaping the volume are refused with `InvalidArg`.
   */
  import(src: VolumeImportSource): ResultAsync<void, LibpodError> {
    const bad = checkImportSource(src);
    if (bad) return errAsync(bad);
    return safe(() => this.#record().andThen(() => importVolume(this.#ctx, this.#rec.name, src)));
  }
}

// Every verb gets a safe copy of its arguments; hostile input is InvalidArg (util/harden.ts).
hardenMethods(Volume.prototype, { mountPoint: 'plain' });
