/**
 * Pods on real containers (conmon + runc, catatonit as the infra process).
 * Root only. Every pod is removed with force and the file ends by asserting
 * that no process, mount or runc container it made is left.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container, type Pod, type PodCreateOptions } from '../../src/index.js';
import { makeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { must, mustFail } from '../support/engine.js';
import { sh } from './support/shell.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;


describe('pods on real containers', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let rootfs: string;
  let snapshot: HostSnapshot;
  const pods: Pod[] = [];
  const loose: Container[] = [];

  async function newPod(opts: PodCreateOptions = {}): Promise<Pod> {
    const pod = await must(rt.newPod(opts));
    pods.push(pod);
    return pod;
  }

  async function member(pod: Pod, name?: string): Promise<Container> {
    // Exits on SIGTERM, so stops are quick.
    const command = ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'];
    return must(rt.newContainer({ rootfs, command, pod: pod.id, ...(name ? { name } : {}) }));
  }

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-pods-');
    rootfs = (await makeBusyboxRootfs({ parent: roots.dir })).path;
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
  });

  after(async () => {
    for (const p of pods) await rt.removePod(p, { force: true, timeout: 0 });
    for (const c of loose) await rt.removeContainer(c, { force: true, timeout: 0 });
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  it('members share the network, IPC and UTS namespaces (and hostname), not the host network', async () => {
    const pod = await newPod({ name: 'shared' });
    const a = await member(pod);
    const b = await member(pod);
    await must(pod.start());
    const probe = 'readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname; readlink /proc/self/ns/pid';
    const [pa, pb] = [(await sh(a, probe)).split('\n'), (await sh(b, probe)).split('\n')];
    assert.deepEqual(pa.slice(0, 4), pb.slice(0, 4));
    assert.equal(pa[3], 'shared', 'the pod hostname is the pod name, as podman sets it');
    assert.notEqual(pa[4], pb[4], 'pid is not shared by default');
    assert.notEqual(pa[0], readlinkSync('/proc/self/ns/net'), 'the pod has its own network namespace');
    // Only loopback in the pod's network namespace, the same for both.
    const devs = (c: Container): Promise<string> => sh(c, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
    assert.equal(await devs(a), 'lo');
    assert.equal(await devs(b), 'lo');
    // A container outside the pod has another network namespace.
    const outside = await must(rt.newContainer({ rootfs, command: ['/bin/sleep', '1000'] }));
    loose.push(outside);
    await must(outside.start());
    assert.notEqual(await sh(outside, 'readlink /proc/self/ns/net'), pa[0]);
    const status = await must(pod.status());
    assert.equal(status.state, 'running');
    assert.equal(Object.keys(status.containers).length, 3);
  });

  it('share: pid puts members in the infra pid namespace, under catatonit', async () => {
    const pod = await newPod({ share: ['net', 'ipc', 'uts', 'pid'] });
    const a = await member(pod);
    const b = await member(pod);
    await must(pod.start());
    assert.equal(await sh(a, 'readlink /proc/self/ns/pid'), await sh(b, 'readlink /proc/self/ns/pid'));
    assert.match(await sh(a, 'cat /proc/1/cmdline | tr "\\0" " "'), /catatonit -P/);
  });

  it('stop, start, kill, pause, unpause and restart the pod', async () => {
    const pod = await newPod();
    const a = await member(pod);
    const b = await member(pod);
    await must(pod.start());
    const netBefore = await sh(a, 'readlink /proc/self/ns/net');

    await must(pod.pause());
    assert.equal((await must(pod.status())).state, 'paused');
    assert.equal((await mustFail(a.exec(['/bin/true']))).code, 'CtrStateInvalid');
    await must(pod.unpause());
    assert.equal((await must(pod.status())).state, 'running');
    assert.equal(await sh(b, 'echo alive'), 'alive');

    const t0 = Date.now();
    await must(pod.stop({ timeout: 5 }));
    assert.ok(Date.now() - t0 < 5000, 'members and catatonit exit on SIGTERM');
    assert.equal((await must(pod.status())).state, 'exited');

    await must(pod.start());
    assert.equal((await must(pod.status())).state, 'running');
    const netAfter = await sh(a, 'readlink /proc/self/ns/net');
    assert.equal(await sh(b, 'readlink /proc/self/ns/net'), netAfter);

    await must(pod.restart({ timeout: 5 }));
    assert.equal((await must(pod.status())).state, 'running');
    assert.equal(await sh(a, 'readlink /proc/self/ns/net'), await sh(b, 'readlink /proc/self/ns/net'));
    assert.ok(netBefore.startsWith('net:['));

    await must(pod.kill('SIGKILL'));
    assert.equal(await must(a.wait()), 137);
    assert.equal(await must(b.wait()), 137);
    const infra = await must(rt.lookupContainer(pod.infraContainerId as string));
    await must(infra.wait());
    assert.equal((await must(pod.status())).state, 'exited');
  });

  it('removal without force fails on running members; with force leaves nothing', async () => {
    const pod = await newPod();
    const a = await member(pod);
    await member(pod);
    await must(pod.start());
    const err = await mustFail(rt.removePod(pod));
    assert.equal(err.code, 'CtrStateInvalid');
    assert.equal(await must(a.state()), 'running');
    await must(rt.removePod(pod, { force: true, timeout: 0 }));
    assert.equal((await mustFail(rt.lookupPod(pod.id))).code, 'NoSuchPod');
    assert.equal((await mustFail(rt.lookupContainer(a.id))).code, 'NoSuchCtr');
    assert.equal((await mustFail(rt.lookupContainer(pod.infraContainerId as string))).code, 'NoSuchCtr');
  });
});
