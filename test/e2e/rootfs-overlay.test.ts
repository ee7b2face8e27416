import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dirSize, mountOverlay, unmountOverlay } from '../../src/container/rootfs.js';
import { isMountPoint as isMounted, parseMountInfo } from '../../src/host/mountinfo.js';

const isRoot = process.getuid?.() === 0;
let dir: string;
let lower: string;
let upper: string;
let work: string;
let merged: string;

async function mountCount(path: string): Promise<number> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).filter((m) => m.mountPoint === path).length;
}

describe('overlay root filesystem', { skip: isRoot ? false : 'needs root' }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'libpod-overlay-'));
    [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(dir, d)) as [string, string, string, string];
    for (const d of [lower, upper, work, merged]) await mkdir(d);
    await mkdir(join(lower, 'etc'));
    await writeFile(join(lower, 'etc/hostname'), 'lower\n');
    await writeFile(join(lower, 'doomed'), 'bye');
  });

  after(async () => {
    await unmountOverlay(merged);
    await rm(dir, { recursive: true, force: true });
  });

  it('mounts, sends writes to the upper layer and leaves the lower one alone', async () => {
    const r = await mountOverlay(lower, upper, work, merged);
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    assert.equal((await isMounted(merged))._unsafeUnwrap(), true);
    assert.equal(await readFile(join(merged, 'etc/hostname'), 'utf8'), 'lower\n');

    await writeFile(join(merged, 'etc/hostname'), 'changed\n');
    await writeFile(join(merged, 'new-file'), 'fresh');
    await unlink(join(merged, 'doomed'));

    assert.equal(await readFile(join(upper, 'etc/hostname'), 'utf8'), 'changed\n');
    assert.equal(await readFile(join(upper, 'new-file'), 'utf8'), 'fresh');
    assert.ok((await stat(join(upper, 'doomed'))).isCharacterDevice(), 'a whiteout marks the deletion');
    assert.equal(await readFile(join(lower, 'etc/hostname'), 'utf8'), 'lower\n');
    assert.equal(await readFile(join(lower, 'doomed'), 'utf8'), 'bye');
    assert.deepEqual((await readdir(lower)).sort(), ['doomed', 'etc']);
    assert.ok(((await dirSize(upper))._unsafeUnwrap()) >= 'changed\n'.length + 'fresh'.length);
  });

  it('does not stack a second mount', async () => {
    assert.ok((await mountOverlay(lower, upper, work, merged)).isOk());
    assert.equal(await mountCount(merged), 1);
  });

  it('unmounts completely, and unmounting again is fine', async () => {
    assert.ok((await unmountOverlay(merged)).isOk());
    assert.equal(await mountCount(merged), 0);
    assert.equal((await isMounted(merged))._unsafeUnwrap(), false);
    assert.deepEqual(await readdir(merged), []);
    assert.ok((await unmountOverlay(merged)).isOk());
  });

  it('refuses relative paths and option separators', async () => {
    const code = async (l: string, m: string) => {
      const r = await mountOverlay(l, upper, work, m);
      return r.isErr() ? r.error.code : 'ok';
    };
    assert.equal(await code('lower', merged), 'InvalidArg');
    assert.equal(await code(`${lower},upperdir=/etc`, merged), 'InvalidArg');
    assert.equal(await code(lower, 'merged'), 'InvalidArg');
    assert.equal(await mountCount(merged), 0);
  });
});
