/**
 * Every record of an open store, in memory and frozen: what the
 * {@link StateIndex} (the store's only writer while open) read once and has
 * written since. Reads then cost no store access and no parse; callers that
 * change a record get a copy (`structuredClone`), and read-only listings
 * share the frozen records.
 * @module
 */
import type { RecordKind, RecordMap } from '../define/records.js';
import type { StateWriteOp } from './state-store.js';

/** A record as the cache hands it out for reading: frozen, shared, never to be changed. */
export type Frozen<T> = T extends (infer U)[] ? readonly Frozen<U>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** The records of every kind, keyed as in the store. */
export class RecordCache {
  readonly #maps: { [K in RecordKind]: Map<string, RecordMap[K]> } = { container: new Map(), pod: new Map(), volume: new Map() };

  /** A cache of a full listing of the store (the records are taken, and frozen). */
  static of(lists: { [K in RecordKind]: readonly RecordMap[K][] }, key: <K extends RecordKind>(kind: K, rec: RecordMap[K]) => string): RecordCache {
    const c = new RecordCache();
    for (const kind of Object.keys(lists) as RecordKind[]) {
      const map = c.#maps[kind] as Map<string, RecordMap[RecordKind]>;
      for (const rec of lists[kind]) map.set(key(kind, rec), deepFreeze(rec));
    }
    return c;
  }

  /** Applies a committed write: the written values are copied and frozen. */
  apply(ops: readonly StateWriteOp[]): void {
    for (const op of ops) {
      const map = this.#maps[op.kind] as Map<string, RecordMap[RecordKind]>;
      if (op.op === 'del') map.delete(op.key);
      else map.set(op.key, deepFreeze(structuredClone(op.value)));
    }
  }

  /** The frozen record, or `undefined`. */
  get<K extends RecordKind>(kind: K, key: string): Frozen<RecordMap[K]> | undefined {
    return this.#maps[kind].get(key) as Frozen<RecordMap[K]> | undefined;
  }

  /** Every frozen record of a kind, in insertion order. */
  list<K extends RecordKind>(kind: K): Frozen<RecordMap[K]>[] {
    return [...this.#maps[kind].values()] as Frozen<RecordMap[K]>[];
  }
}

/** A private, changeable copy of a cached record. */
export function thaw<T>(rec: Frozen<T>): T {
  return structuredClone(rec) as T;
}
