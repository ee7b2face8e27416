import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mkdirInRoot, secureJoin } from '../../src/util/secure-join.js';
import { resolveUser } from '../../src/container/user.js';

let dir: string;
let root: string;
let host: string;

function joined(path: string): string {
  const r = secureJoin(root, path);
  if (r.isErr()) assert.fail(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-securejoin-'));
  root = join(dir, 'root');
  host = join(dir, 'host');
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(root, 'usr', 'lib'), { recursive: true });
  await mkdir(host);
  await writeFile(join(host, 'secret'), 'host only');
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await symlink('/etc', join(root, 'abs-etc'));
  await symlink('../../../../../../etc', join(root, 'usr', 'rel-up'));
  await symlink(host, join(root, 'to-host'));
  await symlink('abs-etc', join(root, 'chain'));
  await symlink('/usr/lib', join(root, 'lib'));
  await symlink('loop-b', join(root, 'loop-a'));
  await symlink('loop-a', join(root, 'loop-b'));
  await symlink('self', join(root, 'self'));
  await symlink('/etc/passwd', join(root, 'file-link'));
});

after(() => rm(dir, { recursive: true, force: true }));

describe('secureJoin (filepath-securejoin semantics)', () => {
  it('joins plain paths, with or without a leading slash, dropping . and empty components', () => {
    assert.equal(joined('/etc/passwd'), join(root, 'etc/passwd'));
    assert.equal(joined('etc//./passwd'), join(root, 'etc/passwd'));
    assert.equal(joined(''), root);
    assert.equal(joined('/'), root);
  });

  it('clamps .. at the root', () => {
    assert.equal(joined('../../../etc/passwd'), join(root, 'etc/passwd'));
    assert.equal(joined('/usr/../../..'), root);
  });

  it('resolves absolute link targets inside the root', () => {
    assert.equal(joined('/abs-etc/passwd'), join(root, 'etc/passwd'));
    assert.equal(joined('/to-host/secret'), join(root, host, 'secret'), 'a link to a host path is that path inside the root');
    assert.equal(joined('/chain/passwd'), join(root, 'etc/passwd'));
    assert.equal(joined('/lib/x'), join(root, 'usr/lib/x'));
  });

  it('clamps relative targets that climb above the root', () => {
    assert.equal(joined('/usr/rel-up/passwd'), join(root, 'etc/passwd'));
  });

  it('resolves .. after a link against the link target, as the kernel does', () => {
    assert.equal(joined('/lib/../x'), join(root, 'usr/x'));
  });

  it('appends what does not exist, and what follows a file, without resolving it', () => {
    assert.equal(joined('/missing/a/b'), join(root, 'missing/a/b'));
    assert.equal(joined('/etc/passwd/below'), join(root, 'etc/passwd/below'));
    assert.equal(joined('/file-link'), join(root, 'etc/passwd'));
  });

  it('a symlink loop is InvalidArg', () => {
    for (const p of ['/loop-a', '/loop-b/x', '/self', '/usr/../self/..']) {
      const r = secureJoin(root, p);
      assert.ok(r.isErr(), `${p} resolved`);
      assert.equal(r.error.code, 'InvalidArg');
    }
  });

  it('NUL bytes and non-strings are InvalidArg', () => {
    assert.equal(secureJoin(root, 'a\0b')._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal(secureJoin(root, 42 as unknown as string)._unsafeUnwrapErr().code, 'InvalidArg');
  });
});

describe('mkdirInRoot', () => {
  it('creates directories through an absolute link inside the root, never on the host', async () => {
    const made = mkdirInRoot(root, '/to-host/new/deeper')._unsafeUnwrap();
    assert.equal(made, join(root, host, 'new/deeper'));
    assert.ok((await stat(made)).isDirectory());
    assert.deepEqual(await readdir(host), ['secret'], 'the host directory is untouched');
  });

  it('an existing directory is fine; a file in the way is InvalidArg; a loop is InvalidArg', async () => {
    assert.equal(mkdirInRoot(root, '/etc')._unsafeUnwrap(), join(root, 'etc'));
    assert.equal(mkdirInRoot(root, '/etc/passwd')._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal(mkdirInRoot(root, '/etc/passwd/x')._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal(mkdirInRoot(root, '/loop-a/x')._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal(existsSync(join(root, 'loop-a', 'x')), false);
  });
});

describe('user lookup through links', () => {
  it('an /etc/passwd link loop counts as no passwd: numeric users still resolve, names are InvalidArg', async () => {
    const r2 = join(dir, 'root2');
    await mkdir(join(r2, 'etc'), { recursive: true });
    await symlink('/etc/passwd', join(r2, 'etc', 'passwd'));
    assert.equal(resolveUser(r2, '1000')._unsafeUnwrap().uid, 1000);
    assert.equal(resolveUser(r2, 'root')._unsafeUnwrapErr().code, 'InvalidArg');
  });

  it('an /etc link to a host directory reads the rootfs copy of that path, not the host', async () => {
    const r3 = join(dir, 'root3');
    await mkdir(join(r3, host, 'etc'), { recursive: true });
    await writeFile(join(host, 'passwd'), 'hostuser:x:4242:4242::/:/bin/sh\n');
    await writeFile(join(r3, host, 'passwd'), 'inroot:x:77:77::/in:/bin/sh\n');
    await symlink(host, join(r3, 'etc'));
    assert.equal(resolveUser(r3, 'hostuser')._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal(resolveUser(r3, 'inroot')._unsafeUnwrap().uid, 77);
  });
});
