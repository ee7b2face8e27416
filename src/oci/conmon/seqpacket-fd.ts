/**
 * A connected AF_UNIX SOCK_SEQPACKET socket as a plain `net.Socket`. Node's
 * `net` refuses SEQPACKET (EPROTOTYPE on connect, ERR_INVALID_FD_TYPE for a
 * descriptor), so two syscalls (`socket`, `connect`) go through koffi
 * (`host/libc.ts`), and the descriptor is opened as a libuv pipe
 * through Node's internal `pipe_wrap` binding. libuv's stream I/O works on
 * SEQPACKET as is: one `read()` returns one packet, one `write()` sends one.
 *
 * koffi is loaded on first use only (about 20 ms), so programs that never
 * attach never pay for it.
 * @module
 */
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { err, ok, type Result } from 'neverthrow';
import { loadKoffiLibc } from '../../host/libc.js';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const EAGAIN = 11;
const EINTR = 4;
const ECONNRESET = 104;
const MSG_DONTWAIT = 0x40;
/** Bigger than any packet conmon sends (8193 bytes). */
const TAIL_PACKET_MAX = 64 * 1024;
/** `sizeof(struct sockaddr_un)`: 2 bytes of family, 108 of path. */
const SOCKADDR_UN_SIZE = 110;
/** A full listen backlog makes a non-blocking connect fail with EAGAIN: retry this long. */
const BACKLOG_RETRY_MS = 2_000;

/** Why a SEQPACKET socket could not be opened (`errno` when a syscall said why). */
export interface SeqpacketError {
  message: string;
  errno?: number;
}

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
  errno(): number;
}

interface PipeHandle {
  open(fd: number): number | undefined;
}
type PipeBinding = { Pipe: new (type: number) => PipeHandle; constants: { SOCKET: number } };

let libc: Promise<Libc> | undefined;

function loadLibc(): Promise<Libc> {
  libc ??= loadKoffiLibc().then(({ lib, errno }) => {
    return {
      socket: lib.func('int socket(int, int, int)') as Libc['socket'],
      connect: lib.func('int connect(int, const void *, uint32_t)') as Libc['connect'],
      recv: lib.func('long recv(int, void *, unsigned long, int)') as Libc['recv'],
      close: lib.func('int close(int)') as Libc['close'],
      errno,
    };
  });
  return libc;
}

/** Node's internal pipe binding (there is no public way to wrap a SEQPACKET descriptor). */
function pipeBinding(): PipeBinding | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding('pipe_wrap') as Partial<PipeBinding> | undefined;
    return typeof binding?.Pipe === 'function' && typeof binding.constants?.SOCKET === 'number' ? (binding as PipeBinding) : undefined;
  } catch {
    return undefined;
  }
}

function sockaddr(path: string): Buffer | undefined {
  const bytes = Buffer.from(path);
  if (bytes.length >= SOCKADDR_UN_SIZE - 2) return undefined;
  const addr = Buffer.alloc(SOCKADDR_UN_SIZE);
  addr.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(addr, 2);
  return addr;
}

/** `connect`, retrying a full backlog (EAGAIN) and EINTR for a while. */
async function connectFd(c: Libc, fd: number, addr: Buffer): Promise<number> {
  const deadline = Date.now() + BACKLOG_RETRY_MS;
  for (;;) {
    if (c.connect(fd, addr, SOCKADDR_UN_SIZE) === 0) return 0;
    const errno = c.errno();
    if ((errno !== EAGAIN && errno !== EINTR) || Date.now() > deadline) return errno;
    await sleep(errno === EINTR ? 0 : 10);
  }
}

/** A connected SEQPACKET socket. */
export interface SeqpacketSocket {
  /** Node's stream over it: one `data` chunk per packet, `write()` = one packet. */
  socket: Socket;
  /**
   * Reads, without blocking, the packets still queued once `socket` reported
   * its end (call it from the `end` listener, while the descriptor is still
   * open). libuv takes a short read as "drained", so when the peer hangs up
   * (POLLHUP) right after one it reports EOF at once, and on SEQPACKET,
   * where every read is short (one packet), packets may still be queued then.
   * They were all sent before the hang-up, so this reads them all up to the
   * real EOF; bounded by what the peer's send buffer held.
   */
  readQueued(): Buffer[];
}

function queuedReader(c: Libc, fd: number, socket: Socket): () => Buffer[] {
  return () => {
    const packets: Buffer[] = [];
    if (socket.destroyed) return packets;
    const buf = Buffer.allocUnsafe(TAIL_PACKET_MAX);
    // Bounded: the peer's send buffer limits what can be queued.
    for (let i = 0; i < 100_000; i++) {
      const n = c.recv(fd, buf, buf.length, MSG_DONTWAIT);
      if (n > 0) packets.push(Buffer.from(buf.subarray(0, n)));
      else if (n === 0 || c.errno() !== ECONNRESET) break;
      // ECONNRESET is reported once, before what is still queued.
    }
    return packets;
  };
}

/** Connects a SEQPACKET socket to `path` (under 108 bytes) and wraps it in a `net.Socket`. */
export async function openSeqpacket(path: string): Promise<Result<SeqpacketSocket, SeqpacketError>> {
  const addr = sockaddr(path);
  if (!addr) return err({ message: `socket path too long: ${path}` });
  const binding = pipeBinding();
  if (!binding) return err({ message: `this Node.js (${process.version}) does not expose process.binding('pipe_wrap'), needed to read a SOCK_SEQPACKET socket` });
  let c: Libc;
  try {
    c = await loadLibc();
  } catch (e) {
    return err({ message: `cannot load koffi or libc.so.6: ${(e as Error).message}` });
  }
  const fd = c.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return err({ message: 'socket(AF_UNIX, SOCK_SEQPACKET) failed', errno: c.errno() });
  const errno = await connectFd(c, fd, addr);
  if (errno !== 0) {
    c.close(fd);
    return err({ message: `connect(${path}) failed`, errno });
  }
  const handle = new binding.Pipe(binding.constants.SOCKET);
  let opened: number | undefined;
  try {
    opened = handle.open(fd);
  } catch (e) {
    c.close(fd);
    return err({ message: `uv_pipe_open: ${(e as Error).message}` });
  }
  if (typeof opened === 'number' && opened < 0) {
    c.close(fd);
    return err({ message: 'uv_pipe_open failed', errno: -opened });
  }
  const socket = new Socket({ handle, readable: true, writable: true } as unknown as ConstructorParameters<typeof Socket>[0]);
  return ok({ socket, readQueued: queuedReader(c, fd, socket) });
}
