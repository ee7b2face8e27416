/**
 * Reading a container's k8s-file log (what conmon writes) as logical lines:
 * `P` (partial) records are joined with the record that completes them,
 * per stream. Supports `tail`, `since`/`until` and `follow` (fs.watch on
 * the log's directory plus a 250 ms poll, until the container stops and
 * the file is drained). The iterator never throws: an I/O error ends it.
 * @module
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseK8sRecord, type K8sLogRecord } from '../oci/k8s-file-log.js';

/** One logical line of container output. */
export interface LogLine {
  /** When the line was logged (the time of its last record). */
  time: Date;
  /** The stream the line was written to. */
  stream: 'stdout' | 'stderr';
  /** The line, without its newline. */
  text: string;
  /** True only for output at the very end of the log that never got its newline. */
  partial: boolean;
}

/** Options of {@link readLogs}. */
export interface ReadLogsOptions {
  /** Keep reading new output until the container stops. */
  follow?: boolean;
  /** Only the last `tail` lines already in the log (then new ones, when following). */
  tail?: number;
  /** Only lines logged at or after this time. */
  since?: Date;
  /** Only lines logged at or before this time; following ends once it has passed. */
  until?: Date;
  /** Whether the container may still write output. MUST NOT reject (a rejection counts as false). */
  isRunning: () => Promise<boolean>;
}

const CHUNK = 64 * 1024;
const POLL_MS = 250;
const NEWLINE = 0x0a;

type Stream = LogLine['stream'];

/** Incremental reader of one log file: complete records in, logical lines out. */
class LogFileReader {
  #offset = 0;
  #ino: bigint | undefined;
  #rest: Buffer = Buffer.alloc(0);
  #partial = new Map<Stream, { text: string; time: Date }>();

  constructor(private readonly path: string) {}

  /** Lines completed by the next chunk of the file; `undefined` when there is nothing new (or no file). */
  async readChunk(): Promise<LogLine[] | undefined> {
    const st = await stat(this.path, { bigint: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!st) return undefined;
    if (this.#ino !== st.ino || st.size < BigInt(this.#offset)) this.#reset(st.ino);
    const available = Number(st.size) - this.#offset;
    if (available <= 0) return undefined;
    const buf = Buffer.alloc(Math.min(CHUNK, available));
    const handle = await open(this.path, 'r');
    let n: number;
    try {
      n = (await handle.read(buf, 0, buf.length, this.#offset)).bytesRead;
    } finally {
      await handle.close();
    }
    if (n === 0) return undefined;
    this.#offset += n;
    return this.#consume(buf.subarray(0, n));
  }

  /** At the final end of the log: an unterminated last record, then unfinished partial lines. */
  finish(): LogLine[] {
    const out: LogLine[] = [];
    if (this.#rest.length > 0) {
      const rec = parseK8sRecord(this.#rest.toString('utf8'));
      this.#rest = Buffer.alloc(0);
      if (rec) this.#feed(rec, out);
    }
    for (const [stream, p] of this.#partial) out.push({ time: p.time, stream, text: p.text, partial: true });
    this.#partial.clear();
    return out.sort((a, b) => a.time.getTime() - b.time.getTime());
  }

  #reset(ino: bigint): void {
    this.#ino = ino;
    this.#offset = 0;
    this.#rest = Buffer.alloc(0);
    this.#partial.clear();
  }

  #consume(data: Buffer): LogLine[] {
    const buf = this.#rest.length > 0 ? Buffer.concat([this.#rest, data]) : data;
    const out: LogLine[] = [];
    let start = 0;
    for (let i = buf.indexOf(NEWLINE); i >= 0; i = buf.indexOf(NEWLINE, start)) {
      const rec = parseK8sRecord(buf.toString('utf8', start, i));
      if (rec) this.#feed(rec, out);
      start = i + 1;
    }
    this.#rest = Buffer.from(buf.subarray(start));
    return out;
  }

  #feed(rec: K8sLogRecord, out: LogLine[]): void {
    const prev = this.#partial.get(rec.stream);
    const text = (prev?.text ?? '') + rec.text;
    if (rec.partial) {
      this.#partial.set(rec.stream, { text, time: rec.time });
      return;
    }
    this.#partial.delete(rec.stream);
    out.push({ time: rec.time, stream: rec.stream, text, partial: false });
  }
}

/** Wakes a follower when the log's directory changes, or after the poll interval. */
class ChangeWaiter {
  #watcher: FSWatcher | undefined;
  #dirty = false;
  #wake: (() => void) | undefined;

  constructor(path: string) {
    const name = basename(path);
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.#notify();
      });
      this.#watcher.on('error', () => this.close());
    } catch {
      this.#watcher = undefined; // no directory yet: polling only
    }
  }

  #notify(): void {
    this.#dirty = true;
    this.#wake?.();
  }

  /** Resolves on the next change (or at once if one happened since the last wait), at the latest after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.#dirty) {
      this.#dirty = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.#wake = undefined;
        self.#dirty = false;
        resolve();
      }
      this.#wake = done;
    });
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#wake?.();
  }
}

function inWindow(line: LogLine, since: Date | undefined, until: Date | undefined): boolean {
  return (since === undefined || line.time >= since) && (until === undefined || line.time <= until);
}

async function stillRunning(isRunning: () => Promise<boolean>): Promise<boolean> {
  try {
    return (await isRunning()) === true;
  } catch {
    return false;
  }
}

async function* generate(path: string, opts: ReadLogsOptions): AsyncGenerator<LogLine, void, undefined> {
  const { since, until, tail } = opts;
  const follow = opts.follow === true;
  const reader = new LogFileReader(path);
  const waiter = follow ? new ChangeWaiter(path) : undefined;
  const keep = (l: LogLine): boolean => inWindow(l, since, until);
  try {
    // What is in the log already (only its last `tail` lines when asked).
    const ring: LogLine[] = [];
    const take = tail === undefined ? undefined : Math.max(0, Math.floor(tail));
    const initial = async function* (): AsyncGenerator<LogLine, void, undefined> {
      for (let lines = await reader.readChunk(); lines; lines = await reader.readChunk()) yield* lines.filter(keep);
      if (!follow) yield* reader.finish().filter(keep);
    };
    for await (const line of initial()) {
      if (take === undefined) {
        yield line;
        continue;
      }
      ring.push(line);
      if (ring.length > take * 2 + 1024) ring.splice(0, ring.length - take);
    }
    if (take !== undefined && take > 0) yield* ring.slice(-take);
    if (!waiter) return;
    for (;;) {
      if (until !== undefined && Date.now() > until.getTime()) return;
      const running = await stillRunning(opts.isRunning);
      let got = false;
      for (let lines = await reader.readChunk(); lines; lines = await reader.readChunk()) {
        got = true;
        yield* lines.filter(keep);
      }
      if (!running) {
        yield* reader.finish().filter(keep);
        return;
      }
      if (!got) await waiter.wait(POLL_MS);
    }
  } catch {
    return; // an I/O error ends the iteration; it never throws
  } finally {
    waiter?.close();
  }
}

/**
 * The container's output from the k8s-file log at `logPath`, as logical
 * lines. Each iteration reads the file afresh. A missing file yields
 * nothing (when following, it is waited for while the container runs).
 * The iterator never throws, and breaking out of a `for await` releases
 * its watcher and timer.
 */
export function readLogs(logPath: string, opts: ReadLogsOptions): AsyncIterable<LogLine> {
  return { [Symbol.asyncIterator]: () => generate(logPath, opts) };
}
