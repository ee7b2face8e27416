/**
 * The one home of `async-mutex`: one lock per container, pod and volume.
 *
 * Lock order (to rule out deadlocks), as libpod nests them: pods, then
 * containers, then volumes (a container's storage takes its volumes' locks),
 * then networks (a container's network setup takes the IPAM lock; nothing is
 * locked after a network lock).
 * Among containers, a dependent before its dependencies (a start or a restart
 * holding a container may take the locks of the containers it depends on),
 * expressed by a higher `rank`; then by id. {@link LockManager.withLocks}
 * always acquires in that order. Locks are per {@link LockManager} (one per
 * Runtime), never process-global.
 * @module
 */
import { Mutex } from 'async-mutex';
import { ResultAsync } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../define/errors.js';

/** What a lock protects. */
export type LockKind = 'pod' | 'volume' | 'container' | 'network';

/** A lock key: kind and id (or volume name). */
export interface LockKey {
  kind: LockKind;
  id: string;
  /** Among keys of one kind, higher ranks are taken first (containers: the depth of their dependency chain). */
  rank?: number;
}

const KIND_ORDER: Record<LockKind, number> = { pod: 0, container: 1, volume: 2, network: 3 };

/**
 * Proof that the holder owns the locks of `keys`. Internal operations that
 * require a held lock take one of these; only {@link LockManager} makes them.
 */
export interface HeldLocks {
  readonly keys: readonly LockKey[];
  /** Whether `key` is among the held locks. */
  holds(kind: LockKind, id: string): boolean;
}

function keyString(k: LockKey): string {
  return `${k.kind}:${k.id}`;
}

/** Sorts keys into the global lock order and drops duplicates. */
export function lockOrder(keys: readonly LockKey[]): LockKey[] {
  const unique = new Map(keys.map((k) => [keyString(k), k]));
  return [...unique.values()].sort(
    (a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (b.rank ?? 0) - (a.rank ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** Per-runtime lock table. */
export class LockManager {
  readonly #mutexes = new Map<string, Mutex>();
  /** Locks of removed objects, dropped once nobody holds or waits for them. */
  readonly #doomed = new Set<string>();

  #mutex(key: LockKey): Mutex {
    const s = keyString(key);
    let m = this.#mutexes.get(s);
    if (!m) {
      m = new Mutex();
      this.#mutexes.set(s, m);
    }
    return m;
  }

  /** Runs `fn` holding the lock of `key`; the lock is always released. */
  withLock<T>(key: LockKey, fn: (held: HeldLocks) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    return this.withLocks([key], fn);
  }

  /**
   * Runs `fn` holding every lock of `keys`, acquired in the global order; the
   * locks are always released, whether `fn` succeeds, fails or throws.
   */
  withLocks<T>(keys: readonly LockKey[], fn: (held: HeldLocks) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    const ordered = lockOrder(keys);
    const run = async (): Promise<T> => {
      const releases: (() => void)[] = [];
      try {
        for (const k of ordered) releases.push(await this.#mutex(k).acquire());
        const held: HeldLocks = {
          keys: ordered,
          holds: (kind, id) => ordered.some((k) => k.kind === kind && k.id === id),
        };
        const result = await fn(held);
        if (result.isErr()) throw result.error;
        return result.value;
      } finally {
        for (const release of releases.reverse()) release();
        for (const k of ordered) this.#dropIfDoomed(keyString(k));
      }
    };
    return ResultAsync.fromPromise(run(), (e) => toLibpodError(e));
  }

  /** Whether the lock of `key` is currently held by someone. */
  isLocked(key: LockKey): boolean {
    return this.#mutexes.get(keyString(key))?.isLocked() ?? false;
  }

  /** Forgets the lock of a removed object: now if it is free, else once its holder and waiters are done. */
  forget(key: LockKey): void {
    this.#doomed.add(keyString(key));
    this.#dropIfDoomed(keyString(key));
  }

  #dropIfDoomed(k: string): void {
    if (!this.#doomed.has(k)) return;
    const m = this.#mutexes.get(k);
    if (m && m.isLocked()) return;
    this.#mutexes.delete(k);
    this.#doomed.delete(k);
  }

  /** How many locks the table holds (for tests: removed objects must not leave theirs). */
  get size(): number {
    return this.#mutexes.size;
  }
}
