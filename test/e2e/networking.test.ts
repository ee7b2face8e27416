/**
 * Bridge networking on real containers (conmon + runc + netavark +
 * aardvark-dns). Root only. Traffic goes only to 127.0.0.1 and to the
 * addresses of this file's containers on its own bridges (10.89.210-219.0/24);
 * every network sets dnsServers ['127.0.0.1']; every request loop is bounded.
 * The file ends by asserting that no process, mount, namespace, bridge,
 * firewall rule or aardvark-dns process it made is left.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container, type ContainerCreateOptions } from '../../src/index.js';
import { makeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { must, mustFail } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';
import { assertNoNetLeaks, snapshotNet, type NetSnapshot } from './support/net-leaks.js';
import { collect } from './support/shell.js';

const root = process.getuid?.() === 0;
const SUBNETS = ['10.89.210.0/24', '10.89.211.0/24', '10.89.212.0/24'];
const BRIDGES = ['lpts210', 'lpts211', 'lpts212'];

/** GET http://host:port/ with a 2 s timeout; resolves to the body, or undefined on any failure. */
function get(host: string, port: number): Promise<string | undefined> {
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
async function getEventually(host: string, port: number, tries = 50): Promise<string | undefined> {
  for (let i = 0; i < tries; i++) {
    const body = await get(host, port);
    if (body !== undefined) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/**
 * A script printing the address `name` resolves to through the container's
 * resolv.conf (busybox's own resolver: its static wget cannot resolve, NSS).
 */
function resolve(name: string): string {
  return `nslookup ${name} 2>/dev/null | awk '/^Name:/{n=1} n && /^Address: /{print $2; exit}'`;
}

/** A script printing the body of http://<ip>/ (busybox nc: its static wget crashes in NSS). */
function fetchIP(ip: string): string {
  return `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 80 | tail -n 1`;
}

/** A script fetching http://<name>/ after resolving it (fails when it does not resolve). */
function byName(name: string): string {
  return `ip=$(${resolve(name)}); [ -n "$ip" ] && ${fetchIP('"$ip"')}`;
}

/** Runs a command in the container; resolves to exit code and output. */
async function run(c: Container, script: string): Promise<{ code: number; out: string }> {
  const out = collect();
  const r = await must(c.exec(['/bin/sh', '-c', script], { streams: { stdout: out.stream, stderr: out.stream } }));
  return { code: r.exitCode, out: out.text().trim() };
}

describe('bridge networking on real containers', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let rootfs: string;
  let snapshot: HostSnapshot;
  let net0: NetSnapshot;
  const made: Container[] = [];

  function httpd(name: string, extra: Partial<ContainerCreateOptions> = {}): Promise<Container> {
    const command = ['/bin/sh', '-c', `mkdir -p /www && echo hello-${name} > /www/index.html && exec httpd -f -p 80 -h /www`];
    return must(rt.newContainer({ name, rootfs, rootfsOverlay: true, command, stopTimeout: 1, ...extra })).then((c) => (made.push(c), c));
  }

  function shell(name: string, extra: Partial<ContainerCreateOptions> = {}): Promise<Container> {
    const command = ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'];
    return must(rt.newContainer({ name, rootfs, command, stopTimeout: 1, ...extra })).then((c) => (made.push(c), c));
  }

  before(async () => {
    snapshot = await snapshotHost();
    net0 = snapshotNet();
    roots = await makeTestRoots('lpts-net-');
    rootfs = (await makeBusyboxRootfs({ parent: roots.dir })).path;
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
    for (const [i, subnet] of SUBNETS.entries()) {
      await must(rt.newNetwork({ name: `n${i}`, subnet, interfaceName: BRIDGES[i], dnsServers: ['127.0.0.1'] }));
    }
  });

  after(async () => {
    for (const c of made) await rt.removeContainer(c, { force: true, timeout: 0 });
    for (const n of ['n0', 'n1', 'n2']) await rt.removeNetwork(n, { force: true });
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await assertNoNetLeaks(net0, { roots: [roots.dir], subnets: SUBNETS, bridges: BRIDGES });
    await roots.cleanup();
  });

  it('serves HTTP on a published port of 127.0.0.1 and on its address; name and alias resolve on its network only', async () => {
    const web = await httpd('web', { networks: { n0: { aliases: ['www'] } }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] });
    await must(web.start());
    const info = await must(web.inspect());
    const port = info.networkSettings.ports['80/tcp']?.[0];
    assert.ok(port && port.hostPort > 0 && port.hostIP === '127.0.0.1');
    const ep = info.networkSettings.networks.n0;
    assert.ok(ep && ep.ipAddress.startsWith('10.89.210.') && ep.prefixLen === 24 && ep.gateway === '10.89.210.1');
    assert.match(ep.macAddress, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.equal(await getEventually('127.0.0.1', port.hostPort), 'hello-web\n');
    assert.equal(await getEventually(ep.ipAddress, 80), 'hello-web\n');

    const peer = await shell('peer', { networks: { n0: {} } });
    const stranger = await shell('stranger', { networks: { n1: {} } });
    await must(peer.start());
    await must(stranger.start());
    assert.deepEqual(await run(peer, byName('web')), { code: 0, out: 'hello-web' });
    assert.deepEqual(await run(peer, byName('www')), { code: 0, out: 'hello-web' });
    assert.equal((await run(stranger, resolve('web'))).out, '');
    assert.notEqual((await run(stranger, byName('web'))).code, 0);
    const hosts = await run(peer, 'cat /etc/hosts; cat /etc/hostname');
    assert.match(hosts.out, /host\.containers\.internal/);
    assert.match(hosts.out, /10\.89\.210\.\d+\s+\S+ peer/);
    const resolv = await run(peer, 'cat /etc/resolv.conf');
    assert.match(resolv.out, /nameserver 10\.89\.210\.1/);
    assert.match(resolv.out, /search dns\.podman/);
  });

  it('none is isolated: loopback only', async () => {
    const lone = await shell('lone', { network: 'none' });
    await must(lone.start());
    const r = await run(lone, 'ls /sys/class/net');
    assert.equal(r.out.split(/\s+/).sort().join(' '), 'lo');
    assert.deepEqual((await must(lone.inspect())).networkSettings, { ports: {}, networks: {} });
  });

  it('static addresses; a taken one fails the start and leaves nothing set up', async () => {
    const a = await shell('fixed', { networks: { n2: { staticIPs: ['10.89.212.50'] } } });
    await must(a.start());
    assert.equal((await must(a.inspect())).networkSettings.networks.n2?.ipAddress, '10.89.212.50');
    assert.match((await run(a, 'ip -4 addr show eth0')).out, /10\.89\.212\.50\/24/);
    const b = await shell('fixed2', { networks: { n2: { staticIPs: ['10.89.212.50'] } } });
    assert.equal((await mustFail(b.start())).code, 'InvalidArg');
    const st = await must(b.inspect());
    assert.equal(st.state, 'configured');
    assert.equal(st.networkSettings.networks.n2?.ipAddress, '');
    assert.equal((await mustFail(rt.newContainer({ rootfs, command: ['true'], networks: { n2: { staticIPs: ['10.89.1.5'] } } }))).code, 'InvalidArg');
  });

  it('port conflicts: a port another container publishes, or a listener holds, is InvalidArg', async () => {
    const first = await httpd('p1', { networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', hostPort: 18631, containerPort: 80 }] });
    await must(first.start());
    const second = await httpd('p2', { networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', hostPort: 18631, containerPort: 80 }] });
    assert.equal((await mustFail(second.start())).code, 'InvalidArg');
    assert.equal(await getEventually('127.0.0.1', 18631), 'hello-p1\n');
    await must(first.stop({ timeout: 0 }));
    await must(second.start());
    assert.equal(await getEventually('127.0.0.1', 18631), 'hello-p2\n');
    await must(second.stop({ timeout: 0 }));
    assert.equal((await mustFail(rt.newContainer({ rootfs, command: ['true'], ports: [{ hostPort: 1, containerPort: 80 }, { hostPort: 1, containerPort: 81 }] }))).code, 'InvalidArg');
  });

  it('a stop tears down the namespace and releases the address; a restart sets it up again', async () => {
    const c = await httpd('again', { networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] });
    await must(c.start());
    const first = await must(c.inspect());
    await must(c.restart({ timeout: 0 }));
    const second = await must(c.inspect());
    const port = second.networkSettings.ports['80/tcp']?.[0]?.hostPort ?? 0;
    assert.equal(await getEventually('127.0.0.1', port), 'hello-again\n');
    assert.notEqual(second.networkSettings.networks.n1?.ipAddress, '');
    assert.ok(first.networkSettings.networks.n1?.ipAddress);
    await must(c.stop({ timeout: 0 }));
    const stopped = await must(c.inspect());
    assert.equal(stopped.networkSettings.networks.n1?.ipAddress, '');
    assert.equal(await get('127.0.0.1', port), undefined);
  });
});
