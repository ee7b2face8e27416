/**
 * Archives keep a filesystem whole, through the public API on the fake
 * runtime (no root needed): container export and volume export / import
 * store hard links as links and FIFOs as FIFOs, keep setuid bits and
 * mtimes, and a volume import never follows a symlink already in the
 * volume. (Devices, xattrs and owners need root: test/e2e/archives.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, link, lstat, mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

/** Typeflags by name, read from a tar (ustar names and PAX `path` records). */
function typesOf(tar: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  let paxPath: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
      continue;
    }
    const name = (paxPath ?? h.toString('utf8', 0, 100).replace(/\0.*$/s, '')).replace(/^\.\//, '').replace(/\/$/, '');
    paxPath = undefined;
    out.set(name, type);
  }
  return out;
}

async function collect(stream: PassThrough): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Fills `dir` with what a filesystem holds beyond plain files. */
async function populate(dir: string): Promise<void> {
  await mkdir(join(dir, 'sub'), { recursive: true });
  await writeFile(join(dir, 'data'), 'shared');
  await link(join(dir, 'data'), join(dir, 'sub', 'hard'));
  execFileSync('mkfifo', [join(dir, 'pipe')]);
  await symlink('/etc/passwd', join(dir, 'abs-link'));
  await chmod(join(dir, 'data'), 0o4711);
  await utimes(join(dir, 'data'), 1_234_567_890, 1_234_567_890);
}

async function checkPopulated(dir: string): Promise<void> {
  const data = await lstat(join(dir, 'data'));
  const hard = await lstat(join(dir, 'sub', 'hard'));
  assert.equal(hard.ino, data.ino, 'the hard link is a link, not a copy');
  assert.equal(data.nlink, 2);
  assert.ok((await lstat(join(dir, 'pipe'))).isFIFO(), 'the FIFO is kept');
  assert.ok((await lstat(join(dir, 'abs-link'))).isSymbolicLink());
  assert.equal(data.mode & 0o7777, 0o4711, 'setuid kept');
  assert.equal(data.mtimeMs, 1_234_567_890_000, 'mtime kept');
}

describe('archives keep a filesystem whole (fake runtime)', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('container export stores hard links as links and FIFOs as FIFOs', async () => {
    await populate(e.rootfs);
    const c = await e.create();
    const out = new PassThrough();
    const [tar] = await Promise.all([collect(out), must(c.export(out))]);
    const types = typesOf(tar);
    assert.equal(types.get('pipe'), '6', 'FIFO entry');
    assert.deepEqual([types.get('data'), types.get('sub/hard')].sort(), ['0', '1'], 'one file, one hard link to it');
    assert.equal(types.get('abs-link'), '2');
  });

  it('volume export then import keeps hard links, FIFOs, setuid bits and mtimes', async () => {
    const src = await must(e.runtime.newVolume({ name: 'src' }));
    await populate(src.mountPoint());
    const file = join(e.root, 'vol.tar');
    await must(src.export(file));
    const dst = await must(e.runtime.newVolume({ name: 'dst' }));
    await must(dst.import(file));
    await checkPopulated(dst.mountPoint());
  });

  it('volume import never follows a symlink already in the volume', async () => {
    const outside = join(e.root, 'host-dir');
    await mkdir(outside);
    await writeFile(join(outside, 'file'), 'host');
    const src = await must(e.runtime.newVolume({ name: 'evil-src' }));
    await mkdir(join(src.mountPoint(), 'x'));
    await writeFile(join(src.mountPoint(), 'x', 'planted'), 'pwned');
    const out = new PassThrough();
    const [tar] = await Promise.all([collect(out), must(src.export(out))]);

    const vol = await must(e.runtime.newVolume({ name: 'victim' }));
    await symlink(outside, join(vol.mountPoint(), 'x'));
    const err = await mustFail(vol.import(Readable.from([tar])));
    assert.equal(err.code, 'InvalidArg');
    assert.deepEqual(await readdir(outside), ['file'], 'nothing written through the link');
    assert.equal(await readFile(join(outside, 'file'), 'utf8'), 'host');
    assert.ok((await lstat(join(vol.mountPoint(), 'x'))).isSymbolicLink(), 'the link is left as it was');
  });
});
