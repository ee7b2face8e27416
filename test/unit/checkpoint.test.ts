import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errAsync } from 'neverthrow';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LibpodError, Runtime, type OciRuntime } from '../../src/index.js';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

describe('checkpoint and restore (fake runtime)', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('checkpoints a running container, which then exits; restore brings it back running', async () => {
    const c = await e.create();
    await must(c.start());
    await must(c.checkpoint());
    assert.equal(await must(c.state()), 'exited');
    assert.ok((await must(c.inspect())).checkpointedAt instanceof Date);
    await must(c.restore());
    const info = await must(c.inspect());
    assert.equal(info.state, 'running');
    assert.ok(info.restoredAt instanceof Date);
  });

  it('keepRunning leaves it running', async () => {
    const c = await e.create();
    await must(c.start());
    await must(c.checkpoint({ keepRunning: true }));
    assert.equal(await must(c.state()), 'running');
  });

  it('exports to an archive and restores from it', async () => {
    const c = await e.create();
    await must(c.start());
    const target = join(e.root, 'ckpt.tar');
    await must(c.checkpoint({ targetFile: target }));
    assert.ok(existsSync(target));
    await must(c.restore({ targetFile: target }));
    assert.equal(await must(c.state()), 'running');
  });

  it('checkpoint of a container that is not running is CtrStateInvalid; restore without a checkpoint is InvalidArg', async () => {
    const c = await e.create();
    assert.equal((await mustFail(c.checkpoint())).code, 'CtrStateInvalid');
    assert.equal((await mustFail(c.restore())).code, 'InvalidArg');
    await must(c.start());
    assert.equal((await mustFail(c.restore())).code, 'CtrStateInvalid');
    assert.equal((await mustFail(c.checkpoint({ targetFile: 'relative.tar' }))).code, 'InvalidArg');
  });

  it('a runtime without checkpoint support gives NotImplemented with the reason', async () => {
    // Same fake, seen through an OciRuntime whose features say CRIU does not work here.
    const noCriu = new Proxy(e.fake, {
      get(target, prop) {
        if (prop === 'features') return { checkpoint: () => errAsync(new LibpodError('NotImplemented', 'criu check failed')) };
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as OciRuntime;
    await must(e.runtime.close());
    const rt = await must(Runtime.open({ root: e.root, runRoot: e.runRoot, store: e.store, ociRuntime: noCriu }));
    try {
      const c = await must(rt.newContainer({ rootfs: e.rootfs, command: ['sleep'] }));
      await must(c.start());
      const err = await mustFail(c.checkpoint());
      assert.equal(err.code, 'NotImplemented');
      assert.equal(await must(c.state()), 'running');
    } finally {
      await rt.close();
      await e.reopen();
    }
  });
});
