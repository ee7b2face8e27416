/**
 * How a Container handle reaches its locked record: through the lock (a
 * normal handle), or through a session its caller already holds (a batched
 * view, handed to `batch` functions). This replaces libpod's `batched` flag.
 * @module
 */
import { errAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { EngineContext } from '../engine/context.js';
import { withContainer, type CtrSession } from './session.js';
import { syncContainer } from './sync.js';

/** Runs operations on a locked container. */
export interface ContainerAccess {
  /** Whether this is a batched view (the lock is already held, no sync between ops). */
  readonly batched: boolean;
  /** Runs `fn` on the locked record, synced first unless batched. */
  run<T>(fn: (s: CtrSession) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError>;
  /** Runs `fn` on the locked record without syncing (for `sync()` itself). */
  runUnsynced<T>(fn: (s: CtrSession) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError>;
}

/** Takes the container's lock (and syncs) for every operation. */
export class LockingAccess implements ContainerAccess {
  readonly batched = false;
  constructor(
    private readonly ctx: EngineContext,
    private readonly id: string,
  ) {}

  run<T>(fn: (s: CtrSession) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    return withContainer(this.ctx, this.id, fn, syncContainer);
  }

  runUnsynced<T>(fn: (s: CtrSession) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    return withContainer(this.ctx, this.id, fn);
  }
}

/** Uses a session whose lock the batch holds; invalid once the batch ended. */
export class HeldAccess implements ContainerAccess {
  readonly batched = true;
  #open = true;
  constructor(private readonly session: CtrSession) {}

  /** Ends the batch: later calls fail instead of running unlocked. */
  end(): void {
    this.#open = false;
  }

  run<T>(fn: (s: CtrSession) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    if (!this.#open) {
      return errAsync(libpodError('InvalidArg', `batched view of container ${this.session.rec.id} used after its batch ended; use the container itself`));
    }
    return fn(this.session);
  }

  runUnsynced<T>(fn: (s: CtrSession) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    return this.run(fn);
  }
}
