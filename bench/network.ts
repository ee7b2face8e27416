/**
 * The networking rows of the lifecycle benchmark: a container life of
 * `/bin/true` publishing one port (127.0.0.1:<port> to 80), on a bridge
 * network of the engine's own, in two cases:
 *
 * - alone on its network: netavark creates the bridge (and its firewall
 *   chains, and starts aardvark-dns) at the setup and deletes them at the
 *   teardown;
 * - beside a running container on the same network: the bridge stays.
 *
 * Each subject has its own network (own subnet and bridge), so they do not
 * share a bridge; every network sets DNS servers `127.0.0.1` (but podman's,
 * see bench/podman.ts). The floor is the OCI layer plus netavark's own
 * setup and teardown (bench/network-floor.ts).
 * @module
 */
import { createServer } from 'node:net';
import { interleave, median, ms, ratio } from './measure.js';
import type { FloorSteps } from './network-floor.js';

/** The engines of the networking rows, in column order. */
export type NetKey = 'floor' | 'libpod' | 'podman';

/** A bench network: name, subnet, bridge, and the host port its lives publish. */
export interface BenchNetwork {
  name: string;
  subnet: string;
  bridge: string;
  hostPort: number;
}

/** One engine under measurement, on its own network. */
export interface NetSubject {
  readonly key: NetKey;
  /** One container life of `/bin/true` publishing one port: create, start, wait for the exit, remove (iteration `i`, -1: warm-up). */
  life(i: number): Promise<void>;
  /** Starts a long-running container on the same network (no port): the bridge then stays. */
  startNeighbour(): Promise<void>;
  /** Removes that container. */
  stopNeighbour(): Promise<void>;
  /** Removes whatever the subject made (containers, network), also after a failure. */
  close(): Promise<void>;
}

/** A TCP port of 127.0.0.1 free now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1' }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Networks of the bench: 10.89.250-252.0/24, bridges `lpbench250-252`, one per subject. */
export async function benchNetworks(): Promise<Record<NetKey, BenchNetwork>> {
  const make = async (n: number): Promise<BenchNetwork> => ({ name: `lpbench${n}`, subnet: `10.89.${n}.0/24`, bridge: `lpbench${n}`, hostPort: await freePort() });
  return { floor: await make(250), libpod: await make(251), podman: await make(252) };
}

/** Medians (ms) of the two cases per subject. */
export interface NetRows {
  alone: Map<NetKey, number[]>;
  beside: Map<NetKey, number[]>;
}

/** Runs both cases, `iterations` interleaved rounds each. */
export async function measureNetworking(subjects: readonly NetSubject[], iterations: number, progress: (msg: string) => void): Promise<NetRows> {
  progress(`published port, alone on its network: ${iterations} rounds of ${subjects.map((s) => s.key).join(', ')}`);
  const alone = await interleave(subjects, iterations, (s, i) => s.life(i));
  for (const s of subjects) await s.startNeighbour();
  progress(`published port, beside a running container: ${iterations} rounds`);
  const beside = await interleave(subjects, iterations, (s, i) => s.life(i));
  for (const s of subjects) await s.stopNeighbour();
  return { alone, beside };
}

/** The networking rows as a markdown table, with the floor's steps (medians of both cases together). */
export function formatNetTable(rows: NetRows, iterations: number, steps: FloorSteps | undefined): string {
  const lines = [
    `median of ${iterations} interleaved iterations (ms); floor = OCI layer + netavark setup and teardown`,
    '',
    '| run /bin/true with one published port | floor | libpod-ts | podman | libpod-ts / floor | podman / libpod-ts |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const row = (name: string, times: Map<NetKey, number[]>): void => {
    const m = (k: NetKey): number | undefined => (times.has(k) ? median(times.get(k) ?? []) : undefined);
    lines.push(`| ${name} | ${ms(m('floor'))} | ${ms(m('libpod'))} | ${ms(m('podman'))} | ${ratio(m('libpod'), m('floor'))} | ${ratio(m('podman'), m('libpod'))} |`);
  };
  row('alone on its network (bridge created and deleted)', rows.alone);
  row('beside a running container (bridge stays)', rows.beside);
  if (steps) {
    const half = (xs: number[]): [number[], number[]] => [xs.slice(0, iterations), xs.slice(iterations)];
    const parts = (which: 0 | 1): string =>
      (['netns', 'setup', 'oci', 'teardown'] as const).map((k) => `${k} ${ms(median(half(steps.get(k) ?? [])[which]))}`).join(', ');
    lines.push('', `floor steps, alone: ${parts(0)}`, `floor steps, beside: ${parts(1)}`);
  }
  return lines.join('\n');
}
