import assert from 'node:assert/strict';
import { okAsync } from 'neverthrow';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LibpodError } from '../../src/index.js';
import { delay, fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

describe('batch and locks', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it("resolves to fn's value, whether plain, a promise or a ResultAsync", async () => {
    const c = await e.create();
    assert.equal(await must(c.batch(() => 1)), 1);
    assert.equal(await must(c.batch(async () => 2)), 2);
    assert.equal(await must(c.batch(() => okAsync(3))), 3);
  });

  it('runs several operations under one lock', async () => {
    const c = await e.create();
    const state = await must(
      c.batch(async (b) => {
        await must(b.start());
        await must(b.pause());
        return must(b.state());
      }),
    );
    assert.equal(state, 'paused');
  });

  it('an Err inside fn comes out as an Err with its code', async () => {
    const c = await e.create();
    const err = await mustFail(c.batch((b) => b.stop()));
    assert.equal(err.code, 'CtrStateInvalid');
  });

  it('a throw inside fn comes out as an Err and releases the lock', async () => {
    const c = await e.create();
    const err = await mustFail(
      c.batch(() => {
        throw new Error('boom');
      }),
    );
    assert.ok(err instanceof LibpodError);
    await must(c.start());
    const err2 = await mustFail(c.batch(async () => Promise.reject(new LibpodError('Timeout', 'slow'))));
    assert.equal(err2.code, 'Timeout');
    assert.equal(await must(c.state()), 'running');
  });

  it('operations through other handles wait for the batch', async () => {
    const c = await e.create();
    const other = await must(e.runtime.lookupContainer(c.id));
    const order: string[] = [];
    const batch = c.batch(async (b) => {
      await must(b.start());
      await delay(50);
      order.push('batch-end');
    });
    await delay(5);
    const st = other.state().map((s) => {
      order.push(`other:${s}`);
    });
    await must(batch);
    await must(st);
    assert.deepEqual(order, ['batch-end', 'other:running']);
  });

  it('a batched view stops working after its batch', async () => {
    const c = await e.create();
    let leaked: typeof c | undefined;
    await must(c.batch((b) => void (leaked = b)));
    assert.ok(leaked);
    assert.equal((await mustFail(leaked.start())).code, 'InvalidArg');
  });

  it('runtime.batch locks several containers in one global order: crossed batches do not deadlock', async () => {
    const a = await e.create();
    const b = await e.create();
    const runs = [];
    for (let i = 0; i < 20; i++) {
      const pair = i % 2 === 0 ? [a, b] : [b, a];
      runs.push(e.runtime.batch(pair, async (views) => {
        await delay(1);
        return views.map((v) => v.id).join(',');
      }));
    }
    const results = await Promise.race([Promise.all(runs.map((r) => must(r))), delay(5000).then(() => 'deadlock')]);
    assert.notEqual(results, 'deadlock');
  });

  it('runtime.batch over a container and its dependency does not deadlock with a restart of the dependent', async () => {
    // The dependency must sort first by id, so that id order alone would take its lock first.
    let a = await e.create();
    while (!/^[0-7]/.test(a.id)) a = await e.create();
    let b = await e.create({ dependencies: [a.id] });
    while (!/^[8-9a-f]/.test(b.id)) b = await e.create({ dependencies: [a.id] });
    await must(a.start());
    await must(b.start());
    // Hold the dependent; meanwhile queue a restart of it (which will want the dependency's lock
    // while holding its own) and a batch over both.
    const holding = b.batch(async () => delay(30));
    await delay(5);
    const restart = b.restart({ timeout: 0 });
    const batch = e.runtime.batch([a, b], async () => delay(1));
    await must(holding);
    const outcome = await Promise.race([Promise.all([restart, batch]).then(() => 'done'), delay(5000).then(() => 'deadlock')]);
    assert.equal(outcome, 'done');
  });

  it('runtime.batch hands views in the order given', async () => {
    const a = await e.create();
    const b = await e.create();
    const ids = await must(e.runtime.batch([b, a], (views) => views.map((v) => v.id)));
    assert.deepEqual(ids, [b.id, a.id]);
  });
});
