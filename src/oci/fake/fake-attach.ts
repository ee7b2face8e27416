/**
 * An attach session of {@link FakeOciRuntime}: output written by the fake
 * goes to the caller's streams; stdin is read through the detach-key
 * matcher and handed to the runtime.
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import { ResultAsync } from 'neverthrow';
import type { LibpodError } from '../../define/errors.js';
import type { AttachEnd, AttachStreams } from '../../define/streams.js';
import type { OciAttachSession } from '../oci-runtime.js';
import { DetachMatcher } from '../detach-keys.js';

/** A promise with its resolver. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

/** A promise that is resolved from outside (once; later calls are ignored). */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Writes `text` to `stream` unless it is already ended or destroyed (which would only raise `error`).
 * `write()`'s false is not waited on: the fake's output is finite scripted text with no process
 * behind it to pause (the conmon runtime pauses the container, `src/oci/conmon/output-gate.ts`).
 */
export function writeTo(stream: Writable | undefined, text: string): void {
  if (!stream || text.length === 0 || stream.destroyed || stream.writableEnded) return;
  stream.write(text);
}

/** Receives stdin of an attach session: a chunk, or `null` at its end. */
export type AttachInput = (data: string | null) => void;

/**
 * One attach session. It never ends the caller's streams: output simply
 * stops when the container exits ('ended') or the caller detaches.
 */
export class FakeAttachSession implements OciAttachSession {
  /** Settles with how the session ended. */
  readonly done: ResultAsync<AttachEnd, LibpodError>;
  private readonly ended = deferred<AttachEnd>();
  private open = true;
  private readonly matcher: DetachMatcher;
  private readonly onData = (chunk: Buffer | string): void => this.read(chunk);
  private readonly onEnd = (): void => this.endInput();
  private readonly onError = (): void => this.end('detached');

  /**
   * @param streams the caller's streams
   * @param terminal everything goes to stdout (a terminal has one output)
   * @param detachKeys parsed detach key bytes (empty: no detaching)
   * @param input receives stdin after detach keys are removed
   */
  constructor(
    private readonly streams: AttachStreams,
    private readonly terminal: boolean,
    detachKeys: readonly number[],
    private readonly input: AttachInput,
  ) {
    this.done = ResultAsync.fromSafePromise(this.ended.promise);
    this.matcher = new DetachMatcher(detachKeys);
    const stdin = streams.stdin;
    if (stdin) {
      stdin.on('data', this.onData);
      stdin.on('end', this.onEnd);
      stdin.on('error', this.onError);
    }
  }

  /** End of stdin: bytes held as a possible detach sequence are delivered after all, then the end. */
  private endInput(): void {
    const held = this.matcher.flush();
    if (held.length > 0) this.input(held.toString());
    this.input(null);
    // With stdin copied and no output attached, the attach is over (as the conmon runtime and libpod do).
    if (!this.streams.stdout && !this.streams.stderr) this.end('ended');
  }

  /** Whether output still reaches this session. */
  get active(): boolean {
    return this.open;
  }

  /** Delivers container output to the matching stream. */
  write(stream: 'stdout' | 'stderr', text: string): void {
    if (!this.open) return;
    writeTo(stream === 'stdout' || this.terminal ? this.streams.stdout : this.streams.stderr, text);
  }

  /** Ends the session (idempotent) and stops reading stdin. */
  end(how: AttachEnd): void {
    if (!this.open) return;
    this.open = false;
    this.release(this.streams.stdin);
    this.ended.resolve(how);
  }

  /** Ends the session from the caller's side, as a detach. */
  close(): void {
    this.end('detached');
  }

  private read(chunk: Buffer | string): void {
    if (!this.open) return;
    const scan = this.matcher.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (scan.data.length > 0) this.input(scan.data.toString('utf8'));
    if (scan.detached) this.end('detached');
  }

  private release(stdin: Readable | undefined): void {
    if (!stdin) return;
    stdin.off('data', this.onData);
    stdin.off('end', this.onEnd);
    stdin.off('error', this.onError);
    stdin.pause();
  }
}
