/**
 * Exit files and waiting for them.
 *
 * conmon writes the exit status of a container to `<exitDir>/<id>` (decimal
 * ASCII, no newline) through a temporary `<id>.XXXXXX` renamed into place, so
 * a file under the final name is always complete. Waiting uses one `fs.watch`
 * (inotify) on the directory plus a 100 ms stat poll as a fallback for missed
 * events; nothing polls without a watcher being tried first.
 * @module
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { logger } from '../../util/log.js';

const log = logger('oci:conmon');

/** Poll interval of the fallback, as libpod's `waitPidStop`. */
export const POLL_MS = 100;

/** What an exit file says. */
export interface ExitFile {
  /** `parseInt` of the content: the status, 128+N for signal N, -1 when conmon did not know. */
  exitCode: number;
  /** The file's ctime (libpod's FinishedTime). */
  finishedAt: Date;
}

/** Whether a directory entry is a real exit file (conmon's temp names contain a '.'). */
export function isExitFileName(name: string): boolean {
  return name !== '' && !name.includes('.');
}

/** Reads `<dir>/<name>`; `undefined` when it does not exist (yet). */
export async function readExitFile(dir: string, name: string): Promise<ExitFile | undefined> {
  const path = join(dir, name);
  try {
    const st = await stat(path);
    const text = (await readFile(path, 'utf8')).trim();
    const code = Number.parseInt(text, 10);
    return { exitCode: Number.isNaN(code) ? -1 : code, finishedAt: st.ctime };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * One `fs.watch` on a directory, shared by any number of subscribers, each
 * called with the name of an entry that changed. Unref'd: it never keeps Node
 * alive. If the watch fails, it is retried every second.
 */
export class DirWatcher {
  private watcher: FSWatcher | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly subscribers = new Set<(name: string) => void>();
  private wanted = false;

  constructor(readonly dir: string) {}

  /** Whether inotify events are currently being delivered. */
  get active(): boolean {
    return this.watcher !== undefined;
  }

  /** Starts watching (idempotent). */
  start(): void {
    this.wanted = true;
    if (this.watcher || this.retry) return;
    try {
      const w = watch(this.dir, { persistent: false }, (_event, filename) => {
        if (typeof filename === 'string' && filename !== '') this.emit(filename);
      });
      w.on('error', (e) => {
        log('watch on %s failed: %s', this.dir, e.message);
        this.stopWatcher();
        this.scheduleRetry();
      });
      w.unref();
      this.watcher = w;
    } catch (e) {
      log('cannot watch %s: %s', this.dir, (e as Error).message);
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (!this.wanted || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.wanted) this.start();
    }, 1000);
    this.retry.unref();
  }

  private stopWatcher(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private emit(name: string): void {
    for (const fn of [...this.subscribers]) {
      try {
        fn(name);
      } catch (e) {
        log('exit-dir subscriber threw: %s', (e as Error).message);
      }
    }
  }

  /** Calls `fn(name)` for every event; returns the unsubscribe function. */
  subscribe(fn: (name: string) => void): () => void {
    this.subscribers.add(fn);
    return () => {
      this.subscribers.delete(fn);
    };
  }

  /** Stops watching; subscribers stay registered for a later `start`. */
  close(): void {
    this.wanted = false;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.stopWatcher();
  }
}

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this long (resolves `undefined`). */
  timeoutMs: number;
  /** A running watcher on the directory to reuse; otherwise one is opened for the wait. */
  watcher?: DirWatcher;
  /** The directory whose events wake the probe (when no `watcher` is given). */
  dir?: string;
  /** Only events for this entry name wake the probe (default: any). */
  name?: string;
  /**
   * First fallback poll interval, doubled after each poll up to
   * {@link POLL_MS} (default: {@link POLL_MS} throughout). For waits whose end
   * no watch event announces, such as a process about to exit.
   */
  firstPollMs?: number;
}

/**
 * Runs `probe` now, on every watch event (for `name`) and every 100 ms (or
 * from `firstPollMs` up) until it returns a value or the timeout passes.
 * Probes never overlap; a probe that throws ends the wait with that error.
 */
export function waitFor<T>(probe: () => Promise<T | undefined>, opts: WaitOptions): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    let settled = false;
    let running = false;
    let again = false;
    let own: DirWatcher | undefined;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(poll);
      unsubscribe();
      own?.close();
      fn();
    };
    const check = (): void => {
      if (settled) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      probe().then(
        (v) => {
          running = false;
          if (v !== undefined) finish(() => resolve(v));
          else if (again) {
            again = false;
            check();
          }
        },
        (e: unknown) => {
          running = false;
          finish(() => reject(e));
        },
      );
    };
    let watcher = opts.watcher;
    if (!watcher && opts.dir !== undefined) {
      own = new DirWatcher(opts.dir);
      own.start();
      watcher = own;
    }
    const unsubscribe = watcher ? watcher.subscribe((n) => (opts.name === undefined || n === opts.name ? check() : undefined)) : () => undefined;
    let pollMs = Math.min(Math.max(1, opts.firstPollMs ?? POLL_MS), POLL_MS);
    const tick = (): void => {
      if (settled) return;
      check();
      pollMs = Math.min(pollMs * 2, POLL_MS);
      poll = setTimeout(tick, pollMs);
    };
    let poll = setTimeout(tick, pollMs);
    // setTimeout fires at once past 2^31-1 ms: cap long waits (a stop timeout of weeks) there.
    const deadline = setTimeout(() => finish(() => resolve(undefined)), Math.min(Math.max(0, opts.timeoutMs), 2 ** 31 - 1));
    check();
  });
}
