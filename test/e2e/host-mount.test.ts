/**
 * mount(2) / umount2(2) through koffi (`src/host/mount.ts`), as the overlay
 * driver and overlay rootfs unmounts use them instead of spawning `mount` /
 * `umount`: an overlay mounts and unmounts, failures resolve `false` (the
 * callers then fall back to the programs). Root only; leaves no mount.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mountSyscall, umountSyscall } from '../../src/host/mount.js';
import { isMountPoint } from '../../src/host/mountinfo.js';
import { must } from '../support/engine.js';

const root = process.getuid?.() === 0;

describe('mount(2) and umount2(2) without a process', { skip: !root && 'needs root' }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpts-mount-'));
    for (const d of ['lower', 'upper', 'work', 'merged']) await mkdir(join(dir, d));
    await writeFile(join(dir, 'lower', 'f'), 'lower\n');
  });
  after(async () => {
    if (await must(isMountPoint(join(dir, 'merged')))) await umountSyscall(join(dir, 'merged'));
    assert.equal(await must(isMountPoint(join(dir, 'merged'))), false, 'no mount left');
    await rm(dir, { recursive: true, force: true });
  });

  it('mounts an overlay and unmounts it', async () => {
    const merged = join(dir, 'merged');
    const ok = await mountSyscall('overlay', merged, `lowerdir=${join(dir, 'lower')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`);
    assert.equal(ok, true);
    assert.equal(await must(isMountPoint(merged)), true);
    assert.equal(await readFile(join(merged, 'f'), 'utf8'), 'lower\n');
    await writeFile(join(merged, 'g'), 'upper\n');
    assert.equal(await umountSyscall(merged), true);
    assert.equal(await must(isMountPoint(merged)), false);
    assert.equal(await readFile(join(dir, 'upper', 'g'), 'utf8'), 'upper\n', 'writes went to the upper dir');
  });

  it('failures resolve false (bad options, nothing mounted)', async () => {
    const merged = join(dir, 'merged');
    assert.equal(await mountSyscall('overlay', merged, `lowerdir=${join(dir, 'missing')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`), false);
    assert.equal(await must(isMountPoint(merged)), false);
    assert.equal(await umountSyscall(merged), false);
  });
});
