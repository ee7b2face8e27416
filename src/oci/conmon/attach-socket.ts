/**
 * conmon's attach socket (reference §4.1-4.2): a SOCK_SEQPACKET socket at
 * `<dir>/attach`, which Node's `net` cannot open (EPROTOTYPE), so this file
 * is the one home of `node-unix-socket`. To dodge the 108-byte `sun_path`
 * limit it connects through `/proc/self/fd/<dirfd>/attach`, as libpod does
 * with an O_PATH descriptor.
 *
 * Packets from conmon are one stream byte (2 stdout, 3 stderr) and up to
 * 8192 bytes of payload; bytes to conmon are raw stdin.
 * @module
 */
import { closeSync, openSync } from 'node:fs';
import { SeqpacketSocket } from 'node-unix-socket';
import { libpodError } from '../../define/errors.js';
import { logger } from '../../util/log.js';

const log = logger('oci:conmon');

/** conmon's stream ids (`stdpipe_t`). */
export const ATTACH_STDIN = 1;
/** stdout packets. */
export const ATTACH_STDOUT = 2;
/** stderr packets. */
export const ATTACH_STDERR = 3;

/** Receive buffer: one 1-byte header plus conmon's 8192-byte STDIO_BUF_SIZE, with room to spare. */
const READ_BUFFER = 64 * 1024;

/** Why the connection ended: conmon closed it (`eof`), reset it, or an error. */
export type AttachEndReason = { kind: 'eof' } | { kind: 'reset' } | { kind: 'error'; error: Error };

/** Callbacks of an attach connection. */
export interface AttachHandlers {
  /** A packet: stream id and payload. */
  onPacket(stream: number, payload: Buffer): void;
  /** Called once when the connection ends from conmon's side. */
  onEnd(reason: AttachEndReason): void;
}

/** A connected attach socket. */
export interface AttachConnection {
  /** Sends raw stdin bytes. */
  write(data: Buffer): void;
  /** Half-closes (`shutdown(SHUT_WR)`) once pending writes are flushed: end of input. `flushed` runs then. */
  endInput(flushed?: () => void): void;
  /** Closes the connection (no `onEnd` call after this). */
  close(): void;
}

function isReset(e: Error): boolean {
  return /ECONNRESET|connection reset/i.test(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`);
}

/**
 * Connects to `<dir>/attach`. Resolves once connected; a missing socket or a
 * refused connection is `OCIRuntime`.
 */
export function connectAttach(dir: string, handlers: AttachHandlers): Promise<AttachConnection> {
  return new Promise<AttachConnection>((resolve, reject) => {
    let dirFd: number | undefined;
    const closeDir = (): void => {
      if (dirFd !== undefined) closeSync(dirFd);
      dirFd = undefined;
    };
    let connected = false;
    let ended = false;
    let closedByUs = false;
    const sock = new SeqpacketSocket();
    const end = (reason: AttachEndReason): void => {
      if (ended || closedByUs) return;
      ended = true;
      sock.destroy();
      handlers.onEnd(reason);
    };
    sock.on('data', (buf: Buffer) => {
      if (buf.length === 0) return;
      handlers.onPacket(buf[0] as number, buf.subarray(1));
    });
    sock.on('end', () => end({ kind: 'eof' }));
    sock.on('close', () => end({ kind: 'eof' }));
    sock.on('error', (e: Error) => {
      if (!connected) {
        closeDir();
        reject(libpodError('OCIRuntime', `failed to connect to container's attach socket: ${dir}/attach: ${e.message}`, e));
        return;
      }
      log('attach socket %s: %s', dir, e.message);
      end(isReset(e) ? { kind: 'reset' } : { kind: 'error', error: e });
    });
    const conn: AttachConnection = {
      write: (data) => {
        if (!ended && !closedByUs && data.length > 0) sock.write(data);
      },
      endInput: (flushed) => {
        if (!ended && !closedByUs) sock.end(flushed);
        else flushed?.();
      },
      close: () => {
        if (closedByUs) return;
        closedByUs = true;
        sock.destroy();
      },
    };
    try {
      dirFd = openSync(dir, 'r');
      sock.setInternalReadBufferSize(READ_BUFFER);
      sock.connect(`/proc/self/fd/${dirFd}/attach`, () => {
        connected = true;
        closeDir();
        resolve(conn);
      });
    } catch (e) {
      closeDir();
      sock.destroy();
      reject(libpodError('OCIRuntime', `failed to connect to container's attach socket: ${dir}/attach: ${(e as Error).message}`, e));
    }
  });
}
