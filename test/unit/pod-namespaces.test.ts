/**
 * A pod member never runs outside its pod's namespaces (libpod
 * `namespacePath`): with the infra container not running, every path that
 * creates the member in the runtime (start, refresh, restore) is refused with
 * `CtrStateInvalid` and changes nothing; none falls back to fresh namespaces.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ResultAsync } from 'neverthrow';
import { MemoryStateStore, type Container, type LibpodError, type Pod, type RecordKind, type RecordMap } from '../../src/index.js';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

/** A memory store that runs `beforeGet` (once armed) before a read: to order a race deterministically. */
class HookedStore extends MemoryStateStore {
  beforeGet: ((kind: RecordKind, key: string) => Promise<void>) | undefined;
  override get<K extends RecordKind>(kind: K, key: string): ResultAsync<RecordMap[K] | undefined, LibpodError> {
    const hook = this.beforeGet;
    if (!hook) return super.get(kind, key);
    return ResultAsync.fromSafePromise<void, LibpodError>(hook(kind, key)).andThen(() => super.get(kind, key));
  }
}

describe('pod members join the infra namespaces or do not run', () => {
  let e: FakeEngine;
  let store: HookedStore;
  beforeEach(async () => {
    store = new HookedStore();
    e = await fakeEngine({ store });
  });
  afterEach(async () => {
    await e.dispose();
  });

  async function podWithMember(): Promise<{ pod: Pod; infra: Container; m: Container }> {
    const pod = await must(e.runtime.newPod());
    const m = await e.create({ pod: pod.id });
    const infra = await must(e.runtime.lookupContainer(pod.infraContainerId as string));
    return { pod, infra, m };
  }

  /** The namespaces the member's spec joins, as [type, path] pairs. */
  const joined = (c: Container): string[][] =>
    (e.fake.specOf(c.id)?.linux?.namespaces ?? [])
      .filter((n) => n.path !== undefined)
      .map((n) => [n.type, n.path as string])
      .sort();
  const infraPaths = (pid: number): string[][] => [
    ['ipc', `/proc/${pid}/ns/ipc`],
    ['network', `/proc/${pid}/ns/net`],
    ['uts', `/proc/${pid}/ns/uts`],
  ];
  const pidOf = async (c: Container): Promise<number> => (await must(c.inspect())).pid;
  const events = async (id: string, status: string): Promise<number> =>
    (await must(e.runtime.readEvents({ filter: { id, status: status as 'refresh' } }))).length;

  it('start without recursive is CtrStateInvalid while the infra is stopped; recursive starts it first', async () => {
    const { pod, infra, m } = await podWithMember();
    await must(pod.start());
    await must(m.stop());
    await must(infra.stop());
    assert.equal((await mustFail(m.start())).code, 'CtrStateInvalid');
    assert.equal((await mustFail(m.init())).code, 'CtrStateInvalid');
    assert.equal(await must(m.state()), 'exited');
    await must(m.start({ recursive: true }));
    assert.equal(await must(infra.state()), 'running');
    assert.deepEqual(joined(m), infraPaths(await pidOf(infra)));
  });

  it('refresh of a running member is refused while the infra is stopped, and changes nothing', async () => {
    const { pod, infra, m } = await podWithMember();
    await must(pod.start());
    const before = { pid: await pidOf(m), spec: joined(m) };
    await must(infra.stop());
    assert.equal((await mustFail(m.refresh())).code, 'CtrStateInvalid');
    assert.equal(await must(m.state()), 'running');
    assert.equal(await pidOf(m), before.pid);
    assert.deepEqual(joined(m), before.spec);
    assert.equal(e.fake.stateOf(m.id), 'running');
    assert.equal(await events(m.id, 'refresh'), 0);
    // With the infra running again, the refreshed member joins its new namespaces.
    await must(infra.start());
    await must(m.refresh());
    assert.equal(await must(m.state()), 'running');
    assert.deepEqual(joined(m), infraPaths(await pidOf(infra)));
  });

  it('refresh of a created member is refused while the infra is stopped', async () => {
    const { infra, m } = await podWithMember();
    await must(infra.start());
    await must(m.init());
    await must(infra.stop());
    assert.equal((await mustFail(m.refresh())).code, 'CtrStateInvalid');
    assert.equal(await must(m.state()), 'created');
    assert.equal(await events(m.id, 'refresh'), 0);
  });

  it('restore of a member is refused while the infra is stopped, keeping the checkpoint; it joins the infra once it runs', async () => {
    const { pod, infra, m } = await podWithMember();
    await must(pod.start());
    await must(m.checkpoint());
    await must(infra.stop());
    assert.equal((await mustFail(m.restore())).code, 'CtrStateInvalid');
    assert.equal(await must(m.state()), 'exited');
    assert.equal(e.fake.stateOf(m.id), undefined, 'nothing was created in the runtime');
    await must(infra.start());
    await must(m.restore());
    assert.equal(await must(m.state()), 'running');
    assert.deepEqual(joined(m), infraPaths(await pidOf(infra)));
  });

  it('an infra that stops between the dependency check and the spec is CtrStateInvalid (namespacePath), not fresh namespaces', async () => {
    const { pod, infra, m } = await podWithMember();
    await must(infra.start());
    // The member's start checked its dependencies (the infra runs); just before its spec reads
    // the pod, the infra stops.
    store.beforeGet = async (kind, key) => {
      if (kind !== 'pod' || key !== pod.id) return;
      store.beforeGet = undefined;
      await must(infra.stop());
    };
    const err = await mustFail(m.start());
    assert.equal(err.code, 'CtrStateInvalid');
    assert.equal(store.beforeGet, undefined, 'the race was played');
    assert.notEqual(await must(m.state()), 'running');
    assert.equal(e.fake.stateOf(m.id), undefined, 'nothing was created in the runtime');
  });
});
