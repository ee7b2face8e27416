import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errAsync } from 'neverthrow';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LibpodError, Runtime, type OciRuntime } from '../../src/index.js';
import { containerPaths } from '../../src/container/paths.js';
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

describe('checkpoint and restore options are honoured (fake runtime)', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('checkpoint without keep removes CRIU\'s dump.log from the bundle; keep leaves it', async () => {
    const c = await e.create();
    const dumpLog = join(containerPaths(e.root, e.runRoot, c.id).bundlePath, 'dump.log');
    await must(c.start());
    await must(c.checkpoint({ keep: true }));
    assert.ok(existsSync(dumpLog), 'keep: dump.log stays');
    await must(c.restore({ keep: true }));
    assert.ok(existsSync(dumpLog), 'restore with keep: dump.log stays');
    await must(c.checkpoint());
    assert.ok(!existsSync(dumpLog), 'without keep: dump.log is removed');
  });

  it('a checkpoint with established TCP connections restores only with tcpEstablished', async () => {
    const c = await e.create();
    await must(c.start());
    await must(c.checkpoint({ tcpEstablished: true }));
    assert.equal((await mustFail(c.restore())).code, 'OCIRuntime');
    assert.equal(await must(c.state()), 'exited');
    await must(c.restore({ tcpEstablished: true }));
    assert.equal(await must(c.state()), 'running');
  });

  it('restore refuses keepRunning and wrongly typed options instead of ignoring them', async () => {
    const c = await e.create();
    await must(c.start());
    assert.equal((await mustFail(c.checkpoint({ keep: 'yes' } as never))).code, 'InvalidArg');
    await must(c.checkpoint());
    assert.equal((await mustFail(c.restore({ keepRunning: true } as never))).code, 'InvalidArg');
    assert.equal((await mustFail(c.restore({ ignoreRootfs: 1 } as never))).code, 'InvalidArg');
    assert.equal(await must(c.state()), 'exited');
  });

  it('restore from an archive with ignoreRootfs leaves the rootfs diff out', { skip: process.getuid?.() !== 0 && 'needs root (overlay mount)' }, async () => {
    const c = await e.create({ rootfsOverlay: true });
    await must(c.start());
    try {
      const upper = containerPaths(e.root, e.runRoot, c.id).overlayUpper;
      await writeFile(join(upper, 'added'), 'x');
      const target = join(e.root, 'ckpt.tar');
      await must(c.checkpoint({ targetFile: target }));
      await rm(join(upper, 'added'));
      await must(c.restore({ targetFile: target, ignoreRootfs: true }));
      assert.ok(!existsSync(join(upper, 'added')), 'ignoreRootfs: the diff is not applied');
      await must(c.checkpoint());
      await must(c.restore({ targetFile: target }));
      assert.ok(existsSync(join(upper, 'added')), 'without ignoreRootfs: the diff is applied');
    } finally {
      // Even when an assertion failed: stop (which unmounts the overlay) so nothing is left mounted.
      await c.stop({ timeout: 0 });
      await c.unmount({ force: true });
    }
  });
});
