/**
 * Archives keep a filesystem whole, as root on real containers (conmon +
 * runc): FIFOs, char devices (0/0 included: overlay whiteouts), block
 * devices, hard links as links, xattrs (`user.test`, `security.capability`),
 * numeric owners without a passwd entry, setuid / setgid / sticky bits and
 * mtimes survive container export → volume import, volume export → import,
 * volume copy-up and a checkpoint's rootfs diff (through FakeOciRuntime,
 * which checkpoints without CRIU). Everything is removed at the end and
 * nothing may leak.
 */
import assert from 'node:assert/strict';
import { chmod, chown, link, lstat, mkdir, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeOciRuntime, Runtime, type Container, type Volume } from '../../src/index.js';
import { runChecked } from '../../src/host/command.js';
import { containerPaths } from '../../src/container/paths.js';
import { makeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { must } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;
const MTIME = 1_234_567_890;

const sh = async (file: string, ...args: string[]): Promise<string> => (await must(runChecked(file, args, { notFoundCode: 'InvalidArg' }))).stdout;

/**
 * Fills `dir` with everything an archive must keep (`whiteout: false`
 * through an overlay mount, which refuses to create a char 0/0 device).
 */
async function populate(dir: string, opts: { whiteout?: boolean } = {}): Promise<void> {
  await mkdir(join(dir, 'sub'), { recursive: true });
  await sh('mkfifo', join(dir, 'fifo'));
  if (opts.whiteout !== false) await sh('mknod', join(dir, 'whiteout'), 'c', '0', '0');
  await sh('mknod', join(dir, 'null'), 'c', '1', '3');
  await sh('mknod', join(dir, 'loop'), 'b', '7', '200');
  await writeFile(join(dir, 'data'), 'shared bytes');
  await link(join(dir, 'data'), join(dir, 'hard'));
  await link(join(dir, 'data'), join(dir, 'sub', 'hard2'));
  await sh('setfattr', '-n', 'user.test', '-v', 'kept', join(dir, 'data'));
  await writeFile(join(dir, 'ping'), 'not really ping');
  await sh('setcap', 'cap_net_raw+ep', join(dir, 'ping'));
  await writeFile(join(dir, 'owned'), 'by nobody we know');
  await chown(join(dir, 'owned'), 12345, 23456);
  await writeFile(join(dir, 'suid'), '#!/bin/sh\n');
  await chmod(join(dir, 'suid'), 0o4755);
  await mkdir(join(dir, 'sgid'));
  await chmod(join(dir, 'sgid'), 0o2775);
  await mkdir(join(dir, 'sticky'));
  await chmod(join(dir, 'sticky'), 0o1777);
  await symlink('/etc/passwd', join(dir, 'abs-link'));
  await utimes(join(dir, 'data'), MTIME, MTIME);
}

/** Asserts that `dir` holds what {@link populate} made. */
async function assertWhole(dir: string, where: string, opts: { whiteout?: boolean } = {}): Promise<void> {
  const st = async (name: string) => lstat(join(dir, name));
  assert.ok((await st('fifo')).isFIFO(), `${where}: FIFO`);
  if (opts.whiteout !== false) {
    const wh = await st('whiteout');
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, `${where}: char 0/0`);
  }
  const nul = await st('null');
  assert.ok(nul.isCharacterDevice() && nul.rdev === (1 << 8) + 3, `${where}: char 1/3`);
  const loop = await st('loop');
  assert.ok(loop.isBlockDevice() && loop.rdev === (7 << 8) + 200, `${where}: block 7/200`);
  const data = await st('data');
  assert.equal((await st('hard')).ino, data.ino, `${where}: hard link is a link`);
  assert.equal((await st('sub/hard2')).ino, data.ino, `${where}: nested hard link is a link`);
  assert.equal(data.nlink, 3, `${where}: three names, one inode`);
  assert.equal(data.mtimeMs, MTIME * 1000, `${where}: mtime`);
  assert.equal((await sh('getfattr', '--only-values', '-n', 'user.test', join(dir, 'data'))), 'kept', `${where}: user xattr`);
  assert.match(await sh('getcap', join(dir, 'ping')), /cap_net_raw[=+]ep/, `${where}: file capability`);
  const owned = await st('owned');
  assert.deepEqual([owned.uid, owned.gid], [12345, 23456], `${where}: numeric owner`);
  assert.equal((await st('suid')).mode & 0o7777, 0o4755, `${where}: setuid`);
  assert.equal((await st('sgid')).mode & 0o7777, 0o2775, `${where}: setgid`);
  assert.equal((await st('sticky')).mode & 0o7777, 0o1777, `${where}: sticky`);
  assert.ok((await st('abs-link')).isSymbolicLink(), `${where}: symlink`);
}

/** What a container sees of the tree at `path` (busybox in the container). */
const INSIDE = (path: string): string =>
  [
    `cd ${path}`,
    'test -p fifo',
    'test -c whiteout',
    'test -c null',
    'test -b loop',
    '[ "$(stat -c %i data)" = "$(stat -c %i hard)" ]',
    '[ "$(stat -c %u:%g owned)" = 12345:23456 ]',
    'test -u suid',
    'test -g sgid',
    'test -k sticky',
  ].join(' && ');

describe('archives keep a filesystem whole (real containers)', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let rootfs: string;
  let snapshot: HostSnapshot;
  const made: Container[] = [];
  const vols: Volume[] = [];

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-archives-');
    rootfs = (await makeBusyboxRootfs({ parent: roots.dir })).path;
    await populate(join(rootfs, 'fidelity'));
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
  });

  after(async () => {
    for (const c of made) await rt.removeContainer(c, { force: true, timeout: 0 });
    for (const v of vols) await rt.removeVolume(v, { force: true, timeout: 0 });
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  async function runIn(volume: string, script: string): Promise<number> {
    const c = await must(rt.newContainer({ rootfs, command: ['/bin/sh', '-c', script], volumes: [{ name: volume, dest: '/data' }] }));
    made.push(c);
    await must(c.start());
    return must(c.wait());
  }

  it('container export → volume import → volume export → import', async () => {
    const c = await must(rt.newContainer({ rootfs, command: ['/bin/sleep', '1000'] }));
    made.push(c);
    await must(c.start());
    const exported = join(roots.dir, 'ctr.tar');
    await must(c.export(exported));
    await must(c.stop({ timeout: 0 }));

    const first = await must(rt.newVolume({ name: 'from-export' }));
    vols.push(first);
    await must(first.import(exported));
    await assertWhole(join(first.mountPoint(), 'fidelity'), 'export → volume import');

    const again = join(roots.dir, 'vol.tar');
    await must(first.export(again));
    const second = await must(rt.newVolume({ name: 'from-volume' }));
    vols.push(second);
    await must(second.import(again));
    await assertWhole(join(second.mountPoint(), 'fidelity'), 'volume export → import');
    assert.equal(await runIn('from-volume', INSIDE('/data/fidelity')), 0, 'a container sees the same tree');
  });

  it('copy-up into a new volume keeps the tree whole', async () => {
    vols.push(await must(rt.newVolume({ name: 'copied-up' })));
    const c = await must(rt.newContainer({ rootfs, command: ['/bin/sh', '-c', INSIDE('/fidelity')], volumes: [{ name: 'copied-up', dest: '/fidelity' }] }));
    made.push(c);
    await must(c.start());
    assert.equal(await must(c.wait()), 0, 'the container sees the copied tree');
    const vol = await must(rt.lookupVolume('copied-up'));
    await assertWhole(vol.mountPoint(), 'copy-up');
  });
});

describe('checkpoint rootfs diff keeps a filesystem whole (FakeOciRuntime, real overlay)', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let rootfs: string;
  let snapshot: HostSnapshot;

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-ckpt-diff-');
    rootfs = (await makeBusyboxRootfs({ parent: roots.dir })).path;
    await mkdir(join(rootfs, 'opaque', 'old'), { recursive: true });
    await writeFile(join(rootfs, 'opaque', 'old', 'file'), 'lower');
    await writeFile(join(rootfs, 'doomed'), 'lower');
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot, ociRuntime: new FakeOciRuntime() }));
  });

  after(async () => {
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir] });
    await roots.cleanup();
  });

  it('checkpoint with targetFile → wiped upper layer → restore brings every change back', async () => {
    const c = await must(rt.newContainer({ rootfs, command: ['/bin/sleep', '1000'], rootfsOverlay: true }));
    try {
      await checkpointRoundTrip(c);
    } finally {
      await rt.removeContainer(c, { force: true, timeout: 0 });
    }
  });

  async function checkpointRoundTrip(c: Container): Promise<void> {
    await must(c.start());
    const merged = await must(c.mount());
    await populate(join(merged, 'fidelity'), { whiteout: false });
    await rm(join(merged, 'doomed')); // a whiteout (char 0/0) in the upper layer
    await rm(join(merged, 'opaque'), { recursive: true }); // a directory made again: opaque
    await mkdir(join(merged, 'opaque'));
    await writeFile(join(merged, 'opaque', 'new'), 'upper');
    const upper = containerPaths(roots.root, roots.runRoot, c.id).overlayUpper;
    assert.equal(await sh('getfattr', '--only-values', '-n', 'trusted.overlay.opaque', join(upper, 'opaque')), 'y', 'overlay made the directory opaque');
    await must(c.unmount());

    const target = join(roots.dir, 'checkpoint.tar');
    await must(c.checkpoint({ targetFile: target }));
    for (const name of await readdir(upper)) await rm(join(upper, name), { recursive: true, force: true });
    await must(c.restore({ targetFile: target }));

    await assertWhole(join(upper, 'fidelity'), 'checkpoint rootfs diff', { whiteout: false });
    const doomed = await lstat(join(upper, 'doomed'));
    assert.ok(doomed.isCharacterDevice() && doomed.rdev === 0, 'the whiteout is back');
    assert.equal(await sh('getfattr', '--only-values', '-n', 'trusted.overlay.opaque', join(upper, 'opaque')), 'y', 'the opaque xattr is back');
    const view = await must(c.mount());
    assert.deepEqual(await readdir(join(view, 'opaque')), ['new'], 'the lower directory stays hidden');
    assert.equal((await readdir(view)).includes('doomed'), false, 'the deleted file stays deleted');
    await must(c.unmount());
  }
});
