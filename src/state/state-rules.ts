/**
 * The pure integrity checks behind {@link StateIndex}: given a candidate
 * record and the current records, the libpod error it violates (if any).
 * Messages follow libpod's wording.
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type ErrorCode, type LibpodError } from '../define/errors.js';
import { FULL_ID_PATTERN, validateName } from '../define/ids.js';
import type { ContainerRecord, PodRecord } from '../define/records.js';
import type { ContainerRelations, Owner } from './relations.js';

type Named = { id: string; name: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `Err(InvalidArg)` unless `id` is a full 64-hex id. */
export function checkFullId(id: unknown, what: 'container' | 'pod'): Result<string, LibpodError> {
  if (typeof id !== 'string' || !FULL_ID_PATTERN.test(id)) {
    return err(libpodError('InvalidArg', `${what} ID "${String(id)}" must be 64 lowercase hexadecimal characters`));
  }
  return ok(id);
}

/** The shape checks of a container record (not its relations). */
export function checkContainerShape(rec: unknown): Result<ContainerRecord, LibpodError> {
  if (!isObject(rec)) return err(libpodError('InvalidArg', 'container record must be an object'));
  const id = checkFullId(rec.id, 'container');
  if (id.isErr()) return err(id.error);
  const name = validateName(rec.name, 'container');
  if (name.isErr()) return err(name.error);
  if (!isObject(rec.config) || !isObject(rec.state)) {
    return err(libpodError('InvalidArg', `container ${id.value} record needs a config and a state`));
  }
  if (!Array.isArray(rec.dependencyIds) || rec.dependencyIds.some((d) => typeof d !== 'string')) {
    return err(libpodError('InvalidArg', `container ${id.value} dependencyIds must be an array of IDs`));
  }
  return ok(rec as unknown as ContainerRecord);
}

/** The shape checks of a pod record. */
export function checkPodShape(rec: unknown): Result<PodRecord, LibpodError> {
  if (!isObject(rec)) return err(libpodError('InvalidArg', 'pod record must be an object'));
  const id = checkFullId(rec.id, 'pod');
  if (id.isErr()) return err(id.error);
  const name = validateName(rec.name, 'pod');
  if (name.isErr()) return err(name.error);
  return ok(rec as unknown as PodRecord);
}

/**
 * Ids and names are one namespace across containers and pods (libpod's id
 * and name registries): `code` when `candidate`'s id or name already has an
 * owner (`idOwner`, `nameOwner`).
 */
export function checkIdAndName(
  candidate: Named,
  what: 'container' | 'pod',
  idOwner: Owner | undefined,
  nameOwner: Owner | undefined,
  code: ErrorCode,
): Result<void, LibpodError> {
  if (idOwner) {
    return err(libpodError(code, `ID ${candidate.id} is already in use by ${idOwner.kind} ${idOwner.id}: ${what} already exists`));
  }
  if (nameOwner) {
    return err(
      libpodError(
        code,
        `the ${what} name "${candidate.name}" is already in use by ${nameOwner.kind} ${nameOwner.id}. You have to remove that ${nameOwner.kind} to be able to reuse that name: that name is already in use`,
      ),
    );
  }
  return ok(undefined);
}

/** Dependencies must exist, not be the container itself, and share its pod (libpod's rule). */
export function checkDependencies(rec: ContainerRecord, ctrs: ReadonlyMap<string, { podId?: string }>): Result<void, LibpodError> {
  for (const depId of rec.dependencyIds) {
    if (depId === rec.id) return err(libpodError('InvalidArg', `container ${rec.id} cannot depend on itself`));
    const dep = ctrs.get(depId);
    if (!dep) {
      return err(libpodError('NoSuchCtr', `container ${rec.id} depends on container ${depId} which does not exist: no such container`));
    }
    if (dep.podId !== rec.podId) {
      const where = rec.podId ? `pod ${rec.podId}` : 'no pod';
      return err(
        libpodError('InvalidArg', `container ${rec.id} (in ${where}) depends on container ${depId} which is in a different pod`),
      );
    }
  }
  return ok(undefined);
}

/** The ids of containers in `ctrs` that list `id` among their dependencies, excluding `ignore`. */
export function dependentsOf(id: string, ctrs: Iterable<Pick<ContainerRelations, 'id' | 'dependencyIds'>>, ignore: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const c of ctrs) if (!ignore.has(c.id) && c.dependencyIds.includes(id)) out.push(c.id);
  return out;
}

/** The ids of containers in `ctrs` whose config uses volume `name`. */
export function usersOfVolume(name: string, ctrs: Iterable<Pick<ContainerRelations, 'id' | 'volumes'>>): string[] {
  const out: string[] = [];
  for (const c of ctrs) if (c.volumes.includes(name)) out.push(c.id);
  return out;
}

/**
 * libpod's lookup order over `items`: exact full id, exact name, then a
 * unique id prefix. `undefined` when nothing matches; `Err(InvalidArg)` for
 * an empty query or an ambiguous prefix.
 */
export function resolveLookup<T extends Named>(query: unknown, items: readonly T[], what: 'container' | 'pod'): Result<T | undefined, LibpodError> {
  if (typeof query !== 'string' || query.length === 0) {
    return err(libpodError('InvalidArg', `must provide a non-empty name or ID to look up a ${what}`));
  }
  const byId = items.find((i) => i.id === query);
  if (byId) return ok(byId);
  const byName = items.find((i) => i.name === query);
  if (byName) return ok(byName);
  const byPrefix = items.filter((i) => i.id.startsWith(query));
  if (byPrefix.length > 1) {
    return err(libpodError('InvalidArg', `more than one result for ${what} ID prefix "${query}": invalid argument`));
  }
  return ok(byPrefix[0]);
}
