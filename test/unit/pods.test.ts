import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Container, LibpodEvent, Pod } from '../../src/index.js';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

describe('pods', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  const member = (pod: Pod, o: Record<string, unknown> = {}): Promise<Container> => e.create({ pod: pod.id, ...o });
  const states = async (ctrs: Container[]): Promise<string[]> => Promise.all(ctrs.map(async (c) => must(c.state())));
  const podEvents = async (status?: string): Promise<LibpodEvent[]> =>
    must(e.runtime.readEvents({ filter: { type: 'pod', ...(status ? { status: status as 'start' } : {}) } }));
  const startOrderOf = async (): Promise<string[]> =>
    (await must(e.runtime.readEvents({ filter: { type: 'container', status: 'start' } }))).map((ev) => ev.name);
  const stopOrderOf = async (): Promise<string[]> =>
    (await must(e.runtime.readEvents({ filter: { type: 'container', status: 'stop' } }))).map((ev) => ev.name);

  describe('create', () => {
    it('makes an infra container running catatonit in a per-pod rootfs', async () => {
      const pod = await must(e.runtime.newPod({ name: 'web', labels: { app: 'x' } }));
      assert.match(pod.id, /^[0-9a-f]{64}$/);
      assert.equal(pod.name, 'web');
      assert.deepEqual(pod.labels, { app: 'x' });
      assert.deepEqual(pod.share, ['net', 'ipc', 'uts']);
      const ctrs = await must(pod.containers());
      assert.equal(ctrs.length, 1);
      const infra = ctrs[0] as Container;
      assert.equal(infra.id, pod.infraContainerId);
      const cfg = infra.config();
      assert.deepEqual(cfg.command, ['/catatonit', '-P']);
      assert.equal(cfg.network, 'none');
      assert.equal(cfg.rootfs, join(e.root, 'pods', pod.id, 'infra-rootfs'));
      for (const d of ['proc', 'dev', 'sys', 'etc', 'tmp']) assert.ok(existsSync(join(cfg.rootfs, d)), d);
      assert.equal(infra.podId(), pod.id);
      const inspect = await must(pod.inspect());
      assert.equal(inspect.state, 'created');
      assert.equal(inspect.infraContainerId, infra.id);
      assert.equal(inspect.numContainers, 1);
      assert.equal(inspect.containers[0]?.isInfra, true);
      assert.equal((await podEvents('create')).length, 1);
    });

    it('generates a name and rejects taken names with PodExists', async () => {
      const a = await must(e.runtime.newPod());
      assert.match(a.name, /^[a-z]+_[a-z]+/);
      await must(e.runtime.newPod({ name: 'p1' }));
      assert.equal((await mustFail(e.runtime.newPod({ name: 'p1' }))).code, 'PodExists');
      await e.create({ name: 'c1' });
      assert.equal((await mustFail(e.runtime.newPod({ name: 'c1' }))).code, 'PodExists');
    });

    it('rejects bad input with InvalidArg and creates nothing', async () => {
      for (const bad of [
        { name: 'a/b' },
        { name: '..' },
        { name: '' },
        { bogus: 1 },
        { infra: false, share: ['net'] },
        { share: ['mnt'] },
        { share: 'net' },
        { labels: { a: 1 } },
        { infra: 'yes' },
      ]) {
        const err = await mustFail(e.runtime.newPod(bad as never));
        assert.equal(err.code, 'InvalidArg', JSON.stringify(bad));
      }
      assert.equal((await mustFail(e.runtime.newPod(42 as never))).code, 'InvalidArg');
      assert.equal((await must(e.runtime.pods())).length, 0);
      assert.equal((await must(e.runtime.containers())).length, 0);
    });

    it('a pod without infra shares nothing and has no infra container', async () => {
      const pod = await must(e.runtime.newPod({ infra: false }));
      assert.equal(pod.infraContainerId, undefined);
      assert.deepEqual(pod.share, []);
      const c = await member(pod);
      assert.deepEqual(c.dependencies(), []);
      await must(pod.start());
      assert.equal(await must(c.state()), 'running');
      assert.deepEqual(e.fake.specOf(c.id)?.linux?.namespaces?.filter((n) => n.path !== undefined), []);
    });

    it('members depend on the infra container; a missing pod is NoSuchPod', async () => {
      const pod = await must(e.runtime.newPod());
      const c = await member(pod);
      assert.deepEqual(c.dependencies(), [pod.infraContainerId]);
      assert.equal((await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], pod: 'nope' }))).code, 'NoSuchPod');
    });
  });

  describe('lookup and list', () => {
    it('finds pods by id, name and prefix', async () => {
      const pod = await must(e.runtime.newPod({ name: 'finder' }));
      assert.equal((await must(e.runtime.lookupPod(pod.id))).name, 'finder');
      assert.equal((await must(e.runtime.lookupPod('finder'))).id, pod.id);
      assert.equal((await must(e.runtime.lookupPod(pod.id.slice(0, 10)))).id, pod.id);
      assert.equal((await mustFail(e.runtime.lookupPod('missing'))).code, 'NoSuchPod');
      assert.equal((await mustFail(e.runtime.lookupPod(3 as never))).code, 'InvalidArg');
    });

    it('filters by name, label and state', async () => {
      const a = await must(e.runtime.newPod({ name: 'a', labels: { tier: 'web' } }));
      await must(e.runtime.newPod({ name: 'b', labels: { tier: 'db' } }));
      await member(a);
      await must(a.start());
      const names = async (f: object): Promise<string[]> => (await must(e.runtime.pods(f))).map((p) => p.name);
      assert.deepEqual(await names({}), ['a', 'b']);
      assert.deepEqual(await names({ name: 'b' }), ['b']);
      assert.deepEqual(await names({ name: /^[ab]$/ }), ['a', 'b']);
      assert.deepEqual(await names({ label: 'tier=web' }), ['a']);
      assert.deepEqual(await names({ label: { tier: 'db' } }), ['b']);
      assert.deepEqual(await names({ state: 'running' }), ['a']);
      assert.deepEqual(await names({ state: ['created', 'exited'] }), ['b']);
      assert.equal((await mustFail(e.runtime.pods({ state: 'sleepy' } as never))).code, 'InvalidArg');
      assert.equal((await mustFail(e.runtime.pods({ colour: 'x' } as never))).code, 'InvalidArg');
      assert.equal((await must(e.runtime.containers({ pod: 'a' }))).length, 2);
    });
  });

  describe('verbs', () => {
    it('start runs the infra first, then members in dependency order; members join its namespaces', async () => {
      const pod = await must(e.runtime.newPod({ name: 'p', share: ['net', 'ipc', 'uts', 'pid'] }));
      const b = await member(pod, { name: 'b' });
      const a = await member(pod, { name: 'a', dependencies: ['b'] });
      await must(pod.start());
      assert.deepEqual(await startOrderOf(), [`${pod.id.slice(0, 12)}-infra`, 'b', 'a']);
      const status = await must(pod.status());
      assert.equal(status.state, 'running');
      assert.equal(Object.keys(status.containers).length, 3);
      assert.ok(Object.values(status.containers).every((s) => s === 'running'));
      const infraPid = (await must((await must(e.runtime.lookupContainer(pod.infraContainerId as string))).inspect())).pid;
      const joined = e.fake.specOf(a.id)?.linux?.namespaces?.filter((n) => n.path !== undefined) ?? [];
      assert.deepEqual(
        joined.map((n) => [n.type, n.path]).sort(),
        [
          ['ipc', `/proc/${infraPid}/ns/ipc`],
          ['network', `/proc/${infraPid}/ns/net`],
          ['pid', `/proc/${infraPid}/ns/pid`],
          ['uts', `/proc/${infraPid}/ns/uts`],
        ],
      );
      assert.equal(e.fake.specOf(b.id)?.hostname, undefined, 'members take the hostname of the shared UTS namespace');
      assert.equal((await podEvents('start')).length, 1);
      // Starting again leaves running members alone.
      await must(pod.start());
      assert.equal((await startOrderOf()).length, 3);
    });

    it('stop stops members first and the infra container last', async () => {
      const pod = await must(e.runtime.newPod({ name: 'p' }));
      const ctrs = [await member(pod, { name: 'm1' }), await member(pod, { name: 'm2' })];
      await must(pod.start());
      await must(pod.stop());
      const order = await stopOrderOf();
      assert.equal(order.at(-1), `${pod.id.slice(0, 12)}-infra`);
      assert.deepEqual(order.slice(0, 2).sort(), ['m1', 'm2']);
      assert.deepEqual(await states(ctrs), ['exited', 'exited']);
      assert.equal((await must(pod.status())).state, 'exited');
      // Stopping a stopped pod is not an error (nothing to do).
      await must(pod.stop());
      assert.equal((await podEvents('stop')).length, 2);
    });

    it('stop with a timeout escalates to SIGKILL for members ignoring the stop signal', async () => {
      const pod = await must(e.runtime.newPod());
      const c = await member(pod);
      await must(pod.start());
      e.fake.ignoreSignals(c.id, ['SIGTERM']);
      await must(pod.stop({ timeout: 0 }));
      assert.equal(await must(c.state()), 'exited');
      assert.equal((await must(c.inspect())).exitCode, 137);
      assert.equal((await mustFail(pod.stop({ timeout: -1 }))).code, 'InvalidArg');
      assert.equal((await mustFail(pod.stop({ wait: 1 } as never))).code, 'InvalidArg');
    });

    it('kill signals every running member (default SIGKILL)', async () => {
      const pod = await must(e.runtime.newPod());
      const ctrs = [await member(pod), await member(pod)];
      await must(pod.start());
      await must(pod.kill());
      for (const c of ctrs) assert.equal(await must(c.wait()), 137);
      assert.equal((await podEvents('kill'))[0]?.attributes.signal, '9');
      assert.equal((await mustFail(pod.kill('SIGNOPE'))).code, 'InvalidArg');
    });

    it('pause and unpause every member; the pod reports paused', async () => {
      const pod = await must(e.runtime.newPod());
      const ctrs = [await member(pod), await member(pod)];
      await must(pod.start());
      await must(pod.pause());
      assert.deepEqual(await states(ctrs), ['paused', 'paused']);
      assert.equal((await must(pod.status())).state, 'paused');
      await must(pod.unpause());
      assert.deepEqual(await states(ctrs), ['running', 'running']);
      assert.equal((await must(pod.status())).state, 'running');
      assert.deepEqual((await podEvents()).map((ev) => ev.status), ['create', 'start', 'pause', 'unpause']);
    });

    it('restart stops and starts every member (and starts never-started ones)', async () => {
      const pod = await must(e.runtime.newPod());
      const a = await member(pod);
      await must(pod.start());
      const b = await member(pod);
      const infraPidBefore = (await must((await must(e.runtime.lookupContainer(pod.infraContainerId as string))).inspect())).pid;
      await must(pod.restart({ timeout: 0 }));
      assert.deepEqual(await states([a, b]), ['running', 'running']);
      const infraPid = (await must((await must(e.runtime.lookupContainer(pod.infraContainerId as string))).inspect())).pid;
      assert.notEqual(infraPid, infraPidBefore);
      const net = e.fake.specOf(a.id)?.linux?.namespaces?.find((n) => n.type === 'network');
      assert.equal(net?.path, `/proc/${infraPid}/ns/net`, 'members rejoin the new infra');
      assert.equal((await podEvents('restart')).length, 1);
    });

    it('status: degraded when some members run, exited when all stopped, stopped when some did', async () => {
      const pod = await must(e.runtime.newPod());
      const a = await member(pod);
      await member(pod);
      await must(pod.start());
      e.fake.exit(a.id, 0);
      await must(a.wait());
      assert.equal((await must(pod.status())).state, 'degraded');
      await must(pod.stop());
      const s = await must(pod.status());
      assert.equal(s.state, 'exited');
      assert.equal(s.containers[a.id], 'exited');
      await member(pod);
      assert.equal((await must(pod.status())).state, 'stopped');
    });

    it('a member failure does not stop the others and is reported per member', async () => {
      const pod = await must(e.runtime.newPod());
      const ctrs = [await member(pod), await member(pod), await member(pod)];
      await must(pod.start());
      e.fake.failNext('pause');
      const err = await mustFail(pod.pause());
      assert.equal(err.code, 'OCIRuntime');
      assert.equal(err.related.length, 1);
      const st = await states(ctrs);
      assert.equal(st.filter((s) => s === 'paused').length, 2);
      assert.equal(st.filter((s) => s === 'running').length, 1);
    });

    it('a failed infra start fails every member that needs it', async () => {
      const pod = await must(e.runtime.newPod());
      const ctrs = [await member(pod), await member(pod)];
      e.fake.failNext('start');
      const err = await mustFail(pod.start());
      assert.equal(err.code, 'OCIRuntime');
      assert.equal(err.related.length, 3);
      assert.deepEqual(
        err.related.map((r) => r.code),
        ['OCIRuntime', 'CtrStateInvalid', 'CtrStateInvalid'],
      );
      assert.deepEqual(await states(ctrs), ['configured', 'configured']);
      assert.equal((await podEvents('start')).length, 0);
      await must(pod.start());
      assert.deepEqual(await states(ctrs), ['running', 'running']);
    });

    it('pod verbs run concurrently with member verbs without deadlock', async () => {
      const pod = await must(e.runtime.newPod());
      const ctrs = [await member(pod), await member(pod)];
      await must(pod.start());
      const results = await Promise.all([pod.stop(), ...ctrs.map((c) => c.inspect()), pod.status(), e.runtime.pods()]);
      assert.ok(results.every((r) => r.isOk()));
      assert.equal((await must(pod.status())).state, 'exited');
    });
  });

  describe('remove', () => {
    it('without force removes stopped members and refuses running ones', async () => {
      const pod = await must(e.runtime.newPod());
      const stopped = await member(pod, { name: 'stopped' });
      const running = await member(pod, { name: 'running' });
      await must(pod.start());
      await must(stopped.stop());
      const err = await mustFail(e.runtime.removePod(pod));
      assert.equal(err.code, 'CtrStateInvalid');
      assert.ok(err.message.includes(running.id));
      assert.equal(err.related.length, 1);
      assert.equal((await mustFail(stopped.state())).code, 'CtrRemoved');
      assert.equal(await must(running.state()), 'running');
      assert.equal((await must(pod.containers())).length, 2);
      await must(running.stop());
      await must(e.runtime.removePod(pod));
      assert.equal((await mustFail(e.runtime.lookupPod(pod.id))).code, 'NoSuchPod');
    });

    it('with force stops and removes everything: members, infra, record, directory', async () => {
      const pod = await must(e.runtime.newPod({ name: 'gone' }));
      const a = await member(pod);
      await member(pod, { dependencies: [a.id] });
      await must(pod.start());
      await must(e.runtime.removePod(pod, { force: true, timeout: 0 }));
      assert.equal((await must(e.runtime.containers())).length, 0);
      assert.equal(e.fake.containers().length, 0);
      assert.equal(existsSync(join(e.root, 'pods', pod.id)), false);
      assert.equal((await mustFail(e.runtime.lookupPod('gone'))).code, 'NoSuchPod');
      assert.equal((await podEvents('remove')).length, 1);
      // The handle outlived the pod.
      assert.equal((await mustFail(pod.start())).code, 'PodRemoved');
      assert.equal((await mustFail(pod.status())).code, 'PodRemoved');
      assert.equal((await mustFail(e.runtime.removePod(pod))).code, 'NoSuchPod');
    });

    it('a pod that was never started is removed without force', async () => {
      const pod = await must(e.runtime.newPod());
      await member(pod);
      await must(e.runtime.removePod(pod));
      assert.equal((await must(e.runtime.pods())).length, 0);
    });

    it('the infra container cannot be removed on its own', async () => {
      const pod = await must(e.runtime.newPod());
      const infra = await must(e.runtime.lookupContainer(pod.infraContainerId as string));
      assert.equal((await mustFail(e.runtime.removeContainer(infra, { force: true }))).code, 'CtrStateInvalid');
      const c = await member(pod);
      assert.ok(['CtrStateInvalid', 'DepExists'].includes((await mustFail(e.runtime.removeContainer(infra))).code));
      // A member can be removed alone.
      await must(e.runtime.removeContainer(c));
      assert.equal((await must(pod.containers())).length, 1);
    });

    it('rejects bad arguments', async () => {
      const pod = await must(e.runtime.newPod());
      assert.equal((await mustFail(e.runtime.removePod({ id: pod.id } as never))).code, 'InvalidArg');
      assert.equal((await mustFail(e.runtime.removePod(pod, { force: 'yes' } as never))).code, 'InvalidArg');
      assert.equal((await mustFail(e.runtime.removePod(pod, { depth: 1 } as never))).code, 'InvalidArg');
    });
  });

  describe('prune', () => {
    it('prunePods removes pods with no running member', async () => {
      const idle = await must(e.runtime.newPod({ name: 'idle' }));
      await member(idle);
      const stopped = await must(e.runtime.newPod({ name: 'stopped' }));
      await member(stopped);
      await must(stopped.start());
      await must(stopped.stop());
      const live = await must(e.runtime.newPod({ name: 'live' }));
      await member(live);
      await must(live.start());
      const removed = await must(e.runtime.prunePods());
      assert.deepEqual(removed.sort(), [idle.id, stopped.id].sort());
      assert.deepEqual((await must(e.runtime.pods())).map((p) => p.name), ['live']);
      assert.equal((await podEvents('prune')).length, 2);
    });

    it('pruneContainers removes stopped containers outside pods, dependents first, keeping what others need', async () => {
      const pod = await must(e.runtime.newPod());
      await member(pod);
      const base = await e.create({ name: 'base' });
      const dep = await e.create({ name: 'dep', dependencies: ['base'] });
      const runningBase = await e.create({ name: 'rbase' });
      const runner = await e.create({ name: 'runner', dependencies: ['rbase'] });
      await must(runner.start({ recursive: true }));
      await must(runningBase.stop({ timeout: 0 }));
      const removed = await must(e.runtime.pruneContainers());
      assert.deepEqual(removed.sort(), [base.id, dep.id].sort());
      const left = (await must(e.runtime.containers())).map((c) => c.name).sort();
      assert.ok(left.includes('runner') && left.includes('rbase'));
      assert.equal(left.length, 4);
    });
  });
});
