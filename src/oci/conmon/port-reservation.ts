/**
 * Port reservation (libpod `bindPorts`, rootful podman 4): before conmon is
 * spawned, every published host port is bound here (TCP: a listening
 * socket, UDP: a bound socket, as podman's `net.ListenTCP`/`ListenUDP`) and
 * the sockets are handed to conmon as extra file descriptors. conmon keeps
 * them open while the container runs, so nothing else can take the port,
 * and closes them when the container exits (conmon's `close_other_fds`,
 * before it writes the exit file). The DNAT rules netavark writes catch the
 * traffic before it reaches these sockets.
 *
 * conmon holds them, not this process: a reservation survives kill -9 of
 * the Node process, as podman's survives podman's exit.
 * @module
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { libpodError, type LibpodError } from '../../define/errors.js';
import type { OciCreateRequest } from '../oci-runtime.js';

/** Sockets bound for a create: their descriptors for conmon, and `close()` for this process's copies. */
export interface PortReservation {
  /** File descriptors to pass to conmon (after its pipes). */
  fds: number[];
  /** Closes this process's sockets (conmon's inherited copies stay open). */
  close(): Promise<void>;
}

type Held = { kind: 'tcp'; sock: Server } | { kind: 'udp'; sock: UdpSocket };

/**
 * The descriptor of a bound socket (libuv's handle exposes it on Unix). A
 * UDP socket's handle is read through its state (its `_handle` getter is
 * deprecated and would print a warning in the caller's process).
 */
function fdOf(h: Held): number {
  let handle: { fd?: unknown } | undefined;
  if (h.kind === 'tcp') handle = (h.sock as unknown as { _handle?: { fd?: unknown } })._handle;
  else {
    const state = Object.getOwnPropertySymbols(h.sock).find((s) => s.description === 'state symbol');
    handle = state ? (h.sock as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[state]?.handle : undefined;
  }
  return typeof handle?.fd === 'number' ? handle.fd : -1;
}

function describe(p: { hostIP: string; hostPort: number; protocol: string }): string {
  return `${p.hostIP === '' ? '0.0.0.0' : p.hostIP}:${p.hostPort}/${p.protocol}`;
}

function bindOne(p: { hostIP: string; hostPort: number; protocol: 'tcp' | 'udp' }): Promise<Held> {
  const address = p.hostIP === '' ? '0.0.0.0' : p.hostIP;
  const fail = (e: NodeJS.ErrnoException): LibpodError =>
    libpodError(e.code === 'EADDRINUSE' ? 'InvalidArg' : 'Internal', `cannot reserve host port ${describe(p)}: ${e.message}`, e);
  return new Promise((resolve, reject) => {
    if (p.protocol === 'udp') {
      const sock = createSocket('udp4');
      sock.once('error', (e) => reject(fail(e)));
      sock.bind({ port: p.hostPort, address, exclusive: true }, () => resolve({ kind: 'udp', sock }));
      return;
    }
    const sock = createServer();
    sock.once('error', (e) => reject(fail(e)));
    sock.listen({ port: p.hostPort, host: address, exclusive: true }, () => resolve({ kind: 'tcp', sock }));
  });
}

function closeAll(held: readonly Held[]): Promise<void> {
  return Promise.all(
    held.map((h) => new Promise<void>((resolve) => (h.kind === 'tcp' ? h.sock.close(() => resolve()) : h.sock.close(() => resolve())))),
  ).then(() => undefined);
}

/** Binds every port of `ports`; on a failure closes what it bound and rejects with a LibpodError. */
export async function reservePorts(ports: NonNullable<OciCreateRequest['reservePorts']>): Promise<PortReservation> {
  const held: Held[] = [];
  try {
    for (const p of ports) held.push(await bindOne(p));
    const fds = held.map(fdOf);
    if (fds.some((fd) => fd < 0)) throw libpodError('Internal', 'cannot get the descriptor of a reserved port socket');
    for (const h of held) h.sock.unref();
    return { fds, close: () => closeAll(held) };
  } catch (e) {
    await closeAll(held);
    throw e;
  }
}
