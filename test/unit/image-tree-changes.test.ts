import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, rm, symlink, unlink, utimes, writeFile, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { treeChanges } from '../../src/image/commit/tree-changes.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-tree-changes-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('treeChanges (vfs commit diff)', () => {
  it('finds new, changed, retyped and deleted paths, and nothing in an unchanged copy', async () => {
    const lower = join(dir, 'lower');
    await mkdir(join(lower, 'etc/dir'), { recursive: true });
    await mkdir(join(lower, 'gone/sub'), { recursive: true });
    await writeFile(join(lower, 'etc/a'), 'A');
    await writeFile(join(lower, 'etc/same'), 'S');
    await writeFile(join(lower, 'etc/dir/x'), 'X');
    await writeFile(join(lower, 'retype'), 'file');
    await symlink('target', join(lower, 'link'));
    const upper = join(dir, 'upper');
    await cp(lower, upper, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    assert.deepEqual(await treeChanges(lower, upper), { changed: [], deleted: [] });

    await writeFile(join(upper, 'etc/a'), 'AA');
    await unlink(join(upper, 'etc/dir/x'));
    await mkdir(join(upper, 'new/deep'), { recursive: true });
    await writeFile(join(upper, 'new/deep/f'), 'F');
    await rm(join(upper, 'gone'), { recursive: true });
    await unlink(join(upper, 'retype'));
    await mkdir(join(upper, 'retype'));
    await unlink(join(upper, 'link'));
    await symlink('elsewhere', join(upper, 'link'));
    await chmod(join(upper, 'etc/same'), 0o600);
    const c = await treeChanges(lower, upper);
    assert.deepEqual(c.changed.sort(), ['etc/a', 'etc/same', 'link', 'new', 'retype']);
    assert.deepEqual(c.deleted.sort(), ['etc/dir/x', 'gone', 'retype']);
  });

  it('a touched file (same size, new mtime) is changed; a missing lower means everything is new', async () => {
    const lower = join(dir, 'l2');
    await mkdir(lower);
    await writeFile(join(lower, 'f'), 'x');
    const upper = join(dir, 'u2');
    await cp(lower, upper, { recursive: true, preserveTimestamps: true });
    await utimes(join(upper, 'f'), new Date(1000), new Date(1000));
    assert.deepEqual((await treeChanges(lower, upper)).changed, ['f']);
    assert.deepEqual(await treeChanges(undefined, upper), { changed: ['f'], deleted: [] });
    await rmdir(join(dir, 'l2')).catch(() => undefined);
  });
});
