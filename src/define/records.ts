/**
 * The plain records the state store persists. JSON-serialisable: times are
 * ISO-8601 strings, absent values are omitted or zero. The store never
 * interprets them beyond the keys named in {@link RecordKey}.
 * @module
 */
import type { ContainerConfig } from './config.js';
import type { ContainerState } from './states.js';
import type { ContainerNetworkState, NetworkAttachment } from './network.js';

/** An exec session as the container state records it (libpod's `ExecSession`). */
export interface ExecSessionRecord {
  /** Session id (64 hex characters). */
  id: string;
  /** The command run. */
  command: string[];
  /** Whether a terminal was allocated. */
  tty: boolean;
  /** `running` until the process exits, then `stopped`. */
  state: 'created' | 'running' | 'stopped';
  /** Process id on the host (0 when unknown). */
  pid: number;
  /** Exit code once stopped. */
  exitCode?: number;
  /** ISO time the session started. */
  startedAt: string;
}

/** The mutable half of a container: libpod's `ContainerState`. */
export interface ContainerStateRecord {
  state: ContainerState;
  /** Host pid of the container's init process (0 when not running). */
  pid: number;
  /** Host pid of its monitor (conmon), 0 when none. */
  monitorPid: number;
  /** Last exit code (0 before the first exit). */
  exitCode: number;
  /** Whether the process exited since it was last created. */
  exited: boolean;
  /** Whether the kernel's OOM killer ended it. */
  oomKilled: boolean;
  /** ISO times; absent before the first start / exit. */
  startedAt?: string;
  finishedAt?: string;
  /** Restarts done by the restart policy since the last user start. */
  restartCount: number;
  /** The last exit matched the restart policy (set by sync, consumed by cleanup). */
  restartPolicyMatch: boolean;
  /**
   * ISO time the restart policy restarts the container: set while a restart
   * waits out its backoff (Docker's restart manager), cleared when it happens
   * or the user stops, starts, refreshes or removes the container.
   */
  restartAt?: string;
  /** The last backoff delay in ms (Docker: 100 ms, doubling, reset after 10 s up); absent before the first. */
  restartBackoffMs?: number;
  /** Stopped or killed through the API: never restarted by the policy. */
  stoppedByUser: boolean;
  /** Mount point of the root filesystem while mounted. */
  mountPoint?: string;
  /** How many `mount()` calls are outstanding (the storage mount count). */
  mountCount: number;
  /** Live exec sessions by id. */
  execSessions: Record<string, ExecSessionRecord>;
  /** ISO time of the last checkpoint / restore. */
  checkpointedAt?: string;
  restoredAt?: string;
  /** Checkpoint image directory kept for restore. */
  checkpointPath?: string;
  /** Health check results (libpod's healthcheck log), when the container has a health check. */
  health?: HealthRecord;
  /** Poststop hooks to run after the runtime deletes the container. */
  poststopHooks?: OciHookRecord[];
  /** Its own network namespace and what netavark set up in it, while set up (bridge networking). */
  network?: ContainerNetworkState;
  /** The networks it is attached to once `connect`/`disconnect` changed them (else the record's `networks`). */
  networks?: Record<string, NetworkAttachment>;
}

/** Health status, as podman reports it. */
export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One health check run. */
export interface HealthLogEntry {
  /** ISO times. */
  start: string;
  end: string;
  /** 0 healthy, 1 failed, -1 timed out, 125 could not run. */
  exitCode: number;
  /** Output (stdout and stderr), at most 500 characters. */
  output: string;
}

/** The health state of a container (libpod `HealthCheckResults`). */
export interface HealthRecord {
  status: HealthStatus;
  failingStreak: number;
  /** The last five runs, oldest first. */
  log: HealthLogEntry[];
}

/** An OCI hook (the `hooks` entries of config.json). */
export interface OciHookRecord {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** A container: its immutable config and its state. */
export interface ContainerRecord {
  id: string;
  name: string;
  /** ISO creation time. */
  createdAt: string;
  config: ContainerConfig;
  /** Ids of the containers this one depends on (resolved `config.dependencies`, plus the pod's infra). */
  dependencyIds: string[];
  /** Id of the pod this container belongs to. */
  podId?: string;
  /** Whether this is its pod's infra container. */
  isInfra?: boolean;
  /** Named volumes that creating this container created (removed with it when `removeVolumes` is set and unused). */
  createdVolumes?: string[];
  /** The networks it was created attached to (bridge networking), by name; `state.networks` once changed. */
  networks?: Record<string, NetworkAttachment>;
  state: ContainerStateRecord;
}

/** Namespaces a pod can share. */
export type PodNamespace = 'net' | 'ipc' | 'uts' | 'pid' | 'cgroup';

/** A pod. */
export interface PodRecord {
  id: string;
  name: string;
  createdAt: string;
  labels: Record<string, string>;
  /** Whether the pod has an infra container. */
  infra: boolean;
  /** Namespaces its members share through the infra container. */
  share: PodNamespace[];
  /** Id of the infra container, once created. */
  infraContainerId?: string;
  /** Hostname the pod's UTS namespace gets. */
  hostname?: string;
}

/** A named volume. */
export interface VolumeRecord {
  name: string;
  driver: 'local';
  createdAt: string;
  labels: Record<string, string>;
  /** Driver options (`type`, `device`, `o`, `uid`, `gid`). */
  options: Record<string, string>;
  /** Host directory holding the data. */
  mountPoint: string;
  /** For volumes that need a mount (`type`/`device`): how many users have it mounted. */
  mountCount: number;
  /** Empty and never used: copy the image content up on first mount. */
  needsCopyUp: boolean;
  /** Numeric owner applied on creation, if given. */
  uid?: number;
  gid?: number;
}

/** The record kinds a store keeps. */
export interface RecordMap {
  container: ContainerRecord;
  pod: PodRecord;
  volume: VolumeRecord;
}

/** One of the record kinds. */
export type RecordKind = keyof RecordMap;

/** The key of a record: `id` for containers and pods, `name` for volumes. */
export function recordKey<K extends RecordKind>(kind: K, record: RecordMap[K]): string {
  return kind === 'volume' ? (record as VolumeRecord).name : (record as ContainerRecord | PodRecord).id;
}

/** A fresh state for a container that exists in the store only. */
export function initialContainerState(): ContainerStateRecord {
  return {
    state: 'configured',
    pid: 0,
    monitorPid: 0,
    exitCode: 0,
    exited: false,
    oomKilled: false,
    restartCount: 0,
    restartPolicyMatch: false,
    stoppedByUser: false,
    mountCount: 0,
    execSessions: {},
  };
}
