/**
 * A pod member runs in its infra container's namespaces or not at all, on
 * real containers (conmon + runc, catatonit as the infra process). Root
 * only; the file ends by asserting nothing it made is left.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container, type Pod } from '../../src/index.js';
import { makeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { must, mustFail } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;
const SHARED = ['net', 'ipc', 'uts'] as const;

describe('pod members live in the infra namespaces (real containers)', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let rootfs: string;
  let snapshot: HostSnapshot;
  const pods: Pod[] = [];

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-podns-');
    rootfs = (await makeBusyboxRootfs({ parent: roots.dir })).path;
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
  });

  after(async () => {
    for (const p of pods) await rt.removePod(p, { force: true, timeout: 0 });
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  /** The host's view of a running container's namespaces (`net:[4026...]`), read from /proc/<pid>/ns. */
  async function namespaces(c: Container, kinds: readonly string[]): Promise<Record<string, string>> {
    const { pid } = await must(c.inspect());
    assert.ok(pid > 0, `${c.name} has a pid`);
    return Object.fromEntries(kinds.map((k) => [k, readlinkSync(`/proc/${pid}/ns/${k}`)]));
  }

  it("a member's namespaces are the infra's; with the infra stopped it cannot start unless recursive starts the infra", async () => {
    const pod = await must(rt.newPod({ name: 'nsjoin' }));
    pods.push(pod);
    // Exits on SIGTERM, so stops are quick.
    const command = ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'];
    const m = await must(rt.newContainer({ rootfs, command, pod: pod.id }));
    const infra = await must(rt.lookupContainer(pod.infraContainerId as string));
    await must(pod.start());

    const infraPid = (await must(infra.inspect())).pid;
    const infraNs = await namespaces(infra, SHARED);
    assert.deepEqual(await namespaces(m, SHARED), infraNs);
    assert.notEqual(infraNs.net, readlinkSync('/proc/self/ns/net'), 'the pod has its own network namespace');
    // Not shared by default: the member has its own pid and mount namespaces.
    assert.notEqual((await namespaces(m, ['pid'])).pid, (await namespaces(infra, ['pid'])).pid);

    // A running member cannot be refreshed into fresh namespaces while the infra is down.
    await must(infra.stop({ timeout: 0 }));
    assert.equal((await mustFail(m.refresh())).code, 'CtrStateInvalid');
    assert.equal(await must(m.state()), 'running');
    assert.deepEqual((await namespaces(m, SHARED)).net, infraNs.net, 'untouched by the refused refresh');

    // Stopped member, stopped infra: start is refused (libpod checkDependenciesAndHandleError).
    await must(m.stop({ timeout: 5 }));
    assert.equal((await mustFail(m.start())).code, 'CtrStateInvalid');
    assert.equal(await must(m.state()), 'exited');
    assert.equal(await must(infra.state()), 'exited');

    // Recursive starts the infra first; the member joins the new infra's namespaces.
    await must(m.start({ recursive: true }));
    assert.equal(await must(infra.state()), 'running');
    assert.notEqual((await must(infra.inspect())).pid, infraPid, 'a new infra process');
    assert.deepEqual(await namespaces(m, SHARED), await namespaces(infra, SHARED));
  });
});
