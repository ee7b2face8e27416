/**
 * What `runtime.close()` does to a Runtime's registry transfers (pulls,
 * pushes): it aborts those in flight with `RuntimeFinalized` (they store or
 * publish nothing, as any aborted transfer) and refuses new ones. The
 * Runtime's operation gate then waits for them to finish cleaning up.
 * @module
 */
import { libpodError, type LibpodError } from '../define/errors.js';

/** The close of one kind of transfer (`what`: `pull`, `push`) of one Runtime. */
export class TransferCloser {
  readonly #what: string;
  readonly #closer = new AbortController();

  constructor(what: string) {
    this.#what = what;
  }

  /** The error a transfer started now gets: `RuntimeFinalized` once closed, else undefined. */
  get refusal(): LibpodError | undefined {
    return this.#closer.signal.aborted ? (this.#closer.signal.reason as LibpodError) : undefined;
  }

  /** A signal aborted by the caller's `signal` or by the close (with its reason); `unlink` drops the listeners once the transfer settled. */
  link(signal: AbortSignal | undefined): { signal: AbortSignal; unlink: () => void } {
    const c = new AbortController();
    const sources = signal === undefined ? [this.#closer.signal] : [signal, this.#closer.signal];
    const aborted = sources.find((s) => s.aborted);
    if (aborted) {
      c.abort(aborted.reason);
      return { signal: c.signal, unlink: () => undefined };
    }
    const listeners = sources.map((s) => {
      const on = (): void => c.abort(s.reason);
      s.addEventListener('abort', on, { once: true });
      return () => s.removeEventListener('abort', on);
    });
    return { signal: c.signal, unlink: () => listeners.forEach((off) => off()) };
  }

  /** Aborts the transfers in flight and refuses new ones. Idempotent. */
  close(): void {
    if (!this.#closer.signal.aborted) this.#closer.abort(libpodError('RuntimeFinalized', `runtime is closing: ${this.#what} aborted`));
  }
}
