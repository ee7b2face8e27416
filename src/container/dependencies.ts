/**
 * Dependencies between containers (libpod `checkDependenciesRunning`,
 * `startDependencies`, `BuildContainerGraph`): a container starts only when
 * the containers it depends on run; a recursive start starts them first, in
 * dependency order, after checking the graph for cycles.
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { improper, libpodError, type LibpodError } from '../define/errors.js';
import type { ContainerState } from '../define/states.js';
import type { EngineContext } from '../engine/context.js';
import { withContainer, type CtrSession, type SyncFn } from './session.js';

/**
 * The current state of another container. When the caller already holds its
 * lock (a multi-container batch) the record is read as it is, without
 * locking again (which would deadlock). Otherwise it is locked and synced
 * with `sync`: the engine's sync, passed in by the caller because syncing a
 * peer can run the peer's Cleanup path, which checks dependencies in turn.
 */
export function peerState(s: CtrSession, id: string, sync: SyncFn): ResultAsync<ContainerState, LibpodError> {
  if (s.held.holds('container', id)) return s.ctx.index.getContainer(id).map((r) => r.state.state);
  return withContainer(s.ctx, id, (ds) => okAsync(ds.rec.state.state), sync);
}

/** Fails with `CtrStateInvalid` naming the dependencies that do not run (each synced with `sync`). */
export function checkDependenciesRunning(s: CtrSession, sync: SyncFn): ResultAsync<void, LibpodError> {
  const deps = s.rec.dependencyIds;
  if (deps.length === 0) return okAsync(undefined);
  const notRunning: string[] = [];
  const checks = deps.reduce<ResultAsync<void, LibpodError>>(
    (acc, dep) =>
      acc.andThen(() =>
        peerState(s, dep, sync)
          .mapErr((e) => libpodError(e.code, `error retrieving dependency ${dep} of container ${s.rec.id} from state: ${e.message}`, e))
          .map((st) => {
            if (st !== 'running') notRunning.push(dep);
          }),
      ),
    okAsync(undefined),
  );
  return checks.andThen(() =>
    notRunning.length === 0
      ? okAsync(undefined)
      : improper(`some dependencies of container ${s.rec.id} are not started: ${notRunning.join(',')}`),
  );
}

/** A dependency graph node: a container and the ids it depends on. */
interface Node {
  id: string;
  deps: string[];
}

/**
 * Collects, transitively, the dependencies of `s` that do not run, with
 * their own dependencies (libpod `getAllDependencies`).
 */
function collect(ctx: EngineContext, s: CtrSession, ids: readonly string[], into: Map<string, Node>, sync: SyncFn): ResultAsync<void, LibpodError> {
  return ids.reduce<ResultAsync<void, LibpodError>>(
    (acc, id) =>
      acc.andThen(() => {
        if (into.has(id) || id === s.rec.id) return okAsync(undefined);
        return ctx.index.getContainer(id).andThen((rec) =>
          peerState(s, id, sync).andThen((st) => {
            if (st === 'running') return okAsync(undefined);
            into.set(id, { id, deps: rec.dependencyIds });
            return collect(ctx, s, rec.dependencyIds, into, sync);
          }),
        );
      }),
    okAsync(undefined),
  );
}

/**
 * Orders the graph so every container comes after its dependencies; a cycle
 * is `InvalidArg` naming the containers on it.
 */
export function topologicalOrder(nodes: ReadonlyMap<string, Node>): ResultAsync<string[], LibpodError> {
  const order: string[] = [];
  const mark = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    const m = mark.get(id);
    if (m === 'done') return undefined;
    if (m === 'visiting') return [...path.slice(path.indexOf(id)), id];
    mark.set(id, 'visiting');
    for (const dep of nodes.get(id)?.deps ?? []) {
      if (!nodes.has(dep)) continue;
      const cycle = visit(dep, [...path, id]);
      if (cycle) return cycle;
    }
    mark.set(id, 'done');
    order.push(id);
    return undefined;
  };
  for (const id of nodes.keys()) {
    const cycle = visit(id, []);
    if (cycle) return errAsync(libpodError('InvalidArg', `cycle found in container dependency graph: ${cycle.join(' -> ')}`));
  }
  return okAsync(order);
}

/**
 * Starts every dependency of `s` that does not run, dependencies first
 * (libpod `startDependencies`), each locked and synced with `sync`, then
 * started with `start` (the start verb, passed in: it checks dependencies
 * itself). Each failure is reported; the first is returned with the others
 * attached.
 */
export function startDependencies(
  s: CtrSession,
  sync: SyncFn,
  start: (dep: CtrSession) => ResultAsync<void, LibpodError>,
): ResultAsync<void, LibpodError> {
  if (s.rec.dependencyIds.length === 0) return okAsync(undefined);
  const nodes = new Map<string, Node>();
  return collect(s.ctx, s, s.rec.dependencyIds, nodes, sync)
    .andThen(() => topologicalOrder(nodes))
    .andThen((order) => {
      const failures: LibpodError[] = [];
      const starts = order.reduce<ResultAsync<void, LibpodError>>(
        (acc, id) =>
          acc.andThen(() => {
            if (s.held.holds('container', id)) {
              failures.push(libpodError('CtrStateInvalid', `dependency ${id} is locked by this batch; start it first`));
              return okAsync(undefined);
            }
            return withContainer(s.ctx, id, start, sync).orElse((e) => {
              failures.push(e);
              return okAsync(undefined);
            });
          }),
        okAsync(undefined),
      );
      return starts.andThen(() => {
        const [first, ...rest] = failures;
        if (!first) return okAsync(undefined);
        return errAsync(libpodError('Internal', `error starting some containers: ${first.message}`, first).withRelated(first, ...rest));
      });
    });
}
