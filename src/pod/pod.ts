/**
 * The public Pod handle. Every verb validates its input, then runs on the
 * locked pod (pod lock first, then each member's lock) and returns a
 * `ResultAsync` that never rejects. A verb on a pod removed meanwhile is
 * `PodRemoved`.
 * @module
 */
import { checkTimeoutOptions } from '../util/options.js';
import { hardenMethods } from '../util/harden.js';
import { errAsync, ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { PodNamespace, PodRecord } from '../define/records.js';
import { parseSignal, type Signal } from '../define/signals.js';
import type { EngineContext } from '../engine/context.js';
import { Container } from '../container/container.js';
import { safe } from '../util/safe.js';
import { withPod, type PodSession } from './pod-session.js';
import { inspectOf, statusOf, syncedMembers, type PodInspect, type PodStatus } from './pod-status.js';
import { podKillVerb, podPauseVerb, podRestartVerb, podStartVerb, podStopVerb, podUnpauseVerb } from './pod-verbs.js';

/** Options of `pod.stop()` and `pod.restart()`. */
export interface PodStopOptions {
  /** Seconds each member's stop waits before SIGKILL (default: each container's stopTimeout); 0 = SIGKILL at once. */
  timeout?: number;
}

/**
 * A pod: containers sharing namespaces held by its infra container. A cheap
 * handle on the pod's record; safe to share.
 *
 * Verbs run on every member and do not stop at the first failure: when some
 * members fail, the error has the first failure's `code`, names the failed
 * members, and carries every member error in `related`.
 */
export class Pod {
  readonly #ctx: EngineContext;
  readonly #rec: PodRecord;

  /** @internal Handles are made by the Runtime. */
  constructor(ctx: EngineContext, rec: PodRecord) {
    this.#ctx = ctx;
    this.#rec = structuredClone(rec);
  }

  /** Full id: 64 lowercase hex characters. */
  get id(): string {
    return this.#rec.id;
  }

  /** Name. */
  get name(): string {
    return this.#rec.name;
  }

  /** Labels (a copy). */
  get labels(): Record<string, string> {
    return { ...this.#rec.labels };
  }

  /** Namespaces the members share (a copy). */
  get share(): PodNamespace[] {
    return [...this.#rec.share];
  }

  /** Id of the infra container, when the pod has one. */
  get infraContainerId(): string | undefined {
    return this.#rec.infraContainerId;
  }

  #run<T>(fn: (p: PodSession) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    return safe(() => withPod(this.#ctx, this.#rec.id, fn));
  }

  /**
   * Starts every member: the infra container first, then the others in
   * dependency order. Running and paused members are left alone.
   */
  start(): ResultAsync<void, LibpodError> {
    return this.#run((p) => podStartVerb(p));
  }

  /** Stops every running member, then the infra container. */
  stop(opts?: PodStopOptions): ResultAsync<void, LibpodError> {
    const bad = checkTimeoutOptions(opts, 'stop');
    if (bad) return errAsync(bad);
    return this.#run((p) => podStopVerb(p, opts?.timeout));
  }

  /** Sends a signal (default SIGKILL) to every running member, then to the infra container. */
  kill(signal: Signal = 'SIGKILL'): ResultAsync<void, LibpodError> {
    const sig = parseSignal(signal);
    if (sig.isErr()) return errAsync(sig.error);
    return this.#run((p) => podKillVerb(p, sig.value));
  }

  /** Freezes every running member. */
  pause(): ResultAsync<void, LibpodError> {
    return this.#run((p) => podPauseVerb(p));
  }

  /** Thaws every paused member. */
  unpause(): ResultAsync<void, LibpodError> {
    return this.#run((p) => podUnpauseVerb(p));
  }

  /** Stops the pod, then starts it again (paused members are left alone). */
  restart(opts?: PodStopOptions): ResultAsync<void, LibpodError> {
    const bad = checkTimeoutOptions(opts, 'restart');
    if (bad) return errAsync(bad);
    return this.#run((p) => podRestartVerb(p, opts?.timeout));
  }

  /** The pod's containers (the infra container included), oldest first. */
  containers(): ResultAsync<Container[], LibpodError> {
    return this.#run((p) => syncedMembers(p.ctx, p.pod).map((ms) => ms.map((m) => new Container(this.#ctx, m))));
  }

  /** Each member's state and the pod's overall state. */
  status(): ResultAsync<PodStatus, LibpodError> {
    return this.#run((p) => syncedMembers(p.ctx, p.pod).map(statusOf));
  }

  /** The pod's record, state and members. */
  inspect(): ResultAsync<PodInspect, LibpodError> {
    return this.#run((p) => syncedMembers(p.ctx, p.pod).map((ms) => inspectOf(p.pod, ms)));
  }
}

// Every verb gets a safe copy of its arguments; hostile input is InvalidArg (util/harden.ts).
hardenMethods(Pod.prototype);
