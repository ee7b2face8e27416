/**
 * A pod's status and inspect data (libpod `Pod.Status`, `GetPodStatus`,
 * `createPodStatusResults`, `Pod.Inspect`), and the pod filter of
 * `runtime.pods()`.
 * @module
 */
import { labelsMatch } from '../container/container-filter.js';
import { labelFilter } from '../util/validate.js';
import { okAsync, ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { ContainerRecord, PodNamespace, PodRecord } from '../define/records.js';
import { inState, type ContainerState } from '../define/states.js';
import type { EngineContext } from '../engine/context.js';
import { syncedRecord } from '../container/sync.js';

type R<T> = ResultAsync<T, LibpodError>;

/** A pod's overall state, derived from its members' (libpod's `define.PodState*`). */
export type PodState = 'created' | 'running' | 'degraded' | 'stopped' | 'exited' | 'paused' | 'error';

/** Every pod state. */
export const POD_STATES: readonly PodState[] = ['created', 'running', 'degraded', 'stopped', 'exited', 'paused', 'error'];

/** What `pod.status()` resolves to. */
export interface PodStatus {
  /**
   * The overall state: `created` (no member started, or no members),
   * `running` (all run), `degraded` (some run), `paused` (all paused),
   * `exited` (all stopped or exited), `stopped` (some stopped, none
   * running), `error` (a member is in an unknown state).
   */
  state: PodState;
  /** Each member's state by container id (the infra container included). */
  containers: Record<string, ContainerState>;
}

/** One member in {@link PodInspect}. */
export interface PodInspectContainer {
  id: string;
  name: string;
  state: ContainerState;
  /** Whether it is the pod's infra container. */
  isInfra: boolean;
}

/** What `pod.inspect()` resolves to. */
export interface PodInspect {
  id: string;
  name: string;
  createdAt: Date;
  labels: Record<string, string>;
  state: PodState;
  /** Whether the pod has an infra container. */
  infra: boolean;
  /** Id of the infra container, when it has one. */
  infraContainerId?: string;
  /** Namespaces the members share through the infra container. */
  share: PodNamespace[];
  hostname?: string;
  numContainers: number;
  containers: PodInspectContainer[];
}

/** Filter of `runtime.pods()`; every given field must match. */
export interface PodFilter {
  /** Exact name, or a RegExp tested against the name. */
  name?: string | RegExp;
  /** `'key'`, `'key=value'`, or `{ key: value }` (all must match). */
  label?: string | Record<string, string>;
  /** One pod state or any of several. */
  state?: PodState | PodState[];
}

/** libpod `createPodStatusResults`: the overall state from the members' states. */
export function podStateOf(states: readonly ContainerState[]): PodState {
  const n = states.length;
  if (n === 0) return 'created';
  let running = 0;
  let paused = 0;
  let stopped = 0;
  let errored = 0;
  for (const s of states) {
    if (inState(s, 'stopped', 'exited')) stopped++;
    else if (s === 'running') running++;
    else if (s === 'paused') paused++;
    else if (!inState(s, 'created', 'configured')) errored++;
  }
  if (running === n) return 'running';
  if (running > 0) return 'degraded';
  if (paused === n) return 'paused';
  if (stopped === n) return 'exited';
  if (stopped > 0) return 'stopped';
  if (errored > 0) return 'error';
  return 'created';
}

/**
 * A member's current state: running and paused members are synced (under
 * their lock) first, so an exit that happened is seen. A member removed
 * meanwhile resolves to `undefined`.
 */
export function syncedMember(ctx: EngineContext, rec: ContainerRecord): R<ContainerRecord | undefined> {
  // A status must not fail for one member's sync error: that member shows its last saved state.
  return syncedRecord(ctx, rec).orElse(() => okAsync(rec));
}

/** The pod's members, synced, oldest first. */
export function syncedMembers(ctx: EngineContext, pod: PodRecord): R<ContainerRecord[]> {
  return ctx.index
    .podMembers(pod.id)
    .andThen((ms) => ResultAsync.combine(ms.map((m) => syncedMember(ctx, m))))
    .map((ms) =>
      ms.filter((m): m is ContainerRecord => m !== undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)),
    );
}

/** `pod.status()` from synced members. */
export function statusOf(members: readonly ContainerRecord[]): PodStatus {
  const containers: Record<string, ContainerState> = {};
  for (const m of members) containers[m.id] = m.state.state;
  return { state: podStateOf(members.map((m) => m.state.state)), containers };
}

/** `pod.inspect()` from the record and its synced members. */
export function inspectOf(pod: PodRecord, members: readonly ContainerRecord[]): PodInspect {
  return {
    id: pod.id,
    name: pod.name,
    createdAt: new Date(pod.createdAt),
    labels: { ...pod.labels },
    state: podStateOf(members.map((m) => m.state.state)),
    infra: pod.infra,
    ...(pod.infraContainerId ? { infraContainerId: pod.infraContainerId } : {}),
    share: [...pod.share],
    ...(pod.hostname ? { hostname: pod.hostname } : {}),
    numContainers: members.length,
    containers: members.map((m) => ({ id: m.id, name: m.name, state: m.state.state, isInfra: m.isInfra === true })),
  };
}

/** `InvalidArg` for a malformed pod filter. */
export function checkPodFilter(filter: unknown): LibpodError | undefined {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) return libpodError('InvalidArg', 'pod filter must be an object');
  for (const k of Object.keys(filter)) if (!['name', 'label', 'state'].includes(k)) return libpodError('InvalidArg', `unknown pod filter "${k}"`);
  const f = filter as PodFilter;
  if (f.name !== undefined && typeof f.name !== 'string' && !(f.name instanceof RegExp)) return libpodError('InvalidArg', 'pod filter name must be a string or RegExp');
  if (f.label !== undefined && labelFilter(f.label) !== undefined) {
    return libpodError('InvalidArg', 'pod filter label must be a string or an object');
  }
  const states = f.state === undefined ? [] : Array.isArray(f.state) ? f.state : [f.state];
  for (const s of states) if (!POD_STATES.includes(s)) return libpodError('InvalidArg', `unknown pod state "${String(s)}"`);
  return undefined;
}

/** Whether a pod with this record and state matches the filter. */
export function podMatches(
  pod: PodRecord,
  state: PodState,
  f: PodFilter,
): boolean {
  if (f.name !== undefined && !(typeof f.name === 'string' ? pod.name === f.name : f.name.test(pod.name))) return false;
  if (!labelsMatch(pod.labels, f.label)) return false;
  if (f.state !== undefined && !(Array.isArray(f.state) ? f.state : [f.state]).includes(state)) return false;
  return true;
}

/** Pods matching `f` (member states synced first), oldest first. */
export function listPods(
  ctx: EngineContext,
  f: PodFilter,
): R<PodRecord[]> {
  return ctx.index.allPods().andThen((pods) =>
    ResultAsync.combine(pods.map((p) => syncedMembers(ctx, p).map((ms) => ({ p, state: statusOf(ms).state })))).map((rows) =>
      rows
        .filter(({ p, state }) => podMatches(p, state, f))
        .sort((a, b) => a.p.createdAt.localeCompare(b.p.createdAt))
        .map(({ p }) => p),
    ),
  );
}
