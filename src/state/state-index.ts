/**
 * The integrity rules of libpod's `State`, written once above any
 * {@link StateStore}: unique ids and names across containers and pods, lookup
 * by id, name or unique prefix, dependencies, pod membership and volumes in
 * use. Every backend gets them for free.
 * @module
 */
import { err, errAsync, ok, okAsync, ResultAsync, type Result } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../define/errors.js';
import { recordKey, type ContainerRecord, type PodRecord, type RecordKind, type RecordMap, type VolumeRecord } from '../define/records.js';
import { validateName, FULL_ID_PATTERN } from '../define/ids.js';
import { RecordCache, thaw, type Frozen } from './record-cache.js';
import { Relations } from './relations.js';
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

function byCreatedAt(a: { createdAt: string }, b: { createdAt: string }): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0;
}

/** What the index keeps in memory once loaded: the relations and every record. */
interface Loaded {
  rel: Relations;
  cache: RecordCache;
}

function emptyKey(what: string): LibpodError {
  return libpodError('InvalidArg', `must provide a non-empty ${what}`);
}

/**
 * libpod's State rules over a {@link StateStore}.
 *
 * Mutating operations (check, then write) run one at a time through an
 * internal queue, so two concurrent `addContainer` calls cannot both take the
 * same name. The relations the rules check (ids, names, pods, dependencies,
 * volumes) are read from the store once and then kept in memory
 * ({@link Relations}), so the index MUST be its store's only writer while it
 * is in use (what `LevelStateStore`'s lock guarantees across processes).
 * Records passed in and returned are copies. Every method returns a
 * `ResultAsync` and never throws.
 */
export class StateIndex {
  /** The store underneath (for open/close and capabilities). */
  readonly store: StateStore;
  #tail: Promise<unknown> = Promise.resolve();
  #loaded: Promise<Result<Loaded, LibpodError>> | undefined;

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
      return this.#related().andThen((rel) => {
        const checked = checkIdAndName(rec, 'container', rel.idOwner(rec.id), rel.nameOwner(rec.name), 'CtrExists')
          .andThen(() => checkDependencies(rec, rel.containers))
          .andThen(() => {
            if (rec.podId !== undefined && !rel.hasPod(rec.podId)) {
              return err(libpodError('NoSuchPod', `no pod with ID ${rec.podId} found: no such pod`));
            }
            const missing = (rec.config.volumes ?? []).find((v) => !rel.hasVolume(v.name));
            if (missing) {
              return err(libpodError('NoSuchVolume', `volume ${missing.name} used by container ${rec.id} does not exist: no such volume`));
            }
            return ok(undefined);
          });
        if (checked.isErr()) return errAsync(checked.error);
        return this.#write([{ op: 'put', kind: 'container', key: rec.id, value: rec }]);
      });
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
        this.#write([{ op: 'put', kind: 'container', key: stored.id, value: { ...stored, state: rec.state } }]),
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
      this.#related().andThen((rel) => {
        const set = new Set(ids);
        for (const id of set) {
          if (!rel.containers.has(id)) return errAsync(libpodError('NoSuchCtr', `no container with ID ${id} found in database: no such container`));
          const deps = dependentsOf(id, rel.containers.values(), set);
          if (deps.length > 0) {
            return errAsync(
              libpodError('DepExists', `container ${id} has dependent containers which must be removed before it: ${deps.join(', ')}: dependency exists`),
            );
          }
        }
        return this.#write([...set].map((id): StateWriteOp => ({ op: 'del', kind: 'container', key: id })));
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
    return this.lookupContainerView(idOrNameOrPrefix).map((rec) => thaw<ContainerRecord>(rec));
  }

  /**
   * {@link lookupContainer}, resolving to the shared frozen record (no copy):
   * for read-only callers (handles, listings). It MUST NOT be changed.
   */
  lookupContainerView(idOrNameOrPrefix: string): R<Frozen<ContainerRecord>> {
    if (typeof idOrNameOrPrefix !== 'string' || idOrNameOrPrefix.length === 0) return errAsync(emptyKey('container name or ID'));
    return this.#load().andThen(({ rel, cache }) => {
      // Full id, then name (both one map read), then a unique prefix (a scan).
      const direct = FULL_ID_PATTERN.test(idOrNameOrPrefix) ? cache.get('container', idOrNameOrPrefix) : undefined;
      if (direct) return okAsync(direct);
      const named = rel.nameOwner(idOrNameOrPrefix);
      const byName = named?.kind === 'container' ? cache.get('container', named.id) : undefined;
      if (byName) return okAsync(byName);
      const found = named?.kind === 'container' ? ok(undefined) : resolveLookup(idOrNameOrPrefix, [...rel.containers.values()], 'container');
      if (found.isErr()) return errAsync(found.error);
      const hit = found.value ? cache.get('container', found.value.id) : undefined;
      if (hit) return okAsync(hit);
      const isPod = rel.idOwner(idOrNameOrPrefix)?.kind === 'pod' || rel.nameOwner(idOrNameOrPrefix)?.kind === 'pod';
      const msg = isPod
        ? `"${idOrNameOrPrefix}" is a pod, not a container: no such container`
        : `no container with name or ID "${idOrNameOrPrefix}" found: no such container`;
      return errAsync(libpodError('NoSuchCtr', msg));
    });
  }

  /** Every container (copies). */
  allContainers(): R<ContainerRecord[]> {
    return this.#load().map(({ cache }) => cache.list('container').map((r) => thaw<ContainerRecord>(r)));
  }

  /** Every container as the shared frozen records (no copies), for read-only listings. They MUST NOT be changed. */
  containerViews(): R<Frozen<ContainerRecord>[]> {
    return this.#load().map(({ cache }) => cache.list('container'));
  }

  /** Ids of the containers that depend on `id` (libpod's `ContainerInUse`); `NoSuchCtr` when missing. */
  containerDependents(id: string): R<string[]> {
    return this.#related().andThen((rel) =>
      rel.containers.has(id)
        ? okAsync(dependentsOf(id, rel.containers.values()))
        : errAsync(libpodError('NoSuchCtr', `no container with ID ${id} found in database: no such container`)),
    );
  }

  /** A reader of each container's dependency ids (none for an unknown id); dependencies never change. */
  dependencyGraph(): R<(id: string) => readonly string[]> {
    return this.#related().map((rel) => (id: string) => rel.containers.get(id)?.dependencyIds ?? []);
  }

  /** A test of whether a container or pod has a name (names are one namespace), as of now. */
  takenNames(): R<(name: string) => boolean> {
    return this.#related().map((rel) => (name: string) => rel.nameOwner(name) !== undefined);
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
      return this.#related().andThen((rel) => {
        const checked = checkIdAndName(rec, 'pod', rel.idOwner(rec.id), rel.nameOwner(rec.name), 'PodExists');
        if (checked.isErr()) return errAsync(checked.error);
        return this.#write([{ op: 'put', kind: 'pod', key: rec.id, value: rec }]);
      });
    });
  }

  /** Saves a pod: id, name and createdAt are kept, the rest is taken from `rec`. `NoSuchPod` when missing. */
  savePod(rec: PodRecord): R<void> {
    return this.#serial(() =>
      this.getPod(rec?.id).andThen((stored) =>
        this.#write([
          { op: 'put', kind: 'pod', key: stored.id, value: { ...rec, id: stored.id, name: stored.name, createdAt: stored.createdAt } },
        ]),
      ),
    );
  }

  /** Removes a pod: `NoSuchPod` when missing, `CtrExists` while it still has containers. */
  removePod(id: string): R<void> {
    return this.#serial(() =>
      this.getPod(id).andThen(() =>
        this.#related().andThen((rel) => {
          if (rel.membersOf(id).length > 0) return errAsync(libpodError('CtrExists', `pod ${id} still has containers: container already exists`));
          return this.#write([{ op: 'del', kind: 'pod', key: id }]);
        }),
      ),
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
    return this.#related().andThen((rel) => {
      const found = resolveLookup(idOrNameOrPrefix, rel.pods(), 'pod');
      if (found.isErr()) return errAsync(found.error);
      if (found.value) return this.getPod(found.value.id);
      return errAsync(libpodError('NoSuchPod', `no pod with name or ID "${idOrNameOrPrefix}" found: no such pod`));
    });
  }

  /** Every pod (copies). */
  allPods(): R<PodRecord[]> {
    return this.#load().map(({ cache }) => cache.list('pod').map((r) => thaw<PodRecord>(r)));
  }

  /** The containers of a pod; `NoSuchPod` when the pod is missing. */
  podMembers(podId: string): R<ContainerRecord[]> {
    return this.getPod(podId)
      .andThen(() => this.#related())
      .andThen((rel) => ResultAsync.combine(rel.membersOf(podId).map((id) => this.store.get('container', id))))
      .map((recs) => recs.filter((r): r is ContainerRecord => r !== undefined));
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
          : this.#write([{ op: 'put', kind: 'volume', key: rec.name, value: rec }]),
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
        return this.#write([{ op: 'put', kind: 'volume', key: name, value }]);
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
        return this.#write([{ op: 'del', kind: 'volume', key: name }]);
      }),
    );
  }

  /** The volume with this name; `NoSuchVolume` when absent. */
  getVolume(name: string): R<VolumeRecord> {
    if (typeof name !== 'string' || name.length === 0) return errAsync(emptyKey('volume name'));
    return this.#require('volume', name, () => libpodError('NoSuchVolume', `no volume with name "${name}" found: no such volume`));
  }

  /** Every volume (copies). */
  allVolumes(): R<VolumeRecord[]> {
    return this.#load().map(({ cache }) => cache.list('volume').map((r) => thaw<VolumeRecord>(r)));
  }

  /** Ids of the containers whose config uses the volume; `NoSuchVolume` when missing. */
  volumeUsers(name: string): R<string[]> {
    return this.getVolume(name).andThen(() => this.#related().map((rel) => usersOfVolume(name, rel.containers.values())));
  }

  // ---- raw ----

  /**
   * Applies `ops` atomically, in the same queue as the checked operations.
   * No integrity rule is checked: the caller MUST keep the state consistent.
   */
  writeAtomic(ops: readonly StateWriteOp[]): R<void> {
    return this.#serial(() => this.#write(ops));
  }

  /** Runs `fn` after every earlier mutating call settled; a throw becomes `Internal`. */
  #serial<T>(fn: () => R<T>): R<T> {
    const run = this.#tail.then(() => fn()).catch((e: unknown) => err<T, LibpodError>(toLibpodError(e)));
    this.#tail = run;
    return new ResultAsync(run);
  }

  /** A fresh read of one record (verbs work on what the store holds, not on the listing cache). */
  #require<K extends RecordKind>(kind: K, key: string, missing: () => LibpodError): R<RecordMap[K]> {
    return this.store.get(kind, key).andThen((v) => (v === undefined ? errAsync(missing()) : okAsync(v)));
  }

  #related(): R<Relations> {
    return this.#load().map((l) => l.rel);
  }

  /** The relations and records, read from the store on first use (a failed read is retried next time). */
  #load(): R<Loaded> {
    if (!this.#loaded) {
      const loading = ResultAsync.combine([this.store.list('container'), this.store.list('pod'), this.store.list('volume')]).map(([c, p, v]) => ({
        rel: Relations.of(c, p, v),
        // Creation order, as listings want it (later records are added at the end).
        cache: RecordCache.of({ container: [...c].sort(byCreatedAt), pod: p, volume: v }, recordKey),
      }));
      this.#loaded = Promise.resolve(loading).then((r) => {
        if (r.isErr()) this.#loaded = undefined;
        return r;
      });
    }
    return new ResultAsync(this.#loaded);
  }

  /**
   * Writes `ops`, then brings the loaded relations up to date. Relations not
   * loaded yet (or whose load failed) read the write when they are loaded;
   * either way the committed write is reported as done.
   */
  #write(ops: readonly StateWriteOp[]): R<void> {
    return this.store.write(ops).andThen(() => {
      if (!this.#loaded) return okAsync(undefined);
      return this.#load()
        .map(({ rel, cache }) => {
          rel.apply(ops);
          cache.apply(ops);
        })
        .orElse(() => okAsync(undefined));
    });
  }
}
