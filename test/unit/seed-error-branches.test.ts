/**
 * The remaining `ensureState` / error branches of the seeds, one test each.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { delay, fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

describe('seed error branches', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('init refuses while a dependency is not running (checkDependenciesAndHandleError)', async () => {
    await e.create({ name: 'dep' });
    const c = await e.create({ dependencies: ['dep'] });
    assert.equal((await mustFail(c.init())).code, 'CtrStateInvalid');
    assert.equal(await must(c.state()), 'configured');
  });

  it('restart refuses while a dependency is not running', async () => {
    const dep = await e.create({ name: 'dep' });
    const c = await e.create({ dependencies: ['dep'] });
    await must(dep.start());
    await must(c.start());
    await must(dep.stop({ timeout: 0 }));
    assert.equal((await mustFail(c.restart())).code, 'CtrStateInvalid');
  });

  it('unmount of a running container without user mounts is CtrStateInvalid', async () => {
    const c = await e.create();
    await must(c.start());
    assert.equal((await mustFail(c.unmount())).code, 'CtrStateInvalid');
    await must(c.mount());
    await must(c.unmount());
    assert.equal((await must(c.inspect())).mountPoint, e.rootfs, 'the running container keeps its storage');
  });

  it('wait on a removed container is CtrRemoved', async () => {
    const c = await e.create();
    await must(e.runtime.removeContainer(c));
    assert.equal((await mustFail(c.wait())).code, 'CtrRemoved');
    assert.equal((await mustFail(c.state())).code, 'CtrRemoved');
  });

  it('removal with a live exec session needs force (checkReadyForRemoval); force stops the session', async () => {
    e.fake.onExec(() => ({ hang: true }));
    const live = await e.create();
    await must(live.start());
    const hung = live.exec(['sleep', '100']);
    await delay(20);
    assert.equal((await must(live.inspect())).execSessions.length, 1);
    assert.equal((await mustFail(e.runtime.removeContainer(live))).code, 'CtrStateInvalid');
    await must(e.runtime.removeContainer(live, { force: true, timeout: 0 }));
    await hung;
    assert.equal((await mustFail(e.runtime.lookupContainer(live.id))).code, 'NoSuchCtr');
  });

  it('start of a paused container is CtrStateInvalid; kill of a paused one too', async () => {
    const c = await e.create();
    await must(c.start());
    await must(c.pause());
    assert.equal((await mustFail(c.start())).code, 'CtrStateInvalid');
    assert.equal((await mustFail(c.kill())).code, 'CtrStateInvalid');
    assert.equal((await mustFail(c.exec(['true']))).code, 'CtrStateInvalid');
    assert.equal((await mustFail(c.cleanup())).code, 'CtrStateInvalid');
  });

  it('checkpoint of a paused container is CtrStateInvalid', async () => {
    const c = await e.create();
    await must(c.start());
    await must(c.pause());
    assert.equal((await mustFail(c.checkpoint())).code, 'CtrStateInvalid');
  });
});

describe('recovery from a crash between a runtime create and its save', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  async function leftover(id: string): Promise<void> {
    // What a crash leaves: the runtime has the container, the record still says configured.
    await must(e.fake.create({ id, name: 'leftover', bundlePath: e.rootfs, spec: { ociVersion: '1.0.2' }, logPath: `${e.root}/leftover.log` }));
  }

  it('start replaces the leftover and runs', async () => {
    const c = await e.create();
    await leftover(c.id);
    await must(c.start());
    assert.equal(await must(c.state()), 'running');
  });

  it('removal of a configured container deletes a leftover from the runtime', async () => {
    const c = await e.create();
    await leftover(c.id);
    await must(e.runtime.removeContainer(c));
    assert.equal(e.fake.stateOf(c.id), undefined);
  });
});

describe('volumes a container creates', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('are announced once the container exists, and removed with removeVolumes when unused', async () => {
    const a = await e.create({ volumes: [{ name: 'made', dest: '/data' }] });
    const b = await e.create({ volumes: [{ name: 'made', dest: '/data' }, { name: 'other', dest: '/other' }] });
    const created = await must(e.runtime.readEvents({ filter: { type: 'volume', status: 'create' } }));
    assert.deepEqual(created.map((ev) => ev.name), ['made', 'other']);
    await must(e.runtime.removeContainer(a, { removeVolumes: true }));
    assert.ok((await e.runtime.lookupVolume('made')).isOk(), 'still used by b');
    await must(e.runtime.removeContainer(b, { removeVolumes: true }));
    assert.equal((await mustFail(e.runtime.lookupVolume('other'))).code, 'NoSuchVolume');
    assert.ok((await e.runtime.lookupVolume('made')).isOk(), 'b did not create it: kept');
  });

  it('a failed create removes the volumes it made and announces none', async () => {
    await e.create({ name: 'taken' });
    // The name clash is found when the record is added, after the volume was made.
    const err = await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], name: 'taken', volumes: [{ name: 'tmpvol', dest: '/d' }] }));
    assert.equal(err.code, 'CtrExists');
    assert.equal((await mustFail(e.runtime.lookupVolume('tmpvol'))).code, 'NoSuchVolume');
    assert.equal((await must(e.runtime.readEvents({ filter: { type: 'volume' } }))).length, 0);
  });

  it('removeVolumes must be a boolean', async () => {
    const c = await e.create();
    assert.equal((await mustFail(e.runtime.removeContainer(c, { removeVolumes: 'yes' as never }))).code, 'InvalidArg');
  });
});
