/**
 * The Runtime: opens the store and the OCI runtime, owns the locks and the
 * event bus, and hands out Container, Pod and Volume handles.
 * @module
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { Container, runBatched } from './container/container.js';
import { createContainer } from './container/create.js';
import { removeVerb, type RemoveContainerOptions } from './container/remove.js';
import { resetState } from './container/refresh.js';
import { onRestartDue, resumeRestarts } from './container/restart-due.js';
import { RestartTimers } from './engine/restart-timers.js';
import { withContainer, withContainers } from './container/session.js';
import { syncContainer } from './container/sync.js';
import { attempt, libpodError, type LibpodError } from './define/errors.js';
import type { LibpodEvent, ReadEventsOptions } from './define/events.js';
import type { ContainerRecord } from './define/records.js';
import { checkFilter, type ContainerFilter } from './container/container-filter.js';
import { listContainers } from './container/container-list.js';
import { makeDirs, makeNetwork, makeOci, makeStore } from './runtime-backends.js';
import type { NetworkBackend } from './network/backend.js';
import { Ipam } from './network/ipam.js';
import { Network } from './network/network.js';
import { checkNetworkFilter, listNetworks, lookupNetworkConfig } from './network/network-query.js';
import { createNetworkVerb, pruneNetworksVerb, removeNetworkVerb } from './network/network-verbs.js';
import type { NetworkCreateOptions, NetworkFilter } from './define/network.js';
import type { EngineContext } from './engine/context.js';
import { admitted, gatedContext, OperationGate } from './engine/operation-gate.js';
import { deliver, RuntimeEventEmitter } from './events/event-bus.js';
import { EventLog } from './events/event-log.js';
import { LockManager } from './locks/lock-manager.js';
import type { OciRuntime } from './oci/oci-runtime.js';
import { resolveRuntimeOptions, type ResolvedRuntimeOptions, type RuntimeOptions } from './runtime-options.js';
import { StateIndex } from './state/state-index.js';
import type { Frozen } from './state/record-cache.js';
import type { StateStore } from './state/state-store.js';
import { failAfter, safe } from './util/safe.js';
import { logger } from './util/log.js';
import type { ContainerCreateOptions } from './define/config.js';
import { Pod } from './pod/pod.js';
import { createPod, podCreatedEvents, type PodCreateOptions } from './pod/pod-create.js';
import { refuseInfraRemoval, removePodVerb, type RemovePodOptions } from './pod/pod-remove.js';
import { checkTimeoutOptions } from './util/options.js';
import { hardenMethods } from './util/harden.js';
import { Image } from './image/image.js';
import { loadImagesVerb, saveImagesVerb, type ArchiveVerbContext, type SaveImagesOptions } from './image/archive-verbs.js';
import { imageEvent } from './image/image-events.js';
import { nameMatches } from './image/image-lookup.js';
import { ARCHIVE_FORMATS } from './image/transports/types.js';
import { listImages, lookupImageRecord, pruneImagesVerb, removeImageVerb, type ImageFilter, type RemoveImageOptions, type RemoveImageResult } from './image/image-verbs.js';
import { ImageStore } from './image/store/image-store.js';
import type { PullOptions } from './image/pull.js';
import { checkPullOptions, RuntimePuller } from './image/pull-runtime.js';
import { RuntimePusher } from './image/push/push-runtime.js';
import type { PushOptions } from './image/push/push-image.js';
import { bool, checkOptions, date, labelFilter, oneOf, oneOrMany, shape, str, stringMap } from './util/validate.js';
import { withPod } from './pod/pod-session.js';
import { checkPodFilter, listPods, type PodFilter } from './pod/pod-status.js';
import { pruneContainersVerb, prunePodsVerb } from './pod/prune.js';
import { Volume } from './volume/volume.js';
import { newVolume, type VolumeCreateOptions } from './volume/volume-create.js';
import { checkVolumeFilter, listVolumeRecords, lookupVolumeRecord, type VolumeFilter } from './volume/volume-query.js';
import { pruneVolumesVerb, removeVolumeVerb, type RemoveVolumeOptions } from './volume/volume-remove.js';

const log = logger('runtime');

const READ_EVENTS_SHAPE = {
  since: date,
  until: date,
  filter: shape({ type: oneOrMany(str), status: oneOrMany(str), id: oneOrMany(str), name: oneOrMany(str), attributes: stringMap }),
};

const IMAGE_FILTER_SHAPE = { reference: str, label: labelFilter, dangling: bool };

/** A libpod-ts engine over one root. Open with {@link Runtime.open}. */
export class Runtime {
  /** Typed events: `runtime.events.on('container', e => ...)`. */
  readonly events = new RuntimeEventEmitter();
  /** Persistent root. */
  readonly root: string;
  /** Volatile root. */
  readonly runRoot: string;

  readonly #store: StateStore;
  readonly #oci: OciRuntime;
  readonly #eventLog: EventLog;
  readonly #ctx: EngineContext;
  readonly #gate = new OperationGate();
  readonly #pusher: RuntimePusher;
  readonly #puller: RuntimePuller;
  #closing: ResultAsync<void, LibpodError> | undefined;
  #unwatch: (() => void) | undefined;
  #resumed: Promise<void> = Promise.resolve();

  private constructor(o: ResolvedRuntimeOptions, store: StateStore, oci: OciRuntime, network: NetworkBackend) {
    this.root = o.root;
    this.runRoot = o.runRoot;
    this.#store = store;
    this.#oci = oci;
    this.#eventLog = new EventLog(o.root, o.eventLogMaxSize);
    const index = new StateIndex(store);
    const locks = new LockManager();
    const puller = new RuntimePuller(() => this.#imageStore(o.storage), o.registries, (events) => this.#publish(events));
    this.#pusher = new RuntimePusher(() => this.#imageStore(o.storage), o.registries, (events) => this.#publish(events));
    this.#puller = puller;
    this.#ctx = gatedContext(
      {
        root: o.root,
        runRoot: o.runRoot,
        index,
        oci,
        network,
        ipam: new Ipam(join(o.runRoot, 'networks', 'ipam'), locks),
        locks,
        restarts: new RestartTimers((id) => void onRestartDue(this.#ctx, id)),
        publish: (events) => this.#publish(events),
        imageStore: () => this.#imageStore(o.storage),
        pullImage: (ref, opts) => puller.pull(ref, opts),
      },
      this.#gate,
    );
  }

  #images: ResultAsync<ImageStore, LibpodError> | undefined;

  /** The image store, opened on first use; a failed open is retried by the next use. */
  #imageStore(storage: ResolvedRuntimeOptions['storage']): ResultAsync<ImageStore, LibpodError> {
    this.#images ??= ImageStore.open(storage.path, storage.driver === undefined ? {} : { driver: storage.driver }).mapErr((e) => {
      this.#images = undefined;
      return e;
    });
    return this.#images;
  }

  /**
   * Opens a runtime: creates root and runRoot (mode 0700), opens the state
   * store (`Locked` when another process holds it) and the OCI runtime, and
   * resets container states when runRoot was wiped (a reboot).
   */
  static open(options?: RuntimeOptions): ResultAsync<Runtime, LibpodError> {
    return safe(() => {
      const o = resolveRuntimeOptions(options);
      if (o.isErr()) return errAsync(o.error);
      const dirs = makeDirs(o.value);
      if (dirs.isErr()) return errAsync(dirs.error);
      const store = makeStore(o.value);
      const oci = makeOci(o.value);
      const network = makeNetwork(o.value);
      return network
        .open({ configDir: join(o.value.root, 'networks'), runDir: join(o.value.runRoot, 'networks') })
        .andThen(() => store.open())
        .andThen(() =>
          oci.open({ root: o.value.root, runRoot: o.value.runRoot }).orElse((e) => store.close().andThen(() => errAsync(e))),
        )
        .map(() => new Runtime(o.value, store, oci, network))
        .andThen((rt) => rt.#afterOpen().map(() => rt).orElse((e) => failAfter(e, () => oci.close().andThen(() => store.close()))));
    });
  }

  #afterOpen(): ResultAsync<void, LibpodError> {
    const alive = join(this.runRoot, 'alive');
    const refresh = existsSync(alive) ? okAsync(undefined) : this.#refreshAfterReboot();
    return refresh.andThen(() => this.#releaseStaleAddresses()).andThen(() =>
      attempt(() => writeFileSync(alive, String(process.pid), { mode: 0o600 }), 'Internal', 'writing runtime alive file').map(() => {
        this.#unwatch = this.#oci.watchExits((id) => this.#onExit(id));
        // In the background: restarts left waiting by a closed or killed process (restart backoff).
        this.#resumed = resumeRestarts(this.#ctx);
      }),
    );
  }

  /** Addresses held by containers without live networking (a crash between an allocation and its record). */
  #releaseStaleAddresses(): ResultAsync<void, LibpodError> {
    return this.#ctx.index.allContainers().andThen((recs) => this.#ctx.ipam.releaseAllBut(new Set(recs.filter((r) => r.state.network).map((r) => r.id))));
  }

  /** libpod `refresh` after a reboot: nothing of the old runtime state survived. */
  #refreshAfterReboot(): ResultAsync<void, LibpodError> {
    const { index } = this.#ctx;
    return ResultAsync.combine([index.allContainers(), index.allVolumes()]).andThen(([ctrs, vols]) => {
      log('runRoot %s is new: refreshing %d containers', this.runRoot, ctrs.length);
      const ops = [
        ...ctrs.map((c) => {
          resetState(c.state);
          return index.saveContainer(c);
        }),
        ...vols.filter((v) => v.mountCount > 0).map((v) => index.saveVolume({ ...v, mountCount: 0 })),
      ];
      return ResultAsync.combine(ops).map(() => {
        if (ctrs.length > 0) this.#publish([{ type: 'system', status: 'refresh', id: '', name: '', time: new Date(), attributes: {} }]);
      });
    });
  }

  /** An exit was seen: lock, sync (which records it and runs Cleanup). */
  #onExit(id: string): void {
    if (this.#gate.phase !== 'open') return;
    void withContainer(this.#ctx, id, () => okAsync(undefined), syncContainer).mapErr((e) => {
      if (e.code !== 'CtrRemoved' && e.code !== 'RuntimeFinalized') log('handling exit of %s: %s', id, e.message);
    });
  }

  #publish(events: readonly LibpodEvent[]): void {
    if (events.length === 0) return;
    try {
      this.#eventLog.append(events);
    } catch (e) {
      log('appending to the event log failed: %s', (e as Error).message);
    }
    for (const e of events) deliver(this.events, e);
  }

  /** @internal The engine context, for the pod and volume layers. */
  get context(): EngineContext {
    return this.#ctx;
  }

  /** The OCI runtime in use (e.g. a FakeOciRuntime to script in tests). */
  get ociRuntime(): OciRuntime {
    return this.#oci;
  }

  /** Runs `fn` unless the runtime is closed; never throws (see {@link safe}). */
  #guarded<T>(fn: () => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    return safe(() => this.#ctx.guard().asyncAndThen(fn));
  }

  #handle(rec: ContainerRecord | Frozen<ContainerRecord>): Container {
    return new Container(this.#ctx, rec);
  }

  /** Creates a container (state `configured`). */
  newContainer(opts: ContainerCreateOptions): ResultAsync<Container, LibpodError> {
    return safe(() =>
      createContainer(this.#ctx, opts).map((rec) => {
        this.#publish([{ type: 'container', status: 'create', id: rec.id, name: rec.name, time: new Date(), attributes: { ...rec.config.labels } }]);
        return this.#handle(rec);
      }),
    );
  }

  /** Finds a container by full id, name, or unique id prefix. */
  lookupContainer(idOrName: string): ResultAsync<Container, LibpodError> {
    return this.#guarded(() => {
      if (typeof idOrName !== 'string') return errAsync(libpodError('InvalidArg', 'container id or name must be a string'));
      return this.#ctx.index.lookupContainerView(idOrName).map((rec) => this.#handle(rec));
    });
  }

  /** Containers matching `filter` (states synced first). */
  containers(filter: ContainerFilter = {}): ResultAsync<Container[], LibpodError> {
    return this.#guarded(() => {
      const bad = checkFilter(filter);
      if (bad) return errAsync(bad);
      const podId = filter.pod === undefined ? okAsync<string | undefined, LibpodError>(undefined) : this.#ctx.index.lookupPod(filter.pod).map((p) => p.id);
      return podId.andThen((pid) =>
        listContainers(this.#ctx, filter, pid).map((recs) => recs.map((r) => this.#handle(r))),
      );
    });
  }

  /**
   * Removes a container. Running or paused ones need `force` (which stops
   * them first); one that others depend on is `DepExists`, force or not.
   */
  removeContainer(ctr: Container, opts: RemoveContainerOptions = {}): ResultAsync<void, LibpodError> {
    return safe(() => {
      if (!(ctr instanceof Container)) return errAsync(libpodError('InvalidArg', 'removeContainer needs a Container'));
      const bad = checkTimeoutOptions(opts, 'container remove', ['force', 'removeVolumes']);
      if (bad) return errAsync(bad);
      let created: string[] = [];
      return withContainer(
        this.#ctx,
        ctr.id,
        (s) => {
          created = s.rec.createdVolumes ?? [];
          return refuseInfraRemoval(s).andThen(() => removeVerb(s, opts));
        },
        syncContainer,
      )
        .mapErr((e) => (e.code === 'CtrRemoved' ? libpodError('NoSuchCtr', `no container with ID ${ctr.id} found in database: no such container`, e) : e))
        .andThen(() => (opts.removeVolumes ? this.#removeUnusedVolumes(created) : okAsync(undefined)));
    });
  }

  /** `removeVolumes`: the volumes a removed container created, when no other container uses them (outside its lock). */
  #removeUnusedVolumes(names: readonly string[]): ResultAsync<void, LibpodError> {
    return names.reduce<ResultAsync<void, LibpodError>>(
      (acc, name) =>
        acc.andThen(() =>
          this.#ctx.index
            .volumeUsers(name)
            .andThen((users) => (users.length === 0 ? removeVolumeVerb(this.#ctx, name, {}) : okAsync(undefined)))
            .orElse((e) => (e.code === 'NoSuchVolume' ? okAsync(undefined) : errAsync(e))),
        ),
      okAsync(undefined),
    );
  }

  /**
   * Locks several containers at once (in one global order, so concurrent
   * batches never deadlock), syncs each, and runs `fn` on batched views.
   */
  batch<T>(ctrs: Container[], fn: (views: Container[]) => T | Promise<T> | ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    return safe(() => {
      if (!Array.isArray(ctrs) || ctrs.some((c) => !(c instanceof Container))) return errAsync(libpodError('InvalidArg', 'batch needs an array of Containers'));
      if (typeof fn !== 'function') return errAsync(libpodError('InvalidArg', 'batch needs a function'));
      const ids = ctrs.map((c) => c.id);
      return withContainers(this.#ctx, ids, (sessions) => {
        const byId = new Map(sessions.map((s) => [s.rec.id, s]));
        return runBatched(this.#ctx, ids.map((id) => byId.get(id)!), fn);
      }, syncContainer);
    });
  }

  /** Events recorded under this root (across processes and restarts), oldest first. */
  readEvents(opts: ReadEventsOptions = {}): ResultAsync<LibpodEvent[], LibpodError> {
    return safe(() => {
      const bad = checkOptions(opts, 'readEvents', READ_EVENTS_SHAPE);
      if (bad) return errAsync(bad);
      return this.#eventLog.read(opts);
    });
  }

  // ---- pods ----

  /**
   * Creates a pod and (unless `infra: false`) its infra container, which
   * holds the namespaces the members share (default `net`, `ipc`, `uts`).
   */
  newPod(opts?: PodCreateOptions): ResultAsync<Pod, LibpodError> {
    return safe(() =>
      createPod(this.#ctx, opts).map((created) => {
        this.#publish(podCreatedEvents(created));
        return new Pod(this.#ctx, created.pod);
      }),
    );
  }

  /** Finds a pod by full id, name, or unique id prefix. */
  lookupPod(idOrName: string): ResultAsync<Pod, LibpodError> {
    return this.#guarded(() => {
      if (typeof idOrName !== 'string') return errAsync(libpodError('InvalidArg', 'pod id or name must be a string'));
      return this.#ctx.index.lookupPod(idOrName).map((rec) => new Pod(this.#ctx, rec));
    });
  }

  /** Pods matching `filter` (member states synced first), oldest first. */
  pods(filter: PodFilter = {}): ResultAsync<Pod[], LibpodError> {
    return this.#guarded(() => {
      const bad = checkPodFilter(filter);
      if (bad) return errAsync(bad);
      return listPods(this.#ctx, filter).map((recs) => recs.map((p) => new Pod(this.#ctx, p)));
    });
  }

  /**
   * Removes a pod with its containers. Without `force`, running or paused
   * members are not removed and the pod stays (`CtrStateInvalid` naming
   * them); with `force` they are stopped first. The infra container goes last.
   */
  removePod(pod: Pod, opts: RemovePodOptions = {}): ResultAsync<void, LibpodError> {
    return safe(() => {
      if (!(pod instanceof Pod)) return errAsync(libpodError('InvalidArg', 'removePod needs a Pod'));
      const bad = checkTimeoutOptions(opts, 'pod remove', ['force']);
      if (bad) return errAsync(bad);
      return withPod(this.#ctx, pod.id, (p) => removePodVerb(p, opts)).mapErr((e) =>
        e.code === 'PodRemoved' ? libpodError('NoSuchPod', `no pod with ID ${pod.id} found in database: no such pod`, e) : e,
      );
    });
  }

  // ---- volumes ----

  /** Creates a named volume (name generated when absent: 64 hex characters). */
  newVolume(opts?: VolumeCreateOptions): ResultAsync<Volume, LibpodError> {
    return safe(() => newVolume(this.#ctx, opts).map((rec) => new Volume(this.#ctx, rec)));
  }

  /** Finds a volume by name, or unique name prefix. */
  lookupVolume(name: string): ResultAsync<Volume, LibpodError> {
    return this.#guarded(() => {
      return lookupVolumeRecord(this.#ctx, name).map((rec) => new Volume(this.#ctx, rec));
    });
  }

  /** Volumes matching `filter`, oldest first. */
  volumes(filter: VolumeFilter = {}): ResultAsync<Volume[], LibpodError> {
    return this.#guarded(() => {
      const bad = checkVolumeFilter(filter);
      if (bad) return errAsync(bad);
      return listVolumeRecords(this.#ctx, filter).map((recs) => recs.map((r) => new Volume(this.#ctx, r)));
    });
  }

  /**
   * Removes a volume. One in use is `VolumeBeingUsed` unless `force`, which
   * removes the containers using it first.
   */
  removeVolume(vol: Volume, opts: RemoveVolumeOptions = {}): ResultAsync<void, LibpodError> {
    return this.#guarded(() => {
      if (!(vol instanceof Volume)) return errAsync(libpodError('InvalidArg', 'removeVolume needs a Volume'));
      const bad = checkTimeoutOptions(opts, 'volume remove', ['force']);
      if (bad) return errAsync(bad);
      return removeVolumeVerb(this.#ctx, vol.name, opts);
    });
  }

  // ---- networks ----

  /** Creates a bridge network (subnet, gateway and bridge name picked when absent); `NetworkExists` for a taken name. */
  newNetwork(opts: NetworkCreateOptions): ResultAsync<Network, LibpodError> {
    return this.#guarded(() => createNetworkVerb(this.#ctx, opts).map((c) => new Network(this.#ctx, c)));
  }

  /** Finds a network by name, full id or unique id prefix (the default `podman` network included). */
  lookupNetwork(nameOrId: string): ResultAsync<Network, LibpodError> {
    return this.#guarded(() => lookupNetworkConfig(this.#ctx, nameOrId).map((c) => new Network(this.#ctx, c)));
  }

  /** Networks matching `filter`, the default one first, then by name. */
  networks(filter: NetworkFilter = {}): ResultAsync<Network[], LibpodError> {
    return this.#guarded(() => {
      const bad = checkNetworkFilter(filter);
      if (bad) return errAsync(bad);
      return listNetworks(this.#ctx, filter).map((list) => list.map((c) => new Network(this.#ctx, c)));
    });
  }

  /** Removes a network; `NetworkInUse` when containers use it, unless `force` (which removes them). */
  removeNetwork(net: Network | string, opts: { force?: boolean } = {}): ResultAsync<void, LibpodError> {
    return this.#guarded(() => {
      if (!(net instanceof Network) && typeof net !== 'string') return errAsync(libpodError('InvalidArg', 'removeNetwork needs a Network or a network name'));
      if (typeof opts !== 'object' || opts === null || Object.keys(opts).some((k) => k !== 'force') || (opts.force !== undefined && typeof opts.force !== 'boolean')) {
        return errAsync(libpodError('InvalidArg', 'network remove options must be { force?: boolean }'));
      }
      return removeNetworkVerb(this.#ctx, net instanceof Network ? net.id : net, opts.force === true);
    });
  }

  /** Removes the networks no container uses (never the default one); resolves to their names. */
  pruneNetworks(): ResultAsync<string[], LibpodError> {
    return this.#guarded(() => pruneNetworksVerb(this.#ctx));
  }

  // ---- prune ----

  /** Removes containers that do not run (outside pods, not needed by others); resolves to their ids. */
  pruneContainers(): ResultAsync<string[], LibpodError> {
    return this.#guarded(() => pruneContainersVerb(this.#ctx));
  }

  /** Removes volumes no container uses; resolves to their names. */
  pruneVolumes(): ResultAsync<string[], LibpodError> {
    return this.#guarded(() => pruneVolumesVerb(this.#ctx));
  }

  /** Removes pods with no running or paused member; resolves to their ids. */
  prunePods(): ResultAsync<string[], LibpodError> {
    return this.#guarded(() => prunePodsVerb(this.#ctx));
  }

  // ---- images ----

  /** Images matching `filter` (reference, label, dangling), newest first. */
  images(filter: ImageFilter = {}): ResultAsync<Image[], LibpodError> {
    return this.#guarded(() => {
      const bad = checkOptions(filter, 'images filter', IMAGE_FILTER_SHAPE);
      if (bad) return errAsync(bad);
      return listImages(this.#ctx, filter).map((recs) => recs.map((r) => new Image(this.#ctx, r)));
    });
  }

  /**
   * Finds an image by name (`busybox` is `docker.io/library/busybox:latest`;
   * short names also match local names such as `localhost/busybox:latest`),
   * `name@digest`, full id, or unique id prefix (ambiguous: `InvalidArg`).
   */
  lookupImage(nameOrId: string): ResultAsync<Image, LibpodError> {
    return this.#guarded(() => {
      if (typeof nameOrId !== 'string') return errAsync(libpodError('InvalidArg', 'image name or id must be a string'));
      return lookupImageRecord(this.#ctx, nameOrId).map((r) => new Image(this.#ctx, r));
    });
  }

  /**
   * Removes an image (podman's `rmi`). By a name the image shares with other
   * names, only that name goes. `ImageInUse` while containers use it, unless
   * `force`, which removes this Runtime's containers using it first.
   */
  removeImage(image: Image | string, opts: RemoveImageOptions = {}): ResultAsync<RemoveImageResult, LibpodError> {
    return this.#guarded(() => {
      if (!(image instanceof Image) && typeof image !== 'string') return errAsync(libpodError('InvalidArg', 'removeImage needs an Image or a name or id'));
      const bad = checkOptions(opts, 'image remove', { force: bool });
      if (bad) return errAsync(bad);
      return removeImageVerb(this.#ctx, image instanceof Image ? { id: image.id } : image, opts, (ids) => this.#removeImageUsers(ids));
    });
  }

  /** `removeImage({ force })`: this Runtime's containers go; another Runtime's keep the image in use. */
  #removeImageUsers(ids: string[]): ResultAsync<void, LibpodError> {
    return ids.reduce<ResultAsync<void, LibpodError>>(
      (acc, id) =>
        acc.andThen(() =>
          this.#ctx.index
            .lookupContainer(id)
            .andThen((rec) => this.removeContainer(this.#handle(rec), { force: true }))
            .orElse((e) => (e.code === 'NoSuchCtr' ? this.#removeOrphanLayer(id) : errAsync(e))),
        ),
      okAsync(undefined),
    );
  }

  /**
   * A container layer this Runtime made whose container it does not know (a
   * crash between the layer and the record) is removed; another Runtime's
   * keeps its image in use.
   */
  #removeOrphanLayer(id: string): ResultAsync<void, LibpodError> {
    return this.#ctx.imageStore().andThen((store) =>
      store.containerLayer(id).andThen((layer) =>
        layer.owner === this.root
          ? store.removeContainerLayer(id)
          : errAsync(libpodError('ImageInUse', `image is in use by container ${id} of another runtime: image is being used`)),
      ),
    );
  }

  /**
   * Loads every image of a docker-archive (podman's, Docker's legacy and
   * Docker 25's layouts), an oci-archive or an OCI layout directory, detected
   * (`src` is a path or a readable stream of an archive, gzip allowed). Layers
   * stream into the store and are verified there; malformed, truncated or
   * tampered input is `ImageCorrupt` (or `InvalidArg`) and stores nothing.
   * An index resolves to this host's platform. `load` events.
   */
  loadImages(src: string | NodeJS.ReadableStream): ResultAsync<Image[], LibpodError> {
    return this.#guarded(() => this.#archiveContext().andThen((c) => loadImagesVerb(c, src)).map((recs) => recs.map((r) => new Image(this.#ctx, r))));
  }

  /**
   * Writes images (handles, names or ids) to `dest` (a path, or a writable
   * stream for the archive formats) as `format` (default `'docker-archive'`;
   * `'oci-archive'`, `'oci-dir'`). An image given by name is tagged with it,
   * by id without a tag, by handle with all its names. A path is written
   * under a temporary name and renamed at the end. `save` events.
   */
  saveImages(images: (Image | string)[], dest: string | NodeJS.WritableStream, opts: SaveImagesOptions = {}): ResultAsync<void, LibpodError> {
    return this.#guarded(() => {
      const bad = checkOptions(opts, 'save', { format: oneOf(ARCHIVE_FORMATS) });
      if (bad) return errAsync(bad);
      if (typeof dest !== 'string' && !(dest instanceof Writable)) return errAsync(libpodError('InvalidArg', 'saveImages: dest must be a path or a writable stream'));
      return this.#archiveContext().andThen((c) => saveImagesVerb(c, images, dest, opts));
    });
  }

  #archiveContext(): ResultAsync<ArchiveVerbContext, LibpodError> {
    return this.#ctx.imageStore().map((store) => ({
      storage: store,
      tmpDir: join(store.path, 'tmp'),
      resolve: (ref: string) =>
        lookupImageRecord(this.#ctx, ref).map((image) => {
          const name = image.names.find((n) => nameMatches(n, ref));
          return name === undefined ? { image } : { image, name };
        }),
      publish: (status, imgs) => this.#publish(imgs.map((i) => imageEvent(status, i.id, i.name))),
    }));
  }

  /**
   * Pulls an image from a registry (podman's `pull`): `policy` `'missing'`
   * (default: a local image is used without asking the registry),
   * `'always'`, `'newer'` or `'never'`; `platform` (`os/arch[/variant]`,
   * default this host's) picks from an index; credentials from `auth`,
   * `authFile`, then the usual auth files; `tlsVerify: false` allows plain
   * HTTP; `signal` aborts; `onProgress` sees layer bytes. A short name is
   * tried on each of the runtime's `registries.search`. Errors:
   * `NoSuchImage`, `Unauthorized`, `ImageCorrupt`, `Registry`; a failed
   * pull stores nothing. Emits `pull`. `close()` aborts a pull in flight
   * (`RuntimeFinalized`, nothing stored) and waits for it to clean up.
   */
  pullImage(ref: string, opts: PullOptions = {}): ResultAsync<Image, LibpodError> {
    return this.#guarded(() => checkPullOptions(ref, opts) ?? admitted(this.#ctx, (op) => op.pullImage(ref, opts).map((r) => new Image(this.#ctx, r))));
  }

  /**
   * Pushes a stored image (pulled, loaded or committed; a handle, name, id
   * or id prefix) to registry reference `dest` (podman's `push`): blobs
   * the registry has are not sent, blobs of another repository of the same
   * registry are mounted, the rest stream from the store. Stored
   * compressed layers go as they are unless `compression` (`'gzip'` or
   * `'zstd'`) asks for another; uncompressed ones are gzipped. Credentials
   * and `tlsVerify` as for `pullImage`; `signal` aborts. Errors:
   * `NoSuchImage`, `Unauthorized`, `Registry`, `InvalidArg`. Emits `push`.
   * `close()` aborts a push in flight (`RuntimeFinalized`, no manifest
   * written) and waits for it to stop.
   */
  pushImage(image: Image | string, dest: string, opts: PushOptions = {}): ResultAsync<void, LibpodError> {
    return this.#guarded(() => admitted(this.#ctx, () => this.#pusher.push(image, dest, opts).map(() => undefined)));
  }

  /** Removes unused images without names (`all`: every unused image); resolves to their ids. */
  pruneImages(opts: { all?: boolean } = {}): ResultAsync<string[], LibpodError> {
    return this.#guarded(() => {
      const bad = checkOptions(opts, 'image prune', { all: bool });
      if (bad) return errAsync(bad);
      return pruneImagesVerb(this.#ctx, opts);
    });
  }

  /**
   * Closes the runtime: containers keep running (as with podman); the store
   * and the OCI runtime are released. Calls made after close() began give
   * `RuntimeFinalized`; operations already in flight (a stop waiting for its
   * timeout, say) finish first, so what they do is saved.
   */
  close(): ResultAsync<void, LibpodError> {
    return safe(() => {
      if (!this.#closing) {
        this.#unwatch?.();
        this.#ctx.restarts.close();
        this.#puller.close();
        this.#pusher.close();
        // New calls are refused from here on; what is in flight (and the resumption of restarts
        // after open) finishes before the OCI runtime and the store are released.
        this.#closing = ResultAsync.fromSafePromise<void, LibpodError>(Promise.all([this.#gate.close(), this.#resumed]).then(() => undefined))
          .andThen(() => this.#oci.close())
          .andThen(() => this.#store.close());
      }
      return this.#closing;
    });
  }
}

// Every method gets a safe copy of its arguments; hostile input is InvalidArg (util/harden.ts).
hardenMethods(Runtime);
hardenMethods(Runtime.prototype);
