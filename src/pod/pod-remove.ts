/**
 * Pod removal (libpod `removePod`): members are removed dependents first,
 * each under its own lock; the infra container goes last (always with
 * force: once the members are gone it holds nothing anyone needs), then the
 * pod record and its directory.
 *
 * Without `force`, running or paused members are not removed: the pod stays,
 * with them and its infra container, and the error (`CtrStateInvalid`) names
 * them; the stopped members are removed (as podman does).
 * @module
 */
import { rm } from 'node:fs/promises';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { attempt, improper, type LibpodError } from '../define/errors.js';
import { removeVerb } from '../container/remove.js';
import type { CtrSession } from '../container/session.js';
import { podDir } from './pod-create.js';
import { onMember, partialFailure, podMembers, queuePodEvent, stopOrder, type MemberFailure, type PodSession } from './pod-session.js';

type R<T> = ResultAsync<T, LibpodError>;

/** Options of `runtime.removePod`. */
export interface RemovePodOptions {
  /** Stop running and paused members first (they make the removal fail otherwise). */
  force?: boolean;
  /** Seconds each stop waits before SIGKILL (default: each container's stopTimeout). */
  timeout?: number;
}

/** Removes `ids` one after the other (the order matters: dependents first); resolves to the failures. */
function removeEach(p: PodSession, ids: readonly string[], force: boolean, timeout: number | undefined): ResultAsync<MemberFailure[], never> {
  const failures: MemberFailure[] = [];
  const opts = { force, ...(timeout === undefined ? {} : { timeout }) };
  return ids
    .reduce<ResultAsync<void, never>>(
      (acc, id) =>
        acc.andThen(() =>
          onMember(p.ctx, id, (s) => removeVerb(s, opts)).map((error) => {
            if (error) failures.push({ id, error });
          }),
        ),
      okAsync(undefined),
    )
    .map(() => failures);
}

/** Removes the pod record and directory once its containers are gone. */
function dropPod(p: PodSession): R<void> {
  const { ctx, pod } = p;
  return ctx.index
    .removePod(pod.id)
    .andThen(() => attempt(() => rm(podDir(ctx.root, pod.id), { recursive: true, force: true }), 'Internal', `removing directory of pod ${pod.id}`))
    .map(() => {
      queuePodEvent(p, 'remove');
      ctx.locks.forget({ kind: 'pod', id: pod.id });
    });
}

/**
 * Removes the locked pod with its containers. Resolves once everything is
 * gone; on a member failure the pod stays and the error carries every
 * member's error (`related`).
 */
export function removePodVerb(p: PodSession, opts: RemovePodOptions): R<void> {
  const force = opts.force === true;
  const infraId = p.pod.infraContainerId;
  return podMembers(p).andThen((members) => {
    const others = members.filter((m) => m.id !== infraId);
    const infra = members.filter((m) => m.id === infraId);
    return stopOrder(others).andThen((order) =>
      removeEach(p, order, force, opts.timeout).andThen((failures) => {
        const e = partialFailure('removing', p.pod.id, failures);
        if (e) return errAsync(e);
        return removeEach(p, infra.map((m) => m.id), true, opts.timeout).andThen((infraFailures) => {
          const ie = partialFailure('removing', p.pod.id, infraFailures);
          return ie ? errAsync(ie) : dropPod(p);
        });
      }),
    );
  });
}

/**
 * Refuses the direct removal of a pod's infra container (libpod: "container
 * X is the infra container of pod Y and cannot be removed without removing
 * the pod"); pod removal calls `removeVerb` itself and is not refused.
 */
export function refuseInfraRemoval(s: CtrSession): R<void> {
  if (!s.rec.isInfra) return okAsync(undefined);
  return improper(`container ${s.rec.id} is the infra container of pod ${s.rec.podId ?? ''} and cannot be removed without removing the pod`);
}

