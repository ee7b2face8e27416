/**
 * What `ctr.inspect()` returns.
 * @module
 */
import type { ContainerConfig } from './config.js';
import type { HealthRecord } from './records.js';
import type { NetworkSettings } from './network.js';
import type { ContainerState } from './states.js';

/** A mount as seen by the container. */
export interface InspectMount {
  type: 'bind' | 'tmpfs' | 'volume';
  /** Host path, or the volume name for volumes. */
  source: string;
  destination: string;
  options: string[];
  /** Volume name, for `type: 'volume'`. */
  name?: string;
}

/** An exec session as `inspect()` reports it. */
export interface InspectExecSession {
  id: string;
  command: string[];
  running: boolean;
  pid: number;
  exitCode?: number;
}

/** Container details: config + state + exit code, pid, times, mounts. */
export interface ContainerInspect {
  id: string;
  name: string;
  state: ContainerState;
  pid: number;
  /** Pid of the monitor process (conmon), 0 when none. */
  monitorPid: number;
  exitCode: number;
  oomKilled: boolean;
  restartCount: number;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  config: ContainerConfig;
  mounts: InspectMount[];
  execSessions: InspectExecSession[];
  /** Ids of the containers this one depends on. */
  dependencies: string[];
  /** Pod id, if a member. */
  pod?: string;
  /** Whether the root filesystem is mounted, and where. */
  mountPoint?: string;
  /** Bytes in the root filesystem (seed `rootFsSize`). */
  rootFsSize?: number;
  /** Bytes written to the overlay upper layer (seed `rwSize`); with `rootfsOverlay` only. */
  rwSize?: number;
  /** OCI runtime name. */
  ociRuntime: string;
  /** Paths of the bundle and log. */
  bundlePath: string;
  logPath: string;
  /** Last checkpoint / restore times. */
  checkpointedAt?: Date;
  restoredAt?: Date;
  /** Published ports and addresses on each network (bridge networking; empty otherwise). */
  networkSettings: NetworkSettings;
  /** Health check status and recent results, once a check ran. */
  health?: HealthRecord;
}
