import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Runtime } from '../../src/index.js';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

describe('bad input gets InvalidArg (or the right code) and changes nothing', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  async function count(): Promise<number> {
    return (await must(e.runtime.containers())).length;
  }

  it('container options', async () => {
    const file = join(e.root, 'afile');
    await writeFile(file, 'x');
    const cases: [unknown, string][] = [
      [{ rootfs: e.rootfs, command: ['x'], name: '-bad' }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], name: 'has space' }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], name: 'a/b' }, 'InvalidArg'],
      [{ rootfs: file, command: ['x'] }, 'InvalidArg'],
      [{ rootfs: '/does/not/exist', command: ['x'] }, 'InvalidArg'],
      [{ rootfs: 'relative', command: ['x'] }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: [] }, 'InvalidArg'],
      [{ rootfs: e.rootfs }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], bogus: true }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], stopSignal: 'SIGNOPE' }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], stopTimeout: -1 }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], stopTimeout: 1.5 }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], restartPolicy: 'sometimes' }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], network: 'overlay' }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], mounts: [{ source: 'rel', destination: '/x' }] }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], volumes: [{ name: '../v', dest: '/x' }] }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], volumes: [{ name: 'v', dest: 'relative' }] }, 'InvalidArg'],
      [{ rootfs: e.rootfs, command: ['x'], pod: 'nopod' }, 'NoSuchPod'],
      [null, 'InvalidArg'],
      ['string', 'InvalidArg'],
    ];
    for (const [opts, code] of cases) {
      const err = await mustFail(e.runtime.newContainer(opts as never));
      assert.equal(err.code, code, JSON.stringify(opts));
    }
    assert.equal(await count(), 0);
  });

  it('duplicate names are CtrExists', async () => {
    await e.create({ name: 'same' });
    assert.equal((await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], name: 'same' }))).code, 'CtrExists');
    assert.equal(await count(), 1);
  });

  it('signals, timeouts, intervals and options of verbs', async () => {
    const c = await e.create();
    await must(c.start());
    assert.equal((await mustFail(c.kill('SIGFOO'))).code, 'InvalidArg');
    assert.equal((await mustFail(c.kill(0))).code, 'InvalidArg');
    assert.equal((await mustFail(c.kill(99))).code, 'InvalidArg');
    assert.equal((await mustFail(c.stop({ timeout: -1 }))).code, 'InvalidArg');
    assert.equal((await mustFail(c.stop({ timeout: 0.5 }))).code, 'InvalidArg');
    assert.equal((await mustFail(c.stop({ timout: 1 } as never))).code, 'InvalidArg');
    assert.equal((await mustFail(c.restart({ timeout: -3 }))).code, 'InvalidArg');
    assert.equal((await mustFail(c.wait({ interval: -1 }))).code, 'InvalidArg');
    assert.equal((await mustFail(c.wait({ condition: 'nope' as never }))).code, 'InvalidArg');
    assert.equal((await mustFail(c.attachResize({ width: -1, height: 2 }))).code, 'InvalidArg');
    assert.equal((await mustFail(c.attach({ stdout: 'x' } as never))).code, 'InvalidArg');
    assert.equal((await mustFail(c.export(42 as never))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.removeContainer(c, { timeout: -1 }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.removeContainer({} as never))).code, 'InvalidArg');
    assert.equal(await must(c.state()), 'running');
  });

  it('runtime options', async () => {
    assert.equal((await mustFail(Runtime.open({ root: 'relative' }))).code, 'InvalidArg');
    assert.equal((await mustFail(Runtime.open({ store: 'sqlite' as never }))).code, 'InvalidArg');
    assert.equal((await mustFail(Runtime.open({ ociRuntime: 'docker' as never }))).code, 'InvalidArg');
    assert.equal((await mustFail(Runtime.open({ unknown: 1 } as never))).code, 'InvalidArg');
    assert.equal((await mustFail(Runtime.open('x' as never))).code, 'InvalidArg');
  });

  it('lookups of non-strings are InvalidArg', async () => {
    assert.equal((await mustFail(e.runtime.lookupContainer(42 as never))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.lookupContainer(''))).code, 'InvalidArg');
  });
});
