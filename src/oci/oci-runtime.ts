/**
 * The OCI runtime interface (libpod's `OCIRuntime`), over plain data.
 *
 * An OciRuntime takes ids, specs and requests and returns Results. It never
 * touches the state store, never emits runtime events, never writes to the
 * process's stdio, and holds no lifecycle rules: the Container layer checks
 * states and decides; the runtime only does.
 * @module
 */
import type { ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { ResolvedPort } from '../define/network.js';
import type { AttachEnd, AttachStreams, TerminalSize } from '../define/streams.js';
import type { OciProcess, OciSpec } from './oci-spec-types.js';

/** Paths the engine gives a runtime when it opens it. */
export interface OciRuntimeEnvironment {
  /** Persistent root of the engine. */
  root: string;
  /** Volatile root (wiped on reboot): the runtime keeps exit files, pid files and sockets below it. */
  runRoot: string;
}

/** The spec annotation (`"true"`) by which the engine asks the runtime to keep the container's stdin open (conmon `-i`). */
export const STDIN_ANNOTATION = 'io.libpod-ts.stdin';

/** A request to create a container in the runtime (libpod `CreateContainer`). */
export interface OciCreateRequest {
  /** Container id (the runtime's container name). */
  id: string;
  /** Container name (for logs and monitors). */
  name: string;
  /** Bundle directory (it exists); the caller writes `config.json` there (see `bundleReady`). */
  bundlePath: string;
  /** The spec written to `config.json`. */
  spec: OciSpec;
  /**
   * Settles once the caller's write of `config.json` has, when it is still
   * under way: the runtime may prepare meanwhile (start its monitor) but MUST
   * NOT let the OCI runtime read the bundle before. An Err fails the create
   * with that error and leaves nothing behind. Absent: the bundle is complete.
   */
  bundleReady?: ResultAsync<void, LibpodError>;
  /** Path of the k8s-file log the runtime writes the container's output to. */
  logPath: string;
  /** Restore from this checkpoint image directory instead of creating afresh. */
  restoreFrom?: string;
  /**
   * With `restoreFrom`: restore established TCP connections (CRIU's
   * `--tcp-established`); a checkpoint that has them MUST NOT be restored without it.
   */
  restoreTcpEstablished?: boolean;
  /**
   * Host ports to keep bound while the container runs (podman's port
   * reservation, rootful): the runtime's monitor holds a listening socket
   * per published TCP port and a bound socket per UDP port, so no other
   * process takes them; they are released when the container exits. A port
   * already bound elsewhere fails the create with `InvalidArg`.
   */
  reservePorts?: readonly Pick<ResolvedPort, 'hostIP' | 'hostPort' | 'protocol'>[];
  /**
   * A command (absolute program first) to start once the container exited,
   * whether or not a Node process is alive then (libpod's exit command):
   * started in the background, nobody waits for it. Runtimes without a
   * monitor process ignore it.
   */
  exitHook?: readonly string[];
}

/** What a created container reports. */
export interface OciCreateResult {
  /** Host pid of the container's init process. */
  pid: number;
  /** Host pid of its monitor (conmon); 0 for runtimes without one. */
  monitorPid: number;
}

/** How a container process ended. */
export interface OciExitInfo {
  /** Exit code: the process's status, 128+N when killed by signal N, -1 when unknown. */
  exitCode: number;
  /** When it exited. */
  finishedAt: Date;
  /** Whether the OOM killer ended it. */
  oomKilled: boolean;
}

/** The runtime's view of a container (`runc state` plus the exit file). */
export interface OciContainerStatus {
  /** `stopped` once the process exited, until `delete` (even if the runtime itself already dropped it); `missing` when it has no such container. */
  status: 'created' | 'running' | 'paused' | 'stopped' | 'missing';
  /** Host pid of the init process; 0 unless created, running or paused. */
  pid: number;
  /** Present once the process has exited and its exit was recorded. */
  exit?: OciExitInfo;
}

/** A request to stop a container: stop signal, wait, SIGKILL after the timeout. */
export interface OciStopRequest {
  /** Signal number to send first. */
  signal: number;
  /** Seconds to wait before SIGKILL; 0 sends SIGKILL at once. */
  timeout: number;
  /** Signal every process in the container's cgroup (`kill --all`). */
  all: boolean;
}

/** A request to run a process in a running container. */
export interface OciExecRequest {
  /** Exec session id. */
  sessionId: string;
  /** Bundle of the container the process joins. */
  bundlePath: string;
  /** The process to run (args, env, cwd, user, terminal, capabilities). */
  process: OciProcess;
  /** Streams to attach; those absent are not attached. */
  streams?: AttachStreams;
  /** Detach key sequence (`'ctrl-p,ctrl-q'`), applied to `streams.stdin`. */
  detachKeys?: string;
  /** Initial terminal size, with `process.terminal`. */
  size?: TerminalSize;
}

/**
 * A started exec process. `exited` settles with the exit code once the
 * process ended and its output was fully delivered to the streams.
 */
export interface OciExecSession {
  pid: number;
  exited: ResultAsync<number, LibpodError>;
}

/** A request to attach to a created or running container. */
export interface OciAttachRequest {
  bundlePath: string;
  streams: AttachStreams;
  /** Detach key sequence; `''` disables detaching. */
  detachKeys?: string;
  /** Whether the container has a terminal (all output is stdout then). */
  terminal: boolean;
}

/** A live attach session. `done` settles when output ends or the user detaches. */
export interface OciAttachSession {
  done: ResultAsync<AttachEnd, LibpodError>;
  /** Ends the session from this side (as a detach). */
  close(): void;
}

/** Options of a checkpoint (subset of libpod's `ContainerCheckpointOptions`). */
export interface OciCheckpointRequest {
  bundlePath: string;
  /** Directory the runtime writes the checkpoint image to. */
  imagePath: string;
  /** Leave the container running after the checkpoint. */
  leaveRunning: boolean;
  /** Checkpoint established TCP connections. */
  tcpEstablished: boolean;
}

/** What the runtime can do. */
export interface OciRuntimeFeatures {
  /** `Ok` when checkpoint/restore works here; otherwise `NotImplemented` with the reason. */
  checkpoint(): ResultAsync<void, LibpodError>;
  /**
   * Whether containers run real host processes from their root filesystem.
   * `false` for an in-memory runtime: the engine then needs no host binary
   * for what it starts itself (a pod's infra `catatonit`). Absent means `true`.
   */
  readonly runsProcesses?: boolean;
}

/**
 * The runtime interface every backend implements.
 *
 * Contract:
 * - Methods MUST NOT throw or reject.
 * - A missing binary MUST give `OCIRuntimeNotFound`; a runtime failure `OCIRuntime`
 *   with the runtime's own message.
 * - `create` of an id the runtime already has MUST fail with `CtrExists` and
 *   change nothing (the engine then knows it is a leftover of a crash between
 *   create and its save, deletes it and creates again).
 * - `delete` of an id the runtime does not have MUST succeed and SHOULD be cheap.
 * - `execute` of a command that does not exist in the container MUST fail with
 *   `OCIRuntimeNotFound`; one that cannot be invoked (permission denied, not
 *   executable) with `OCIRuntime` and a message containing "permission denied".
 * - Containers MUST outlive the process that created them (a fake: the instance).
 * - `status` MUST report an exit that already happened, with its code, even
 *   after the engine was closed and reopened.
 */
export interface OciRuntime {
  /** `'runc'`, `'crun'`, `'fake'`, ... */
  readonly name: string;
  /** Optional features and whether they work on this host. */
  readonly features: OciRuntimeFeatures;
  /** Prepares the runtime under the engine's paths; checks binaries. Idempotent. */
  open(env: OciRuntimeEnvironment): ResultAsync<void, LibpodError>;
  /** Stops watchers and releases handles; containers keep running. */
  close(): ResultAsync<void, LibpodError>;
  /**
   * Subscribes to exits: `listener(id)` is called (at least once, possibly
   * more) after a container's process exits. Returns an unsubscribe function.
   */
  watchExits(listener: (id: string) => void): () => void;

  create(req: OciCreateRequest): ResultAsync<OciCreateResult, LibpodError>;
  start(id: string): ResultAsync<void, LibpodError>;
  kill(id: string, signal: number, all: boolean): ResultAsync<void, LibpodError>;
  /** Sends the stop signal, waits, SIGKILLs after the timeout; resolves once the process exited. */
  stop(id: string, req: OciStopRequest): ResultAsync<OciExitInfo, LibpodError>;
  pause(id: string): ResultAsync<void, LibpodError>;
  unpause(id: string): ResultAsync<void, LibpodError>;
  /** Removes the container from the runtime; a missing one is not an error. Clears its exit record. */
  delete(id: string): ResultAsync<void, LibpodError>;
  /** The runtime's full view (may run `runc state`). */
  status(id: string): ResultAsync<OciContainerStatus, LibpodError>;
  /** The exit, if the process has exited: the cheap check sync makes (an exit file's stat). */
  exitStatus(id: string): ResultAsync<OciExitInfo | undefined, LibpodError>;
  /** Waits up to `timeoutMs` for the process to exit. `undefined` on timeout. */
  waitExit(id: string, timeoutMs: number): ResultAsync<OciExitInfo | undefined, LibpodError>;

  attach(id: string, req: OciAttachRequest): ResultAsync<OciAttachSession, LibpodError>;
  resize(id: string, bundlePath: string, size: TerminalSize): ResultAsync<void, LibpodError>;

  execute(id: string, req: OciExecRequest): ResultAsync<OciExecSession, LibpodError>;
  /** Whether the exec session's process still runs. */
  execAlive(id: string, sessionId: string): ResultAsync<boolean, LibpodError>;
  /** Stops an exec process: SIGTERM, SIGKILL after `timeout` seconds. */
  execStop(id: string, sessionId: string, timeout: number): ResultAsync<void, LibpodError>;
  /** Removes what the session left behind (exec bundle, sockets). */
  execCleanup(id: string, sessionId: string, bundlePath: string): ResultAsync<void, LibpodError>;
  execResize(id: string, sessionId: string, bundlePath: string, size: TerminalSize): ResultAsync<void, LibpodError>;

  checkpoint(id: string, req: OciCheckpointRequest): ResultAsync<void, LibpodError>;
}
