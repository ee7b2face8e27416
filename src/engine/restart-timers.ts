/**
 * The pending restarts of one open Runtime: one timer per container, which
 * calls the Runtime back when the container's restart backoff is over. No
 * daemon: the timers live in the calling process, never keep it alive
 * (`unref`), and end with `close()`; the due time is also in the state, so
 * the next `Runtime.open` resumes what a closed or killed process left.
 * @module
 */

/** Timers keyed by container id. */
export class RestartTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #fire: (id: string) => void;
  #closed = false;

  /** `fire(id)` runs when the delay of container `id` is over. */
  constructor(fire: (id: string) => void) {
    this.#fire = fire;
  }

  /** (Re)arms the timer of container `id`; a no-op once closed. */
  schedule(id: string, delayMs: number): void {
    if (this.#closed) return;
    this.cancel(id);
    const t = setTimeout(() => {
      this.#timers.delete(id);
      if (!this.#closed) this.#fire(id);
    }, Math.max(0, delayMs));
    t.unref();
    this.#timers.set(id, t);
  }

  /** Disarms the timer of container `id`, if any. */
  cancel(id: string): void {
    const t = this.#timers.get(id);
    if (t === undefined) return;
    clearTimeout(t);
    this.#timers.delete(id);
  }

  /** Whether container `id` has an armed timer. */
  has(id: string): boolean {
    return this.#timers.has(id);
  }

  /** Disarms every timer; later `schedule` calls do nothing. */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
