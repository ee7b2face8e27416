/**
 * The persistent event log: one JSON object per line in `<root>/events/events.log`,
 * appended after each commit, so `readEvents` works across processes and restarts.
 *
 * On-disk layout: `{"type","status","id","name","time":"<ISO>","exitCode"?,"attributes"}\n`.
 * A torn last line (kill -9 mid-append) is skipped when reading.
 * @module
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ResultAsync } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../define/errors.js';
import type { EventFilter, LibpodEvent, ReadEventsOptions } from '../define/events.js';

/** Append-only JSONL event log. */
export class EventLog {
  readonly path: string;

  constructor(root: string) {
    const dir = join(root, 'events');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, 'events.log');
  }

  /**
   * Appends events. Synchronous on purpose: each line is one `write(2)` with
   * O_APPEND, so concurrent writers never interleave within a line.
   */
  append(events: readonly LibpodEvent[]): void {
    if (events.length === 0) return;
    const text = events.map((e) => JSON.stringify({ ...e, time: e.time.toISOString() })).join('\n') + '\n';
    appendFileSync(this.path, text, { mode: 0o600 });
  }

  /** Events in time order, filtered. A missing log is empty. */
  read(opts: ReadEventsOptions = {}): ResultAsync<LibpodEvent[], LibpodError> {
    return ResultAsync.fromPromise(
      readFile(this.path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e))),
      (e) => toLibpodError(e, 'Internal', `reading event log ${this.path}`),
    ).map((text) => {
      const out: LibpodEvent[] = [];
      for (const line of text.split('\n')) {
        const event = parseLine(line);
        if (event && matches(event, opts)) out.push(event);
      }
      return out;
    });
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
