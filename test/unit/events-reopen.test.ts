import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { LibpodEvent } from '../../src/index.js';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

describe('events and reopening', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('emits typed container events for each transition, died with the exit code', async () => {
    const seen: LibpodEvent[] = [];
    e.runtime.events.on('container', (ev) => seen.push(ev));
    const c = await e.create({ name: 'ev' });
    await must(c.start());
    await must(c.pause());
    await must(c.unpause());
    e.fake.exit(c.id, 4);
    await must(c.wait());
    await must(e.runtime.removeContainer(c));
    const statuses = seen.map((ev) => ev.status);
    for (const s of ['create', 'init', 'start', 'pause', 'unpause', 'died', 'cleanup', 'remove']) assert.ok(statuses.includes(s as never), `missing ${s}: ${statuses.join(',')}`);
    const died = seen.find((ev) => ev.status === 'died');
    assert.equal(died?.exitCode, 4);
    assert.equal(died?.name, 'ev');
    assert.ok(died?.time instanceof Date);
    assert.equal(died?.type, 'container');
  });

  it('a throwing listener neither hides the event from others nor breaks the engine; once and off work', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const seen: string[] = [];
      const bad = (): void => {
        throw new Error('listener bug');
      };
      const good = (ev: LibpodEvent): void => void seen.push(ev.status);
      let onceCount = 0;
      e.runtime.events.on('container', bad);
      e.runtime.events.on('container', good);
      e.runtime.events.once('container', () => void (onceCount += 1));
      const c = await e.create();
      await must(c.start());
      assert.deepEqual(seen, ['create', 'init', 'start']);
      assert.equal(onceCount, 1);
      e.runtime.events.off('container', good);
      await must(c.pause());
      assert.deepEqual(seen, ['create', 'init', 'start'], 'off removed the listener');
      await new Promise((r) => setImmediate(r));
      assert.ok(warnings.some((w) => w.includes('listener bug')));
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('readEvents works across a close and reopen, with since/until and filters', async () => {
    const t0 = new Date();
    const c = await e.create({ name: 'persist' });
    await must(c.start());
    await must(e.runtime.close());
    const rt = await e.reopen();
    const all = await must(rt.readEvents({ since: t0 }));
    assert.deepEqual(all.filter((ev) => ev.id === c.id).map((ev) => ev.status), ['create', 'init', 'start']);
    const starts = await must(rt.readEvents({ filter: { status: 'start', name: 'persist' } }));
    assert.equal(starts.length, 1);
    assert.equal((await must(rt.readEvents({ until: new Date(t0.getTime() - 1000) }))).length, 0);
  });

  it('a closed runtime answers RuntimeFinalized', async () => {
    const c = await e.create();
    await must(e.runtime.close());
    assert.equal((await mustFail(c.start())).code, 'RuntimeFinalized');
    assert.equal((await mustFail(e.runtime.lookupContainer(c.id))).code, 'RuntimeFinalized');
    await must(e.runtime.close());
    await e.reopen();
  });

  it('containers survive close/reopen with the same fake runtime; an exit meanwhile is reported', async () => {
    const c = await e.create({ name: 'survivor' });
    await must(c.start());
    await must(e.runtime.close());
    e.fake.exit(c.id, 9);
    const rt = await e.reopen();
    const again = await must(rt.lookupContainer('survivor'));
    assert.equal(await must(again.wait()), 9);
    assert.equal(await must(again.state()), 'exited');
  });

  it('a wiped runRoot (reboot) resets running containers to configured', async () => {
    const c = await e.create({ name: 'rebooted' });
    await must(c.start());
    await must(e.runtime.close());
    const { rm } = await import('node:fs/promises');
    await rm(e.runRoot, { recursive: true, force: true });
    const rt = await e.reopen();
    const again = await must(rt.lookupContainer('rebooted'));
    const info = await must(again.inspect());
    assert.equal(info.state, 'configured');
    assert.equal(info.pid, 0);
    const refresh = await must(rt.readEvents({ filter: { type: 'system', status: 'refresh' } }));
    assert.equal(refresh.length, 1);
  });

  it('containers() filters by label, state and name', async () => {
    const a = await e.create({ name: 'alpha', labels: { tier: 'web' } });
    await e.create({ name: 'beta', labels: { tier: 'db' } });
    await must(a.start());
    assert.deepEqual((await must(e.runtime.containers({ label: 'tier=web' }))).map((c) => c.name), ['alpha']);
    assert.deepEqual((await must(e.runtime.containers({ label: { tier: 'db' } }))).map((c) => c.name), ['beta']);
    assert.deepEqual((await must(e.runtime.containers({ state: 'running' }))).map((c) => c.name), ['alpha']);
    assert.deepEqual((await must(e.runtime.containers({ name: /^b/ }))).map((c) => c.name), ['beta']);
    assert.equal((await must(e.runtime.containers({ label: 'tier' }))).length, 2);
    assert.equal((await mustFail(e.runtime.containers({ state: 'bogus' as never }))).code, 'InvalidArg');
  });

  it('lookup by id, name and unique prefix; ambiguous prefix is InvalidArg; missing is NoSuchCtr', async () => {
    const a = await e.create({ name: 'one' });
    assert.equal((await must(e.runtime.lookupContainer(a.id))).id, a.id);
    assert.equal((await must(e.runtime.lookupContainer('one'))).id, a.id);
    assert.equal((await must(e.runtime.lookupContainer(a.id.slice(0, 10)))).id, a.id);
    assert.equal((await mustFail(e.runtime.lookupContainer('nothing'))).code, 'NoSuchCtr');
    for (let i = 0; i < 40; i++) await e.create();
    const ids = (await must(e.runtime.containers())).map((c) => c.id);
    const first = ids.map((id) => id[0]);
    const dup = first.find((ch, i) => first.indexOf(ch) !== i);
    assert.ok(dup);
    assert.equal((await mustFail(e.runtime.lookupContainer(dup))).code, 'InvalidArg');
  });

  it('removeContainer refuses running containers without force, removes with force', async () => {
    const c = await e.create();
    await must(c.start());
    assert.equal((await mustFail(e.runtime.removeContainer(c))).code, 'CtrStateInvalid');
    await must(e.runtime.removeContainer(c, { force: true, timeout: 0 }));
    assert.equal((await mustFail(e.runtime.lookupContainer(c.id))).code, 'NoSuchCtr');
    assert.equal((await mustFail(c.start())).code, 'CtrRemoved');
    assert.equal(e.fake.stateOf(c.id), undefined);
  });
});
