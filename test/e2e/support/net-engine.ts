/**
 * The set-up of a networking suite: a host and network leak snapshot,
 * private roots, a busybox rootfs, a Runtime, and the suite's own bridge
 * networks (each with `dnsServers: ['127.0.0.1']`, so aardvark-dns never
 * forwards off the machine). After the suite: every container it made is
 * force-removed, its networks removed, the runtime closed, and no process,
 * mount (network namespaces are bind mounts below the roots), bridge, veth,
 * firewall rule or aardvark-dns process of the suite may remain.
 *
 * Helpers for traffic that stays on the machine: HTTP to 127.0.0.1 or to
 * the suite's containers, shell snippets run inside containers (busybox
 * nslookup and nc: its static wget cannot resolve through NSS), and probes
 * of whether a host port can be taken. Every loop is bounded.
 * @module
 */
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { before } from 'node:test';
import type { Container, ContainerCreateOptions, Pod, Runtime, RuntimeOptions } from '../../../src/index.js';
import { must } from '../../support/engine.js';
import type { TestRoots } from './leaks.js';
import { assertNoNetLeaks, snapshotNet, type NetSnapshot } from './net-leaks.js';
import { useRealEngine } from './real-engine.js';
import { collect } from './shell.js';

/** A network of the suite: its name, subnet (a /24) and bridge. */
export interface SuiteNetwork {
  name: string;
  subnet: string;
  bridge: string;
}

/** What {@link useNetEngine} gives a suite. */
export interface NetEngine {
  readonly rt: Runtime;
  readonly rootfs: string;
  readonly roots: TestRoots;
  /** Host ports the leak check looks for in firewall rules (add the ports a test publishes). */
  readonly ports: number[];
  /** A busybox httpd serving `hello-<name>` on port 80. */
  httpd(name: string, extra?: Partial<ContainerCreateOptions>): Promise<Container>;
  /** A shell that idles until stopped. */
  shell(name: string, extra?: Partial<ContainerCreateOptions>): Promise<Container>;
  /** Has the suite remove `c` at the end. */
  track(c: Container): Container;
  /** Has the suite remove pod `p` (and its containers) at the end. */
  trackPod(p: Pod): Pod;
}

/** Registers the suite's hooks (on {@link useRealEngine}'s); call at the top of a `describe`. `runtime` adds Runtime.open options. */
export function useNetEngine(prefix: string, networks: readonly SuiteNetwork[], runtime: Partial<RuntimeOptions> = {}): NetEngine {
  let net0: NetSnapshot;
  const pods: Pod[] = [];
  const ports: number[] = [];
  // Registered first, so it runs before anything of the suite exists.
  before(() => {
    net0 = snapshotNet();
  });
  const e = useRealEngine(prefix, {
    runtime,
    opened: async (rt) => {
      for (const n of networks) await must(rt.newNetwork({ name: n.name, subnet: n.subnet, interfaceName: n.bridge, dnsServers: ['127.0.0.1'] }));
    },
    beforeRemoval: async (rt) => {
      for (const p of pods) await rt.removePod(p, { force: true, timeout: 0 });
    },
    beforeClose: async (rt) => {
      for (const n of networks) await rt.removeNetwork(n.name, { force: true });
    },
    leakCheck: (dirs) => assertNoNetLeaks(net0, { roots: [dirs.dir], subnets: networks.map((n) => n.subnet), bridges: networks.map((n) => n.bridge), ports }),
  });
  const create = (name: string, command: string[], extra: Partial<ContainerCreateOptions>): Promise<Container> => e.create({ name, command, stopTimeout: 1, ...extra });
  return {
    get rt() {
      return e.rt;
    },
    get rootfs() {
      return e.rootfs;
    },
    get roots() {
      return e.roots;
    },
    ports,
    track: e.track,
    trackPod: (p) => (pods.push(p), p),
    httpd: (name, extra = {}) =>
      create(name, ['/bin/sh', '-c', `mkdir -p /www && echo hello-${name} > /www/index.html && exec httpd -f -p 80 -h /www`], { rootfsOverlay: true, ...extra }),
    shell: (name, extra = {}) => create(name, ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'], extra),
  };
}

/** GET http://host:port/ with a 2 s timeout; the body, or undefined on any failure. */
export function get(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Polls GET until it answers (at most `tries` times, 100 ms apart). */
export async function getEventually(host: string, port: number, tries = 50): Promise<string | undefined> {
  for (let i = 0; i < tries; i++) {
    const body = await get(host, port);
    if (body !== undefined) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/** A script printing the address `name` resolves to through the container's resolv.conf (empty when it does not). */
export function resolveScript(name: string): string {
  return `nslookup ${name} 2>/dev/null | awk '/^Name:/{n=1} n && /^Address: /{print $2; exit}'`;
}

/** A script printing the last line of http://<host>:<port>/ (busybox nc, 3 s bound). */
export function fetchScript(host: string, port = 80): string {
  return `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} ${port} | tail -n 1`;
}

/** A script fetching http://<name>/ after resolving it (fails when it does not resolve). */
export function byNameScript(name: string): string {
  return `ip=$(${resolveScript(name)}); [ -n "$ip" ] && ${fetchScript('"$ip"')}`;
}

/** Runs `sh -c script` in the container; its exit code and trimmed output. */
export async function run(c: Container, script: string): Promise<{ code: number; out: string }> {
  const out = collect();
  const r = await must(c.exec(['/bin/sh', '-c', script], { streams: { stdout: out.stream, stderr: out.stream } }));
  return { code: r.exitCode, out: out.text().trim() };
}

/** Polls `script` in `c` until it prints `want` (at most `tries` times, 200 ms apart); the last output. */
export async function runUntil(c: Container, script: string, want: string, tries = 25): Promise<string> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    last = (await run(c, script)).out;
    if (last === want) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

/** Tries to listen on TCP `host:port`; resolves to the error code (`''` when it could, then closes). */
export function tryListen(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve('')));
  });
}

/** Tries to bind UDP `host:port`; resolves to the error code (`''` when it could, then closes). */
export function tryBindUdp(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', (e: NodeJS.ErrnoException) => {
      sock.close();
      resolve(e.code ?? 'error');
    });
    sock.bind({ address: host, port, exclusive: true }, () => sock.close(() => resolve('')));
  });
}
