/**
 * The relations {@link StateIndex} checks, held in memory: the ids and names
 * of containers and pods, each container's pod, dependencies and volumes,
 * and the volume names. None of them changes once a record is added (a save
 * only changes the state), so they are loaded from the store once and then
 * kept current by the writes the index makes: a check is a map lookup, not a
 * read and parse of every record.
 * @module
 */
import type { ContainerRecord, PodRecord, RecordKind, VolumeRecord } from '../define/records.js';
import type { StateWriteOp } from './state-store.js';

/** What the checks need of a container. */
export interface ContainerRelations {
  id: string;
  name: string;
  podId?: string;
  dependencyIds: readonly string[];
  /** Names of the named volumes its config uses. */
  volumes: readonly string[];
}

/** What holds an id or a name: ids and names are one namespace across containers and pods. */
export interface Owner {
  kind: 'container' | 'pod';
  id: string;
}

/** A stored record passed its shape checks when it was added; these reads tolerate one that did not. */
function containerRelations(rec: ContainerRecord): ContainerRelations {
  return {
    id: rec.id,
    name: rec.name,
    ...(rec.podId !== undefined ? { podId: rec.podId } : {}),
    dependencyIds: Array.isArray(rec.dependencyIds) ? [...rec.dependencyIds] : [],
    volumes: (rec.config?.volumes ?? []).map((v) => v.name),
  };
}

/** The in-memory relations of one store. */
export class Relations {
  readonly #ctrs = new Map<string, ContainerRelations>();
  readonly #podNames = new Map<string, string>();
  readonly #volumes = new Set<string>();
  readonly #names = new Map<string, Owner>();

  /** The relations of these records (a full listing of the store). */
  static of(ctrs: readonly ContainerRecord[], pods: readonly PodRecord[], vols: readonly VolumeRecord[]): Relations {
    const r = new Relations();
    for (const c of ctrs) r.#putContainer(c);
    for (const p of pods) r.#putPod(p);
    for (const v of vols) r.#volumes.add(v.name);
    return r;
  }

  /** Applies a committed write (idempotent: applying it twice changes nothing more). */
  apply(ops: readonly StateWriteOp[]): void {
    for (const op of ops) {
      if (op.op === 'del') this.#delete(op.kind, op.key);
      else if (op.kind === 'container') this.#putContainer(op.value);
      else if (op.kind === 'pod') this.#putPod(op.value);
      else this.#volumes.add(op.key);
    }
  }

  #putContainer(rec: ContainerRecord): void {
    this.#delete('container', rec.id);
    this.#ctrs.set(rec.id, containerRelations(rec));
    this.#names.set(rec.name, { kind: 'container', id: rec.id });
  }

  #putPod(rec: PodRecord): void {
    this.#delete('pod', rec.id);
    this.#podNames.set(rec.id, rec.name);
    this.#names.set(rec.name, { kind: 'pod', id: rec.id });
  }

  #delete(kind: RecordKind, key: string): void {
    if (kind === 'volume') {
      this.#volumes.delete(key);
      return;
    }
    const name = kind === 'container' ? this.#ctrs.get(key)?.name : this.#podNames.get(key);
    if (kind === 'container') this.#ctrs.delete(key);
    else this.#podNames.delete(key);
    if (name !== undefined && this.#names.get(name)?.id === key) this.#names.delete(name);
  }

  /** The container or pod with this id. */
  idOwner(id: string): Owner | undefined {
    if (this.#ctrs.has(id)) return { kind: 'container', id };
    if (this.#podNames.has(id)) return { kind: 'pod', id };
    return undefined;
  }

  /** The container or pod with this name. */
  nameOwner(name: string): Owner | undefined {
    return this.#names.get(name);
  }

  /** The relations of every container, by id. */
  get containers(): ReadonlyMap<string, ContainerRelations> {
    return this.#ctrs;
  }

  /** Ids and names of every pod. */
  pods(): { id: string; name: string }[] {
    return [...this.#podNames].map(([id, name]) => ({ id, name }));
  }

  /** Whether a pod with this id exists. */
  hasPod(id: string): boolean {
    return this.#podNames.has(id);
  }

  /** Whether a volume with this name exists. */
  hasVolume(name: string): boolean {
    return this.#volumes.has(name);
  }

  /** Ids of the containers in pod `podId`. */
  membersOf(podId: string): string[] {
    const out: string[] = [];
    for (const c of this.#ctrs.values()) if (c.podId === podId) out.push(c.id);
    return out;
  }
}
