/**
 * Restart throttling on real containers (conmon + runc): a crash-looping
 * `restartPolicy: 'always'` container is restarted with Docker's backoff by
 * the exit watcher, and a kill -9 of the Node process during a backoff
 * leaves the restart to the next `Runtime.open`, at its saved due time.
 * Root only; the file ends by asserting nothing it made is left.
 *
 * Timing assertions are lower bounds only (a restart never comes before its
 * backoff), which a slow machine cannot break.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { Runtime, type LibpodEvent } from '../../src/index.js';
import { makeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { delay, must } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;

describe('restart backoff on real containers', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rootfs: string;
  let snapshot: HostSnapshot;

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-backoff-');
    rootfs = (await makeBusyboxRootfs({ parent: roots.dir })).path;
  });

  after(async () => {
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  /** For each restart event, how long after the exit before it (the `died` event) it came. */
  function restartGaps(events: readonly LibpodEvent[]): number[] {
    const gaps: number[] = [];
    let died: Date | undefined;
    for (const e of events) {
      if (e.status === 'died') died = e.time;
      if (e.status === 'restart' && died) gaps.push(e.time.getTime() - died.getTime());
    }
    return gaps;
  }

  it('crash-looping: restarts spaced 100, 200, 400, 800 ms; kill -9 in a 1600 ms backoff, the next open restarts it at its due time', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'restart-child.ts'), roots.root, roots.runRoot, rootfs, '4'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    let id = '';
    try {
      const lines = createInterface({ input: child.stdout });
      const waiting = new Promise<void>((resolve, reject) => {
        lines.on('line', (line) => {
          const msg = JSON.parse(line) as { id?: string; waiting?: boolean };
          if (msg.id) id = msg.id;
          if (msg.waiting) resolve();
        });
        child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      let timer: NodeJS.Timeout | undefined;
      const tooLong = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the child never reached its fifth backoff')), 60_000)));
      await Promise.race([waiting, tooLong]).finally(() => clearTimeout(timer));
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    assert.match(id, /^[0-9a-f]{64}$/);

    const rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
    try {
      const c = await must(rt.lookupContainer(id));
      assert.equal((await must(c.inspect())).restartCount, 4);
      // The fifth restart comes from this runtime, after what was left of the 1600 ms backoff.
      const end = Date.now() + 30_000;
      while ((await must(c.inspect())).restartCount < 5 && Date.now() < end) await delay(20);
      assert.equal((await must(c.inspect())).restartCount >= 5, true, 'restarted after the reopen');
      const events = await must(rt.readEvents({ filter: { id } }));
      const gaps = restartGaps(events);
      assert.ok(gaps.length >= 5, `restart events: ${gaps.length}`);
      [100, 200, 400, 800, 1600].forEach((min, i) =>
        assert.ok((gaps[i] as number) >= min - 5, `restart ${i + 1} came ${gaps[i]} ms after its exit, before its ${min} ms backoff`),
      );
      await must(rt.removeContainer(c, { force: true, timeout: 0 }));
    } finally {
      await rt.close();
    }
  });
});
