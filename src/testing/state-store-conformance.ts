/**
 * The conformance suite every {@link StateStore} runs (shipped as
 * `libpod-ts/testing`, so third-party stores can prove themselves): the raw
 * repository contract, then libpod's State rules through {@link StateIndex}
 * over the store (modelled on libpod's `state_test.go`).
 *
 * @example
 * ```ts
 * import { runStateStoreConformance } from 'libpod-ts/testing';
 * runStateStoreConformance('my-store', async () => ({ store: new MyStore(), cleanup: async () => {} }));
 * ```
 * @module
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialContainerState, type ContainerRecord } from '../define/records.js';
import type { StateWriteOp } from '../state/state-store.js';
import { expectErr, expectOk, withOpenStore, type StateStoreFactory } from './conformance-helpers.js';
import { registerStateIndexCases } from './state-index-conformance.js';
import { makeContainerRecord, makePodRecord, makeVolumeRecord } from './records.js';

export type { StateStoreFactory, StateStoreFixture } from './conformance-helpers.js';

function put(rec: ContainerRecord): StateWriteOp {
  return { op: 'put', kind: 'container', key: rec.id, value: rec };
}

function registerLifecycleCases(make: StateStoreFactory): void {
  it('declares a name and capabilities', async () => {
    const { store, cleanup } = await make();
    await cleanup();
    assert.equal(typeof store.name, 'string');
    assert.ok(store.name.length > 0);
    assert.equal(typeof store.capabilities.persistent, 'boolean');
    assert.equal(typeof store.capabilities.exclusive, 'boolean');
  });

  it('fails every operation with DBClosed before open', async () => {
    const { store, cleanup } = await make();
    try {
      await expectErr(store.get('container', 'x'), 'DBClosed');
      await expectErr(store.list('pod'), 'DBClosed');
      await expectErr(store.write([{ op: 'del', kind: 'volume', key: 'v' }]), 'DBClosed');
    } finally {
      await cleanup();
    }
  });

  it('closes idempotently, then fails with DBClosed; reopening the same instance keeps the data', async () => {
    await withOpenStore(make, async (store) => {
      const rec = makeContainerRecord();
      await expectOk(store.write([put(rec)]));
      await expectOk(store.close());
      await expectOk(store.close());
      await expectErr(store.get('container', rec.id), 'DBClosed');
      await expectErr(store.list('container'), 'DBClosed');
      await expectErr(store.write([put(makeContainerRecord())]), 'DBClosed');
      await expectOk(store.open());
      await expectOk(store.open());
      assert.deepEqual(await expectOk(store.get('container', rec.id)), rec);
    });
  });

  it('keeps data in a new instance over the same location (persistent stores)', async (t) => {
    await withOpenStore(make, async (store, fixture) => {
      if (!store.capabilities.persistent || !fixture.reopen) return t.skip('not persistent or no reopen()');
      const rec = makeContainerRecord({ state: { state: 'running', pid: 42 } });
      const vol = makeVolumeRecord();
      await expectOk(store.write([put(rec), { op: 'put', kind: 'volume', key: vol.name, value: vol }]));
      await expectOk(store.close());
      const again = fixture.reopen();
      await expectOk(again.open());
      try {
        assert.deepEqual(await expectOk(again.get('container', rec.id)), rec);
        assert.deepEqual(await expectOk(again.list('volume')), [vol]);
      } finally {
        await expectOk(again.close());
      }
    });
  });

  it('refuses a second opener with Locked and leaves the data intact (exclusive stores)', async (t) => {
    await withOpenStore(make, async (store, fixture) => {
      if (!store.capabilities.exclusive || !fixture.reopen) return t.skip('not exclusive or no reopen()');
      const rec = makeContainerRecord();
      await expectOk(store.write([put(rec)]));
      const second = fixture.reopen();
      await expectErr(second.open(), 'Locked');
      await expectErr(second.get('container', rec.id), 'DBClosed');
      await expectOk(second.close());
      assert.deepEqual(await expectOk(store.get('container', rec.id)), rec);
    });
  });
}

function registerRepositoryCases(make: StateStoreFactory): void {
  it('starts empty; get of a missing key is undefined', async () => {
    await withOpenStore(make, async (store) => {
      assert.deepEqual(await expectOk(store.list('container')), []);
      assert.deepEqual(await expectOk(store.list('pod')), []);
      assert.deepEqual(await expectOk(store.list('volume')), []);
      assert.equal(await expectOk(store.get('container', 'missing')), undefined);
    });
  });

  it('puts, gets, lists, overwrites and deletes records of every kind', async () => {
    await withOpenStore(make, async (store) => {
      const ctr = makeContainerRecord();
      const pod = makePodRecord();
      const vol = makeVolumeRecord();
      await expectOk(store.write([put(ctr), { op: 'put', kind: 'pod', key: pod.id, value: pod }]));
      await expectOk(store.write([{ op: 'put', kind: 'volume', key: vol.name, value: vol }]));
      assert.deepEqual(await expectOk(store.get('container', ctr.id)), ctr);
      assert.deepEqual(await expectOk(store.get('pod', pod.id)), pod);
      assert.deepEqual(await expectOk(store.list('volume')), [vol]);
      const changed = { ...ctr, state: { ...ctr.state, state: 'running' as const, pid: 7 } };
      await expectOk(store.write([put(changed)]));
      assert.deepEqual(await expectOk(store.get('container', ctr.id)), changed);
      await expectOk(store.write([{ op: 'del', kind: 'container', key: ctr.id }]));
      await expectOk(store.write([{ op: 'del', kind: 'container', key: ctr.id }]));
      assert.equal(await expectOk(store.get('container', ctr.id)), undefined);
      assert.deepEqual(await expectOk(store.list('container')), []);
      assert.deepEqual(await expectOk(store.list('pod')), [pod]);
    });
  });

  it('keeps kinds apart: the same key in two kinds is two records', async () => {
    await withOpenStore(make, async (store) => {
      const ctr = makeContainerRecord();
      const pod = makePodRecord({ id: ctr.id });
      await expectOk(store.write([put(ctr), { op: 'put', kind: 'pod', key: pod.id, value: pod }]));
      await expectOk(store.write([{ op: 'del', kind: 'pod', key: pod.id }]));
      assert.deepEqual(await expectOk(store.get('container', ctr.id)), ctr);
      assert.equal((await expectOk(store.list('container'))).length, 1);
    });
  });

  it('applies a multi-op write in order', async () => {
    await withOpenStore(make, async (store) => {
      const [a, b, c] = [makeContainerRecord(), makeContainerRecord(), makeContainerRecord()];
      await expectOk(store.write([put(a), put(b), { op: 'del', kind: 'container', key: a.id }, put(c)]));
      await expectOk(store.write([{ op: 'del', kind: 'container', key: c.id }, put(c)]));
      const ids = (await expectOk(store.list('container'))).map((r) => r.id).sort();
      assert.deepEqual(ids, [b.id, c.id].sort());
    });
  });

  it('applies nothing of a write that fails', async () => {
    await withOpenStore(make, async (store) => {
      const a = makeContainerRecord();
      const bad = { op: 'put', kind: 'no-such-kind', key: 'k', value: {} } as unknown as StateWriteOp;
      const res = await store.write([put(a), bad]);
      assert.ok(res.isErr(), 'a write with an unknown kind must fail');
      assert.equal(await expectOk(store.get('container', a.id)), undefined);
    });
  });

  it('returns copies and keeps copies: mutations never reach the store', async () => {
    await withOpenStore(make, async (store) => {
      const rec = makeContainerRecord({ config: { labels: { a: '1' } } });
      const original = structuredClone(rec);
      await expectOk(store.write([put(rec)]));
      rec.config.labels.a = 'changed-after-put';
      const got = await expectOk(store.get('container', rec.id));
      assert.ok(got);
      got.config.labels.a = 'changed-after-get';
      got.state.execSessions.x = { id: 'x', command: ['sh'], tty: false, state: 'running', pid: 1, startedAt: '' };
      const [listed] = await expectOk(store.list('container'));
      assert.ok(listed);
      listed.dependencyIds.push('bogus');
      assert.deepEqual(await expectOk(store.get('container', rec.id)), original);
    });
  });

  it('round-trips a large record with unicode and nested exec sessions', async () => {
    await withOpenStore(make, async (store) => {
      const env: Record<string, string> = {};
      for (let i = 0; i < 200; i++) env[`VAR_${i}`] = `välue-${i}-✓-${'x'.repeat(20)}`;
      const state = { ...initialContainerState(), state: 'running' as const, pid: 1234, startedAt: new Date().toISOString() };
      state.execSessions['e'.repeat(64)] = { id: 'e'.repeat(64), command: ['/bin/sh', '-c', 'echo "hi"'], tty: true, state: 'running', pid: 99, startedAt: state.startedAt };
      const rec = makeContainerRecord({ config: { env, labels: { 'app/名前': 'ünïcode' } }, state });
      await expectOk(store.write([put(rec)]));
      assert.deepEqual(await expectOk(store.get('container', rec.id)), rec);
    });
  });
}

/**
 * Registers the StateStore conformance cases (node:test `describe`/`it`).
 *
 * @param name shown in the test names.
 * @param makeStore returns a fresh, empty, unopened store per case, optionally
 *   `reopen()` (a new instance over the same location), and `cleanup()`.
 */
export function runStateStoreConformance(name: string, makeStore: StateStoreFactory): void {
  describe(`StateStore conformance: ${name}`, () => {
    describe('lifecycle', () => registerLifecycleCases(makeStore));
    describe('repository', () => registerRepositoryCases(makeStore));
    describe('StateIndex over the store', () => registerStateIndexCases(makeStore));
  });
}
