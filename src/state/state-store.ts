/**
 * The persistence interface (libpod's `State`, reduced to a repository).
 *
 * A StateStore is a dumb, typed, atomic repository of plain records: read one,
 * list a kind, and one all-or-nothing write of several records. It knows
 * nothing of names, prefixes, dependencies or pods: those integrity rules live
 * once above it, in {@link StateIndex}, so every backend gets them for free.
 * @module
 */
import type { ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { RecordKind, RecordMap } from '../define/records.js';

/** One change in a {@link StateStore.write}. */
export type StateWriteOp =
  | { [K in RecordKind]: { op: 'put'; kind: K; key: string; value: RecordMap[K] } }[RecordKind]
  | { op: 'del'; kind: RecordKind; key: string };

/** What a store can do beyond the required operations. */
export interface StateStoreCapabilities {
  /** Data survives `close()` and a crash of the process (kill -9). */
  readonly persistent: boolean;
  /** A second process opening the same location gets `Locked`. */
  readonly exclusive: boolean;
}

/**
 * The persistence interface every backend implements.
 *
 * Contract:
 * - Methods MUST NOT throw or reject; failures are `Err(LibpodError)`.
 * - Before `open()` and after `close()`, every other method MUST fail with `DBClosed`.
 * - `open()` on a location held by another process MUST fail with `Locked`,
 *   naming the holder's pid when known; it MUST NOT corrupt or change data.
 * - `write(ops)` MUST apply all ops or none, even if the process is killed mid-write.
 * - `get`/`list` MUST return copies: mutating a returned record MUST NOT change the store.
 * - `del` of a missing key MUST succeed (no-op); `put` MUST overwrite.
 *
 * While a `StateIndex` (an open `Runtime`) uses a store, it is the store's
 * only writer: the index keeps ids, names and relations in memory. A backend
 * shared by several processes must let only one open it at a time (`Locked`).
 */
export interface StateStore {
  /** A short name for messages (`'level'`, `'memory'`). */
  readonly name: string;
  /** What this backend guarantees. */
  readonly capabilities: StateStoreCapabilities;
  /** Opens (or re-opens) the store. */
  open(): ResultAsync<void, LibpodError>;
  /** Closes the store; idempotent. */
  close(): ResultAsync<void, LibpodError>;
  /** One record, or `undefined` when absent. */
  get<K extends RecordKind>(kind: K, key: string): ResultAsync<RecordMap[K] | undefined, LibpodError>;
  /** Every record of a kind, in no particular order. */
  list<K extends RecordKind>(kind: K): ResultAsync<RecordMap[K][], LibpodError>;
  /** Applies every op atomically, in order. */
  write(ops: readonly StateWriteOp[]): ResultAsync<void, LibpodError>;
}
