/**
 * A user's stop is never undone (issue 8, item 3): the Node process is
 * killed with SIGKILL while `stop({ timeout })` waits for a container that
 * ignores SIGTERM; the next runtime on the same roots must not let the
 * restart policy bring the container back once it exits. Root only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container } from '../../src/index.js';
import { buildBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { delay, must } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;

/** Polls `check` every 100 ms, at most `ms` (generous: the machine is shared). */
async function until(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await delay(100);
  }
}

describe('kill -9 during stop', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rootfs: string;
  let snapshot: HostSnapshot;

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-stopcrash-');
    rootfs = await buildBusyboxRootfs(join(roots.dir, 'rootfs'));
  });

  after(async () => {
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  it("a 'restartPolicy: always' container stopped by the user is not restarted after the Node process died mid-stop", async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'stop-child.ts'), roots.root, roots.runRoot, rootfs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const lines: string[] = [];
    let buf = '';
    const seen = (want: (l: string) => boolean): Promise<string> =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = lines.find(want);
          if (hit !== undefined) resolve(hit);
          return hit !== undefined;
        };
        if (check()) return;
        child.stdout.on('data', check);
        void exited.then(() => check() || reject(new Error(`child exited before printing the expected line; it printed ${JSON.stringify(lines)}`)));
      });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      lines.push(...parts);
    });
    let id: string;
    try {
      id = (JSON.parse(await seen((l) => l.startsWith('{'))) as { id: string }).id;
      await seen((l) => l === 'stopping');
      // The stop signal goes out right after; the stop now waits up to 10 s for an exit that
      // will not come (SIGTERM is ignored). Die in the middle of it.
      await delay(500);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    assert.ok(!lines.includes('stopped'), 'the stop must still have been waiting');

    const rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
    let c: Container | undefined;
    try {
      c = await must(rt.lookupContainer(id));
      const first = await must(c.inspect());
      // Nobody sent the SIGKILL: it is still running (or, at worst, stopped; never restarted).
      assert.ok(first.state === 'running' || first.state === 'exited', first.state);
      assert.equal(first.restartCount, 0);
      if (first.state === 'running') {
        // Its process ends on its own (here: killed from outside, not through the API).
        process.kill(first.pid, 'SIGKILL');
        const ctr = c;
        await until(async () => {
          const i = await must(ctr.inspect());
          return i.state !== 'running' || i.restartCount > 0;
        });
      }
      const later = await must(c.inspect());
      assert.equal(later.restartCount, 0, 'the restart policy undid the stop');
      assert.equal(later.state, 'exited');
      assert.equal(later.exitCode, 137);
      const restarts = await must(rt.readEvents({ filter: { id, status: 'restart' } }));
      assert.equal(restarts.length, 0);
    } finally {
      if (c) await rt.removeContainer(c, { force: true, timeout: 0 });
      await must(rt.close());
    }
  });
});
