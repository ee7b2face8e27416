/**
 * Named volumes on real containers (conmon + runc). Root only. Every
 * container and volume is removed and the file ends by asserting that no
 * process, mount or runc container it made is left.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container, type ContainerCreateOptions, type Volume } from '../../src/index.js';
import { makeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { parseMountInfo } from '../../src/host/mountinfo.js';
import { must, mustFail } from '../support/engine.js';
import { sh } from './support/shell.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;

/** Whether something is mounted on `dir` in the host's mount table, and its filesystem type. */
async function hostMount(dir: string): Promise<string | undefined> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).find((m) => m.mountPoint === dir)?.fsType;
}

describe('volumes on real containers', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let rootfs: string;
  let snapshot: HostSnapshot;
  const made: Container[] = [];
  const vols: Volume[] = [];

  async function create(opts: Partial<ContainerCreateOptions>): Promise<Container> {
    const c = await must(rt.newContainer({ rootfs, command: ['/bin/sleep', '1000'], ...opts }));
    made.push(c);
    return c;
  }

  /** Runs `sh -c script` to completion in a new container; resolves to its exit code. */
  async function run(script: string, volumes: ContainerCreateOptions['volumes']): Promise<number> {
    const c = await create({ command: ['/bin/sh', '-c', script], volumes });
    await must(c.start());
    return must(c.wait());
  }


  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-vols-');
    rootfs = (await makeBusyboxRootfs({ parent: roots.dir })).path;
    await mkdir(join(rootfs, 'seeded', 'deep'), { recursive: true });
    await writeFile(join(rootfs, 'seeded', 'deep', 'seed.txt'), 'from the image\n');
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
  });

  after(async () => {
    for (const c of made) await rt.removeContainer(c, { force: true, timeout: 0 });
    for (const v of vols) await rt.removeVolume(v, { force: true, timeout: 0 });
    await must(rt.pruneVolumes());
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  it('a named volume written by one container is read by the next', async () => {
    vols.push(await must(rt.newVolume({ name: 'shared-data' })));
    const volumes = [{ name: 'shared-data', dest: '/data' }];
    assert.equal(await run('echo written-by-first > /data/note', volumes), 0);
    assert.equal(await run('test "$(cat /data/note)" = written-by-first', volumes), 0);
    const vol = await must(rt.lookupVolume('shared-data'));
    assert.equal(await readFile(join(vol.mountPoint(), 'note'), 'utf8'), 'written-by-first\n');
  });

  it('copy-up fills an empty volume from the rootfs on first use', async () => {
    const volumes = [{ name: 'seeded-vol', dest: '/seeded' }];
    assert.equal(await run('test "$(cat /seeded/deep/seed.txt)" = "from the image" && echo more > /seeded/added', volumes), 0);
    const vol = await must(rt.lookupVolume('seeded-vol'));
    vols.push(vol);
    assert.equal(await readFile(join(vol.mountPoint(), 'deep', 'seed.txt'), 'utf8'), 'from the image\n');
    assert.equal(await readFile(join(vol.mountPoint(), 'added'), 'utf8'), 'more\n');
    // The rootfs itself is untouched.
    await assert.rejects(readFile(join(rootfs, 'seeded', 'added')));
  });

  it('a tmpfs volume mounts with its first user and unmounts when the last one leaves', async () => {
    const vol = await must(rt.newVolume({ name: 'scratch', options: { type: 'tmpfs', device: 'tmpfs', o: 'size=4m' } }));
    vols.push(vol);
    const volumes = [{ name: 'scratch', dest: '/scratch' }];
    const a = await create({ volumes });
    const b = await create({ volumes });
    assert.equal(await hostMount(vol.mountPoint()), undefined);
    await must(a.start());
    assert.equal(await hostMount(vol.mountPoint()), 'tmpfs');
    assert.match(await sh(a, 'grep " /scratch " /proc/mounts'), /^tmpfs \/scratch tmpfs /);
    await sh(a, 'echo from-a > /scratch/f');
    await must(b.start());
    assert.equal(await sh(b, 'cat /scratch/f'), 'from-a');
    assert.equal((await must(vol.inspect())).mountCount, 2);
    await must(a.stop({ timeout: 0 }));
    assert.equal(await hostMount(vol.mountPoint()), 'tmpfs');
    await must(b.stop({ timeout: 0 }));
    assert.equal(await hostMount(vol.mountPoint()), undefined);
    assert.equal((await must(vol.inspect())).mountCount, 0);
    const statuses = (await must(rt.readEvents({ filter: { type: 'volume', name: 'scratch' } }))).map((e) => e.status);
    assert.deepEqual(statuses, ['create', 'mount', 'unmount']);
  });

  it('removing a used volume fails without force; force removes its users', async () => {
    const vol = await must(rt.newVolume({ name: 'in-use' }));
    const c = await create({ volumes: [{ name: 'in-use', dest: '/data' }] });
    await must(c.start());
    assert.deepEqual(await must(vol.inUse()), [c.id]);
    assert.equal((await mustFail(rt.removeVolume(vol))).code, 'VolumeBeingUsed');
    assert.equal(await must(c.state()), 'running');
    await must(rt.removeVolume(vol, { force: true, timeout: 0 }));
    assert.equal((await mustFail(c.state())).code, 'CtrRemoved');
    assert.equal((await mustFail(rt.lookupVolume('in-use'))).code, 'NoSuchVolume');
  });
});
