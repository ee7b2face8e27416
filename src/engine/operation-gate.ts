/**
 * Operations in flight while a Runtime closes. `close()` admits no new
 * operation, then waits until those in flight have ended before the store
 * and the OCI runtime are released, so no verb finds its store closed
 * halfway (a stop whose exit could not be saved would be undone by the
 * restart policy on the next open).
 *
 * An admitted operation runs with a view of the context whose own
 * admissions always succeed until the runtime is closed: the steps of a verb
 * (a dependency it syncs, the members of a pod, the volumes it releases)
 * are part of it, not new operations.
 * @module
 */
import { err, errAsync, ok, ResultAsync, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import { safe } from '../util/safe.js';
import type { Admission, EngineContext } from './context.js';

/** Counts admitted operations; see the module comment. */
export class OperationGate {
  #phase: 'open' | 'closing' | 'closed' = 'open';
  #inFlight = 0;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  /** `open`: admitting; `closing`: waiting for operations in flight; `closed`: none left. */
  get phase(): 'open' | 'closing' | 'closed' {
    return this.#phase;
  }

  /** Admits an operation (`false` once closing began); the caller MUST {@link leave} once. */
  tryEnter(): boolean {
    if (this.#phase !== 'open') return false;
    this.#inFlight += 1;
    return true;
  }

  /** Ends an admitted operation. */
  leave(): void {
    this.#inFlight -= 1;
    if (this.#inFlight === 0 && this.#phase === 'closing') this.#finish();
  }

  /** Stops admitting; resolves once no operation is in flight. Idempotent. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#phase = 'closing';
      this.#closing = new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
      if (this.#inFlight === 0) this.#finish();
    }
    return this.#closing;
  }

  #finish(): void {
    this.#phase = 'closed';
    this.#drained?.();
  }
}

function finalized(): LibpodError {
  return libpodError('RuntimeFinalized', 'runtime has already been closed: runtime finalized');
}

/**
 * The Runtime's context with admission through `gate`: `guard()` and
 * `admit()` refuse once closing began; the view handed to admitted
 * operations refuses only once the runtime is closed.
 */
export function gatedContext(base: Omit<EngineContext, 'guard' | 'admit'>, gate: OperationGate): EngineContext {
  const view: EngineContext = {
    ...base,
    guard: (): Result<void, LibpodError> => (gate.phase === 'closed' ? err(finalized()) : ok(undefined)),
    admit: (): Result<Admission, LibpodError> => (gate.phase === 'closed' ? err(finalized()) : ok({ ctx: view, done: () => undefined })),
  };
  return {
    ...base,
    guard: (): Result<void, LibpodError> => (gate.phase === 'open' ? ok(undefined) : err(finalized())),
    admit: (): Result<Admission, LibpodError> => {
      if (!gate.tryEnter()) return err(finalized());
      let left = false;
      const done = (): void => {
        if (left) return;
        left = true;
        gate.leave();
      };
      return ok({ ctx: view, done });
    },
  };
}

/**
 * Runs `fn` as one admitted operation (see {@link EngineContext.admit}),
 * with the operation's context; it ends when `fn`'s result settles.
 */
export function admitted<T>(ctx: EngineContext, fn: (ctx: EngineContext) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
  const admission = ctx.admit();
  if (admission.isErr()) return errAsync(admission.error);
  const { ctx: op, done } = admission.value;
  return new ResultAsync(Promise.resolve(safe(() => fn(op))).finally(done));
}
