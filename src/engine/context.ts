/**
 * What every layer below the Runtime shares: paths, the state index, the OCI
 * runtime, the network backend and IPAM, the lock table and the event publisher. One per open Runtime; no
 * process-global state.
 * @module
 */
import type { LibpodError } from '../define/errors.js';
import type { LibpodEvent } from '../define/events.js';
import type { LockManager } from '../locks/lock-manager.js';
import type { NetworkBackend } from '../network/backend.js';
import type { Ipam } from '../network/ipam.js';
import type { OciRuntime } from '../oci/oci-runtime.js';
import type { StateIndex } from '../state/state-index.js';
import type { RestartTimers } from './restart-timers.js';
import type { ImageStore } from '../image/store/image-store.js';
import type { ImageRecord } from '../image/store/records.js';
import type { PullOptions } from '../image/pull.js';
import type { Result, ResultAsync } from 'neverthrow';

/** The engine internals an operation needs. */
export interface EngineContext {
  /** Persistent root (store, container dirs, volumes, event log). */
  readonly root: string;
  /** Volatile root (runtime files; wiped on reboot). */
  readonly runRoot: string;
  readonly index: StateIndex;
  readonly oci: OciRuntime;
  readonly locks: LockManager;
  /** The network backend (netavark, or the fake). */
  readonly network: NetworkBackend;
  /** Address allocations of every network (volatile). */
  readonly ipam: Ipam;
  /** Restarts waiting out their backoff (restart policy), one timer per container. */
  readonly restarts: RestartTimers;
  /** Records and delivers events; call only after the state was committed and unlocked. */
  publish(events: readonly LibpodEvent[]): void;
  /** The image store, opened on first use (shared with other Runtimes on the same storage directory). */
  imageStore(): ResultAsync<ImageStore, LibpodError>;
  /** Pulls an image (options already checked), sharing transfers with concurrent pulls of this Runtime. */
  pullImage(ref: string, opts: PullOptions): ResultAsync<ImageRecord, LibpodError>;
  /** `Err(RuntimeFinalized)` once the runtime's `close()` began. */
  guard(): Result<void, LibpodError>;
  /**
   * Admits one operation that changes state: `Err(RuntimeFinalized)` once
   * `close()` began, which waits for every admitted operation to call
   * `done()` (exactly once) before releasing the store. The operation runs
   * with `ctx`, whose own admissions succeed until the runtime is closed:
   * its steps are part of it. `ctx` MUST NOT outlive the operation (handles
   * are built on the runtime's context). See `engine/operation-gate.ts`.
   */
  admit(): Result<Admission, LibpodError>;
}

/** An admitted operation: the context it runs with, and its end. */
export interface Admission {
  readonly ctx: EngineContext;
  done(): void;
}
