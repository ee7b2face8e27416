/**
 * Copying between an attach connection and the caller's streams, as libpod's
 * `setupStdioChannels` / `readStdio` / `CopyDetachable` do: output packets go
 * to stdout/stderr by their stream byte (everything to stdout with a
 * terminal); stdin is copied raw, watched for the detach sequence, and
 * half-closed at its end. Output honours backpressure as libpod's `io.Copy`
 * does: when a caller's stream says stop (`write()` returns false) the
 * connection pauses until that stream drains, which stalls conmon and then
 * the container (reference §4.6). Packets for a stream the caller did not
 * give, or whose stream is ended or destroyed, are discarded, so they never
 * hold the session up. Stdin the other way: when the connection's queue is
 * full (the container is not reading), the caller's stdin is paused until
 * it drains.
 * @module
 */
import type { Readable } from 'node:stream';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import type { AttachEnd, AttachStreams } from '../../define/streams.js';
import { ATTACH_STDERR, ATTACH_STDOUT, type AttachConnection, type AttachEndReason, type AttachHandlers } from './attach-socket.js';

import { DetachMatcher } from '../detach-keys.js';
import { createOutputGate } from './output-gate.js';

export { parseDetachKeys } from '../detach-keys.js';

/** A pump between one attach connection and the caller's streams. */
export interface AttachPump {
  /** Handlers to give {@link connectAttach}. */
  handlers: AttachHandlers;
  /** Starts copying stdin once the connection exists. */
  bind(conn: AttachConnection): void;
  /** Settles when output ended (`'ended'`), or on detach / {@link AttachPump.close} (`'detached'`). */
  done: Promise<Result<AttachEnd, LibpodError>>;
  /** Ends the session from this side, as a detach. */
  close(): void;
}


/** Creates a pump for `streams` (`terminal`: every packet is stdout). */
export function createAttachPump(streams: AttachStreams, detachKeys: readonly number[], terminal: boolean): AttachPump {
  let conn: AttachConnection | undefined;
  let settle: (r: Result<AttachEnd, LibpodError>) => void = () => undefined;
  const done = new Promise<Result<AttachEnd, LibpodError>>((resolve) => {
    settle = resolve;
  });
  let finished = false;
  const stdin: Readable | undefined = streams.stdin;
  const gate = createOutputGate({ pause: () => conn?.pause(), resume: () => conn?.resume() });
  const matcher = new DetachMatcher(detachKeys);
  const onStdinData = (chunk: Buffer | string): void => {
    const r = matcher.feed(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    if (r.data.length > 0 && conn && !conn.write(r.data) && !r.detached) {
      // The container is not reading its stdin as fast: stop reading the caller's stream.
      stdin?.pause();
      conn.whenDrained(() => {
        if (!finished) stdin?.resume();
      });
    }
    if (r.detached) finish(ok('detached'));
  };
  const onStdinEnd = (): void => {
    detachStdin();
    // Bytes held as a possible detach sequence that input ended in the middle of (libpod writes them too).
    const held = matcher.flush();
    if (held.length > 0) conn?.write(held);
    // libpod: with stdin copied and no output attached, the attach is over
    // (once the half-close is flushed, so no input is lost).
    const noOutput = !streams.stdout && !streams.stderr;
    if (conn) conn.endInput(noOutput ? () => finish(ok('ended')) : undefined);
    else if (noOutput) finish(ok('ended'));
  };
  const detachStdin = (): void => {
    if (!stdin) return;
    stdin.off('data', onStdinData);
    stdin.off('end', onStdinEnd);
    stdin.off('error', onStdinEnd);
  };
  function finish(r: Result<AttachEnd, LibpodError>): void {
    if (finished) return;
    finished = true;
    detachStdin();
    stdin?.pause();
    gate.release();
    conn?.close();
    settle(r);
  }
  const handlers: AttachHandlers = {
    onPacket: (stream, payload) => {
      if (terminal || stream === ATTACH_STDOUT) gate.deliver(streams.stdout, payload);
      else if (stream === ATTACH_STDERR) gate.deliver(streams.stderr, payload);
    },
    onEnd: (reason: AttachEndReason) => {
      if (reason.kind === 'error') finish(err(libpodError('OCIRuntime', `reading from the attach socket: ${reason.error.message}`, reason.error)));
      else finish(ok('ended'));
    },
  };
  return {
    handlers,
    bind: (c) => {
      conn = c;
      if (finished) {
        c.close();
        return;
      }
      if (gate.waiting) c.pause();
      if (stdin) {
        stdin.on('data', onStdinData);
        stdin.once('end', onStdinEnd);
        stdin.once('error', onStdinEnd);
        if (stdin.readableEnded) onStdinEnd();
        else stdin.resume();
      }
    },
    done,
    close: () => finish(ok('detached')),
  };
}
