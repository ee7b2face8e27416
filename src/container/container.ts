/**
 * The public Container handle. Every verb validates its input, then runs on
 * the locked, synced record through its {@link ContainerAccess} (or on the
 * held session of a batch), and returns a `ResultAsync` that never rejects.
 * @module
 */
import { Writable } from 'node:stream';
import { Err, errAsync, Ok, okAsync, ResultAsync } from 'neverthrow';
import type { ContainerConfig } from '../define/config.js';
import { improper, libpodError, toLibpodError, type LibpodError } from '../define/errors.js';
import type { ContainerInspect } from '../define/inspect.js';
import type { ContainerRecord } from '../define/records.js';
import type { Frozen } from '../state/record-cache.js';
import { parseSignal, type Signal } from '../define/signals.js';
import { isContainerState, type ContainerState } from '../define/states.js';
import type { AttachEnd, AttachStreams, TerminalSize } from '../define/streams.js';
import type { EngineContext } from '../engine/context.js';
import { checkTimeoutOptions } from '../util/options.js';
import { failingIterable, hardenMethods } from '../util/harden.js';
import { absPath, bool, checkOptions, checkValue, count, date, nonEmptyStr, readable, shape, str, stringArray, stringMap, unchecked, writable, type Validator } from '../util/validate.js';
import { failAfter, safe } from '../util/safe.js';
import { HeldAccess, LockingAccess, type ContainerAccess } from './access.js';
import { exportTree } from '../archive/index.js';
import { addArtifact, getArtifact, removeArtifact } from './artifacts.js';
import { attachVerb, resizeVerb, startAndAttachVerb, validSize, type AttachHandle, type AttachOptions } from './attach.js';
import { checkpointVerb, restoreVerb, type ContainerCheckpointOptions } from './checkpoint.js';
import { commitVerb, type CommitOptions } from './commit.js';
import { Image } from '../image/image.js';
import { cleanupVerb } from './cleanup.js';
import { execFinish, execStart, type ExecOptions, type ExecResult } from './exec.js';
import type { HealthCheckResult } from './health.js';
import { runHealthCheck } from './health-run.js';
import { inspectVerb } from './inspect.js';
import { initVerb, killVerb, pauseVerb, restartVerb, startVerb, stopVerb, unpauseVerb } from './lifecycle.js';
import { readLogs, type LogLine } from './logs.js';
import { refreshVerb } from './refresh.js';
import { containerPaths } from './paths.js';
import { queueEvent } from './session.js';
import { mountStorage, mountVerb, unmountStorage, unmountVerb } from './storage.js';
import { fullSync, syncContainer } from './sync.js';
import { DEFAULT_WAIT_INTERVAL_MS, waitFor } from './wait.js';
import type { CtrSession } from './session.js';
import { Network } from '../network/network.js';
import type { NetworkAttachOptions } from '../define/network.js';
import { checkConnectOptions, connectVerb, disconnectVerb } from './network-connect.js';

/** Options of `ctr.logs`. */
export interface LogOptions {
  /** Keep reading until the container exits. */
  follow?: boolean;
  /** Only the last N lines. */
  tail?: number;
  since?: Date;
  until?: Date;
}

function invalid<T>(message: string): ResultAsync<T, LibpodError> {
  return errAsync(libpodError('InvalidArg', message));
}

const streamsShape = shape({ stdout: writable, stderr: writable, stdin: readable });
const sizeShape: Validator = (v) => (validSize(v) ? undefined : 'must be { width, height } positive integers');

function checkStreams(streams: unknown): LibpodError | undefined {
  return checkValue(streams, 'streams', streamsShape);
}

const CHECKPOINT_SHAPE = { keep: bool, keepRunning: bool, tcpEstablished: bool, targetFile: absPath, ignoreRootfs: bool };
const { keepRunning: _notOnRestore, ...RESTORE_SHAPE } = CHECKPOINT_SHAPE;
const EXEC_SHAPE = {
  env: stringMap, user: nonEmptyStr, workDir: absPath, tty: bool, privileged: bool, streams: streamsShape, detachKeys: str, size: sizeShape,
};
const LOGS_SHAPE = { follow: bool, tail: count, since: date, until: date };

/** A container: a handle on its record; cheap to create, safe to share. */
export class Container {
  readonly #ctx: EngineContext;
  readonly #rec: Frozen<ContainerRecord>;
  readonly #access: ContainerAccess;

  /** @internal Handles are made by the Runtime. */
  constructor(ctx: EngineContext, rec: ContainerRecord | Frozen<ContainerRecord>, access?: ContainerAccess) {
    this.#ctx = ctx;
    // A frozen record is the index's shared copy: nothing can change it, so no copy is needed.
    this.#rec = (Object.isFrozen(rec) ? rec : structuredClone(rec)) as Frozen<ContainerRecord>;
    this.#access = access ?? new LockingAccess(ctx, rec.id);
  }

  /** Full id: 64 lowercase hex characters. */
  get id(): string {
    return this.#rec.id;
  }

  /** Name. */
  get name(): string {
    return this.#rec.name;
  }

  /** The configuration: create options as given plus defaults (a copy). */
  config(): ContainerConfig {
    return structuredClone(this.#rec.config) as ContainerConfig;
  }

  /** Ids of the containers this one depends on. */
  dependencies(): string[] {
    return [...this.#rec.dependencyIds];
  }

  /** Id of the pod this container belongs to, if any. */
  podId(): string | undefined {
    return this.#rec.podId;
  }

  #run<T>(fn: (s: CtrSession) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    return safe(() => this.#access.run(fn));
  }

  /** The current state, after syncing with the runtime. */
  state(): ResultAsync<ContainerState, LibpodError> {
    return this.#run((s) => okAsync(s.rec.state.state));
  }

  /** Config, state, exit code, pid, times, mounts, exec sessions. `size: true` adds rootFsSize/rwSize. */
  inspect(opts?: { size?: boolean }): ResultAsync<ContainerInspect, LibpodError> {
    const bad = checkOptions(opts, 'inspect', { size: bool });
    if (bad) return errAsync(bad);
    return this.#run((s) => inspectVerb(s, opts));
  }

  /** Creates the container in the OCI runtime without starting it. */
  init(): ResultAsync<void, LibpodError> {
    return this.#run((s) => initVerb(s));
  }

  /** Starts the container; `recursive` starts its dependencies first. */
  start(opts?: { recursive?: boolean }): ResultAsync<void, LibpodError> {
    const bad = checkOptions(opts, 'start', { recursive: bool });
    if (bad) return errAsync(bad);
    return this.#run((s) => startVerb(s, opts?.recursive === true));
  }

  /**
   * Attaches `streams`, then starts the container: resolves once it runs, to
   * `{ done }` which settles when the attach ends.
   */
  startAndAttach(streams: AttachStreams, opts?: AttachOptions & { recursive?: boolean }): ResultAsync<AttachHandle, LibpodError> {
    const bad = checkStreams(streams) ?? checkOptions(opts, 'attach', { recursive: bool, detachKeys: str });
    if (bad) return errAsync(bad);
    return this.#run((s) => startAndAttachVerb(s, streams, opts ?? {}));
  }

  /** Stops the container: stop signal, then SIGKILL after `timeout` seconds (default: its stopTimeout; 0 = at once). */
  stop(opts?: { timeout?: number }): ResultAsync<void, LibpodError> {
    const bad = checkTimeoutOptions(opts, 'stop');
    if (bad) return errAsync(bad);
    return this.#run((s) => stopVerb(s, opts?.timeout));
  }

  /** Sends a signal (default SIGKILL) to a running container. */
  kill(signal: Signal = 'SIGKILL'): ResultAsync<void, LibpodError> {
    const sig = parseSignal(signal);
    if (sig.isErr()) return errAsync(sig.error);
    return this.#run((s) => killVerb(s, sig.value));
  }

  /** Freezes every process of the container. */
  pause(): ResultAsync<void, LibpodError> {
    return this.#run((s) => pauseVerb(s));
  }

  /** Thaws a paused container. */
  unpause(): ResultAsync<void, LibpodError> {
    return this.#run((s) => unpauseVerb(s));
  }

  /** Stops (when running) and starts again. */
  restart(opts?: { timeout?: number }): ResultAsync<void, LibpodError> {
    const bad = checkTimeoutOptions(opts, 'restart');
    if (bad) return errAsync(bad);
    return this.#run((s) => restartVerb(s, opts?.timeout));
  }

  /**
   * Waits until the container is not running (or reaches `condition`) and
   * resolves to its exit code. `interval` is in milliseconds.
   */
  wait(opts?: { interval?: number; condition?: ContainerState }): ResultAsync<number, LibpodError> {
    const bad = checkOptions(opts, 'wait', { interval: unchecked, condition: unchecked });
    if (bad) return errAsync(bad);
    const interval = opts?.interval ?? DEFAULT_WAIT_INTERVAL_MS;
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) return invalid('wait interval must be a positive number of milliseconds');
    if (opts?.condition !== undefined && !isContainerState(opts.condition)) return invalid(`unknown container state "${String(opts.condition)}"`);
    return safe(() => waitFor(this.#ctx, this.id, this.#access, interval, opts?.condition));
  }

  /**
   * Runs a command in the running container and resolves to its exit code
   * (127: not found, 126: cannot be invoked).
   */
  exec(cmd: string[], opts?: ExecOptions): ResultAsync<ExecResult, LibpodError> {
    if (!Array.isArray(cmd) || cmd.length === 0 || cmd.some((c) => typeof c !== 'string') || cmd[0] === '') {
      return invalid('exec needs a command: a non-empty array of strings');
    }
    const bad = checkOptions(opts, 'exec', EXEC_SHAPE);
    if (bad) return errAsync(bad);
    // safe() around the whole chain: the later steps run after #run returned.
    return safe(() =>
      this.#run((s) => execStart(s, cmd, opts ?? {})).andThen((started) => {
        if (!('sessionId' in started)) return okAsync({ exitCode: started.exitCode });
        return started.session.exited
          .orElse((e) => this.#run((s) => execFinish(s, started.sessionId, -1)).andThen(() => errAsync(e)))
          .andThen((code) =>
            // The process ran: its exit code is the answer even if the container went away meanwhile.
            this.#run((s) => execFinish(s, started.sessionId, code)).orElse(() => okAsync({ exitCode: code })),
          );
      }),
    );
  }

  /** Attaches to a created or running container; resolves when the attach ends. */
  attach(streams: AttachStreams, opts?: AttachOptions): ResultAsync<AttachEnd, LibpodError> {
    const bad = checkStreams(streams) ?? checkOptions(opts, 'attach', { detachKeys: str });
    if (bad) return errAsync(bad);
    return safe(() => this.#run((s) => attachVerb(s, streams, opts ?? {})).andThen((session) => session.done));
  }

  /** Resizes the container's terminal. */
  attachResize(size: TerminalSize): ResultAsync<void, LibpodError> {
    if (!validSize(size)) return invalid('terminal size must be { width, height } positive integers');
    return this.#run((s) => resizeVerb(s, size));
  }

  /** The container's output as logged (k8s-file), optionally followed until it exits. */
  logs(opts?: LogOptions): AsyncIterable<LogLine> {
    const bad = checkOptions(opts, 'logs', LOGS_SHAPE);
    if (bad) return failingIterable(bad);
    const logPath = containerPaths(this.#ctx.root, this.#ctx.runRoot, this.id).logPath;
    const isRunning = async (): Promise<boolean> => {
      const st = await this.state();
      return st.isOk() && (st.value === 'running' || st.value === 'paused' || st.value === 'created');
    };
    return readLogs(logPath, { ...opts, isRunning });
  }

  /** Mounts the root filesystem (and volumes); resolves to its path. Counted: pair with `unmount`. */
  mount(): ResultAsync<string, LibpodError> {
    return this.#run((s) => mountVerb(s).map((mp) => (queueEvent(s, 'mount'), mp)));
  }

  /** Drops a `mount()`; `force` drops them all. */
  unmount(opts?: { force?: boolean }): ResultAsync<void, LibpodError> {
    const bad = checkOptions(opts, 'unmount', { force: bool });
    if (bad) return errAsync(bad);
    return this.#run((s) => unmountVerb(s, opts?.force === true).map(() => queueEvent(s, 'unmount')));
  }

  /** Writes the root filesystem as a tar archive to a file path or a stream. */
  export(dest: string | NodeJS.WritableStream): ResultAsync<void, LibpodError> {
    if (typeof dest !== 'string' && !(dest instanceof Writable)) return invalid('export destination must be a path or a Writable');
    return this.#run((s) => {
      if (s.rec.state.state === 'removing') {
        return improper(`cannot mount container ${s.rec.id} as it is being removed`);
      }
      const wasMounted = s.rec.state.mountPoint !== undefined;
      return mountStorage(s).andThen((mp) =>
        exportTree(mp, dest)
          .andThen(() => (wasMounted ? okAsync(undefined) : unmountStorage(s, false)))
          .map(() => queueEvent(s, 'export'))
          .orElse((e) => (wasMounted ? errAsync(e) : failAfter(e, () => unmountStorage(s, false)))),
      );
    });
  }

  /** Stores a named artifact with the container. */
  addArtifact(name: string, data: Uint8Array | string): ResultAsync<void, LibpodError> {
    return safe(() => addArtifact(this.#ctx, this.id, name, data));
  }

  /** Reads a named artifact. */
  getArtifact(name: string): ResultAsync<Uint8Array, LibpodError> {
    return safe(() => getArtifact(this.#ctx, this.id, name));
  }

  /** Removes a named artifact. */
  removeArtifact(name: string): ResultAsync<void, LibpodError> {
    return safe(() => removeArtifact(this.#ctx, this.id, name));
  }

  /** Releases storage and runtime resources of a stopped container; applies the restart policy. */
  cleanup(): ResultAsync<void, LibpodError> {
    return this.#run((s) => cleanupVerb(s, syncContainer));
  }

  /** Asks the runtime for the container's true state and records it. */
  sync(): ResultAsync<void, LibpodError> {
    return safe(() => this.#access.runUnsynced((s) => fullSync(s).map(() => queueEvent(s, 'sync'))));
  }

  /**
   * Attaches the container to a network (bridge networking only): at once
   * when its networking is live, else at its next start. Already connected:
   * `InvalidArg`.
   */
  connect(network: Network | string, opts?: NetworkAttachOptions): ResultAsync<void, LibpodError> {
    const name = network instanceof Network ? network.id : network;
    if (typeof name !== 'string' || name === '') return errAsync(libpodError('InvalidArg', 'connect needs a Network or a network name'));
    const bad = checkConnectOptions(opts);
    if (bad) return errAsync(bad);
    return this.#run((s) => connectVerb(s, name, opts ?? {}));
  }

  /** Detaches the container from a network; not connected: `NoSuchNetwork`. */
  disconnect(network: Network | string, opts?: { force?: boolean }): ResultAsync<void, LibpodError> {
    const name = network instanceof Network ? network.id : network;
    if (typeof name !== 'string' || name === '') return errAsync(libpodError('InvalidArg', 'disconnect needs a Network or a network name'));
    if (opts !== undefined && (typeof opts !== 'object' || opts === null || Object.keys(opts).some((k) => k !== 'force') || (opts.force !== undefined && typeof opts.force !== 'boolean'))) {
      return errAsync(libpodError('InvalidArg', 'disconnect options must be { force?: boolean }'));
    }
    return this.#run((s) => disconnectVerb(s, name, opts?.force === true));
  }

  /** Stops, resets and re-creates the container, returning it to its previous state. */
  refresh(): ResultAsync<void, LibpodError> {
    return this.#run((s) => refreshVerb(s));
  }

  /**
   * Runs `fn` on a batched view of this container holding its lock once, with
   * no sync between operations. Resolves to `fn`'s value; an Err or a throw
   * inside `fn` comes out as an Err; the lock is always released.
   */
  batch<T>(fn: (c: Container) => T | Promise<T> | ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    if (typeof fn !== 'function') return invalid('batch needs a function');
    return this.#run((s) => runBatched(this.#ctx, [s], ([c]) => fn(c as Container)));
  }

  /**
   * Runs the configured health check once (podman `healthcheck run`):
   * resolves to the status, which `inspect().health` keeps with the last
   * five results. A check that outlives `healthCheck.timeout` is killed, its
   * exec session removed, and it counts as failed with exit code -1 (podman's).
   */
  healthCheck(): ResultAsync<HealthCheckResult, LibpodError> {
    return safe(() => runHealthCheck(this.#access));
  }

  /**
   * Makes an image of the container's changes on top of its image (podman's
   * `commit`): `ref` names it (`app` → `localhost/app:latest`; none: a
   * dangling image); `pause` pauses a running container meanwhile; `author`,
   * `message` and podman's `--change` instructions (`CMD`, `ENTRYPOINT`,
   * `ENV`, `EXPOSE`, `LABEL`, `ONBUILD`, `STOPSIGNAL`, `USER`, `VOLUME`,
   * `WORKDIR`) shape its config. A container made from a rootfs directory,
   * a malformed name or change is `InvalidArg`. A `commit` image event.
   */
  commit(ref?: string, opts: CommitOptions = {}): ResultAsync<Image, LibpodError> {
    if (ref !== undefined && typeof ref !== 'string') return invalid('commit: the image name must be a string');
    const bad = checkOptions(opts, 'commit', { pause: bool, author: str, message: str, changes: stringArray });
    if (bad) return errAsync(bad);
    return this.#run((s) => commitVerb(s, ref, opts)).map((rec) => new Image(this.#ctx, rec));
  }

  /** Checkpoints the running container (needs CRIU; otherwise `NotImplemented`). */
  checkpoint(opts: ContainerCheckpointOptions = {}): ResultAsync<void, LibpodError> {
    const bad = checkOptions(opts, 'checkpoint', CHECKPOINT_SHAPE);
    if (bad) return errAsync(bad);
    return this.#run((s) => checkpointVerb(s, opts));
  }

  /** Restores the container from its checkpoint (or from `targetFile`). */
  restore(opts: ContainerCheckpointOptions = {}): ResultAsync<void, LibpodError> {
    const bad = checkOptions(opts, 'restore', RESTORE_SHAPE);
    if (bad) return errAsync(bad);
    return this.#run((s) => restoreVerb(s, opts));
  }
}

// Every verb gets a safe copy of its arguments; hostile input is InvalidArg (util/harden.ts).
hardenMethods(Container.prototype, { config: 'plain', dependencies: 'plain', podId: 'plain', logs: 'iterable' });

/**
 * Runs `fn` on batched views of held sessions; the views stop working when
 * `fn` settles. A throw or a rejection becomes an Err.
 */
export function runBatched<T>(
  ctx: EngineContext,
  sessions: CtrSession[],
  fn: (views: Container[]) => T | Promise<T> | ResultAsync<T, LibpodError>,
): ResultAsync<T, LibpodError> {
  const accesses = sessions.map((s) => new HeldAccess(s));
  const views = sessions.map((s, i) => new Container(ctx, s.rec, accesses[i]));
  const run = async (): Promise<T> => {
    try {
      const out = fn(views);
      const settled: unknown = await out;
      if (settled instanceof Ok) return settled.value as T;
      if (settled instanceof Err) throw settled.error;
      return settled as T;
    } finally {
      for (const a of accesses) a.end();
    }
  };
  return ResultAsync.fromPromise(run(), (e) => toLibpodError(e, 'Internal', 'batch function failed'));
}
