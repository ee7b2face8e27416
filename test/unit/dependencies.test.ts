import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

describe('dependencies', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('records dependencies by id from names or ids', async () => {
    const a = await e.create({ name: 'a' });
    const b = await e.create({ name: 'b', dependencies: ['a'] });
    const c = await e.create({ name: 'c', dependencies: [a.id, 'b'] });
    assert.deepEqual(b.dependencies(), [a.id]);
    assert.deepEqual(c.dependencies(), [a.id, b.id]);
    assert.deepEqual(b.config().dependencies, ['a']);
    assert.deepEqual((await must(c.inspect())).dependencies, [a.id, b.id]);
  });

  it('a missing dependency is NoSuchCtr and creates nothing', async () => {
    const err = await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], dependencies: ['nope'] }));
    assert.equal(err.code, 'NoSuchCtr');
    assert.equal((await must(e.runtime.containers())).length, 0);
  });

  it('start refuses while a dependency is not running', async () => {
    await e.create({ name: 'a' });
    const b = await e.create({ name: 'b', dependencies: ['a'] });
    assert.equal((await mustFail(b.start())).code, 'CtrStateInvalid');
    assert.equal(await must(b.state()), 'configured');
  });

  it('recursive start starts the whole chain in dependency order', async () => {
    const a = await e.create({ name: 'a' });
    const b = await e.create({ name: 'b', dependencies: ['a'] });
    const c = await e.create({ name: 'c', dependencies: ['b', 'a'] });
    await must(c.start({ recursive: true }));
    for (const x of [a, b, c]) assert.equal(await must(x.state()), 'running');
    const starts = (await must(e.runtime.readEvents({ filter: { status: 'start' } }))).map((ev) => ev.name);
    assert.deepEqual(starts, ['a', 'b', 'c']);
  });

  it('removing a container others depend on is DepExists, with or without force', async () => {
    const a = await e.create({ name: 'a' });
    await e.create({ name: 'b', dependencies: ['a'] });
    assert.equal((await mustFail(e.runtime.removeContainer(a))).code, 'DepExists');
    assert.equal((await mustFail(e.runtime.removeContainer(a, { force: true }))).code, 'DepExists');
    assert.equal(await must(a.state()), 'configured');
  });
});
