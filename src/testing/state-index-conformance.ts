/**
 * The StateIndex half of the StateStore conformance suite: libpod's State
 * rules (modelled on `libpod/state_test.go`) run over the store under test.
 * @module
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { generateId } from '../define/ids.js';
import { StateIndex } from '../state/state-index.js';
import type { StateStore } from '../state/state-store.js';
import { expectErr, expectOk, idWithPrefix, withOpenStore, type StateStoreFactory, type StateStoreFixture } from './conformance-helpers.js';
import { makeContainerRecord, makePodRecord, makeVolumeRecord } from './records.js';

type IndexCase = (index: StateIndex, store: StateStore, fixture: StateStoreFixture) => Promise<void>;

function sortIds(xs: readonly { id: string }[]): string[] {
  return xs.map((x) => x.id).sort();
}

const CONTAINER_CASES: Record<string, IndexCase> = {
  'adds and gets a container; a missing or empty id fails': async (index) => {
    const rec = makeContainerRecord();
    await expectOk(index.addContainer(rec));
    assert.deepEqual(await expectOk(index.getContainer(rec.id)), rec);
    assert.equal(await expectOk(index.containerExists(rec.id)), true);
    assert.equal(await expectOk(index.containerExists(generateId())), false);
    await expectErr(index.getContainer(generateId()), 'NoSuchCtr');
    await expectErr(index.getContainer(''), 'InvalidArg');
    assert.deepEqual(sortIds(await expectOk(index.allContainers())), [rec.id]);
  },
  'rejects a malformed id or name with InvalidArg': async (index) => {
    await expectErr(index.addContainer(makeContainerRecord({ id: 'abc' })), 'InvalidArg');
    await expectErr(index.addContainer(makeContainerRecord({ id: 'A'.repeat(64) })), 'InvalidArg');
    await expectErr(index.addContainer(makeContainerRecord({ name: '-bad name' })), 'InvalidArg');
    assert.deepEqual(await expectOk(index.allContainers()), []);
  },
  'rejects a duplicate id or name, and ids or names taken by pods, with CtrExists': async (index) => {
    const a = makeContainerRecord({ name: 'a' });
    const pod = makePodRecord({ name: 'p' });
    await expectOk(index.addContainer(a));
    await expectOk(index.addPod(pod));
    await expectErr(index.addContainer(makeContainerRecord({ id: a.id })), 'CtrExists');
    await expectErr(index.addContainer(makeContainerRecord({ name: 'a' })), 'CtrExists');
    await expectErr(index.addContainer(makeContainerRecord({ name: 'p' })), 'CtrExists');
    await expectErr(index.addContainer(makeContainerRecord({ id: pod.id })), 'CtrExists');
    assert.deepEqual(sortIds(await expectOk(index.allContainers())), [a.id]);
  },
  'lets exactly one of two concurrent adds with the same name win': async (index) => {
    const results = await Promise.all([
      index.addContainer(makeContainerRecord({ name: 'race' })),
      index.addContainer(makeContainerRecord({ name: 'race' })),
    ]);
    assert.equal(results.filter((r) => r.isOk()).length, 1);
    const failed = results.find((r) => r.isErr());
    assert.ok(failed);
    await expectErr(failed, 'CtrExists');
    assert.equal((await expectOk(index.allContainers())).length, 1);
  },
  'looks up by full id, name and unique prefix': async (index) => {
    const a = makeContainerRecord({ id: idWithPrefix('abc1', generateId()), name: 'web' });
    const b = makeContainerRecord({ id: idWithPrefix('abc2', generateId()), name: 'db' });
    await expectOk(index.addContainer(a));
    await expectOk(index.addContainer(b));
    assert.equal((await expectOk(index.lookupContainer(a.id))).id, a.id);
    assert.equal((await expectOk(index.lookupContainer('web'))).id, a.id);
    assert.equal((await expectOk(index.lookupContainer('abc2'))).id, b.id);
    assert.equal((await expectOk(index.lookupContainer(b.id.slice(0, 12)))).id, b.id);
  },
  'prefers an exact name over an id prefix (libpod order)': async (index) => {
    const a = makeContainerRecord({ id: idWithPrefix('beef', generateId()) });
    const b = makeContainerRecord({ name: 'beef' });
    await expectOk(index.addContainer(a));
    await expectOk(index.addContainer(b));
    assert.equal((await expectOk(index.lookupContainer('beef'))).id, b.id);
  },
  'fails a lookup: ambiguous prefix or empty is InvalidArg, nothing or a pod is NoSuchCtr': async (index) => {
    await expectOk(index.addContainer(makeContainerRecord({ id: idWithPrefix('dead1', generateId()) })));
    await expectOk(index.addContainer(makeContainerRecord({ id: idWithPrefix('dead2', generateId()) })));
    const pod = makePodRecord({ name: 'apod' });
    await expectOk(index.addPod(pod));
    await expectErr(index.lookupContainer('dead'), 'InvalidArg');
    await expectErr(index.lookupContainer(''), 'InvalidArg');
    await expectErr(index.lookupContainer('nothing-here'), 'NoSuchCtr');
    await expectErr(index.lookupContainer('apod'), 'NoSuchCtr');
    await expectErr(index.lookupContainer(pod.id), 'NoSuchCtr');
  },
  'saves the state but never the config, name or dependencies': async (index) => {
    const rec = makeContainerRecord({ config: { labels: { v: '1' } } });
    await expectOk(index.addContainer(rec));
    const changed = structuredClone(rec);
    changed.state = { ...changed.state, state: 'running', pid: 4321, startedAt: new Date().toISOString() };
    changed.name = 'renamed';
    changed.config.labels.v = '2';
    changed.dependencyIds = [generateId()];
    await expectOk(index.saveContainer(changed));
    const got = await expectOk(index.getContainer(rec.id));
    assert.deepEqual(got.state, changed.state);
    assert.deepEqual({ ...got, state: rec.state }, rec);
    await expectErr(index.saveContainer(makeContainerRecord()), 'NoSuchCtr');
  },
  'persists exec sessions in the state record': async (index, store, fixture) => {
    const rec = makeContainerRecord({ state: { state: 'running', pid: 10 } });
    await expectOk(index.addContainer(rec));
    const sid = generateId();
    rec.state.execSessions[sid] = { id: sid, command: ['/bin/sh'], tty: true, state: 'running', pid: 11, startedAt: new Date().toISOString() };
    await expectOk(index.saveContainer(rec));
    assert.deepEqual((await expectOk(index.getContainer(rec.id))).state.execSessions, rec.state.execSessions);
    if (!store.capabilities.persistent || !fixture.reopen) return;
    await expectOk(store.close());
    const again = fixture.reopen();
    await expectOk(again.open());
    try {
      const got = await expectOk(new StateIndex(again).getContainer(rec.id));
      assert.deepEqual(got.state.execSessions[sid], rec.state.execSessions[sid]);
    } finally {
      await expectOk(again.close());
    }
  },
  'removes a container; removing a missing one is NoSuchCtr': async (index) => {
    const rec = makeContainerRecord();
    await expectOk(index.addContainer(rec));
    await expectOk(index.removeContainer(rec.id));
    await expectErr(index.getContainer(rec.id), 'NoSuchCtr');
    await expectErr(index.removeContainer(rec.id), 'NoSuchCtr');
    assert.deepEqual(await expectOk(index.allContainers()), []);
  },
  'frees a removed container\'s id, name, dependencies and volumes for what comes next': async (index) => {
    const vol = makeVolumeRecord();
    await expectOk(index.addVolume(vol));
    const a = makeContainerRecord({ name: 'reused', config: { volumes: [{ name: vol.name, dest: '/v' }] } });
    const dependent = makeContainerRecord({ dependencyIds: [a.id] });
    await expectOk(index.addContainer(a));
    await expectOk(index.addContainer(dependent));
    assert.deepEqual(await expectOk(index.containerDependents(a.id)), [dependent.id]);
    assert.deepEqual(await expectOk(index.volumeUsers(vol.name)), [a.id]);
    assert.equal((await expectOk(index.lookupContainer('reused'))).id, a.id);
    await expectOk(index.removeContainers([a.id, dependent.id]));
    await expectErr(index.lookupContainer('reused'), 'NoSuchCtr');
    assert.deepEqual(await expectOk(index.volumeUsers(vol.name)), []);
    await expectOk(index.removeVolume(vol.name));
    const b = makeContainerRecord({ id: a.id, name: 'reused' });
    await expectOk(index.addContainer(b));
    assert.deepEqual(await expectOk(index.containerDependents(b.id)), []);
    assert.equal((await expectOk(index.lookupContainer('reused'))).id, b.id);
    assert.equal((await expectOk(index.takenNames()))('reused'), true);
    assert.equal((await expectOk(index.takenNames()))(dependent.name), false);
  },
  'a second index over the store sees what the first one wrote': async (index, store, fixture) => {
    const pod = makePodRecord({ name: 'pod1' });
    const a = makeContainerRecord({ name: 'first', podId: pod.id });
    await expectOk(index.addPod(pod));
    await expectOk(index.addContainer(a));
    let other = store;
    if (store.capabilities.persistent && fixture.reopen) {
      await expectOk(store.close());
      other = fixture.reopen();
      await expectOk(other.open());
    }
    try {
      const second = new StateIndex(other);
      await expectErr(second.addContainer(makeContainerRecord({ name: 'first' })), 'CtrExists');
      await expectErr(second.addPod(makePodRecord({ name: 'first' })), 'PodExists');
      assert.deepEqual((await expectOk(second.podMembers(pod.id))).map((c) => c.id), [a.id]);
      await expectErr(second.removePod(pod.id), 'CtrExists');
      assert.deepEqual((await expectOk(second.dependencyGraph()))(a.id), []);
    } finally {
      if (other !== store) await expectOk(other.close());
    }
  },
  'returns copies: mutating a returned record changes nothing': async (index) => {
    const rec = makeContainerRecord();
    await expectOk(index.addContainer(rec));
    const got = await expectOk(index.lookupContainer(rec.name));
    got.state.pid = 999;
    got.config.command.push('oops');
    rec.config.env.X = 'after-add';
    const again = await expectOk(index.getContainer(rec.id));
    assert.equal(again.state.pid, 0);
    assert.equal(again.config.command.includes('oops'), false);
    assert.equal(again.config.env.X, undefined);
  },
};

const DEPENDENCY_CASES: Record<string, IndexCase> = {
  'refuses a missing dependency with NoSuchCtr and a self-dependency with InvalidArg': async (index) => {
    await expectErr(index.addContainer(makeContainerRecord({ dependencyIds: [generateId()] })), 'NoSuchCtr');
    const id = generateId();
    await expectErr(index.addContainer(makeContainerRecord({ id, dependencyIds: [id] })), 'InvalidArg');
  },
  'tracks dependents and refuses to remove a dependency with DepExists': async (index) => {
    const db = makeContainerRecord();
    const web = makeContainerRecord({ dependencyIds: [db.id] });
    await expectOk(index.addContainer(db));
    await expectOk(index.addContainer(web));
    assert.deepEqual(await expectOk(index.containerDependents(db.id)), [web.id]);
    assert.deepEqual(await expectOk(index.containerDependents(web.id)), []);
    await expectErr(index.containerDependents(generateId()), 'NoSuchCtr');
    await expectErr(index.removeContainer(db.id), 'DepExists');
    await expectErr(index.removeContainers([db.id]), 'DepExists');
    assert.equal((await expectOk(index.allContainers())).length, 2);
    await expectOk(index.removeContainers([db.id, web.id]));
    assert.deepEqual(await expectOk(index.allContainers()), []);
  },
  'removes several only when all can go: an outside dependent blocks all of them': async (index) => {
    const a = makeContainerRecord();
    const b = makeContainerRecord();
    const c = makeContainerRecord({ dependencyIds: [b.id] });
    for (const r of [a, b, c]) await expectOk(index.addContainer(r));
    await expectErr(index.removeContainers([a.id, b.id]), 'DepExists');
    await expectErr(index.removeContainers([a.id, generateId()]), 'NoSuchCtr');
    assert.equal((await expectOk(index.allContainers())).length, 3);
  },
  'refuses a dependency in another pod with InvalidArg': async (index) => {
    const pod = makePodRecord();
    await expectOk(index.addPod(pod));
    const inPod = makeContainerRecord({ podId: pod.id });
    const outside = makeContainerRecord();
    await expectOk(index.addContainer(inPod));
    await expectOk(index.addContainer(outside));
    await expectErr(index.addContainer(makeContainerRecord({ dependencyIds: [inPod.id] })), 'InvalidArg');
    await expectErr(index.addContainer(makeContainerRecord({ podId: pod.id, dependencyIds: [outside.id] })), 'InvalidArg');
    await expectOk(index.addContainer(makeContainerRecord({ podId: pod.id, dependencyIds: [inPod.id] })));
  },
};

const POD_CASES: Record<string, IndexCase> = {
  'adds, gets and looks up pods; names and ids clash with containers as PodExists': async (index) => {
    const pod = makePodRecord({ id: idWithPrefix('cafe1', generateId()), name: 'web-pod' });
    await expectOk(index.addPod(pod));
    await expectOk(index.addPod(makePodRecord({ id: idWithPrefix('cafe2', generateId()) })));
    assert.deepEqual(await expectOk(index.getPod(pod.id)), pod);
    assert.equal((await expectOk(index.lookupPod('web-pod'))).id, pod.id);
    assert.equal((await expectOk(index.lookupPod('cafe1'))).id, pod.id);
    await expectErr(index.lookupPod('cafe'), 'InvalidArg');
    await expectErr(index.lookupPod(''), 'InvalidArg');
    await expectErr(index.lookupPod('nope'), 'NoSuchPod');
    await expectErr(index.getPod(generateId()), 'NoSuchPod');
    const ctr = makeContainerRecord({ name: 'taken' });
    await expectOk(index.addContainer(ctr));
    await expectErr(index.addPod(makePodRecord({ name: 'web-pod' })), 'PodExists');
    await expectErr(index.addPod(makePodRecord({ id: pod.id })), 'PodExists');
    await expectErr(index.addPod(makePodRecord({ name: 'taken' })), 'PodExists');
    await expectErr(index.addPod(makePodRecord({ id: ctr.id })), 'PodExists');
    assert.equal((await expectOk(index.allPods())).length, 2);
  },
  'tracks members; a container in a missing pod is NoSuchPod': async (index) => {
    const pod = makePodRecord();
    await expectOk(index.addPod(pod));
    await expectErr(index.addContainer(makeContainerRecord({ podId: generateId() })), 'NoSuchPod');
    const infra = makeContainerRecord({ podId: pod.id, isInfra: true });
    const member = makeContainerRecord({ podId: pod.id, dependencyIds: [infra.id] });
    await expectOk(index.addContainer(infra));
    await expectOk(index.addContainer(member));
    await expectOk(index.addContainer(makeContainerRecord()));
    assert.deepEqual(sortIds(await expectOk(index.podMembers(pod.id))), [infra.id, member.id].sort());
    await expectErr(index.podMembers(generateId()), 'NoSuchPod');
  },
  'saves a pod keeping its id and name': async (index) => {
    const pod = makePodRecord({ name: 'keep' });
    await expectOk(index.addPod(pod));
    const infraContainerId = generateId();
    await expectOk(index.savePod({ ...pod, name: 'changed', infraContainerId, labels: { x: 'y' } }));
    const got = await expectOk(index.getPod(pod.id));
    assert.equal(got.name, 'keep');
    assert.equal(got.infraContainerId, infraContainerId);
    assert.deepEqual(got.labels, { x: 'y' });
    await expectErr(index.savePod(makePodRecord()), 'NoSuchPod');
  },
  'refuses to remove a pod with members (CtrExists) until they are removed': async (index) => {
    const pod = makePodRecord();
    await expectOk(index.addPod(pod));
    const infra = makeContainerRecord({ podId: pod.id, isInfra: true });
    const member = makeContainerRecord({ podId: pod.id, dependencyIds: [infra.id] });
    await expectOk(index.addContainer(infra));
    await expectOk(index.addContainer(member));
    await expectErr(index.removePod(pod.id), 'CtrExists');
    const members = await expectOk(index.podMembers(pod.id));
    await expectOk(index.removeContainers(members.map((m) => m.id)));
    await expectOk(index.removePod(pod.id));
    await expectErr(index.removePod(pod.id), 'NoSuchPod');
    assert.deepEqual(await expectOk(index.allPods()), []);
  },
};

const VOLUME_CASES: Record<string, IndexCase> = {
  'adds, gets and saves volumes; duplicates are VolumeExists': async (index) => {
    const vol = makeVolumeRecord({ name: 'data', labels: { a: 'b' } });
    await expectOk(index.addVolume(vol));
    await expectErr(index.addVolume(makeVolumeRecord({ name: 'data' })), 'VolumeExists');
    await expectErr(index.addVolume(makeVolumeRecord({ name: '/bad' })), 'InvalidArg');
    assert.deepEqual(await expectOk(index.getVolume('data')), vol);
    await expectErr(index.getVolume('nope'), 'NoSuchVolume');
    await expectOk(index.saveVolume({ ...vol, mountCount: 2, needsCopyUp: false, labels: { changed: 'yes' } }));
    const got = await expectOk(index.getVolume('data'));
    assert.equal(got.mountCount, 2);
    assert.equal(got.needsCopyUp, false);
    assert.deepEqual(got.labels, { a: 'b' });
    await expectErr(index.saveVolume(makeVolumeRecord({ name: 'nope' })), 'NoSuchVolume');
    assert.equal((await expectOk(index.allVolumes())).length, 1);
  },
  'refuses containers using a missing volume, and removal of a volume in use': async (index) => {
    await expectOk(index.addVolume(makeVolumeRecord({ name: 'data' })));
    await expectErr(index.addContainer(makeContainerRecord({ config: { volumes: [{ name: 'missing', dest: '/m' }] } })), 'NoSuchVolume');
    const user = makeContainerRecord({ config: { volumes: [{ name: 'data', dest: '/data' }] } });
    await expectOk(index.addContainer(user));
    assert.deepEqual(await expectOk(index.volumeUsers('data')), [user.id]);
    await expectErr(index.volumeUsers('missing'), 'NoSuchVolume');
    await expectErr(index.removeVolume('data'), 'VolumeBeingUsed');
    await expectOk(index.removeContainer(user.id));
    await expectOk(index.removeVolume('data'));
    await expectErr(index.removeVolume('data'), 'NoSuchVolume');
  },
  'writes raw ops atomically through writeAtomic': async (index) => {
    const vol = makeVolumeRecord();
    const ctr = makeContainerRecord({ config: { volumes: [{ name: vol.name, dest: '/v' }] } });
    await expectOk(
      index.writeAtomic([
        { op: 'put', kind: 'volume', key: vol.name, value: vol },
        { op: 'put', kind: 'container', key: ctr.id, value: ctr },
      ]),
    );
    assert.deepEqual(await expectOk(index.volumeUsers(vol.name)), [ctr.id]);
  },
};

/** Registers the StateIndex cases over stores made by `make`. */
export function registerStateIndexCases(make: StateStoreFactory): void {
  const groups = { containers: CONTAINER_CASES, dependencies: DEPENDENCY_CASES, pods: POD_CASES, volumes: VOLUME_CASES };
  for (const [group, cases] of Object.entries(groups)) {
    for (const [title, body] of Object.entries(cases)) {
      it(`${group}: ${title}`, () => withOpenStore(make, (store, fixture) => body(new StateIndex(store), store, fixture)));
    }
  }
}
