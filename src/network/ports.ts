/**
 * Published ports: host ports picked when not given, and conflicts found
 * before netavark writes its rules. netavark forwards with DNAT rules that do
 * not bind the port, so two checks: no listening socket on the host holds it
 * (a bind test), and no other container of this engine publishes it.
 *
 * While the container runs, its conmon holds the ports bound (the OCI
 * create's `reservePorts`, as rootful podman 4), so nothing else takes them
 * even after this process died. See README, "Networking".
 * @module
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { PortMapping, ResolvedPort } from '../define/network.js';

/** Whether `port` (0: any) can be bound on `ip`; resolves to the bound port, or `undefined` when taken. */
function tryBind(ip: string, port: number, protocol: 'tcp' | 'udp'): Promise<number | undefined> {
  const host = ip === '' ? '0.0.0.0' : ip;
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const sock = createSocket('udp4');
      sock.once('error', () => resolve(undefined));
      sock.bind({ port, address: host, exclusive: true }, () => {
        const bound = sock.address().port;
        sock.close(() => resolve(bound));
      });
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ port, host, exclusive: true }, () => {
      const addr = srv.address();
      const bound = typeof addr === 'object' && addr ? addr.port : undefined;
      srv.close(() => resolve(bound));
    });
  });
}

function clash(a: ResolvedPort, b: { hostIP: string; hostPort: number; protocol: string }): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIP === '' || b.hostIP === '' || a.hostIP === b.hostIP);
}

function describe(p: { hostIP: string; hostPort: number; protocol: string }): string {
  return `${p.hostIP === '' ? '0.0.0.0' : p.hostIP}:${p.hostPort}/${p.protocol}`;
}

/**
 * Resolves `wanted` to concrete host ports: given ports must be free (no
 * listener, not in `taken`, no duplicate), absent ones are picked free.
 * Conflicts are `InvalidArg`. Throws only LibpodErrors.
 */
export async function resolvePorts(wanted: readonly PortMapping[], taken: readonly ResolvedPort[]): Promise<ResolvedPort[]> {
  const out: ResolvedPort[] = [];
  for (const p of wanted) {
    const base = { hostIP: p.hostIP ?? '', containerPort: p.containerPort, protocol: p.protocol ?? 'tcp' } as const;
    const busy = (hostPort: number): ResolvedPort | undefined => [...taken, ...out].find((t) => clash(t, { ...base, hostPort }));
    if (p.hostPort !== undefined && p.hostPort !== 0) {
      const cand = { ...base, hostPort: p.hostPort };
      const other = busy(p.hostPort);
      if (other) throw libpodError('InvalidArg', `port ${describe(cand)} is already published by another container (or twice here)`);
      if ((await tryBind(cand.hostIP, cand.hostPort, cand.protocol)) === undefined) {
        throw libpodError('InvalidArg', `cannot publish ${describe(cand)}: the address is already in use on the host`);
      }
      out.push(cand);
      continue;
    }
    let picked: number | undefined;
    for (let i = 0; i < 20 && picked === undefined; i++) {
      const port = await tryBind(base.hostIP, 0, base.protocol);
      if (port !== undefined && !busy(port)) picked = port;
    }
    if (picked === undefined) throw libpodError('Internal', `could not find a free host port for ${base.containerPort}/${base.protocol}`);
    out.push({ ...base, hostPort: picked });
  }
  return out;
}

/** `InvalidArg` for a malformed `ports` option (pure; used at create). */
export function checkPortsOption(v: unknown): LibpodError | undefined {
  const bad = (m: string): LibpodError => libpodError('InvalidArg', `ports ${m}`);
  if (!Array.isArray(v)) return bad('must be an array of { hostIP?, hostPort?, containerPort, protocol? }');
  const isPort = (n: unknown, zero: boolean): boolean => typeof n === 'number' && Number.isInteger(n) && n >= (zero ? 0 : 1) && n <= 65535;
  const seen = new Set<string>();
  for (const p of v as unknown[]) {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) return bad('must be an array of { hostIP?, hostPort?, containerPort, protocol? }');
    const o = p as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['hostIP', 'hostPort', 'containerPort', 'protocol'].includes(k)) return bad(`entry has an unknown key "${k}"`);
    if (!isPort(o.containerPort, false)) return bad('containerPort must be an integer from 1 to 65535');
    if (o.hostPort !== undefined && !isPort(o.hostPort, true)) return bad('hostPort must be an integer from 0 to 65535');
    if (o.protocol !== undefined && o.protocol !== 'tcp' && o.protocol !== 'udp') return bad("protocol must be 'tcp' or 'udp'");
    if (o.hostIP !== undefined && (typeof o.hostIP !== 'string' || !/^(\d{1,3}\.){3}\d{1,3}$/.test(o.hostIP))) return bad('hostIP must be an IPv4 address');
    if (typeof o.hostPort === 'number' && o.hostPort !== 0) {
      const key = `${String(o.hostPort)}/${String(o.protocol ?? 'tcp')}`;
      if (seen.has(key)) return bad(`publish host port ${key} twice`);
      seen.add(key);
    }
  }
  return undefined;
}
