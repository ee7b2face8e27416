/**
 * Spawning a conmon and speaking its pipe protocol (reference §1.2-1.3, §5.3).
 *
 * The parent hands conmon AF_UNIX socketpairs as fd 3 (sync: conmon writes
 * JSON lines), fd 4 (start: the parent writes one 0x00 byte per step) and,
 * for exec, fd 5 (attach-ready). Node gives stream sockets, so messages are
 * parsed line by line. The first conmon forks the real monitor and exits 0;
 * the monitor is reparented and outlives this process, so after the
 * handshake every stream is destroyed and the child unref'd.
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { spawnProcess } from '../../host/command.js';
import { logger } from '../../util/log.js';
import { conmonEnv } from './conmon-args.js';

const log = logger('oci:conmon');

/** One JSON message conmon writes on the sync or attach pipe (`--api-version 1` keys). */
export interface SyncMessage {
  /** A pid (> 0), an exit code (exec message 2), 0 (attach ready) or -1 (failure). */
  data: number;
  /** The runtime's stderr on failure. */
  message?: string;
}

/** A reader of newline-terminated JSON messages from a stream; `undefined` means EOF. */
export class MessageReader {
  private buffer = '';
  private readonly queue: (SyncMessage | undefined)[] = [];
  private readonly waiters: ((m: SyncMessage | undefined) => void)[] = [];
  private ended = false;

  constructor(stream: Readable, private readonly what: string) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    const end = (): void => this.onEnd();
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', (e) => {
      log('%s pipe error: %s', what, e.message);
      end();
    });
  }

  private push(m: SyncMessage | undefined): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line !== '') this.push(parseMessage(line, this.what));
    }
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    // A last line without '\n' still counts, as libpod's reader accepts it.
    const rest = this.buffer.trim();
    this.buffer = '';
    if (rest !== '') this.push(parseMessage(rest, this.what));
    this.push(undefined);
  }

  /** The next message; `undefined` at EOF or after `timeoutMs`. */
  next(timeoutMs: number): Promise<SyncMessage | undefined> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      // Unref'd: the pipe itself keeps Node alive while it matters (it is
      // unref'd on purpose once an exec session only waits for its exit code).
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      }, Math.min(timeoutMs, 2 ** 31 - 1));
      timer.unref();
      const done = (m: SyncMessage | undefined): void => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push(done);
    });
  }
}

function parseMessage(line: string, what: string): SyncMessage {
  try {
    const v = JSON.parse(line) as { data?: unknown; message?: unknown };
    if (typeof v.data === 'number') return typeof v.message === 'string' ? { data: v.data, message: v.message } : { data: v.data };
  } catch {
    // reported below
  }
  return { data: -1, message: `invalid message from conmon on the ${what} pipe: ${JSON.stringify(line)}` };
}

/** Options of {@link launchConmon}. */
export interface LaunchOptions {
  conmonPath: string;
  args: readonly string[];
  /** conmon's working directory: the bundle (it writes `oom` there). */
  cwd: string;
  /** Exec sessions: add the attach-ready pipe on fd 5. */
  attachPipe: boolean;
  /** Descriptors of this process conmon inherits after its pipes and keeps (reserved ports). */
  extraFds?: readonly number[];
}

/** How the first conmon ended. */
export interface FirstExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Spawn failure (e.g. ENOENT). */
  error?: Error;
}

/** A spawned first conmon with the parent ends of its pipes. */
export interface ConmonLaunch {
  child: ChildProcess;
  sync: MessageReader;
  /** Present with `attachPipe`. */
  attach?: MessageReader;
  /** Settles when the first conmon exited (or failed to spawn). */
  firstExit: Promise<FirstExit>;
  /** Writes one 0x00 byte on the start pipe. */
  sendStart(): void;
  /** What the first conmon wrote on stderr (errors raised before it daemonized). */
  stderr(): string;
  /** Lets Node exit while the pipes stay open (an exec session still reads its exit code). */
  unref(): void;
  /** Destroys every pipe end and unrefs the child: the monitor lives on without us. */
  release(): void;
  /** Before the start byte only: kills the first conmon (it has not forked yet) and releases the pipes. */
  abort(): void;
}

/** Spawns conmon detached with stdio `['ignore','ignore','pipe','pipe','pipe'(,'pipe')(, ...extraFds)]`. */
export function launchConmon(opts: LaunchOptions): ConmonLaunch {
  const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'];
  if (opts.attachPipe) stdio.push('pipe');
  stdio.push(...(opts.extraFds ?? []));
  log('running conmon: %s %s', opts.conmonPath, opts.args.join(' '));
  const child = spawnProcess(opts.conmonPath, opts.args, {
    cwd: opts.cwd,
    detached: true,
    stdio,
    env: conmonEnv({ sync: 3, start: 4, ...(opts.attachPipe ? { attach: 5 } : {}) }),
  });
  const pipes = child.stdio as unknown as readonly (Readable | Writable | null | undefined)[];
  const errStream = pipes[2] as Readable;
  const syncStream = pipes[3] as Readable;
  const startStream = pipes[4] as Writable;
  const attachStream = opts.attachPipe ? (pipes[5] as Readable) : undefined;
  let errText = '';
  errStream.setEncoding('utf8');
  errStream.on('data', (s: string) => {
    if (errText.length < 64 * 1024) errText += s;
  });
  errStream.on('error', () => undefined);
  startStream.on('error', (e) => log('start pipe error: %s', e.message));
  const firstExit = new Promise<FirstExit>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const launch: ConmonLaunch = {
    child,
    sync: new MessageReader(syncStream, 'sync'),
    ...(attachStream ? { attach: new MessageReader(attachStream, 'attach') } : {}),
    firstExit,
    sendStart: () => {
      if (!startStream.destroyed) startStream.write(Buffer.from([0]));
    },
    stderr: () => errText.trim(),
    unref: () => {
      for (const s of pipes) (s as { unref?: () => void } | null | undefined)?.unref?.();
      child.unref();
    },
    release: () => {
      for (const s of pipes) s?.destroy();
      child.unref();
    },
    abort: () => {
      child.kill('SIGKILL');
      launch.release();
    },
  };
  return launch;
}
