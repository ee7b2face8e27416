/**
 * Forced removal of a paused real container (conmon + runc): a frozen task
 * cannot act on SIGKILL under cgroup v1, so the engine kills, then thaws
 * (libpod `removeContainer`). Root only; ends by asserting nothing leaked.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container } from '../../src/index.js';
import { buildBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { delay, must, mustFail } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;

describe('forced removal of a paused container', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let rootfs: string;
  let snapshot: HostSnapshot;
  const made: Container[] = [];

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-paused-rm-');
    rootfs = await buildBusyboxRootfs(join(roots.dir, 'rootfs'));
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
  });

  after(async () => {
    for (const c of made) await rt.removeContainer(c, { force: true, timeout: 0 });
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  it('kills and thaws it: the removal succeeds and the process is gone', async () => {
    const c = await must(rt.newContainer({ rootfs, command: ['/bin/sh', '-c', 'trap "" TERM; while :; do sleep 1; done'] }));
    made.push(c);
    await must(c.start());
    const pid = (await must(c.inspect())).pid;
    await must(c.pause());
    assert.equal(await must(c.state()), 'paused');
    await must(rt.removeContainer(c, { force: true }));
    assert.equal((await mustFail(c.state())).code, 'CtrRemoved');
    assert.equal(existsSync(`/proc/${pid}`), false, 'the container process is gone');
    const statuses = (await must(rt.readEvents({ filter: { id: c.id } }))).map((e) => e.status);
    assert.ok(statuses.includes('remove'), statuses.join(','));
  });

  it('with a live exec session: the frozen session dies with the container, no Timeout', { timeout: 60_000 }, async () => {
    const c = await must(rt.newContainer({ rootfs, command: ['/bin/sleep', '1000'] }));
    made.push(c);
    await must(c.start());
    const pid = (await must(c.inspect())).pid;
    const running = c.exec(['/bin/sh', '-c', 'trap "" TERM; while :; do sleep 1; done']);
    for (let i = 0; i < 200 && (await must(c.inspect())).execSessions.length === 0; i++) await delay(50);
    assert.equal((await must(c.inspect())).execSessions.length, 1);
    await must(c.pause());
    await must(rt.removeContainer(c, { force: true, timeout: 1 }));
    assert.equal((await mustFail(c.state())).code, 'CtrRemoved');
    assert.equal(existsSync(`/proc/${pid}`), false, 'the container process is gone');
    await running; // settles (the session ended with its container), whatever it reports
  });
});
