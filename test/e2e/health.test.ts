/**
 * Health checks on real containers (conmon + runc): a check that outlives
 * its timeout is killed and its exec session ends, as podman's
 * `healthCheckExec` does. Root only; the file ends by asserting nothing it
 * made is left.
 */
import assert from 'node:assert/strict';
import { existsSync, readlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container } from '../../src/index.js';
import { makeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { delay, must } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, readProcessTable, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;

describe('health checks on real containers', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let rootfs: string;
  let snapshot: HostSnapshot;
  const ctrs: Container[] = [];

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-health-');
    rootfs = (await makeBusyboxRootfs({ parent: roots.dir })).path;
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
  });

  after(async () => {
    for (const c of ctrs) await rt.removeContainer(c, { force: true, timeout: 0 });
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  /** Processes in the container (its mount namespace) whose argv is `sleep 60`. */
  async function sleepers(mntNs: string): Promise<number[]> {
    const table = await readProcessTable();
    return table.filter((p) => p.mntNs === mntNs && p.state !== 'Z' && p.cmdline.join(' ').endsWith('sleep 60')).map((p) => p.pid);
  }

  it('a check that outlives its timeout returns after about the timeout, unhealthy, its process killed and its session gone', async () => {
    const c = await must(
      rt.newContainer({
        rootfs,
        command: ['/bin/sleep', '1000'],
        healthCheck: { test: ['CMD-SHELL', 'sleep 60'], timeout: 1, retries: 1 },
      }),
    );
    ctrs.push(c);
    await must(c.start());
    const { pid } = await must(c.inspect());
    const mntNs = readlinkSync(`/proc/${pid}/ns/mnt`);

    // While the check runs, its `sleep 60` is visible in the container.
    const pending = c.healthCheck();
    let seen: number[] = [];
    for (let i = 0; i < 50 && seen.length === 0; i++) {
      await delay(20);
      seen = await sleepers(mntNs);
    }
    assert.equal(seen.length, 1, 'the check runs sleep 60 in the container');

    const began = Date.now();
    const r = await must(pending);
    const took = Date.now() - began;
    assert.ok(took < 15_000, `the check returned after the timeout, not after sleep 60 (${took} ms)`);
    assert.equal(r.status, 'unhealthy');
    assert.equal(r.exitCode, -1);

    assert.deepEqual(await sleepers(mntNs), [], 'no sleep 60 left in the container');
    const info = await must(c.inspect());
    assert.deepEqual(info.execSessions, []);
    assert.deepEqual(info.health?.log.map((l) => l.exitCode), [-1]);
    const execDir = join(roots.runRoot, 'oci', c.id, 'exec');
    assert.deepEqual(existsSync(execDir) ? await readdir(execDir) : [], [], 'the exec session directory was removed');
    assert.equal(await must(c.state()), 'running', 'the container itself is untouched');
  });
});
