import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { delay, fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

/** Polls until `check` holds (the exit watcher runs asynchronously). */
async function eventually(check: () => Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await delay(10);
  }
  assert.fail('condition not reached in time');
}

describe('restart policy (Cleanup path on observed exits)', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it("'no' leaves an exited container exited", async () => {
    const c = await e.create();
    await must(c.start());
    e.fake.exit(c.id, 1);
    assert.equal(await must(c.wait()), 1);
    assert.equal(await must(c.state()), 'exited');
  });

  it("'always' restarts after any exit, counting restarts, without anyone syncing (exit watcher)", async () => {
    const c = await e.create({ restartPolicy: 'always' });
    await must(c.start());
    const pid = (await must(c.inspect())).pid;
    e.fake.exit(c.id, 0);
    await eventually(async () => e.fake.stateOf(c.id) === 'running' && (await must(c.inspect())).pid !== pid);
    const info = await must(c.inspect());
    assert.equal(info.state, 'running');
    assert.equal(info.restartCount, 1);
    const restarts = await must(e.runtime.readEvents({ filter: { id: c.id, status: 'restart' } }));
    assert.equal(restarts.length, 1);
  });

  it("'on-failure' restarts on non-zero exits up to restartRetries", async () => {
    const c = await e.create({ restartPolicy: 'on-failure', restartRetries: 2 });
    await must(c.start());
    for (let i = 1; i <= 2; i++) {
      e.fake.exit(c.id, 1);
      await eventually(async () => (await must(c.inspect())).restartCount === i && e.fake.stateOf(c.id) === 'running');
    }
    e.fake.exit(c.id, 1);
    assert.equal(await must(c.wait()), 1);
    const info = await must(c.inspect());
    assert.equal(info.state, 'exited');
    assert.equal(info.restartCount, 2);
  });

  it("'on-failure' does not restart after exit code 0", async () => {
    const c = await e.create({ restartPolicy: 'on-failure' });
    await must(c.start());
    e.fake.exit(c.id, 0);
    assert.equal(await must(c.wait()), 0);
    assert.equal(await must(c.state()), 'exited');
  });

  it('a container stopped or killed through the API is never restarted (StoppedByUser)', async () => {
    const a = await e.create({ restartPolicy: 'always' });
    await must(a.start());
    await must(a.stop({ timeout: 0 }));
    await delay(50);
    assert.equal(await must(a.state()), 'exited');
    const b = await e.create({ restartPolicy: 'unless-stopped' });
    await must(b.start());
    await must(b.kill());
    assert.equal(await must(b.wait()), 137);
    await delay(50);
    assert.equal(await must(b.state()), 'exited');
  });

  it('a user start after a kill resets StoppedByUser so the policy applies again', async () => {
    const c = await e.create({ restartPolicy: 'always' });
    await must(c.start());
    await must(c.kill());
    await must(c.wait());
    await must(c.start());
    e.fake.exit(c.id, 2);
    await eventually(async () => (await must(c.inspect())).restartCount === 1);
  });

  it('a restart that fails leaves the container stopped or exited, not running', async () => {
    const c = await e.create({ restartPolicy: 'always' });
    await must(c.start());
    e.fake.failNext('start');
    e.fake.exit(c.id, 1);
    await delay(100);
    const st = await must(c.state());
    assert.ok(st === 'exited' || st === 'stopped' || st === 'configured', st);
  });

  it('restartRetries without on-failure is InvalidArg', async () => {
    const err = await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], restartPolicy: 'always', restartRetries: 3 }));
    assert.equal(err.code, 'InvalidArg');
  });
});
