/**
 * Paths the engine resolves inside a container's rootfs never leave it:
 * volume copy-up sources and the working directory (fake runtime; the
 * kernel is not the point).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

describe('paths inside the rootfs', () => {
  let e: FakeEngine;
  let host: string;

  before(async () => {
    e = await fakeEngine();
    host = await mkdtemp(join(tmpdir(), 'libpod-host-dir-'));
    await mkdir(join(host, 'x'));
    await writeFile(join(host, 'x', 'secret'), 'host only');
    await symlink(host, join(e.rootfs, 'srv'));
    await mkdir(join(e.rootfs, 'in-root', 'x'), { recursive: true });
    await writeFile(join(e.rootfs, 'in-root', 'x', 'image-file'), 'from the image');
    await symlink('/in-root', join(e.rootfs, 'opt'));
    await writeFile(join(e.rootfs, 'a-file'), '');
    await symlink('loop2', join(e.rootfs, 'loop1'));
    await symlink('loop1', join(e.rootfs, 'loop2'));
  });

  after(async () => {
    await e.dispose();
    await rm(host, { recursive: true, force: true });
  });

  it('copy-up through /srv -> <host dir> copies nothing from the host', async () => {
    const c = await e.create({ volumes: [{ name: 'escape', dest: '/srv/x' }] });
    await must(c.start());
    const vol = await must(e.runtime.lookupVolume('escape'));
    assert.deepEqual(await readdir(vol.mountPoint()), []);
    assert.deepEqual(await readdir(join(host, 'x')), ['secret'], 'the host directory is untouched');
    await must(c.stop({ timeout: 0 }));
  });

  it('copy-up follows links that stay inside the rootfs', async () => {
    const c = await e.create({ volumes: [{ name: 'inside', dest: '/opt/x' }] });
    await must(c.start());
    const vol = await must(e.runtime.lookupVolume('inside'));
    assert.deepEqual(await readdir(vol.mountPoint()), ['image-file']);
    await must(c.stop({ timeout: 0 }));
  });

  it('a copy-up source behind a symlink loop fails the start with InvalidArg', async () => {
    const c = await e.create({ volumes: [{ name: 'loopy', dest: '/loop1/x' }] });
    assert.equal((await mustFail(c.start())).code, 'InvalidArg');
  });

  it('a missing working directory is created inside the rootfs, also through a link to a host path', async () => {
    const a = await e.create({ workDir: '/work/dir' });
    await must(a.init());
    assert.ok((await stat(join(e.rootfs, 'work', 'dir'))).isDirectory());
    const b = await e.create({ workDir: '/srv/made-here' });
    await must(b.init());
    assert.ok((await stat(join(e.rootfs, host, 'made-here'))).isDirectory());
    assert.deepEqual(await readdir(host), ['x'], 'the host directory is untouched');
  });

  it('a working directory that is a file, or behind a loop, is InvalidArg at init', async () => {
    const a = await e.create({ workDir: '/a-file' });
    assert.equal((await mustFail(a.init())).code, 'InvalidArg');
    const b = await e.create({ workDir: '/loop1/w' });
    assert.equal((await mustFail(b.init())).code, 'InvalidArg');
  });

  it('a working directory on a volume is left to the OCI runtime', async () => {
    const c = await e.create({ workDir: '/data/sub', volumes: [{ name: 'wd', dest: '/data' }] });
    await must(c.init());
    await assert.rejects(stat(join(e.rootfs, 'data')));
  });
});
