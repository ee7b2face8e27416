/**
 * conmon's attach socket (reference §4.1-4.2): a SOCK_SEQPACKET socket at
 * `<dir>/attach`. Node's `net` cannot open one (EPROTOTYPE), so this file,
 * the one home of `koffi`, makes two syscalls through it (`socket`,
 * `connect`) and hands the descriptor to Node's own libuv stream (a `Pipe`
 * handle in a plain `net.Socket`). Node then does all the I/O, including
 * pausing: a paused socket stops reading, conmon's blocking write to it
 * stalls, and so does the container, exactly as with podman (§4.6).
 *
 * To dodge the 108-byte `sun_path` limit it connects through
 * `/proc/self/fd/<dirfd>/attach`, as libpod does with an O_PATH descriptor.
 *
 * Packets from conmon are one stream byte (2 stdout, 3 stderr) and up to
 * 8192 bytes of payload; libuv's `read()` on a SEQPACKET socket returns one
 * packet, so every `data` chunk is one packet. A zero-length packet would
 * read as EOF, but conmon never sends one (every packet has its stream
 * byte). Bytes to conmon are raw stdin, at most one packet per `write()`.
 * @module
 */
import { closeSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { libpodError } from '../../define/errors.js';
import { logger } from '../../util/log.js';
import { openSeqpacket } from './seqpacket-fd.js';

const log = logger('oci:conmon');

/** conmon's stream ids (`stdpipe_t`). */
export const ATTACH_STDIN = 1;
/** stdout packets. */
export const ATTACH_STDOUT = 2;
/** stderr packets. */
export const ATTACH_STDERR = 3;

/**
 * conmon reads client packets into a `CONN_SOCK_BUF_SIZE` (32768) buffer;
 * the rest of a bigger packet would be cut off, so stdin goes out in packets
 * of at most this size.
 */
export const STDIN_PACKET_MAX = 32_768;

/**
 * Stdin bytes queued before `write` asks the feeder to wait: a container
 * that does not read its stdin stalls conmon's socket, and the caller's
 * stream is paused instead of this queue growing.
 */
export const STDIN_QUEUE_MAX = 64 * 1024;

/** Why the connection ended: conmon closed it (`eof`), reset it, or an error. */
export type AttachEndReason = { kind: 'eof' } | { kind: 'reset' } | { kind: 'error'; error: Error };

/** Callbacks of an attach connection. */
export interface AttachHandlers {
  /** A packet: stream id and payload (a buffer of its own, which may be kept). */
  onPacket(stream: number, payload: Buffer): void;
  /** Called once when the connection ends from conmon's side. */
  onEnd(reason: AttachEndReason): void;
}

/** A connected attach socket. */
export interface AttachConnection {
  /**
   * Sends raw stdin bytes (queued, in packets of at most
   * {@link STDIN_PACKET_MAX}). Returns false once more than
   * {@link STDIN_QUEUE_MAX} bytes wait: stop feeding until `whenDrained`.
   */
  write(data: Buffer): boolean;
  /** Runs `cb` once the stdin queue is empty (at once if it is), or the connection ended. */
  whenDrained(cb: () => void): void;
  /** Half-closes (`shutdown(SHUT_WR)`) once pending writes are flushed: end of input. `flushed` runs then. */
  endInput(flushed?: () => void): void;
  /** Stops reading output (conmon, then the container, block once the buffers fill). */
  pause(): void;
  /** Reads output again. */
  resume(): void;
  /** Closes the connection (no `onEnd` call after this). */
  close(): void;
}

function isReset(e: Error): boolean {
  return /ECONNRESET|connection reset/i.test(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`);
}

function errnoName(errno: number): string {
  const names = osConstants.errno as Record<string, number>;
  return Object.keys(names).find((k) => names[k] === errno) ?? `errno ${errno}`;
}

/** The one-in-flight stdin queue: Node would merge buffered writes into one `writev`, i.e. one oversized packet. */
function stdinQueue(sock: Socket, usable: () => boolean): Pick<AttachConnection, 'write' | 'endInput' | 'whenDrained'> {
  const queue: Buffer[] = [];
  let queued = 0;
  let writing = false;
  let ending = false;
  const flushedCallbacks: (() => void)[] = [];
  const drainedCallbacks: (() => void)[] = [];
  const flushed = (): void => {
    for (const cb of flushedCallbacks.splice(0)) cb();
  };
  const drained = (): void => {
    for (const cb of drainedCallbacks.splice(0)) cb();
  };
  const next = (): void => {
    if (writing) return;
    const chunk = queue.shift();
    if (chunk && usable()) {
      writing = true;
      sock.write(chunk, (e) => {
        writing = false;
        queued -= chunk.length;
        if (!e) next();
        else {
          flushed();
          drained();
        }
      });
      return;
    }
    queue.length = 0;
    queued = 0;
    drained();
    if (ending) {
      if (usable()) sock.end(flushed);
      else flushed();
    }
  };
  return {
    write: (data) => {
      if (ending || !usable()) return true;
      for (let off = 0; off < data.length; off += STDIN_PACKET_MAX) queue.push(data.subarray(off, off + STDIN_PACKET_MAX));
      queued += data.length;
      next();
      return queued <= STDIN_QUEUE_MAX;
    },
    whenDrained: (cb) => {
      if (queued === 0 || !usable()) cb();
      else drainedCallbacks.push(cb);
    },
    endInput: (cb) => {
      if (cb) flushedCallbacks.push(cb);
      if (ending) return;
      ending = true;
      next();
    },
  };
}

/**
 * Connects to `<dir>/attach`. Resolves once connected; a missing socket or a
 * refused connection is `OCIRuntime`.
 */
export async function connectAttach(dir: string, handlers: AttachHandlers): Promise<AttachConnection> {
  const failed = (why: string, cause?: unknown): Error => libpodError('OCIRuntime', `failed to connect to container's attach socket: ${dir}/attach: ${why}`, cause);
  let dirFd: number;
  try {
    dirFd = openSync(dir, 'r');
  } catch (e) {
    throw failed((e as Error).message, e);
  }
  let sock: Socket;
  let readQueued: () => Buffer[];
  try {
    const opened = await openSeqpacket(`/proc/self/fd/${dirFd}/attach`);
    if (opened.isErr()) throw failed(opened.error.errno !== undefined ? `${errnoName(opened.error.errno)}: ${opened.error.message}` : opened.error.message);
    ({ socket: sock, readQueued } = opened.value);
  } finally {
    closeSync(dirFd);
  }
  let ended = false;
  let closedByUs = false;
  const usable = (): boolean => !ended && !closedByUs && !sock.destroyed;
  const end = (reason: AttachEndReason): void => {
    if (ended || closedByUs) return;
    ended = true;
    sock.destroy();
    handlers.onEnd(reason);
  };
  const packet = (buf: Buffer): void => {
    if (buf.length > 0 && !closedByUs) handlers.onPacket(buf[0] as number, buf.subarray(1));
  };
  sock.on('data', packet);
  sock.on('end', () => {
    // libuv may report the end with packets still queued (see readQueued).
    const rest = readQueued();
    if (rest.length > 0) log('attach socket %s: %d packets read after the end', dir, rest.length);
    for (const buf of rest) packet(buf);
    end({ kind: 'eof' });
  });
  sock.on('close', () => end({ kind: 'eof' }));
  sock.on('error', (e: Error) => {
    log('attach socket %s: %s', dir, e.message);
    end(isReset(e) ? { kind: 'reset' } : { kind: 'error', error: e });
  });
  return {
    ...stdinQueue(sock, usable),
    pause: () => {
      if (usable()) sock.pause();
    },
    resume: () => {
      if (usable()) sock.resume();
    },
    close: () => {
      if (closedByUs) return;
      closedByUs = true;
      sock.destroy();
    },
  };
}
