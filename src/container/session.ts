/**
 * A locked view of one container: the record under its held lock, and the
 * events its operations queue. Internal operations take a `CtrSession`, so
 * holding the lock is a matter of types, not of a `batched` flag.
 * @module
 */
import { okAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { ContainerEventStatus, LibpodEvent } from '../define/events.js';
import type { ContainerRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { admitted } from '../engine/operation-gate.js';
import type { HeldLocks } from '../locks/lock-manager.js';
import { containerPaths, type ContainerPaths } from './paths.js';

/** A container under its held lock. */
export interface CtrSession {
  readonly ctx: EngineContext;
  readonly held: HeldLocks;
  /** The working copy of the record; {@link save} persists it. */
  rec: ContainerRecord;
  /** Events to publish once the lock is released. */
  readonly pending: LibpodEvent[];
}

/**
 * How a container's record is brought up to date with the OCI runtime once
 * its lock is held (the engine's is `syncContainer`, container/sync.ts).
 */
export type SyncFn = (s: CtrSession) => ResultAsync<void, LibpodError>;

/** Paths of the session's container. */
export function pathsOf(s: CtrSession): ContainerPaths {
  return containerPaths(s.ctx.root, s.ctx.runRoot, s.rec.id);
}

/** Persists the session's record (libpod `save()`). */
export function save(s: CtrSession): ResultAsync<void, LibpodError> {
  return s.ctx.index.saveContainer(s.rec);
}

/** Queues a container event, published after the lock is released. */
export function queueEvent(s: CtrSession, status: ContainerEventStatus, extra: { exitCode?: number; attributes?: Record<string, string> } = {}): void {
  const event: LibpodEvent = {
    type: 'container',
    status,
    id: s.rec.id,
    name: s.rec.name,
    time: new Date(),
    attributes: { ...s.rec.config.labels, ...(s.rec.podId ? { pod: s.rec.podId } : {}), ...extra.attributes },
  };
  if (extra.exitCode !== undefined) event.exitCode = extra.exitCode;
  s.pending.push(event);
}

/** Publishes (once, after the lock was released) the events queued under it. */
function publishPending(ctx: EngineContext, pending: LibpodEvent[]): ResultAsync<void, LibpodError> {
  ctx.publish(pending.splice(0));
  return okAsync(undefined);
}

/** Whether the record still exists in the store: a removed container gives `CtrRemoved`. */
function loadRecord(ctx: EngineContext, id: string): ResultAsync<ContainerRecord, LibpodError> {
  return ctx.index
    .getContainer(id)
    .mapErr((e) => (e.code === 'NoSuchCtr' ? libpodError('CtrRemoved', `container ${id} has been removed`, e) : e));
}

/**
 * Runs `fn` on the container holding its lock, after `sync` (when given),
 * as one admitted operation (`ctx.admit`: a closing runtime waits for it).
 * Queued events are published after the lock is released, whether `fn`
 * succeeded or not.
 */
export function withContainer<T>(
  ctx: EngineContext,
  id: string,
  fn: (s: CtrSession) => ResultAsync<T, LibpodError>,
  sync?: SyncFn,
): ResultAsync<T, LibpodError> {
  return admitted(ctx, (op) => {
    const pending: LibpodEvent[] = [];
    return op.locks
      .withLock({ kind: 'container', id }, (held) =>
        loadRecord(op, id).andThen((rec) => {
          const s: CtrSession = { ctx: op, held, rec, pending };
          return (sync ? sync(s) : okAsync(undefined)).andThen(() => fn(s));
        }),
      )
      .andThrough(() => publishPending(op, pending))
      .mapErr((e) => (publishPending(op, pending), e));
  });
}

/**
 * The length of each container's dependency chain (0: depends on nothing).
 * Dependencies never change after creation, so they are read without locks;
 * a missing container ranks 0 (its load under the lock reports it).
 */
function dependencyRanks(ctx: EngineContext, ids: readonly string[]): ResultAsync<Map<string, number>, LibpodError> {
  return ctx.index.dependencyGraph().map((deps) => {
    const ranks = new Map<string, number>();
    const rank = (id: string, seen: Set<string>): number => {
      const known = ranks.get(id);
      if (known !== undefined) return known;
      if (seen.has(id)) return 0;
      seen.add(id);
      const r = Math.max(-1, ...deps(id).map((d) => rank(d, seen))) + 1;
      ranks.set(id, r);
      return r;
    };
    for (const id of ids) rank(id, new Set());
    return ranks;
  });
}

/**
 * Runs `fn` holding the locks of several containers, taken in the global
 * lock order (dependents before their dependencies, as single-container
 * operations take them; then by id), so no deadlock whatever order `ids`
 * come in; each is synced first.
 */
export function withContainers<T>(
  ctx: EngineContext,
  ids: readonly string[],
  fn: (sessions: CtrSession[]) => ResultAsync<T, LibpodError>,
  sync?: SyncFn,
): ResultAsync<T, LibpodError> {
  return admitted(ctx, (op) => lockContainers(op, ids, fn, sync));
}

function lockContainers<T>(
  ctx: EngineContext,
  ids: readonly string[],
  fn: (sessions: CtrSession[]) => ResultAsync<T, LibpodError>,
  sync?: SyncFn,
): ResultAsync<T, LibpodError> {
  const pending: LibpodEvent[] = [];
  const unique = [...new Set(ids)];
  return dependencyRanks(ctx, unique)
    .andThen((ranks) => ctx.locks.withLocks(unique.map((id) => ({ kind: 'container' as const, id, rank: ranks.get(id) ?? 0 })), (held) => {
      const sessions: CtrSession[] = [];
      const load = unique.reduce<ResultAsync<void, LibpodError>>(
        (acc, id) =>
          acc.andThen(() =>
            loadRecord(ctx, id).andThen((rec) => {
              const s: CtrSession = { ctx, held, rec, pending };
              sessions.push(s);
              return sync ? sync(s) : okAsync(undefined);
            }),
          ),
        okAsync(undefined),
      );
      return load.andThen(() => fn(sessions));
    }))
    .andThrough(() => publishPending(ctx, pending))
    .mapErr((e) => (publishPending(ctx, pending), e));
}
