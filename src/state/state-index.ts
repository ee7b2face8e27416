/**
 * The integrity rules of libpod's `State`, written once above any
 * {@link StateStore}: unique ids and names across containers and pods, lookup
 * by id, name or unique prefix, dependencies, pod membership and volumes in
 * use. Every backend gets them for free.
 * @module
 */
import { err, errAsync, ok, okAsync, ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../define/errors.js';
import type { ContainerRecord, PodRecord, RecordKind, RecordMap, VolumeRecord } from '../define/records.js';
import { validateName, FULL_ID_PATTERN } from '../define/ids.js';
import type { StateStore, StateWriteOp } from './state-store.js';
import {
  checkContainerShape,
  checkDependencies,
  checkIdAndName,
  checkPodShape,
  dependentsOf,
  resolveLookup,
  usersOfVolume,
} from './state-rules.js';

type R<T> = ResultAsync<T, LibpodError>;

function emptyKey(what: string): LibpodError {
  return libpodError('InvalidArg', `must provide a non-empty ${what}`);
}

/**
 * libpod's State rules over a {@link StateStore}.
 *
 * Mutating operations (check, then write) run one at a time through an
 * internal queue, so two concurrent `addContainer` calls cannot both take the
 * same name. Records passed in and returned are copies. Every method returns
 * a `ResultAsync` and never throws.
 */
export class StateIndex {
  /** The store underneath (for open/close and capabilities). */
  readonly store: StateStore;
  #tail: Promise<unknown> = Promise.resolve();

  /** @param store an opened store (or one opened before the first call). */
  constructor(store: StateStore) {
    this.store = store;
  }

  // ---- containers ----

  /**
   * Adds a new container. `InvalidArg` for a malformed record; `CtrExists` when
   * its id or name is taken by a container or pod; `NoSuchCtr` for a missing
   * dependency; `NoSuchPod` for a missing pod; `NoSuchVolume` for a missing volume.
   */
  addContainer(rec: ContainerRecord): R<void> {
    return this.#serial(() => {
      const shape = checkContainerShape(rec);
      if (shape.isErr()) return errAsync(shape.error);
      return ResultAsync.combine([this.#ctrMap(), this.store.list('pod'), this.store.list('volume')]).andThen(
        ([ctrs, pods, vols]) => {
          const checked = checkIdAndName(rec, 'container', [...ctrs.values()], pods, 'CtrExists')
            .andThen(() => checkDependencies(rec, ctrs))
            .andThen(() => {
              if (rec.podId !== undefined && !pods.some((p) => p.id === rec.podId)) {
                return err(libpodError('NoSuchPod', `no pod with ID ${rec.podId} found: no such pod`));
              }
              const missing = (rec.config.volumes ?? []).find((v) => !vols.some((x) => x.name === v.name));
              if (missing) {
                return err(libpodError('NoSuchVolume', `volume ${missing.name} used by container ${rec.id} does not exist: no such volume`));
              }
              return ok(undefined);
            });
          if (checked.isErr()) return errAsync(checked.error);
          return this.store.write([{ op: 'put', kind: 'container', key: rec.id, value: rec }]);
        },
      );
    });
  }

  /**
   * Saves a container's state. Only `rec.state` is taken: id, name, config,
   * dependencies and pod are immutable. `NoSuchCtr` when it is not in the store.
   */
  saveContainer(rec: ContainerRecord): R<void> {
    return this.#serial(() => {
      if (typeof rec?.state !== 'object' || rec.state === null) {
        return errAsync(libpodError('InvalidArg', 'container record needs a state to save'));
      }
      return this.getContainer(rec.id).andThen((stored) =>
        this.store.write([{ op: 'put', kind: 'container', key: stored.id, value: { ...stored, state: rec.state } }]),
      );
    });
  }

  /** Removes a container: `NoSuchCtr` when missing, `DepExists` when others depend on it. */
  removeContainer(id: string): R<void> {
    return this.removeContainers([id]);
  }

  /**
   * Removes several containers in one atomic write. Each must exist
   * (`NoSuchCtr`); a dependent that is itself in `ids` does not block removal
   * (`DepExists` otherwise).
   */
  removeContainers(ids: readonly string[]): R<void> {
    return this.#serial(() =>
      this.#ctrMap().andThen((ctrs) => {
        const set = new Set(ids);
        for (const id of set) {
          if (!ctrs.has(id)) return errAsync(libpodError('NoSuchCtr', `no container with ID ${id} found in database: no such container`));
          const deps = dependentsOf(id, ctrs.values(), set);
          if (deps.length > 0) {
            return errAsync(
              libpodError('DepExists', `container ${id} has dependent containers which must be removed before it: ${deps.join(', ')}: dependency exists`),
            );
          }
        }
        return this.store.write([...set].map((id): StateWriteOp => ({ op: 'del', kind: 'container', key: id })));
      }),
    );
  }

  /** The container with this full id; `NoSuchCtr` when absent. */
  getContainer(fullId: string): R<ContainerRecord> {
    if (typeof fullId !== 'string' || fullId.length === 0) return errAsync(emptyKey('container ID'));
    return this.#require('container', fullId, () =>
      libpodError('NoSuchCtr', `no container with ID ${fullId} found in database: no such container`),
    );
  }

  /**
   * A container by full id, then name, then unique id prefix. `InvalidArg` for
   * an empty query or an ambiguous prefix; `NoSuchCtr` when nothing matches.
   */
  lookupContainer(idOrNameOrPrefix: string): R<ContainerRecord> {
    if (typeof idOrNameOrPrefix !== 'string' || idOrNameOrPrefix.length === 0) return errAsync(emptyKey('container name or ID'));
    // A full id is one read; only names and prefixes need the whole list.
    const direct = FULL_ID_PATTERN.test(idOrNameOrPrefix) ? this.store.get('container', idOrNameOrPrefix) : okAsync(undefined);
    return direct.andThen((hit) => (hit ? okAsync(hit) : this.#lookupContainerByScan(idOrNameOrPrefix)));
  }

  #lookupContainerByScan(idOrNameOrPrefix: string): R<ContainerRecord> {
    return this.store.list('container').andThen((ctrs) => {
      const found = resolveLookup(idOrNameOrPrefix, ctrs, 'container');
      if (found.isErr()) return errAsync(found.error);
      if (found.value) return okAsync(found.value);
      return this.store.list('pod').andThen((pods) => {
        const pod = pods.find((p) => p.id === idOrNameOrPrefix || p.name === idOrNameOrPrefix);
        const msg = pod
          ? `"${idOrNameOrPrefix}" is a pod, not a container: no such container`
          : `no container with name or ID "${idOrNameOrPrefix}" found: no such container`;
        return errAsync(libpodError('NoSuchCtr', msg));
      });
    });
  }

  /** Every container. */
  allContainers(): R<ContainerRecord[]> {
    return this.store.list('container');
  }

  /** Ids of the containers that depend on `id` (libpod's `ContainerInUse`); `NoSuchCtr` when missing. */
  containerDependents(id: string): R<string[]> {
    return this.#ctrMap().andThen((ctrs) =>
      ctrs.has(id)
        ? okAsync(dependentsOf(id, ctrs.values()))
        : errAsync(libpodError('NoSuchCtr', `no container with ID ${id} found in database: no such container`)),
    );
  }

  /** Whether a container with this full id exists. */
  containerExists(id: string): R<boolean> {
    if (typeof id !== 'string' || id.length === 0) return okAsync(false);
    return this.store.get('container', id).map((c) => c !== undefined);
  }

  // ---- pods ----

  /** Adds a new pod: `InvalidArg` when malformed, `PodExists` when its id or name is taken by a pod or container. */
  addPod(rec: PodRecord): R<void> {
    return this.#serial(() => {
      const shape = checkPodShape(rec);
      if (shape.isErr()) return errAsync(shape.error);
      return ResultAsync.combine([this.store.list('container'), this.store.list('pod')]).andThen(([ctrs, pods]) => {
        const checked = checkIdAndName(rec, 'pod', ctrs, pods, 'PodExists');
        if (checked.isErr()) return errAsync(checked.error);
        return this.store.write([{ op: 'put', kind: 'pod', key: rec.id, value: rec }]);
      });
    });
  }

  /** Saves a pod: id, name and createdAt are kept, the rest is taken from `rec`. `NoSuchPod` when missing. */
  savePod(rec: PodRecord): R<void> {
    return this.#serial(() =>
      this.getPod(rec?.id).andThen((stored) =>
        this.store.write([
          { op: 'put', kind: 'pod', key: stored.id, value: { ...rec, id: stored.id, name: stored.name, createdAt: stored.createdAt } },
        ]),
      ),
    );
  }

  /** Removes a pod: `NoSuchPod` when missing, `CtrExists` while it still has containers. */
  removePod(id: string): R<void> {
    return this.#serial(() =>
      this.podMembers(id).andThen((members) => {
        if (members.length > 0) return errAsync(libpodError('CtrExists', `pod ${id} still has containers: container already exists`));
        return this.store.write([{ op: 'del', kind: 'pod', key: id }]);
      }),
    );
  }

  /** The pod with this full id; `NoSuchPod` when absent. */
  getPod(fullId: string): R<PodRecord> {
    if (typeof fullId !== 'string' || fullId.length === 0) return errAsync(emptyKey('pod ID'));
    return this.#require('pod', fullId, () => libpodError('NoSuchPod', `no pod with ID ${fullId} found in database: no such pod`));
  }

  /** A pod by full id, then name, then unique id prefix (`InvalidArg` / `NoSuchPod` as {@link lookupContainer}). */
  lookupPod(idOrNameOrPrefix: string): R<PodRecord> {
    if (typeof idOrNameOrPrefix !== 'string' || idOrNameOrPrefix.length === 0) return errAsync(emptyKey('pod name or ID'));
    return this.store.list('pod').andThen((pods) => {
      const found = resolveLookup(idOrNameOrPrefix, pods, 'pod');
      if (found.isErr()) return errAsync(found.error);
      if (found.value) return okAsync(found.value);
      return errAsync(libpodError('NoSuchPod', `no pod with name or ID "${idOrNameOrPrefix}" found: no such pod`));
    });
  }

  /** Every pod. */
  allPods(): R<PodRecord[]> {
    return this.store.list('pod');
  }

  /** The containers of a pod; `NoSuchPod` when the pod is missing. */
  podMembers(podId: string): R<ContainerRecord[]> {
    return this.getPod(podId).andThen(() => this.store.list('container').map((ctrs) => ctrs.filter((c) => c.podId === podId)));
  }

  // ---- volumes ----

  /** Adds a new volume: `InvalidArg` for a bad name, `VolumeExists` when taken. */
  addVolume(rec: VolumeRecord): R<void> {
    return this.#serial(() => {
      const name = validateName(rec?.name, 'volume');
      if (name.isErr()) return errAsync(name.error);
      return this.store.get('volume', rec.name).andThen((existing) =>
        existing
          ? errAsync(libpodError('VolumeExists', `volume with name ${rec.name} already exists: volume already exists`))
          : this.store.write([{ op: 'put', kind: 'volume', key: rec.name, value: rec }]),
      );
    });
  }

  /**
   * Saves a volume's state (`mountCount`, `needsCopyUp`, `mountPoint`, `uid`,
   * `gid`); name, driver, createdAt, labels and options are immutable.
   * `NoSuchVolume` when missing.
   */
  saveVolume(rec: VolumeRecord): R<void> {
    return this.#serial(() =>
      this.getVolume(rec?.name).andThen((stored) => {
        const { name, driver, createdAt, labels, options } = stored;
        const value: VolumeRecord = { ...rec, name, driver, createdAt, labels, options };
        return this.store.write([{ op: 'put', kind: 'volume', key: name, value }]);
      }),
    );
  }

  /** Removes a volume: `NoSuchVolume` when missing, `VolumeBeingUsed` while containers use it. */
  removeVolume(name: string): R<void> {
    return this.#serial(() =>
      this.volumeUsers(name).andThen((users) => {
        if (users.length > 0) {
          return errAsync(
            libpodError('VolumeBeingUsed', `volume ${name} is being used by the following container(s): ${users.join(', ')}: volume is being used`),
          );
        }
        return this.store.write([{ op: 'del', kind: 'volume', key: name }]);
      }),
    );
  }

  /** The volume with this name; `NoSuchVolume` when absent. */
  getVolume(name: string): R<VolumeRecord> {
    if (typeof name !== 'string' || name.length === 0) return errAsync(emptyKey('volume name'));
    return this.#require('volume', name, () => libpodError('NoSuchVolume', `no volume with name "${name}" found: no such volume`));
  }

  /** Every volume. */
  allVolumes(): R<VolumeRecord[]> {
    return this.store.list('volume');
  }

  /** Ids of the containers whose config uses the volume; `NoSuchVolume` when missing. */
  volumeUsers(name: string): R<string[]> {
    return this.getVolume(name).andThen(() => this.store.list('container').map((ctrs) => usersOfVolume(name, ctrs)));
  }

  // ---- raw ----

  /**
   * Applies `ops` atomically, in the same queue as the checked operations.
   * No integrity rule is checked: the caller MUST keep the state consistent.
   */
  writeAtomic(ops: readonly StateWriteOp[]): R<void> {
    return this.#serial(() => this.store.write(ops));
  }

  /** Runs `fn` after every earlier mutating call settled; a throw becomes `Internal`. */
  #serial<T>(fn: () => R<T>): R<T> {
    const run = this.#tail.then(() => fn()).catch((e: unknown) => err<T, LibpodError>(toLibpodError(e)));
    this.#tail = run;
    return new ResultAsync(run);
  }

  #require<K extends RecordKind>(kind: K, key: string, missing: () => LibpodError): R<RecordMap[K]> {
    return this.store.get(kind, key).andThen((v) => (v === undefined ? errAsync(missing()) : okAsync(v)));
  }

  #ctrMap(): R<Map<string, ContainerRecord>> {
    return this.store.list('container').map((ctrs) => new Map(ctrs.map((c) => [c.id, c])));
  }
}
