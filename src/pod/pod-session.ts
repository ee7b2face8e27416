/**
 * A locked view of one pod, and the helpers every pod verb shares: running
 * an operation on each member under that member's own lock, ordering
 * members by their dependencies, and folding per-member failures into one
 * error (libpod's `ErrPodPartialFail` with the map of container errors).
 *
 * Lock order: the pod lock is taken first, member locks one at a time
 * after it (pod before container, as libpod).
 * @module
 */
import { okAsync, type ResultAsync } from 'neverthrow';
import { LibpodError, libpodError } from '../define/errors.js';
import type { LibpodEvent, PodEventStatus } from '../define/events.js';
import type { ContainerRecord, PodRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { admitted } from '../engine/operation-gate.js';
import type { HeldLocks } from '../locks/lock-manager.js';
import { topologicalOrder } from '../container/dependencies.js';
import { withContainer, type CtrSession } from '../container/session.js';
import { syncContainer } from '../container/sync.js';

type R<T> = ResultAsync<T, LibpodError>;

/** A pod under its held lock. */
export interface PodSession {
  readonly ctx: EngineContext;
  readonly held: HeldLocks;
  /** The working copy of the pod record. */
  pod: PodRecord;
  /** Events to publish once the pod lock is released. */
  readonly pending: LibpodEvent[];
}

/** One member's failure in a pod operation. */
export interface MemberFailure {
  /** Container id. */
  id: string;
  error: LibpodError;
}

/** Queues a pod event, published after the pod lock is released. */
export function queuePodEvent(p: PodSession, status: PodEventStatus, attributes: Record<string, string> = {}): void {
  p.pending.push({ type: 'pod', status, id: p.pod.id, name: p.pod.name, time: new Date(), attributes: { ...p.pod.labels, ...attributes } });
}

/**
 * Runs `fn` holding the pod's lock. A pod that is gone gives `PodRemoved`
 * (the handle outlived it). Queued events are published after unlocking,
 * whether `fn` succeeded or not.
 */
export function withPod<T>(ctx: EngineContext, id: string, fn: (p: PodSession) => R<T>): R<T> {
  return admitted(ctx, (op) => lockPod(op, id, fn));
}

function lockPod<T>(ctx: EngineContext, id: string, fn: (p: PodSession) => R<T>): R<T> {
  const pending: LibpodEvent[] = [];
  const publish = (): void => ctx.publish(pending);
  return ctx.locks
    .withLock({ kind: 'pod', id }, (held) =>
      ctx.index
        .getPod(id)
        .mapErr((e) => (e.code === 'NoSuchPod' ? libpodError('PodRemoved', `pod ${id} has been removed: pod already removed`, e) : e))
        .andThen((pod) => fn({ ctx, held, pod, pending })),
    )
    .map((v) => {
      publish();
      return v;
    })
    .mapErr((e) => {
      publish();
      return e;
    });
}

/** The pod's members, oldest first. */
export function podMembers(p: PodSession): R<ContainerRecord[]> {
  return p.ctx.index.podMembers(p.pod.id).map((ms) => [...ms].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)));
}

/**
 * Runs `fn` on one member under its lock, after a sync. Resolves to the
 * member's error (never fails); a member removed meanwhile is no error.
 */
export function onMember(ctx: EngineContext, id: string, fn: (s: CtrSession) => R<void>): ResultAsync<LibpodError | undefined, never> {
  return withContainer(ctx, id, fn, syncContainer)
    .map((): LibpodError | undefined => undefined)
    .orElse((e) => okAsync<LibpodError | undefined, never>(e.code === 'CtrRemoved' ? undefined : e));
}

/** Runs `fn` on every member in parallel; resolves to their failures. */
export function onMembersParallel(
  ctx: EngineContext,
  ids: readonly string[],
  fn: (s: CtrSession) => R<void>,
  ignore: readonly string[] = [],
): ResultAsync<MemberFailure[], never> {
  const runs = ids.map((id) => onMember(ctx, id, fn).map((error) => ({ id, error })));
  return combineNever(runs).map((rs) =>
    rs.filter((r): r is MemberFailure => r.error !== undefined && !ignore.includes(r.error.code)),
  );
}

function combineNever<T>(runs: ResultAsync<T, never>[]): ResultAsync<T[], never> {
  return runs.reduce<ResultAsync<T[], never>>((acc, r) => acc.andThen((xs) => r.map((x) => [...xs, x])), okAsync([]));
}

/**
 * Member ids ordered so that every container comes after the members it
 * depends on (so the infra container first). A dependency cycle is
 * `InvalidArg`.
 */
export function startOrder(members: readonly ContainerRecord[]): R<string[]> {
  const ids = new Set(members.map((m) => m.id));
  const nodes = new Map(members.map((m) => [m.id, { id: m.id, deps: m.dependencyIds.filter((d) => ids.has(d)) }]));
  return topologicalOrder(nodes);
}

/** Same as {@link startOrder}, reversed: dependents before what they depend on. */
export function stopOrder(members: readonly ContainerRecord[]): R<string[]> {
  return startOrder(members).map((ids) => [...ids].reverse());
}

/**
 * libpod's `ErrPodPartialFail`: the first member failure's code, a message
 * naming the failed members, and every member error in `related`.
 * `undefined` when nothing failed.
 */
export function partialFailure(verb: string, podId: string, failures: readonly MemberFailure[]): LibpodError | undefined {
  const [first] = failures;
  if (!first) return undefined;
  const ids = failures.map((f) => f.id).join(', ');
  return new LibpodError(first.error.code, `error ${verb} some containers in pod ${podId} (${ids}): ${first.error.message}`, {
    cause: first.error,
    related: failures.map((f) => f.error),
  });
}
