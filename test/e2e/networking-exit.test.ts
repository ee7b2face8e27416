/**
 * Teardown on exit through conmon's exit command: a container with a
 * published port that exits while no Node process has the runtime open
 * (its process was killed with SIGKILL, or closed the runtime) loses its
 * network namespace, its DNAT rule, its address and its host port at once;
 * a runtime opened later finds it exited and restarts it. Beside an open
 * runtime nothing is torn down twice, and a container created again before
 * its old exit command ran keeps its networking. Root only; traffic only to
 * 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Runtime } from '../../src/index.js';
import { EXIT_TEARDOWN_DELAY_S } from '../../src/cleanup/exit-hook.js';
import { makeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { must } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type TestRoots } from './support/leaks.js';
import { get, getEventually, tryListen } from './support/net-engine.js';
import { assertNoNetLeaks, snapshotNet } from './support/net-leaks.js';

const root = process.getuid?.() === 0;
const SUBNET = '10.89.241.0/24';
const BRIDGE = 'lptsx241';

/** Polls `check` every 100 ms for up to `ms`; whether it became true. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The nat rules forwarding host port `port`. */
function dnatRules(port: number): string[] {
  return execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('-A ') && `${l} `.includes(`--dport ${port} `));
}

/** Addresses container `id` holds on `network`, from the IPAM file. */
function allocations(runRoot: string, network: string, id: string): string[] {
  try {
    const f = JSON.parse(readFileSync(join(runRoot, 'networks', 'ipam', `${network}.json`), 'utf8')) as { allocations: Record<string, string> };
    return Object.entries(f.allocations).filter(([, owner]) => owner === id).map(([ip]) => ip);
  } catch {
    return [];
  }
}

/** Exit-command processes (sh, sleep or node) naming a path under `dir`. */
function exitCommands(dir: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(dir) && cmd.includes('exit-teardown') && !cmd.includes('conmon')) out.push(`${d}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return out;
}

/** Every exit command of the test ended (they are bounded: a hung one would stay). */
async function assertExitCommandsEnded(dir: string): Promise<void> {
  assert.ok(await eventually(() => exitCommands(dir).length === 0, (EXIT_TEARDOWN_DELAY_S + 15) * 1000), `exit commands left:\n${exitCommands(dir).join('\n')}`);
}

/**
 * Runs `test` on fresh roots with a busybox rootfs; after it, the test's exit
 * commands must have ended and nothing of it remain (processes, mounts, runc
 * state, netns, bridge, rules, the host port `test` resolved to).
 */
async function onFreshRoots(test: (roots: TestRoots, rootfs: string) => Promise<number>): Promise<void> {
  const before = await snapshotHost();
  const net0 = snapshotNet();
  const roots = await makeTestRoots('lpts-netx-');
  try {
    const rootfs = (await makeBusyboxRootfs({ parent: roots.dir })).path;
    const port = await test(roots, rootfs);
    await assertExitCommandsEnded(roots.dir);
    await assertNoLeaks(before, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await assertNoNetLeaks(net0, { roots: [roots.dir], subnets: [SUBNET], bridges: [BRIDGE], ports: [port] });
  } finally {
    await roots.cleanup();
  }
}

/** httpd on port 80: the first run for `s` seconds then exits 0, later runs until stopped (as net-exit-child.ts). */
function exitingServer(s: number): string[] {
  return ['/bin/sh', '-c', `mkdir -p /www && echo alive > /www/index.html; if [ -e /ran ]; then exec httpd -f -p 80 -h /www; fi; touch /ran; httpd -p 80 -h /www; sleep ${s}`];
}

/** Runs the child; resolves with what it printed once it is gone (killed with SIGKILL, or closed its runtime). */
async function childRun(roots: { root: string; runRoot: string }, rootfs: string, mode: 'kill' | 'close'): Promise<{ id: string; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'net-exit-child.ts'), roots.root, roots.runRoot, rootfs, SUBNET, BRIDGE, mode, '4'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0] as string);
    });
    child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  const printed = JSON.parse(line) as { id: string; port: number };
  if (mode === 'kill') child.kill('SIGKILL');
  await exited;
  return printed;
}

describe('teardown on exit with no runtime open (conmon exit command)', { skip: !root && 'needs root' }, () => {
  for (const mode of ['kill', 'close'] as const) {
    it(`tears networking down when the container exits after its process ${mode === 'kill' ? 'was killed' : 'closed the runtime'}`, async () => {
      await onFreshRoots(async (roots, rootfs) => {
        const { id, port } = await childRun(roots, rootfs, mode);
        const netns = join(roots.runRoot, 'netns', id);
        // Still running: everything is in place.
        assert.ok(existsSync(netns), 'netns while running');
        assert.ok(dnatRules(port).length > 0, 'DNAT rule while running');
        assert.equal(allocations(roots.runRoot, 'exitnet', id).length, 1);
        // The container exits after ~4 s; its exit command tears down with no Node process of ours.
        assert.ok(await eventually(() => !existsSync(netns), 30_000), 'netns removed after the exit');
        assert.ok(await eventually(() => allocations(roots.runRoot, 'exitnet', id).length === 0, 10_000), 'address released');
        assert.deepEqual(dnatRules(port), []);
        assert.equal(await tryListen('127.0.0.1', port), '');
        const rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
        try {
          const c = await must(rt.lookupContainer(id));
          assert.equal(await must(c.state()), 'exited');
          assert.equal((await must(c.inspect())).networkSettings.networks['exitnet']?.ipAddress, '');
          await must(c.start());
          const again = (await must(c.inspect())).networkSettings.ports['80/tcp']?.[0]?.hostPort ?? 0;
          assert.equal(await getEventually('127.0.0.1', again), 'alive\n');
          await must(c.stop({ timeout: 0 }));
          await must(rt.removeContainer(c));
          await must(rt.removeNetwork('exitnet'));
        } finally {
          await rt.close();
        }
        return port;
      });
    });
  }

  it('beside an open runtime: one teardown per exit, and a new create keeps its networking from the old exit command', async () => {
    await onFreshRoots(async (roots, rootfs) => {
      const rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
      let port = 0;
      try {
        await must(rt.newNetwork({ name: 'exitnet', subnet: SUBNET, interfaceName: BRIDGE, dnsServers: ['127.0.0.1'] }));
        const c = await must(
          rt.newContainer({ name: 'web', rootfs, rootfsOverlay: true, command: exitingServer(1), networks: { exitnet: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] }),
        );
        await must(c.start());
        assert.equal(await must(c.wait()), 0);
        // Started again at once: its old exit command (due a second after the exit) must leave the new run alone.
        await must(c.start());
        port = (await must(c.inspect())).networkSettings.ports['80/tcp']?.[0]?.hostPort ?? 0;
        assert.equal(await getEventually('127.0.0.1', port), 'alive\n');
        await new Promise((r) => setTimeout(r, (EXIT_TEARDOWN_DELAY_S + 3) * 1000));
        assert.equal(await must(c.state()), 'running');
        assert.equal(await get('127.0.0.1', port), 'alive\n');
        assert.ok(existsSync(join(roots.runRoot, 'netns', c.id)));
        assert.ok(dnatRules(port).length > 0);
        assert.equal(allocations(roots.runRoot, 'exitnet', c.id).length, 1);
        await must(c.stop({ timeout: 0 }));
        assert.equal(existsSync(join(roots.runRoot, 'netns', c.id)), false);
        assert.deepEqual(dnatRules(port), []);
        await must(rt.removeContainer(c));
        await must(rt.removeNetwork('exitnet'));
      } finally {
        await rt.close();
      }
      return port;
    });
  });
});
