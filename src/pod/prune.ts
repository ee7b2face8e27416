/**
 * Pruning containers and pods (libpod `PruneContainers`, `PrunePods`).
 *
 * Containers: those not running (configured, created, stopped, exited),
 * outside pods (pod members go with their pod, as in podman), and not
 * needed by a container that stays; dependents are removed before what they
 * depend on. Pods: those with no running or paused member.
 *
 * Something that changed meanwhile (a container started, a pod member
 * started) is skipped, not an error; other failures are reported together.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { LibpodError } from '../define/errors.js';
import type { ContainerRecord } from '../define/records.js';
import { inState } from '../define/states.js';
import type { EngineContext } from '../engine/context.js';
import { topologicalOrder } from '../container/dependencies.js';
import { removeVerb } from '../container/remove.js';
import { withContainer } from '../container/session.js';
import { syncContainer } from '../container/sync.js';
import { removePodVerb } from './pod-remove.js';
import { queuePodEvent, withPod } from './pod-session.js';
import { syncedMember, syncedMembers } from './pod-status.js';

type R<T> = ResultAsync<T, LibpodError>;

/** Codes that mean "changed meanwhile, leave it": not reported as prune failures. */
const SKIP = ['CtrStateInvalid', 'DepExists', 'CtrRemoved', 'NoSuchCtr', 'PodRemoved', 'NoSuchPod', 'CtrExists'];

function result(what: string, removed: string[], failures: LibpodError[]): R<string[]> {
  const [first] = failures;
  if (!first) return okAsync(removed);
  return errAsync(
    new LibpodError(first.code, `error pruning some ${what} (removed: ${removed.join(', ') || 'none'}): ${first.message}`, {
      cause: first,
      related: failures,
    }),
  );
}

/** Candidates minus those a staying container needs (transitively). */
function prunable(all: readonly ContainerRecord[]): ContainerRecord[] {
  const candidates = new Map(
    all.filter((c) => c.podId === undefined && inState(c.state.state, 'configured', 'created', 'stopped', 'exited')).map((c) => [c.id, c]),
  );
  const staying = all.filter((c) => !candidates.has(c.id));
  while (staying.length > 0) {
    const c = staying.pop() as ContainerRecord;
    for (const dep of c.dependencyIds) {
      const kept = candidates.get(dep);
      if (kept) {
        candidates.delete(dep);
        staying.push(kept);
      }
    }
  }
  return [...candidates.values()];
}

/** Runs `step` for each id in order, collecting removed ids and failures. */
function each(ids: readonly string[], step: (id: string) => R<void>): ResultAsync<{ removed: string[]; failures: LibpodError[] }, LibpodError> {
  const removed: string[] = [];
  const failures: LibpodError[] = [];
  return ids
    .reduce<R<void>>(
      (acc, id) =>
        acc.andThen(() =>
          step(id)
            .map(() => void removed.push(id))
            .orElse((e) => {
              if (!SKIP.includes(e.code)) failures.push(e);
              return okAsync(undefined);
            }),
        ),
      okAsync(undefined),
    )
    .map(() => ({ removed, failures }));
}

/** `runtime.pruneContainers()`: resolves to the ids removed. */
export function pruneContainersVerb(ctx: EngineContext): R<string[]> {
  return ctx.index
    .allContainers()
    .andThen((all) => ResultAsync.combine(all.map((c) => syncedMember(ctx, c))))
    .map((synced) => prunable(synced.filter((c): c is ContainerRecord => c !== undefined)))
    .andThen((cands) => {
      const ids = new Set(cands.map((c) => c.id));
      return topologicalOrder(new Map(cands.map((c) => [c.id, { id: c.id, deps: c.dependencyIds.filter((d) => ids.has(d)) }])));
    })
    .andThen((order) => each([...order].reverse(), (id) => withContainer(ctx, id, (s) => removeVerb(s, {}), syncContainer)))
    .andThen(({ removed, failures }) => result('containers', removed, failures));
}

/** `runtime.prunePods()`: removes pods with no running or paused member; resolves to their ids. */
export function prunePodsVerb(ctx: EngineContext): R<string[]> {
  return ctx.index
    .allPods()
    .map((pods) => pods.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((p) => p.id))
    .andThen((ids) =>
      each(ids, (id) =>
        withPod(ctx, id, (p) =>
          syncedMembers(ctx, p.pod).andThen((members) => {
            const live = members.find((m) => inState(m.state.state, 'running', 'paused'));
            if (live) return errAsync(new LibpodError('CtrStateInvalid', `pod ${id} has running containers`));
            return removePodVerb(p, {}).map(() => queuePodEvent(p, 'prune'));
          }),
        ),
      ),
    )
    .andThen(({ removed, failures }) => result('pods', removed, failures));
}
