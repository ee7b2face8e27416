import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { healthCommand } from '../../src/container/health.js';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

describe('health checks', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('maps tests to commands as podman does', () => {
    assert.deepEqual(healthCommand(['CMD-SHELL', 'test -f /ready']), ['/bin/sh', '-c', 'test -f /ready']);
    assert.deepEqual(healthCommand(['CMD', '/bin/check', '-q']), ['/bin/check', '-q']);
    assert.deepEqual(healthCommand(['/bin/check']), ['/bin/check']);
    assert.equal(healthCommand(['NONE']), undefined);
    assert.equal(healthCommand([]), undefined);
  });

  it('healthy on success; unhealthy after `retries` consecutive failures; a success resets the streak', async () => {
    let code = 0;
    e.fake.onExec(() => ({ exitCode: code, stdout: `rc=${code}\n` }));
    const c = await e.create({ healthCheck: { test: ['CMD-SHELL', 'check'], retries: 2 } });
    await must(c.start());
    assert.equal((await must(c.healthCheck())).status, 'healthy');
    code = 1;
    const first = await must(c.healthCheck());
    assert.deepEqual([first.status, first.failingStreak, first.exitCode], ['healthy', 1, 1]);
    assert.equal((await must(c.healthCheck())).status, 'unhealthy');
    code = 0;
    const back = await must(c.healthCheck());
    assert.deepEqual([back.status, back.failingStreak], ['healthy', 0]);
    const health = (await must(c.inspect())).health;
    assert.equal(health?.log.length, 4);
    assert.equal(health?.log[0]?.output, 'rc=0\n');
    const events = await must(e.runtime.readEvents({ filter: { id: c.id, status: 'health_status' } }));
    assert.deepEqual(events.map((ev) => ev.attributes.health_status), ['healthy', 'healthy', 'unhealthy', 'healthy']);
  });

  it('failures in the start period do not count; the log keeps five results', async () => {
    e.fake.onExec(() => 1);
    const c = await e.create({ healthCheck: { test: ['CMD', 'check'], retries: 1, startPeriod: 60 } });
    await must(c.start());
    for (let i = 0; i < 7; i++) assert.equal((await must(c.healthCheck())).status, 'starting');
    assert.equal((await must(c.inspect())).health?.log.length, 5);
  });

  it('a command that cannot be found counts as a failure (127 from exec → 1)', async () => {
    e.fake.onExec(() => ({ error: 'not-found' }));
    const c = await e.create({ healthCheck: { test: ['CMD', '/nope'], retries: 1 } });
    await must(c.start());
    const r = await must(c.healthCheck());
    assert.deepEqual([r.status, r.exitCode], ['unhealthy', 1]);
  });

  it('a check that outlives its timeout fails with -1', async () => {
    e.fake.onExec(() => ({ hang: true }));
    const c = await e.create({ healthCheck: { test: ['CMD', 'sleep'], timeout: 1, retries: 1 } });
    await must(c.start());
    const r = await must(c.healthCheck());
    assert.deepEqual([r.status, r.exitCode], ['unhealthy', -1]);
  });

  it('a timed-out check is killed and its exec session removed; the result records -1 with the output so far', async () => {
    e.fake.onExec(() => ({ hang: true, stdout: 'checking\n' }));
    const c = await e.create({ healthCheck: { test: ['CMD-SHELL', 'sleep 60'], timeout: 1, retries: 1 } });
    await must(c.start());
    const began = Date.now();
    const r = await must(c.healthCheck());
    const took = Date.now() - began;
    assert.ok(took >= 990, `returned after the timeout (${took} ms)`);
    assert.ok(took < 15_000, `did not wait for the command (${took} ms)`);
    assert.deepEqual([r.status, r.exitCode, r.output], ['unhealthy', -1, 'checking\n']);
    // The process was stopped, and its session is gone from the state and from the runtime.
    assert.deepEqual(e.fake.execSessionsOf(c.id), []);
    assert.deepEqual((await must(c.inspect())).execSessions, []);
    const died = await must(e.runtime.readEvents({ filter: { id: c.id, status: 'exec_died' } }));
    assert.equal(died.length, 1);
    const log = (await must(c.inspect())).health?.log ?? [];
    assert.deepEqual(log.map((l) => [l.exitCode, l.output]), [[-1, 'checking\n']]);
    // The container can be stopped and removed without force: no session lingers.
    await must(c.stop({ timeout: 0 }));
    await must(e.runtime.removeContainer(c));
  });

  it('without a health check or when not running: InvalidArg / CtrStateInvalid', async () => {
    const plain = await e.create();
    await must(plain.start());
    assert.equal((await mustFail(plain.healthCheck())).code, 'InvalidArg');
    const none = await e.create({ healthCheck: { test: ['NONE'] } });
    await must(none.start());
    assert.equal((await mustFail(none.healthCheck())).code, 'InvalidArg');
    const stopped = await e.create({ healthCheck: { test: ['CMD', 'x'] } });
    assert.equal((await mustFail(stopped.healthCheck())).code, 'CtrStateInvalid');
  });
});
