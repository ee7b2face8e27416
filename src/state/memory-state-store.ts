/**
 * An in-memory {@link StateStore}: for tests and throw-away runtimes.
 *
 * Records live in the instance (not in the process), so closing and
 * re-opening the same instance keeps them, as a real store would; a new
 * instance starts empty. Nothing survives the process.
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { RecordKind, RecordMap } from '../define/records.js';
import type { StateStore, StateStoreCapabilities, StateWriteOp } from './state-store.js';
import { checkKindAndKey, checkOps, closedError } from './store-checks.js';

type Tables = { [K in RecordKind]: Map<string, RecordMap[K]> };

/**
 * A {@link StateStore} that keeps deep copies of its records in memory.
 *
 * @example
 * ```ts
 * const store = new MemoryStateStore();
 * await store.open();
 * ```
 */
export class MemoryStateStore implements StateStore {
  /** Always `'memory'`. */
  readonly name = 'memory';
  /** Not persistent (gone with the process) and not exclusive (one process only anyway). */
  readonly capabilities: StateStoreCapabilities = { persistent: false, exclusive: false };

  readonly #tables: Tables = { container: new Map(), pod: new Map(), volume: new Map() };
  #open = false;

  /** Opens the store; opening an open store is a no-op. */
  open(): ResultAsync<void, LibpodError> {
    this.#open = true;
    return okAsync(undefined);
  }

  /** Closes the store, keeping its records for a later `open()`; idempotent. */
  close(): ResultAsync<void, LibpodError> {
    this.#open = false;
    return okAsync(undefined);
  }

  /** A deep copy of one record, or `undefined`. */
  get<K extends RecordKind>(kind: K, key: string): ResultAsync<RecordMap[K] | undefined, LibpodError> {
    if (!this.#open) return errAsync(closedError(this.name));
    const checked = checkKindAndKey(kind, key);
    if (checked.isErr()) return errAsync(checked.error);
    const table = this.#tables[kind] as Map<string, RecordMap[K]>;
    const value = table.get(key);
    return okAsync(value === undefined ? undefined : structuredClone(value));
  }

  /** Deep copies of every record of `kind`. */
  list<K extends RecordKind>(kind: K): ResultAsync<RecordMap[K][], LibpodError> {
    if (!this.#open) return errAsync(closedError(this.name));
    const checked = checkKindAndKey(kind, kind);
    if (checked.isErr()) return errAsync(checked.error);
    const table = this.#tables[kind] as Map<string, RecordMap[K]>;
    return okAsync([...table.values()].map((v) => structuredClone(v)));
  }

  /** Applies every op or none: values are copied (and so validated) before anything changes. */
  write(ops: readonly StateWriteOp[]): ResultAsync<void, LibpodError> {
    if (!this.#open) return errAsync(closedError(this.name));
    const checked = checkOps(ops);
    if (checked.isErr()) return errAsync(checked.error);
    let copies: StateWriteOp[];
    try {
      // JSON round-trip: the same values a persistent store would keep (no
      // functions, no undefined fields, no shared references).
      copies = ops.map((op) => (op.op === 'put' ? { ...op, value: JSON.parse(JSON.stringify(op.value)) } : op));
    } catch (e) {
      return errAsync(libpodError('InvalidArg', `state record is not JSON-serialisable: ${String(e)}`, e));
    }
    for (const op of copies) {
      const table = this.#tables[op.kind] as Map<string, unknown>;
      if (op.op === 'put') table.set(op.key, op.value);
      else table.delete(op.key);
    }
    return okAsync(undefined);
  }
}
