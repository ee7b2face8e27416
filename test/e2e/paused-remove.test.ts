/**
 * Forced removal of a paused real container (conmon + runc): a frozen task
 * cannot act on SIGKILL under cgroup v1, so the engine kills, then thaws
 * (libpod `removeContainer`). Root only; ends by asserting nothing leaked.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { Runtime } from '../../src/index.js';
import { delay, must, mustFail } from '../support/engine.js';
import { useRealEngine } from './support/real-engine.js';

const root = process.getuid?.() === 0;

describe('forced removal of a paused container', { skip: !root && 'needs root' }, () => {
  const engine = useRealEngine('lpts-paused-rm-');
  let rt: Runtime;
  before(() => {
    rt = engine.rt;
  });

  it('kills and thaws it: the removal succeeds and the process is gone', async () => {
    const c = await engine.create({ command: ['/bin/sh', '-c', 'trap "" TERM; while :; do sleep 1; done'] });
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
    const c = await engine.create({ command: ['/bin/sleep', '1000'] });
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
