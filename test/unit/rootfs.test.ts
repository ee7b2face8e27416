import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dirSize } from '../../src/container/rootfs.js';
import { isMountPoint, parseMountInfo } from '../../src/host/mountinfo.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-rootfs-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dirSize', () => {
  it('sums files once per inode and never follows symlinks', async () => {
    const root = join(dir, 'tree');
    await mkdir(join(root, 'a/b'), { recursive: true });
    await writeFile(join(root, 'a/one'), Buffer.alloc(1000));
    await writeFile(join(root, 'a/b/two'), Buffer.alloc(24));
    await link(join(root, 'a/one'), join(root, 'hard'));
    await symlink('/usr', join(root, 'usr-link'));
    const size = (await dirSize(root))._unsafeUnwrap();
    assert.equal(size, 1000 + 24 + '/usr'.length);
  });

  it('is 0 for a missing path', async () => {
    assert.equal((await dirSize(join(dir, 'missing')))._unsafeUnwrap(), 0);
  });
});

describe('mount info', () => {
  it('parses mount points, unescaping octal sequences', () => {
    const text = [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '99 22 0:50 / /tmp/with\\040space rw - overlay overlay rw,lowerdir=/l',
    ].join('\n');
    assert.deepEqual(parseMountInfo(text).map((m) => m.mountPoint), ['/', '/tmp/with space']);
  });

  it('knows / is mounted and a plain directory is not', async () => {
    assert.equal((await isMountPoint('/'))._unsafeUnwrap(), true);
    assert.equal((await isMountPoint(dir))._unsafeUnwrap(), false);
  });
});
