/**
 * The paths that must stay cheap with thousands of containers (see
 * `bench/scale.ts` for the numbers): once the index is loaded, listing and
 * looking up read nothing from the store, and listing locks no running
 * container that has not exited. Counted, not timed.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ResultAsync } from 'neverthrow';
import { MemoryStateStore, type LibpodError, type RecordKind, type RecordMap } from '../../src/index.js';
import { fakeEngine, must, type FakeEngine } from '../support/engine.js';

/** A memory store that counts reads. */
class CountingStore extends MemoryStateStore {
  gets = 0;
  lists = 0;
  override get<K extends RecordKind>(kind: K, key: string): ResultAsync<RecordMap[K] | undefined, LibpodError> {
    this.gets++;
    return super.get(kind, key);
  }
  override list<K extends RecordKind>(kind: K): ResultAsync<RecordMap[K][], LibpodError> {
    this.lists++;
    return super.list(kind);
  }
}

describe('listing and lookups at scale', () => {
  let e: FakeEngine;
  let store: CountingStore;
  beforeEach(async () => {
    store = new CountingStore();
    e = await fakeEngine({ store });
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('containers() and lookups by name, id or prefix read nothing from the store once loaded', async () => {
    const made = [];
    for (let i = 0; i < 20; i++) made.push(await e.create({ name: `c${i}` }));
    for (const c of made.slice(0, 5)) await must(c.start());
    await must(e.runtime.containers());
    store.gets = 0;
    store.lists = 0;
    const listed = await must(e.runtime.containers());
    assert.deepEqual(listed.map((c) => c.name), made.map((c) => c.name), 'oldest first');
    assert.equal((await must(e.runtime.lookupContainer('c7'))).id, made[7]!.id);
    assert.equal((await must(e.runtime.lookupContainer(made[8]!.id))).name, 'c8');
    assert.equal((await must(e.runtime.lookupContainer(made[9]!.id.slice(0, 20)))).name, 'c9');
    assert.deepEqual({ gets: store.gets, lists: store.lists }, { gets: 0, lists: 0 });
  });

  it('the listing follows every write, and its handles cannot change it', async () => {
    const a = await e.create({ name: 'a', labels: { x: '1' } });
    const b = await e.create({ name: 'b' });
    await must(a.start());
    const states = async (): Promise<string[]> => Promise.all((await must(e.runtime.containers())).map(async (c) => `${c.name}:${await must(c.state())}`));
    assert.deepEqual(await states(), ['a:running', 'b:configured']);
    e.fake.exit(a.id, 3); // seen by the listing's exit check, recorded under the lock
    const listed = await must(e.runtime.containers({ state: 'exited' }));
    assert.deepEqual(listed.map((c) => c.name), ['a']);
    const cfg = listed[0]!.config();
    cfg.labels.x = 'changed';
    assert.equal((await must(e.runtime.lookupContainer('a'))).config().labels.x, '1', 'config() is a copy');
    await must(e.runtime.removeContainer(b));
    assert.deepEqual((await must(e.runtime.containers())).map((c) => c.name), ['a']);
    assert.equal((await e.runtime.lookupContainer('b'))._unsafeUnwrapErr().code, 'NoSuchCtr');
  });

  it('a listing locks no running container that has not exited', async () => {
    const c = await e.create();
    await must(c.start());
    // Hold the container's lock: a listing that took it would wait for the batch.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const batch = c.batch(() => held);
    const listing = e.runtime.containers().map((cs) => cs.length);
    const first = await Promise.race([listing.then((r) => r._unsafeUnwrap()), new Promise((r) => setTimeout(() => r('blocked'), 2000))]);
    release();
    await batch;
    assert.equal(first, 1);
  });
});
