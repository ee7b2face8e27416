/**
 * The persistent event log: one JSON object per line in `<root>/events/events.log`,
 * appended after each commit, so `readEvents` works across processes and restarts.
 *
 * On-disk layout: `{"type","status","id","name","time":"<ISO>","exitCode"?,"attributes"}\n`.
 * A torn last line (kill -9 mid-append) is skipped when reading.
 *
 * Size limit (podman's `events_logfile_max_size`, default 1,000,000 bytes):
 * when an append would reach it, the log is rotated as podman's `rotateLog`
 * does: the older half is dropped (from the middle of the file, at the next
 * line), the newer half is kept between two `log-rotation` system events
 * (`io.podman.event.rotate: begin` / `end`), written to a temporary file and
 * renamed over the log (atomic: a crash leaves the old or the new log).
 *
 * `read({ since })` reads the file backwards in chunks from its end and stops
 * at events older than `since` (less {@link SINCE_SLACK_MS}, for events
 * appended slightly out of order), so it costs what it returns, not the
 * size of the log.
 * @module
 */
import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ResultAsync } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../define/errors.js';
import type { EventFilter, LibpodEvent, ReadEventsOptions } from '../define/events.js';

/** podman's default `events_logfile_max_size`. */
export const DEFAULT_EVENT_LOG_MAX_SIZE = 1_000_000;
/** Attribute of the rotation markers (podman's `rotateEventAttribute`). */
export const ROTATE_ATTRIBUTE = 'io.podman.event.rotate';
/** How far before `since` a backwards read keeps going (events of one log are appended in time order, give or take this). */
export const SINCE_SLACK_MS = 5_000;
const CHUNK = 64 * 1024;

function serialize(events: readonly LibpodEvent[]): string {
  return events.map((e) => JSON.stringify({ ...e, time: e.time.toISOString() })).join('\n') + '\n';
}

/** Append-only JSONL event log with a size limit. */
export class EventLog {
  readonly path: string;
  /** Bytes read by the last {@link EventLog.read} (for tests of the backwards read). */
  lastReadBytes = 0;

  /** @param maxSize rotate when the log would reach this many bytes; 0: never. */
  constructor(root: string, readonly maxSize: number = DEFAULT_EVENT_LOG_MAX_SIZE) {
    const dir = join(root, 'events');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, 'events.log');
  }

  /**
   * Appends events (rotating first when the log would reach its limit).
   * Synchronous on purpose: each line is one `write(2)` with O_APPEND, so
   * concurrent writers never interleave within a line.
   */
  append(events: readonly LibpodEvent[]): void {
    if (events.length === 0) return;
    const text = serialize(events);
    if (this.maxSize > 0) this.#rotateIfNeeded(Buffer.byteLength(text));
    appendFileSync(this.path, text, { mode: 0o600 });
  }

  #rotateIfNeeded(incoming: number): void {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return; // no log yet
    }
    if (size + incoming < this.maxSize) return;
    const tmp = `${this.path}.rotate-${process.pid}`;
    const fd = openSync(this.path, 'r');
    let out: number | undefined;
    try {
      const total = fstatSync(fd).size;
      // Jump to the middle, drop the (partial) line there, keep the rest.
      let pos = Math.floor(total / 2);
      const probe = Buffer.alloc(CHUNK);
      for (;;) {
        const n = readSync(fd, probe, 0, probe.length, pos);
        if (n === 0) break;
        const nl = probe.subarray(0, n).indexOf(0x0a);
        if (nl >= 0) {
          pos += nl + 1;
          break;
        }
        pos += n;
      }
      out = openSync(tmp, 'w', 0o600);
      const marker = (phase: 'begin' | 'end'): string =>
        serialize([{ type: 'system', status: 'log-rotation', id: '', name: this.path, time: new Date(), attributes: { [ROTATE_ATTRIBUTE]: phase } }]);
      writeSync(out, marker('begin'));
      const buf = Buffer.alloc(CHUNK);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) break;
        writeSync(out, buf, 0, n);
        pos += n;
      }
      writeSync(out, marker('end'));
      closeSync(out);
      out = undefined;
      renameSync(tmp, this.path);
    } finally {
      closeSync(fd);
      if (out !== undefined) {
        closeSync(out);
        rmSync(tmp, { force: true });
      }
    }
  }

  /** Events in time order, filtered. A missing log is empty. With `since`, only the end of the file is read. */
  read(opts: ReadEventsOptions = {}): ResultAsync<LibpodEvent[], LibpodError> {
    const lines = opts.since ? this.#linesSince(opts.since) : this.#allLines();
    return ResultAsync.fromPromise(lines, (e) => toLibpodError(e, 'Internal', `reading event log ${this.path}`)).map((all) => {
      const out: LibpodEvent[] = [];
      for (const line of all) {
        const event = parseLine(line);
        if (event && matches(event, opts)) out.push(event);
      }
      return out;
    });
  }

  async #allLines(): Promise<string[]> {
    const text = await readFile(this.path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
    this.lastReadBytes = Buffer.byteLength(text);
    return text.split('\n');
  }

  /** The lines from the end of the file back to the first event older than `since` (less the slack), in file order. */
  async #linesSince(since: Date): Promise<string[]> {
    const limit = since.getTime() - SINCE_SLACK_MS;
    const handle = await open(this.path, 'r').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    this.lastReadBytes = 0;
    if (!handle) return [];
    try {
      let pos = (await handle.stat()).size;
      let carry = Buffer.alloc(0);
      const reversed: string[] = [];
      while (pos > 0) {
        const len = Math.min(CHUNK, pos);
        pos -= len;
        const buf = Buffer.alloc(len);
        await handle.read(buf, 0, len, pos);
        this.lastReadBytes += len;
        const data = Buffer.concat([buf, carry]);
        // The first line may continue in the previous chunk: keep it for the next round.
        const first = pos > 0 ? data.indexOf(0x0a) : -1;
        carry = first >= 0 ? data.subarray(0, first + 1) : pos > 0 ? data : Buffer.alloc(0);
        if (pos > 0 && first < 0) continue;
        const lines = data.subarray(first + 1).toString('utf8').split('\n');
        for (let i = lines.length - 1; i >= 0; i--) {
          const line = lines[i]!;
          reversed.push(line);
          const event = parseLine(line);
          if (event && event.time.getTime() < limit) return reversed.reverse();
        }
      }
      return reversed.reverse();
    } finally {
      await handle.close();
    }
  }
}

function parseLine(line: string): LibpodEvent | undefined {
  if (line.trim() === '') return undefined;
  try {
    const raw = JSON.parse(line) as Omit<LibpodEvent, 'time'> & { time: string };
    const time = new Date(raw.time);
    if (Number.isNaN(time.getTime())) return undefined;
    return { ...raw, time, attributes: raw.attributes ?? {} };
  } catch {
    return undefined;
  }
}

function oneOf<T>(want: T | T[] | undefined, value: T): boolean {
  if (want === undefined) return true;
  return Array.isArray(want) ? want.includes(value) : want === value;
}

/** Whether `event` passes the time window and filter of `opts`. */
export function matches(event: LibpodEvent, opts: ReadEventsOptions): boolean {
  if (opts.since && event.time < opts.since) return false;
  if (opts.until && event.time > opts.until) return false;
  const f: EventFilter = opts.filter ?? {};
  if (!oneOf(f.type, event.type) || !oneOf(f.status, event.status)) return false;
  if (f.id !== undefined && !oneOf(f.id, event.id) && !oneOf(f.id, event.name)) return false;
  if (!oneOf(f.name, event.name)) return false;
  for (const [k, v] of Object.entries(f.attributes ?? {})) if (event.attributes[k] !== v) return false;
  return true;
}
