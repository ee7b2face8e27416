/**
 * Cross-process locks of one directory (containers/storage's lock files,
 * without `flock`, which Node lacks): the image store's, and the network run
 * directory's (IPAM, netavark, a container's network teardown; shared with
 * conmon's exit command, see `network/exit-teardown.ts`).
 *
 * A lock is an abstract Unix socket (Linux: a name, not a file) bound by the
 * holder: `bind` is atomic and exclusive, and the kernel releases the name
 * when the holder closes it or dies, even by kill -9, so a crash never leaves
 * a stale lock and no pid or liveness guessing is needed. The name is derived
 * from the storage directory's device and inode (every path to the same
 * directory gets the same locks) and the lock key. A waiter connects to the
 * holder's socket and retries when that connection closes (release or death),
 * with a slow poll as a fallback.
 *
 * Limit: abstract sockets belong to a network namespace, so processes that
 * share one storage directory must share the network namespace (as processes
 * on one host do); documented in the README.
 *
 * Locks are not re-entrant: a holder that asks again for a key it holds waits
 * forever. Order: a layer lock may be taken before the store lock, never
 * after it.
 * @module
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ResultAsync } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../define/errors.js';

/** A held lock; `release()` is idempotent. */
export interface HeldLock {
  readonly key: string;
  release(): Promise<void>;
}

/** How long a waiter sleeps between attempts when it cannot watch the holder (ms). */
const POLL_MS = 200;

function listen(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((sock) => {
      // Waiters only watch for the close; nothing is read or written.
      sock.on('error', () => undefined);
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    const sockets = new Set<Socket>();
    (server as Server & { lockSockets?: Set<Socket> }).lockSockets = sockets;
    const onError = (e: NodeJS.ErrnoException): void => {
      if (e.code === 'EADDRINUSE') resolve(undefined);
      else reject(e);
    };
    server.once('error', onError);
    server.listen({ path: name, exclusive: true }, () => {
      server.off('error', onError);
      server.on('error', () => undefined);
      // A held lock must not keep the process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

/** Resolves when the current holder of `name` releases it (or is gone), or after POLL_MS. */
function waitForHolder(name: string): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve();
    };
    const sock = connect({ path: name });
    sock.on('error', finish);
    sock.on('close', finish);
    // A holder stuck accepting (or a name reused between our tries) must not hang us.
    const timer = setTimeout(finish, POLL_MS * 10);
    sock.on('connect', () => {
      clearTimeout(timer);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const sockets = (server as Server & { lockSockets?: Set<Socket> }).lockSockets;
    for (const s of sockets ?? []) s.destroy();
    server.close(() => resolve());
  });
}

/** The locks of one storage directory. */
export class StoreLocks {
  readonly #prefix: string;

  /** `dir` must exist: its device and inode name the locks. */
  constructor(dir: string) {
    const st = statSync(dir);
    this.#prefix = `${st.dev}:${st.ino}`;
  }

  #name(key: string): string {
    const h = createHash('sha256').update(`${this.#prefix}/${key}`).digest('hex').slice(0, 40);
    return `\0libpod-ts-store-${h}`;
  }

  #held(key: string, server: Server): HeldLock {
    let released: Promise<void> | undefined;
    return {
      key,
      release: () => (released ??= closeServer(server)),
    };
  }

  /** Takes `key`, waiting for the holder (in this or another process) to release it. */
  async acquire(key: string): Promise<HeldLock> {
    const name = this.#name(key);
    for (;;) {
      const server = await listen(name);
      if (server) return this.#held(key, server);
      await waitForHolder(name);
    }
  }

  /** Takes `key` if nobody holds it; `undefined` when held (its holder is alive). */
  async tryAcquire(key: string): Promise<HeldLock | undefined> {
    const server = await listen(this.#name(key));
    return server ? this.#held(key, server) : undefined;
  }

  /** Runs `fn` holding `key`; releases it however `fn` ends. */
  async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lock = await this.acquire(key);
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  /** {@link StoreLocks.with} as a ResultAsync (a throw becomes `Err(Internal)`, LibpodErrors pass). */
  withResult<T>(key: string, fn: () => Promise<T>): ResultAsync<T, LibpodError> {
    return ResultAsync.fromPromise(this.with(key, fn), (e) => toLibpodError(e, 'Internal', `storage lock ${key}`));
  }
}
