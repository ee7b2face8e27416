/**
 * Creating and dropping volume records with their directories (the `local`
 * driver keeps data in `<root>/volumes/<name>/_data`, as podman does).
 * @module
 */
import { failAfter } from '../util/safe.js';
import { stringMap } from '../util/validate.js';
import { chown, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../define/errors.js';
import { generateId, validateName } from '../define/ids.js';
import type { VolumeRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { admitted } from '../engine/operation-gate.js';
import { volumeEvent } from './volume-events.js';

/** Options of `runtime.newVolume`. */
export interface VolumeCreateOptions {
  /** Name (generated when absent); no slashes, no `..`. */
  name?: string;
  /** Only `'local'`. */
  driver?: 'local';
  labels?: Record<string, string>;
  /** local driver options: `type`, `device`, `o` (mount options), `uid`, `gid`. */
  options?: Record<string, string>;
}

const DRIVER_OPTIONS = ['type', 'device', 'o', 'uid', 'gid'];

/** The directory holding a volume's data. */
export function volumeDataDir(root: string, name: string): string {
  return join(root, 'volumes', name, '_data');
}

function parseId(value: string | undefined, what: string): number | undefined | LibpodError {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) return libpodError('InvalidArg', `volume option ${what} must be a numeric id, got "${value}"`);
  return Number(value);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the shape of `runtime.newVolume` options: unknown keys, labels and options that are not string maps are `InvalidArg`. */
export function checkVolumeOptions(opts: unknown): LibpodError | undefined {
  if (opts === undefined) return undefined;
  if (!isPlainObject(opts)) return libpodError('InvalidArg', 'volume options must be an object');
  for (const k of Object.keys(opts)) if (!['name', 'driver', 'labels', 'options'].includes(k)) return libpodError('InvalidArg', `unknown volume option "${k}"`);
  for (const k of ['labels', 'options'] as const) {
    const v = opts[k];
    if (v !== undefined && stringMap(v) !== undefined) {
      return libpodError('InvalidArg', `volume ${k} must be an object of strings`);
    }
  }
  return undefined;
}

/** podman's checks of the local driver's `type`/`device` pair. */
function checkMountOptions(options: Record<string, string>): LibpodError | undefined {
  const { type, device, o } = options;
  if (type !== undefined && !/^[a-z0-9._-]+$/i.test(type)) return libpodError('InvalidArg', `invalid volume option type "${type}"`);
  if (o !== undefined && /[\s\0]/.test(o)) return libpodError('InvalidArg', `invalid volume option o "${o}": no whitespace allowed`);
  if (device !== undefined && (device === '' || device.includes('\0'))) return libpodError('InvalidArg', 'invalid volume option device: must be non-empty');
  if (type === 'bind' && (device === undefined || !isAbsolute(device) || !existsSync(device))) {
    return libpodError('InvalidArg', `invalid volume option device for driver 'local': bind source ${String(device)} must be an existing absolute path`);
  }
  return undefined;
}

/** Validates options and builds the record (no side effects). */
export function volumeRecord(root: string, opts: VolumeCreateOptions, name: string): ResultAsync<VolumeRecord, LibpodError> {
  const shape = checkVolumeOptions(opts);
  if (shape) return errAsync(shape);
  const n = validateName(name, 'volume');
  if (n.isErr()) return errAsync(n.error);
  if (opts.driver !== undefined && opts.driver !== 'local') return errAsync(libpodError('InvalidArg', `volume driver "${String(opts.driver)}" is not supported: only "local"`));
  const options = opts.options ?? {};
  for (const [k, v] of Object.entries(options)) {
    if (!DRIVER_OPTIONS.includes(k)) return errAsync(libpodError('InvalidArg', `invalid mount option ${k} for driver 'local'`));
    if (typeof v !== 'string') return errAsync(libpodError('InvalidArg', `volume option ${k} must be a string`));
  }
  const mountProblem = checkMountOptions(options);
  if (mountProblem) return errAsync(mountProblem);
  const uid = parseId(options.uid, 'uid');
  const gid = parseId(options.gid, 'gid');
  if (uid instanceof Error) return errAsync(uid);
  if (gid instanceof Error) return errAsync(gid);
  return okAsync({
    name,
    driver: 'local',
    createdAt: new Date().toISOString(),
    labels: { ...(opts.labels ?? {}) },
    options: { ...options },
    mountPoint: volumeDataDir(root, name),
    mountCount: 0,
    needsCopyUp: true,
    ...(uid === undefined ? {} : { uid }),
    ...(gid === undefined ? {} : { gid }),
  });
}

/** Creates the volume's directory and record. */
export function createVolume(ctx: EngineContext, opts: VolumeCreateOptions & { name: string }): ResultAsync<VolumeRecord, LibpodError> {
  const exists = (rec: VolumeRecord): ResultAsync<VolumeRecord, LibpodError> =>
    ctx.index
      .getVolume(rec.name)
      .andThen(() => errAsync<VolumeRecord, LibpodError>(libpodError('VolumeExists', `volume with name ${rec.name} already exists: volume already exists`)))
      .orElse((e) => (e.code === 'NoSuchVolume' ? okAsync(rec) : errAsync(e)));
  return volumeRecord(ctx.root, opts, opts.name).andThen(exists).andThen((rec) =>
    attempt(async () => {
      await mkdir(rec.mountPoint, { recursive: true, mode: 0o755 });
      if (rec.uid !== undefined || rec.gid !== undefined) await chown(rec.mountPoint, rec.uid ?? 0, rec.gid ?? 0);
    }, 'Internal', `creating directory of volume ${rec.name}`)
      .andThen(() => ctx.index.addVolume(rec))
      .map(() => rec)
      .orElse((e) => (e.code === 'VolumeExists' ? errAsync(e) : failAfter(e, () => dropVolumeDir(ctx.root, rec.name)))),
  );
}

function dropVolumeDir(root: string, name: string): ResultAsync<void, LibpodError> {
  return attempt(() => rm(join(root, 'volumes', name), { recursive: true, force: true }), 'Internal', `removing directory of volume ${name}`);
}

/** Drops a volume's record, then its directory. */
export function removeVolumeRecord(ctx: EngineContext, name: string): ResultAsync<void, LibpodError> {
  return ctx.index.removeVolume(name).andThen(() => dropVolumeDir(ctx.root, name));
}

/**
 * `runtime.newVolume`: validates, generates a name when absent (64 hex
 * characters, as podman), creates the directory and the record, and
 * publishes `create`.
 */
export function newVolume(ctx: EngineContext, opts: unknown): ResultAsync<VolumeRecord, LibpodError> {
  return admitted(ctx, (op) => addVolume(op, opts));
}

function addVolume(ctx: EngineContext, opts: unknown): ResultAsync<VolumeRecord, LibpodError> {
  const shape = checkVolumeOptions(opts);
  if (shape) return errAsync(shape);
  const o = (opts ?? {}) as VolumeCreateOptions;
  return createVolume(ctx, { ...o, name: o.name ?? generateId() }).map((rec) => {
    ctx.publish([volumeEvent(rec, 'create')]);
    return rec;
  });
}
