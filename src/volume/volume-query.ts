/**
 * Finding volumes: lookup by name (or unique name prefix, as libpod's
 * `LookupVolume`) and the filter of `runtime.volumes()`.
 * @module
 */
import { labelsMatch } from '../container/container-filter.js';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { ContainerRecord, VolumeRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { labelFilter } from '../util/validate.js';

type R<T> = ResultAsync<T, LibpodError>;

/** Filter of `runtime.volumes()`; every given field must match. */
export interface VolumeFilter {
  /** Exact name, or a RegExp tested against the name. */
  name?: string | RegExp;
  /** `'key'`, `'key=value'`, or `{ key: value }` (all must match). */
  label?: string | Record<string, string>;
  /** Only `'local'` exists. */
  driver?: string;
  /** `true`: only volumes no container uses; `false`: only used ones. */
  dangling?: boolean;
}

/**
 * The volume named `name`, else the only one whose name starts with it.
 * `InvalidArg` for an empty or ambiguous query, `NoSuchVolume` when none.
 */
export function lookupVolumeRecord(ctx: EngineContext, name: string): R<VolumeRecord> {
  if (typeof name !== 'string' || name.length === 0) return errAsync(libpodError('InvalidArg', 'must provide a non-empty volume name'));
  return ctx.index.allVolumes().andThen((vols) => {
    const exact = vols.find((v) => v.name === name);
    if (exact) return okAsync(exact);
    const prefixed = vols.filter((v) => v.name.startsWith(name));
    if (prefixed.length > 1) return errAsync(libpodError('InvalidArg', `more than one result for volume name ${name}: invalid argument`));
    const [only] = prefixed;
    return only ? okAsync(only) : errAsync(libpodError('NoSuchVolume', `no volume with name "${name}" found: no such volume`));
  });
}

/** `InvalidArg` for a malformed volume filter. */
export function checkVolumeFilter(filter: unknown): LibpodError | undefined {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) return libpodError('InvalidArg', 'volume filter must be an object');
  for (const k of Object.keys(filter)) if (!['name', 'label', 'driver', 'dangling'].includes(k)) return libpodError('InvalidArg', `unknown volume filter "${k}"`);
  const f = filter as VolumeFilter;
  if (f.name !== undefined && typeof f.name !== 'string' && !(f.name instanceof RegExp)) return libpodError('InvalidArg', 'volume filter name must be a string or RegExp');
  if (f.label !== undefined && labelFilter(f.label) !== undefined) {
    return libpodError('InvalidArg', 'volume filter label must be a string or an object');
  }
  if (f.driver !== undefined && typeof f.driver !== 'string') return libpodError('InvalidArg', 'volume filter driver must be a string');
  if (f.dangling !== undefined && typeof f.dangling !== 'boolean') return libpodError('InvalidArg', 'volume filter dangling must be a boolean');
  return undefined;
}

/** Names of the volumes used by any of `ctrs`. */
export function usedVolumeNames(ctrs: readonly ContainerRecord[]): Set<string> {
  return new Set(ctrs.flatMap((c) => c.config.volumes.map((v) => v.name)));
}

/** Volumes matching `f`, sorted by creation time. */
export function listVolumeRecords(
  ctx: EngineContext,
  f: VolumeFilter,
): R<VolumeRecord[]> {
  return ctx.index.allVolumes().andThen((vols) =>
    (f.dangling === undefined ? okAsync(new Set<string>()) : ctx.index.allContainers().map(usedVolumeNames)).map((used) =>
      vols
        .filter((v) => {
          if (f.name !== undefined && !(typeof f.name === 'string' ? v.name === f.name : f.name.test(v.name))) return false;
          if (!labelsMatch(v.labels, f.label)) return false;
          if (f.driver !== undefined && v.driver !== f.driver) return false;
          if (f.dangling !== undefined && used.has(v.name) === f.dangling) return false;
          return true;
        })
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name)),
    ),
  );
}
