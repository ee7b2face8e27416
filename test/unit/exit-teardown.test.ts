/**
 * The exit teardown's protocol on the fake runtime and network backend (no
 * root): the pending teardown written at setup, the exit command's run with
 * no Runtime open, tokens, and the engine's sync after it (and before it).
 * The real thing (conmon running it, netavark, namespaces): e2e
 * networking-exit.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { exitTeardownCommand } from '../../src/cleanup/exit-hook.js';
import { pendingTeardownPath, runExitTeardown, writePendingTeardown, type PendingTeardown } from '../../src/network/exit-teardown.js';
import { fakeEngine, must, type FakeEngine } from '../support/engine.js';

describe('exit teardown (fake backend)', () => {
  let e: FakeEngine;
  const runDir = (): string => join(e.runRoot, 'networks');
  const pending = async (id: string): Promise<PendingTeardown> => JSON.parse(await readFile(pendingTeardownPath(runDir(), id), 'utf8')) as PendingTeardown;

  beforeEach(async () => {
    e = await fakeEngine();
    await must(e.runtime.newNetwork({ name: 'n1', subnet: '10.89.223.0/24', dnsServers: ['127.0.0.1'] }));
  });
  afterEach(async () => e.dispose());

  it('undoes the networking of a container that exited with no Runtime open; the engine then tears down nothing twice', async () => {
    const c = await e.create({ networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] });
    await must(c.start());
    const p = await pending(c.id);
    assert.deepEqual(p.networks, ['n1']);
    assert.ok(existsSync(p.netns));
    await must(e.runtime.close());
    assert.ok(e.fake.exit(c.id, 3).isOk());

    assert.equal(await must(runExitTeardown(pendingTeardownPath(runDir(), c.id), 'not-the-token')), 'skipped');
    assert.ok(existsSync(p.netns), 'a stale token changes nothing');
    assert.equal(await must(runExitTeardown(pendingTeardownPath(runDir(), c.id), p.token)), 'done');
    assert.equal(existsSync(p.netns), false);
    assert.equal(existsSync(pendingTeardownPath(runDir(), c.id)), false);
    assert.equal(await must(runExitTeardown(pendingTeardownPath(runDir(), c.id), p.token)), 'skipped', 'once only');

    const rt = await e.reopen();
    assert.deepEqual(await must(rt.context.ipam.allocations('n1')), {});
    const again = await must(rt.lookupContainer(c.id));
    assert.equal(await must(again.state()), 'exited');
    assert.equal((await must(again.inspect())).networkSettings.networks.n1!.ipAddress, '');
    assert.deepEqual(e.network.calls, [`setup ${c.id} n1`], 'no second teardown by the engine');
    await must(again.start());
    assert.equal((await must(again.inspect())).networkSettings.networks.n1!.ipAddress, '10.89.223.3');
    assert.notEqual((await pending(c.id)).token, p.token, 'each create has its own token');
  });

  it('an exit command after the engine tore down does nothing; a new create makes the old token stale', async () => {
    const c = await e.create({ networks: { n1: {} } });
    await must(c.start());
    const first = await pending(c.id);
    await must(c.stop({ timeout: 0 }));
    assert.equal(existsSync(pendingTeardownPath(runDir(), c.id)), false);
    assert.equal(await must(runExitTeardown(pendingTeardownPath(runDir(), c.id), first.token)), 'skipped');
    await must(c.start());
    const second = await pending(c.id);
    assert.equal(await must(runExitTeardown(pendingTeardownPath(runDir(), c.id), first.token)), 'skipped');
    assert.ok(existsSync(second.netns));
    assert.equal(Object.keys(await must(e.runtime.context.ipam.allocations('n1'))).length, 1);
    await must(c.stop({ timeout: 0 }));
    assert.deepEqual(e.network.calls, [`setup ${c.id} n1`, `teardown ${c.id} n1`, `setup ${c.id} n1`, `teardown ${c.id} n1`]);
  });

  it('connect and disconnect keep the pending teardown current', async () => {
    await must(e.runtime.newNetwork({ name: 'n2', subnet: '10.89.224.0/24', dnsServers: ['127.0.0.1'] }));
    const c = await e.create({ networks: { n1: {} } });
    await must(c.start());
    const token = (await pending(c.id)).token;
    await must(c.connect('n2'));
    assert.deepEqual((await pending(c.id)).networks.sort(), ['n1', 'n2']);
    await must(c.disconnect('n1'));
    assert.deepEqual((await pending(c.id)).networks, ['n2']);
    assert.equal((await pending(c.id)).token, token);
    await must(c.stop({ timeout: 0 }));
  });

  it('the exit command runs from a directory removed meanwhile (conmon\'s bundle goes with the container) and exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'libpod-ts-hook-'));
    try {
      const runDir = join(dir, 'networks');
      await must(writePendingTeardown(runDir, 'c1', { token: 'current', netns: join(dir, 'netns'), networks: [] }));
      const cwd = join(dir, 'bundle');
      await mkdir(cwd);
      const [program, ...args] = exitTeardownCommand(pendingTeardownPath(runDir, 'c1'), 'stale');
      const child = spawn(program!, args, { cwd, stdio: 'ignore' });
      await rmdir(cwd);
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      assert.equal(code, 0);
      assert.ok(existsSync(pendingTeardownPath(runDir, 'c1')), 'a stale token leaves the file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
