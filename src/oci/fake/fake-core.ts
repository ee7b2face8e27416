/**
 * The machinery under {@link FakeOciRuntime}: its containers, signal
 * delivery, exit notification, injected failures and cancellable waits.
 * @module
 */
import { err, errAsync, ok, type Result, type ResultAsync } from 'neverthrow';
import { LibpodError, libpodError } from '../../define/errors.js';
import { signalName } from '../../define/signals.js';
import { safe } from '../../util/safe.js';
import { hardenMethods } from '../../util/harden.js';
import { logger } from '../../util/log.js';
import type { OciExitInfo } from '../oci-runtime.js';
import type { FakeContainer } from './fake-container.js';
import { FAKE_OPERATION_ALIASES, type FakeOperation, type FakeOperationAlias } from './fake-types.js';

/** Every operation `failNext` can fail (a record, so the compiler checks it names them all). */
const OPERATION_SET: Record<FakeOperation, true> = {
  open: true, close: true, create: true, start: true, kill: true, stop: true, pause: true, unpause: true, delete: true,
  status: true, exitStatus: true, waitExit: true, attach: true, resize: true, execute: true, execAlive: true,
  execStop: true, execCleanup: true, execResize: true, checkpoint: true,
};
export const FAKE_OPERATIONS = Object.keys(OPERATION_SET) as readonly FakeOperation[];

const log = logger('oci:fake');

/** SIGKILL. */
export const SIGKILL = 9;
/** SIGTERM. */
export const SIGTERM = 15;

/**
 * Signals whose default action is not to terminate (CHLD, CONT, URG, WINCH
 * are ignored by default; STOP, TSTP, TTIN, TTOU would stop the process,
 * which the fake does not model): they never end a fake container.
 */
const HARMLESS_SIGNALS: ReadonlySet<number> = new Set([17, 18, 19, 20, 21, 22, 23, 28]);

/** The highest signal number on Linux. */
const SIGMAX = 64;

/** Whether `signal` is a signal number `kill` accepts (0 only checks). */
export function validSignal(signal: unknown): signal is number {
  return typeof signal === 'number' && Number.isInteger(signal) && signal >= 0 && signal <= SIGMAX;
}

/** State and helpers shared by the fake's operations; see {@link FakeOciRuntime}. */
export class FakeRuntimeCore {
  /** Containers by id; they outlive `close()`. */
  protected readonly ctrs = new Map<string, FakeContainer>();
  private readonly listeners = new Set<(id: string) => void>();
  private readonly failures = new Map<FakeOperation, LibpodError[]>();
  /** Pending waits, so `close()` can end them early. */
  private readonly waits = new Map<NodeJS.Timeout, () => void>();
  private pids = 0;

  /** Subscribes to exits; the listener is called asynchronously after each exit. */
  watchExits(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Makes the next call of `operation` fail with `error` (default:
   * `OCIRuntime` "injected failure"). Calls queue up: two `failNext('start')`
   * fail the next two starts.
   */
  failNext(operation: FakeOperation | FakeOperationAlias, error?: LibpodError): Result<void, LibpodError> {
    const op: string = (FAKE_OPERATION_ALIASES as Record<string, FakeOperation>)[operation] ?? operation;
    if (error !== undefined && !(error instanceof LibpodError)) return err(libpodError('InvalidArg', 'fake runtime: failNext error must be a LibpodError'));
    if (!FAKE_OPERATIONS.includes(op as FakeOperation)) {
      return err(libpodError('InvalidArg', `fake runtime: unknown operation "${String(operation)}" (one of ${FAKE_OPERATIONS.join(', ')})`));
    }
    const queue = this.failures.get(op as FakeOperation) ?? [];
    queue.push(error ?? libpodError('OCIRuntime', `fake runtime: injected failure of ${op}`));
    this.failures.set(op as FakeOperation, queue);
    return ok(undefined);
  }

  /** Runs `fn` for `op` unless a failure was injected; throws and rejections become Errs. */
  protected guarded<T>(op: FakeOperation, fn: () => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    const injected = this.failures.get(op)?.shift();
    if (injected) return errAsync(injected);
    return safe(fn);
  }

  /** The container `id`, or runc's "does not exist" error. */
  protected lookup(id: string): Result<FakeContainer, LibpodError> {
    const c = this.ctrs.get(id);
    return c ? ok(c) : err(libpodError('OCIRuntime', `container "${String(id)}" does not exist`));
  }

  /** The next fake pid (10001, 10002, ...): deterministic per instance. */
  protected nextPid(): number {
    this.pids += 1;
    return 10000 + this.pids;
  }

  /**
   * Delivers `signal` to a live container: recorded, and the process ends
   * with 128+signal unless it ignores the signal (SIGKILL cannot be ignored).
   * Signal 0 only checks.
   */
  protected deliver(c: FakeContainer, signal: number): void {
    if (signal === 0 || !c.alive) return;
    c.signals.push(signal);
    if (signal !== SIGKILL && (c.ignored.has(signal) || HARMLESS_SIGNALS.has(signal))) {
      log('%s ignores %s', c.id, signalName(signal));
      return;
    }
    this.end(c, 128 + signal);
  }

  /** Ends a live container's process and tells the exit watchers. */
  protected end(c: FakeContainer, exitCode: number, oomKilled = false): OciExitInfo {
    const info = c.finish(exitCode, oomKilled);
    log('%s exited with %d%s', c.id, exitCode, oomKilled ? ' (OOM)' : '');
    setImmediate(() => this.notify(c.id));
    return info;
  }

  private notify(id: string): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(id);
      } catch (e) {
        log('exit listener failed for %s: %O', id, e);
      }
    }
  }

  /** Waits until `c` exits or `ms` pass (or `close()` is called), whichever comes first. */
  protected waitFor(exit: Promise<unknown>, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(Math.max(0, ms), 2 ** 31 - 1));
      const waits = this.waits;
      function done(): void {
        clearTimeout(timer);
        waits.delete(timer);
        resolve();
      }
      waits.set(timer, done);
      void exit.then(done);
    });
  }

  /** Stops watchers and ends every pending wait at once. */
  protected stopWatching(): void {
    this.listeners.clear();
    for (const done of [...this.waits.values()]) done();
  }
}

// failNext gets a safe copy of its arguments; hostile input is InvalidArg (util/harden.ts).
hardenMethods(FakeRuntimeCore.prototype, { failNext: 'result' }, 'plain');
