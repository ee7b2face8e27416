/**
 * The pod lifecycle verbs (libpod `Pod.Start`, `StopWithTimeout`, `Kill`,
 * `Pause`, `Unpause`, `Restart`) on a locked pod. Each runs on every member,
 * under the member's own lock, and does not stop at the first failure;
 * failures come back as one error with every member's error attached.
 *
 * Ordering: start and unpause go infra first, then members in dependency
 * order; stop, kill and pause go members first, infra last (a member must
 * not lose the namespaces it joined while it still runs).
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { improperError, type LibpodError } from '../define/errors.js';
import type { ContainerRecord } from '../define/records.js';
import { inState } from '../define/states.js';
import { killVerb, pauseVerb, startVerb, stopVerb, unpauseVerb } from '../container/lifecycle.js';
import type { CtrSession } from '../container/session.js';
import {
  onMember,
  onMembersParallel,
  partialFailure,
  podMembers,
  queuePodEvent,
  startOrder,
  type MemberFailure,
  type PodSession,
} from './pod-session.js';

type R<T> = ResultAsync<T, LibpodError>;

/** Member errors that mean "nothing to do for this one" (libpod ignores them too). */
const NOTHING_TO_DO = ['CtrStateInvalid', 'CtrStopped'] as const;

function split(p: PodSession, members: readonly ContainerRecord[]): { infra: string[]; others: string[] } {
  const infraId = p.pod.infraContainerId;
  return {
    infra: members.filter((m) => m.id === infraId).map((m) => m.id),
    others: members.filter((m) => m.id !== infraId).map((m) => m.id),
  };
}

function finish(verb: string, p: PodSession, failures: MemberFailure[]): R<void> {
  const e = partialFailure(verb, p.pod.id, failures);
  return e ? errAsync(e) : okAsync(undefined);
}

/** Members first (in parallel), then the infra container. */
function membersThenInfra(p: PodSession, fn: (s: CtrSession) => R<void>): R<MemberFailure[]> {
  return podMembers(p).andThen((members) => {
    const { infra, others } = split(p, members);
    return onMembersParallel(p.ctx, others, fn, NOTHING_TO_DO).andThen((failed) =>
      onMembersParallel(p.ctx, infra, fn, NOTHING_TO_DO).map((f2) => [...failed, ...f2]),
    );
  });
}

/** The infra container first, then the members (in parallel). */
function infraThenMembers(p: PodSession, fn: (s: CtrSession) => R<void>): R<MemberFailure[]> {
  return podMembers(p).andThen((members) => {
    const { infra, others } = split(p, members);
    return onMembersParallel(p.ctx, infra, fn, NOTHING_TO_DO).andThen((failed) =>
      onMembersParallel(p.ctx, others, fn, NOTHING_TO_DO).map((f2) => [...failed, ...f2]),
    );
  });
}

/**
 * Starts members in dependency order (libpod `startNode`): members already
 * running or paused are left alone, and a member whose dependency failed is
 * not tried (`CtrStateInvalid`). `skip` members are not started at all.
 */
function startMembers(p: PodSession, skip: ReadonlySet<string> = new Set()): R<MemberFailure[]> {
  return podMembers(p).andThen((members) =>
    startOrder(members).andThen((order) => {
      const byId = new Map(members.map((m) => [m.id, m]));
      const failed = new Map<string, LibpodError>();
      const run = order.reduce<R<void>>(
        (acc, id) =>
          acc.andThen(() => {
            if (skip.has(id)) return okAsync(undefined);
            const badDep = (byId.get(id)?.dependencyIds ?? []).find((d) => failed.has(d));
            if (badDep !== undefined) {
              failed.set(id, improperError(`a dependency of container ${id} failed to start`));
              return okAsync(undefined);
            }
            return onMember(p.ctx, id, (s) => (inState(s.rec.state.state, 'running', 'paused') ? okAsync(undefined) : startVerb(s, false))).map((e) => {
              if (e) failed.set(id, e);
            });
          }),
        okAsync(undefined),
      );
      return run.map(() => [...failed].map(([id, error]) => ({ id, error })));
    }),
  );
}

/** `pod.start()`: starts every member, infra first; `start` event on success. */
export function podStartVerb(p: PodSession): R<void> {
  return startMembers(p).andThen((failures) =>
    finish('starting', p, failures).map(() => queuePodEvent(p, 'start')),
  );
}

/** `pod.stop({ timeout })`: stops running members, then the infra container. */
export function podStopVerb(p: PodSession, timeout: number | undefined): R<void> {
  return membersThenInfra(p, (s) => stopVerb(s, timeout)).andThen((failures) => {
    queuePodEvent(p, 'stop');
    return finish('stopping', p, failures);
  });
}

/** `pod.kill(signal)`: signals every running member, then the infra container. */
export function podKillVerb(p: PodSession, signal: number): R<void> {
  return membersThenInfra(p, (s) => killVerb(s, signal)).andThen((failures) => {
    queuePodEvent(p, 'kill', { signal: String(signal) });
    return finish('killing', p, failures);
  });
}

/** `pod.pause()`: freezes every running member, then the infra container. */
export function podPauseVerb(p: PodSession): R<void> {
  return membersThenInfra(p, pauseVerb).andThen((failures) => {
    queuePodEvent(p, 'pause');
    return finish('pausing', p, failures);
  });
}

/** `pod.unpause()`: thaws the infra container, then every paused member. */
export function podUnpauseVerb(p: PodSession): R<void> {
  return infraThenMembers(p, unpauseVerb).andThen((failures) => {
    queuePodEvent(p, 'unpause');
    return finish('unpausing', p, failures);
  });
}

/**
 * `pod.restart({ timeout })`: stops the pod (members, then infra) and starts
 * it again (infra, then members), so members rejoin the new infra's
 * namespaces. Paused and unknown members are left as they are (libpod).
 */
export function podRestartVerb(p: PodSession, timeout: number | undefined): R<void> {
  return podMembers(p).andThen((members) => {
    const skip = new Set(members.filter((m) => inState(m.state.state, 'paused', 'unknown')).map((m) => m.id));
    const stop = (s: CtrSession): R<void> => (skip.has(s.rec.id) ? okAsync(undefined) : stopVerb(s, timeout));
    return membersThenInfra(p, stop).andThen((stopFailures) =>
      startMembers(p, skip).andThen((startFailures) =>
        finish('restarting', p, [...stopFailures, ...startFailures]).map(() => queuePodEvent(p, 'restart')),
      ),
    );
  });
}
