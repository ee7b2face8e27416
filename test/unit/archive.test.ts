import assert from 'node:assert/strict';
import { chmod, chown, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { copyTree, exportTree as exportRootfs, extractTree as extractTar, packTree as tarDirectory, type ArchiveEntry } from '../../src/archive/index.js';
import { readCheckpointArchive, writeCheckpointArchive } from '../../src/container/checkpoint-archive.js';

const isRoot = process.getuid?.() === 0;
let dir: string;
let tree: string;
let n = 0;

/** A fresh directory under the test's temp dir. */
async function fresh(label: string): Promise<string> {
  n += 1;
  const d = join(dir, `${label}-${n}`);
  await mkdir(d);
  return d;
}

// --- a minimal ustar reader/writer, independent of the code under test ---

interface Entry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  data: Buffer;
}

const str = (b: Buffer, off: number, len: number): string => b.toString('utf8', off, off + len).replace(/\0.*$/s, '');
const oct = (b: Buffer, off: number, len: number): number => parseInt(str(b, off, len).trim() || '0', 8);

function parseTar(buf: Buffer): Entry[] {
  const out: Entry[] = [];
  let off = 0;
  let paxPath: string | undefined;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = oct(h, 124, 12);
    const type = String.fromCharCode(h[156] || 48);
    const prefix = str(h, 345, 155);
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      paxPath = m?.[1];
      continue;
    }
    const name = paxPath ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    paxPath = undefined;
    out.push({ name: name.replace(/\/$/, ''), type, mode: oct(h, 100, 8), uid: oct(h, 108, 8), gid: oct(h, 116, 8), size, linkname: str(h, 157, 100), data: Buffer.from(data) });
  }
  return out;
}

function header(name: string, type: string, opts: { size?: number; linkname?: string; mode?: number } = {}): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write(`${(opts.mode ?? (type === '5' ? 0o755 : 0o644)).toString(8).padStart(7, '0')}\0`, 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${(opts.size ?? 0).toString(8).padStart(11, '0')}\0`, 124);
  h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
  h.write('        ', 148);
  h.write(type, 156);
  if (opts.linkname) h.write(opts.linkname, 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const x of h) sum += x;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

type Spec = { name: string; type: 'file' | 'dir' | 'symlink' | 'link'; content?: string; linkname?: string };

function makeTar(entries: Spec[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = { file: '0', dir: '5', symlink: '2', link: '1' }[e.type];
    const body = Buffer.from(e.content ?? '');
    parts.push(header(e.name, type, { size: e.type === 'file' ? body.length : 0, linkname: e.linkname }));
    if (e.type === 'file' && body.length > 0) parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

async function streamToBuffer(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

const byName = (entries: Entry[]) => new Map(entries.map((e) => [e.name, e]));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-archive-'));
  // the tree every test exports or copies
  tree = join(dir, 'tree');
  await mkdir(join(tree, 'etc'), { recursive: true });
  await mkdir(join(tree, 'tmp'));
  await chmod(join(tree, 'tmp'), 0o1777);
  await writeFile(join(tree, 'etc/hostname'), 'box\n');
  await chmod(join(tree, 'etc/hostname'), 0o640);
  await writeFile(join(tree, 'etc/secret'), 'shh');
  await chmod(join(tree, 'etc/secret'), 0o4750);
  if (isRoot) await chown(join(tree, 'etc/hostname'), 1234, 5678);
  await symlink('/etc/passwd', join(tree, 'passwd-link'));
  await symlink('/etc', join(tree, 'etc-outside'));
  await symlink('hostname', join(tree, 'etc/name'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('exportRootfs', () => {
  it('writes relative entries, keeps links as links, ownership and modes', async () => {
    const out = join(await fresh('export'), 'rootfs.tar');
    const r = await exportRootfs(tree, out);
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    const entries = byName(parseTar(await readFile(out)));
    for (const name of entries.keys()) assert.ok(!name.startsWith('/') && !name.startsWith('..'), name);
    const pw = entries.get('passwd-link')!;
    assert.equal(pw.type, '2');
    assert.equal(pw.linkname, '/etc/passwd');
    assert.equal(pw.size, 0, 'the link target is not read');
    assert.equal(entries.get('etc-outside')!.type, '2');
    assert.ok(![...entries.keys()].some((k) => k.startsWith('etc-outside/')), 'a symlinked directory is not followed');
    assert.equal(entries.get('etc/name')!.linkname, 'hostname');
    const host = entries.get('etc/hostname')!;
    assert.equal(host.data.toString(), 'box\n');
    assert.equal(host.mode & 0o7777, 0o640);
    if (isRoot) assert.deepEqual([host.uid, host.gid], [1234, 5678]);
    assert.equal(entries.get('tmp')!.mode & 0o7777, 0o1777);
    assert.equal(entries.get('etc/secret')!.mode & 0o7777, 0o4750);
    assert.deepEqual(await readdir(join(out, '..')), ['rootfs.tar'], 'no temporary file left');
  });

  it('replaces an existing file and writes to a stream', async () => {
    const d = await fresh('export');
    const out = join(d, 'rootfs.tar');
    await writeFile(out, 'old');
    assert.ok((await exportRootfs(tree, out)).isOk());
    assert.ok(parseTar(await readFile(out)).length > 5);
    const sink = new PassThrough();
    const collected = streamToBuffer(sink);
    assert.ok((await exportRootfs(tree, sink)).isOk());
    assert.ok(byName(parseTar(await collected)).has('etc/hostname'));
  });

  it('refuses a directory destination, a missing parent and a missing source', async () => {
    const d = await fresh('export');
    const code = async (src: string, dest: string) => {
      const r = await exportRootfs(src, dest);
      return r.isErr() ? r.error.code : 'ok';
    };
    assert.equal(await code(tree, d), 'InvalidArg');
    assert.equal(await code(tree, join(d, 'no/such/dir/out.tar')), 'InvalidArg');
    assert.equal(await code(join(dir, 'missing'), join(d, 'out.tar')), 'InvalidArg');
    assert.deepEqual(await readdir(d), []);
  });
});

describe('extractTar', () => {
  it('round-trips an exported tree, special mode bits included', async () => {
    const dest = await fresh('extract');
    const r = await extractTar(tarDirectory(tree), dest);
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    assert.equal(await readFile(join(dest, 'etc/hostname'), 'utf8'), 'box\n');
    assert.equal(await readlink(join(dest, 'passwd-link')), '/etc/passwd');
    assert.equal(await readlink(join(dest, 'etc/name')), 'hostname');
    assert.equal((await stat(join(dest, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal((await stat(join(dest, 'etc/secret'))).mode & 0o7777, 0o4750);
    assert.equal((await stat(join(dest, 'etc/hostname'))).mode & 0o7777, 0o640);
    if (isRoot) assert.equal((await stat(join(dest, 'etc/hostname'))).uid, 1234);
  });

  it('extracts only the given entries of a tree', async () => {
    const dest = await fresh('extract');
    assert.ok((await extractTar(tarDirectory(tree, { entries: ['etc'] }), dest)).isOk());
    assert.deepEqual((await readdir(dest)).sort(), ['etc']);
  });

  it('refuses entries that escape, and writes nothing outside', async () => {
    const outside = await fresh('outside');
    const attempts: Record<string, Spec[]> = {
      'dot-dot': [{ name: '../escaped', type: 'file', content: 'x' }],
      'nested dot-dot': [{ name: 'a/../../escaped', type: 'file', content: 'x' }],
      absolute: [{ name: `${outside}/escaped`, type: 'file', content: 'x' }],
      'relative symlink out': [{ name: 'sub/l', type: 'symlink', linkname: '../../escaped' }],
      'hard link out': [{ name: 'h', type: 'link', linkname: '../escaped' }],
      'hard link absolute': [{ name: 'h', type: 'link', linkname: '/etc/passwd' }],
      'hard link through a symlink': [
        { name: 'sys', type: 'symlink', linkname: '/etc' },
        { name: 'h', type: 'link', linkname: 'sys/passwd' },
      ],
      'write through a symlink': [
        { name: 'o', type: 'symlink', linkname: outside },
        { name: 'o/escaped', type: 'file', content: 'x' },
      ],
      'directory over a symlink': [
        { name: 'o', type: 'symlink', linkname: outside },
        { name: 'o', type: 'dir' },
      ],
    };
    for (const [label, entries] of Object.entries(attempts)) {
      const dest = join(await fresh('victim'), 'root');
      await mkdir(dest);
      const r = await extractTar(Readable.from([makeTar(entries)]), dest);
      assert.ok(r.isErr(), `${label}: expected a refusal`);
      assert.equal(r.error.code, 'InvalidArg', `${label}: ${r.error.message}`);
      assert.equal(existsSync(join(dest, '..', 'escaped')), false, label);
      assert.deepEqual(await readdir(outside), [], label);
      assert.equal((await stat(outside)).mode & 0o777, 0o755, `${label}: outside dir untouched`);
    }
  });

  it('never follows a symlink already in the target', async () => {
    const outside = await fresh('outside');
    await writeFile(join(outside, 'file'), 'host data');
    const victim = async (): Promise<string> => {
      const dest = join(await fresh('victim'), 'root');
      await mkdir(dest);
      await symlink(outside, join(dest, 'x'));
      await symlink(join(outside, 'file'), join(dest, 'y'));
      await symlink('../..', join(dest, 'up'));
      return dest;
    };
    const refused: Record<string, Spec[]> = {
      'a file under it': [{ name: 'x/escaped', type: 'file', content: 'x' }],
      'a file under it, named with ./': [{ name: './x/escaped', type: 'file', content: 'x' }],
      'a file under a relative one': [{ name: 'up/escaped', type: 'file', content: 'x' }],
      'a directory over it': [{ name: 'x', type: 'dir' }],
      'a directory under it': [{ name: 'x/sub', type: 'dir' }],
      'a hard link through it': [{ name: 'h', type: 'link', linkname: 'x/file' }],
      'a hard link under it': [{ name: 'x/h', type: 'link', linkname: 'y' }],
    };
    for (const [label, entries] of Object.entries(refused)) {
      const dest = await victim();
      const r = await extractTar(Readable.from([makeTar(entries)]), dest);
      assert.equal(r.isErr() && r.error.code, 'InvalidArg', label);
      assert.deepEqual((await readdir(outside)).sort(), ['file'], label);
      assert.equal(await readFile(join(outside, 'file'), 'utf8'), 'host data', label);
      assert.equal((await stat(outside)).mode & 0o777, 0o755, `${label}: outside dir untouched`);
    }
    // an entry that replaces the link itself unlinks it: the file it pointed to is untouched
    const dest = await victim();
    const r = await extractTar(Readable.from([makeTar([{ name: 'y', type: 'file', content: 'new' }])]), dest);
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    assert.equal((await lstat(join(dest, 'y'))).isFile(), true);
    assert.equal(await readFile(join(dest, 'y'), 'utf8'), 'new');
    assert.equal(await readFile(join(outside, 'file'), 'utf8'), 'host data');
  });

  it('checks the names PAX records and GNU long names give, not only the header\'s', async () => {
    const outside = await fresh('outside');
    const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    const paxRecord = (key: string, value: string): Buffer => {
      const body = ` ${key}=${value}\n`;
      let len = body.length + 2;
      if (String(len).length + body.length !== len) len += 1;
      return Buffer.from(`${len}${body}`);
    };
    const body = Buffer.from('x');
    const file = Buffer.concat([header('innocent', '0', { size: 1 }), pad(body)]);
    const viaPax = (key: string, value: string): Buffer => {
      const data = paxRecord(key, value);
      return Buffer.concat([header('PaxHeaders/innocent', 'x', { size: data.length }), pad(data), file, Buffer.alloc(1024)]);
    };
    const longName = (type: 'L' | 'K', name: string, entry: Buffer): Buffer => {
      const data = Buffer.from(`${name}\0`);
      return Buffer.concat([header('././@LongLink', type, { size: data.length }), pad(data), entry, Buffer.alloc(1024)]);
    };
    const attempts: Record<string, Buffer> = {
      'PAX path with ..': viaPax('path', '../escaped'),
      'PAX absolute path': viaPax('path', `${outside}/escaped`),
      'GNU long name with ..': longName('L', '../escaped', file),
      'GNU long link name out': longName('K', '../escaped', header('h', '1', { linkname: 'innocent' })),
      'PAX sparse name': viaPax('GNU.sparse.name', '../escaped'),
    };
    for (const [label, bytes] of Object.entries(attempts)) {
      const dest = join(await fresh('victim'), 'root');
      await mkdir(dest);
      const r = await extractTar(Readable.from([bytes]), dest);
      assert.equal(r.isErr() && r.error.code, 'InvalidArg', label);
      assert.equal(existsSync(join(dest, '..', 'escaped')), false, label);
      assert.deepEqual(await readdir(outside), [], label);
    }
    // the same constructions with harmless names are extracted under those names
    const controls: [Buffer, string][] = [
      [viaPax('path', 'from-pax'), 'from-pax'],
      [longName('L', `long-${'n'.repeat(120)}`, file), `long-${'n'.repeat(120)}`],
    ];
    for (const [bytes, name] of controls) {
      const dest = await fresh('control');
      const r = await extractTar(Readable.from([bytes]), dest);
      assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
      assert.deepEqual(await readdir(dest), [name]);
    }
  });

  it('refuses truncated archives, unsupported entry types and links with data', async () => {
    const whole = makeTar([{ name: 'f', type: 'file', content: 'x'.repeat(3000) }]);
    const cases: Record<string, Buffer> = {
      truncated: whole.subarray(0, 1024),
      'sparse entry': Buffer.concat([header('s', 'S'), Buffer.alloc(1024)]),
      'symlink with data': Buffer.concat([header('l', '2', { size: 512, linkname: 'f' }), Buffer.alloc(512), Buffer.alloc(1024)]),
    };
    for (const [label, bytes] of Object.entries(cases)) {
      const dest = await fresh('bad');
      const r = await extractTar(Readable.from([bytes]), dest);
      assert.equal(r.isErr() && r.error.code, 'InvalidArg', label);
    }
  });

  it('shows entries to onEntry and skips the ones filter refuses', async () => {
    const seen: ArchiveEntry[] = [];
    const dest = await fresh('extract');
    const tar = makeTar([
      { name: 'keep', type: 'file', content: 'k' },
      { name: 'skip', type: 'file', content: 's' },
      { name: 'd', type: 'dir' },
      { name: 'skip-link', type: 'link', linkname: 'skip' },
    ]);
    const r = await extractTar(Readable.from([tar]), dest, { filter: (e) => e.name !== 'skip', onEntry: (e) => seen.push(e) });
    assert.ok(r.isOk());
    assert.equal(r.value.entries, 4);
    assert.deepEqual(seen.map((e) => [e.name, e.type]), [['keep', 'file'], ['d', 'directory']]);
    assert.deepEqual((await readdir(dest)).sort(), ['d', 'keep']);
  });

  it('keeps absolute symlinks (rootfs semantics) unless told to contain them', async () => {
    const tar = makeTar([{ name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' }]);
    const dest = await fresh('extract');
    assert.ok((await extractTar(Readable.from([tar]), dest)).isOk());
    assert.equal(await readlink(join(dest, 'bin/sh')), '/bin/busybox');
    const strict = await extractTar(Readable.from([tar]), await fresh('extract'), { symlinks: 'contained' });
    assert.equal(strict.isErr() && strict.error.code, 'InvalidArg');
  });

  it('refuses input that is not a tar', async () => {
    const r = await extractTar(Readable.from([Buffer.from('this is not a tar archive'.repeat(40))]), await fresh('extract'));
    assert.equal(r.isErr() && r.error.code, 'InvalidArg');
  });
});

describe('a filesystem kept whole', () => {
  it('stores hard links as links and FIFOs as FIFOs, and restores them', async () => {
    const src = await fresh('whole-src');
    await writeFile(join(src, 'a'), 'shared');
    await link(join(src, 'a'), join(src, 'b'));
    await mkdir(join(src, 'sub'));
    await link(join(src, 'a'), join(src, 'sub', 'c'));
    execFileSync('mkfifo', [join(src, 'pipe')]);
    await chmod(join(src, 'a'), 0o4755);
    await utimes(join(src, 'a'), 1_000_000_000, 1_000_000_000);
    const long = `${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(60)}`;
    await mkdir(join(src, long), { recursive: true });
    await writeFile(join(src, long, 'deep'), 'deep');
    const entries = byName(parseTar(await streamToBuffer(tarDirectory(src))));
    const links = [...entries.values()].filter((e) => e.type === '1');
    assert.equal(links.length, 2, 'two of the three names are hard links');
    for (const l of links) assert.equal(l.size, 0, 'a hard link stores no data');
    assert.equal(entries.get('pipe')?.type, '6');
    assert.ok(entries.has(`${long}/deep`), 'long names are stored (PAX path)');

    const dest = await fresh('whole-dest');
    const r = await extractTar(tarDirectory(src), dest);
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    const [a, b, c] = await Promise.all(['a', 'b', 'sub/c'].map((n) => lstat(join(dest, n))));
    assert.equal(a!.ino, b!.ino, 'b is a hard link to a');
    assert.equal(a!.ino, c!.ino, 'sub/c is a hard link to a');
    assert.equal(a!.nlink, 3);
    assert.equal(a!.mode & 0o7777, 0o4755, 'setuid kept');
    assert.equal(a!.mtimeMs, 1_000_000_000_000, 'mtime kept');
    assert.ok((await lstat(join(dest, 'pipe'))).isFIFO(), 'the FIFO is a FIFO');
    assert.equal(await readFile(join(dest, long, 'deep'), 'utf8'), 'deep');
  });

  it('creates device nodes as root and skips them, listed, otherwise', async () => {
    const dest = await fresh('devices');
    const tar = Buffer.concat([header('null0', '3'), header('null-link', '1', { linkname: 'null0' }), header('plain', '0'), Buffer.alloc(1024)]);
    const r = await extractTar(Readable.from([tar]), dest);
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    if (isRoot) {
      const st = await lstat(join(dest, 'null0'));
      assert.ok(st.isCharacterDevice());
      assert.equal(st.rdev, 0);
      assert.equal((await lstat(join(dest, 'null-link'))).ino, st.ino);
      assert.deepEqual(r.value.skipped, []);
    } else {
      assert.deepEqual(r.value.skipped, ['null0', 'null-link'], 'a hard link to a skipped device is skipped too');
      assert.equal(existsSync(join(dest, 'null0')), false);
    }
    assert.ok((await lstat(join(dest, 'plain'))).isFile());
  });

  it('converts overlay whiteouts between the layer form and the overlay form', async () => {
    const layer = makeTar([
      { name: 'dir/', type: 'dir' },
      { name: 'dir/.wh..wh..opq', type: 'file' },
      { name: 'dir/.wh.gone', type: 'file' },
      { name: 'dir/kept', type: 'file', content: 'k' },
    ]);
    const upper = await fresh('upper');
    const r = await extractTar(Readable.from([layer]), upper, { whiteouts: 'overlay', symlinks: 'any' });
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    assert.deepEqual((await readdir(join(upper, 'dir'))).sort(), isRoot ? ['gone', 'kept'] : ['kept'], 'no .wh. file is written');
    if (!isRoot) {
      assert.deepEqual(r.value.skipped, ['dir/.wh..wh..opq', 'dir/gone']);
      return;
    }
    const gone = await lstat(join(upper, 'dir/gone'));
    assert.ok(gone.isCharacterDevice() && gone.rdev === 0, 'a whiteout is char 0/0');
    const opaque = execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(upper, 'dir')]).toString();
    assert.equal(opaque, 'y');

    const packed = parseTar(await streamToBuffer(tarDirectory(upper, { whiteouts: 'overlay' })));
    const names = byName(packed);
    assert.equal(names.get('dir/.wh.gone')?.type, '0');
    assert.equal(names.get('dir/.wh..wh..opq')?.type, '0');
    assert.equal(names.has('dir/gone'), false);
    const raw = await streamToBuffer(tarDirectory(upper, { whiteouts: 'overlay' }));
    assert.equal(raw.includes(Buffer.from('trusted.overlay')), false, 'overlay xattrs are left out');
    const verbatim = byName(parseTar(await streamToBuffer(tarDirectory(upper))));
    assert.equal(verbatim.get('dir/gone')?.type, '3', 'without the option a whiteout stays a device');
  });

  it('drops a layer\'s own trusted.overlay xattrs in overlay mode, keeps them verbatim otherwise', { skip: !isRoot && 'trusted xattrs need root' }, async () => {
    const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    const paxRecord = (key: string, value: string): Buffer => {
      const body = ` ${key}=${value}\n`;
      let len = body.length + 2;
      if (String(len).length + body.length !== len) len += 1;
      return Buffer.from(`${len}${body}`);
    };
    const records = Buffer.concat([
      paxRecord('SCHILY.xattr.trusted.overlay.opaque', 'y'),
      paxRecord('SCHILY.xattr.trusted.overlay.redirect', '/etc'),
      paxRecord('SCHILY.xattr.user.keep', '1'),
    ]);
    const layer = Buffer.concat([
      header('PaxHeaders/dir', 'x', { size: records.length }),
      pad(records),
      header('dir/', '5', { size: 0 }),
      makeTar([{ name: 'dir/file', type: 'file', content: 'f' }]),
    ]);
    const xattr = (path: string, name: string): string | undefined => {
      try {
        return execFileSync('getfattr', ['--only-values', '-n', name, path], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      } catch {
        return undefined;
      }
    };
    const upper = await fresh('overlay-xattrs');
    const r = await extractTar(Readable.from([layer]), upper, { whiteouts: 'overlay', symlinks: 'any' });
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    assert.equal(xattr(join(upper, 'dir'), 'trusted.overlay.opaque'), undefined, 'only .wh..wh..opq makes a directory opaque');
    assert.equal(xattr(join(upper, 'dir'), 'trusted.overlay.redirect'), undefined);
    assert.equal(xattr(join(upper, 'dir'), 'user.keep'), '1', 'other xattrs stay');
    assert.equal(await readFile(join(upper, 'dir/file'), 'utf8'), 'f');
    const verbatim = await fresh('verbatim-xattrs');
    assert.ok((await extractTar(Readable.from([layer]), verbatim, { symlinks: 'any' })).isOk());
    assert.equal(xattr(join(verbatim, 'dir'), 'trusted.overlay.opaque'), 'y', 'without the option the tree is restored as it was');
  });

  it('packs the same tree to the same bytes', async () => {
    const [one, two] = await Promise.all([streamToBuffer(tarDirectory(tree)), streamToBuffer(tarDirectory(tree))]);
    assert.ok(one.equals(two));
  });
});

describe('copyTree', () => {
  it('copies a tree with links, modes, ownership and the root mode', async () => {
    const src = await fresh('copy-src');
    await writeFile(join(src, 'f'), 'data');
    await link(join(src, 'f'), join(src, 'hard'));
    await symlink('../../../../lib/x', join(src, 'far'));
    await chmod(src, 0o1770);
    const dest = join(await fresh('copy-dest'), 'vol');
    assert.ok((await copyTree(src, dest)).isOk());
    assert.equal(await readFile(join(dest, 'f'), 'utf8'), 'data');
    assert.equal(await readFile(join(dest, 'hard'), 'utf8'), 'data');
    assert.equal(await readlink(join(dest, 'far')), '../../../../lib/x', 'a trusted copy keeps any link');
    assert.equal((await lstat(dest)).mode & 0o7777, 0o1770);
    const full = join(await fresh('copy-dest'), 'full');
    assert.ok((await copyTree(tree, full)).isOk());
    assert.equal((await stat(join(full, 'tmp'))).mode & 0o7777, 0o1777);
    if (isRoot) assert.equal((await stat(join(full, 'etc/hostname'))).gid, 5678);
    assert.equal((await copyTree(join(dir, 'missing'), full)).isErr(), true);
  });
});

describe('checkpoint archive', () => {
  async function checkpointSource(): Promise<{ ckpt: string; diff: string }> {
    const base = await fresh('ckpt-src');
    const ckpt = join(base, 'checkpoint');
    await mkdir(join(ckpt, 'sub'), { recursive: true });
    await writeFile(join(ckpt, 'inventory.img'), Buffer.from([1, 2, 3]));
    await writeFile(join(ckpt, 'sub/pages-1.img'), 'pages');
    const diff = join(base, 'upper');
    await mkdir(join(diff, 'etc'), { recursive: true });
    await writeFile(join(diff, 'etc/changed'), 'new');
    return { ckpt, diff };
  }

  it('round-trips config, spec, the image directory and the rootfs diff', async () => {
    const { ckpt, diff } = await checkpointSource();
    const file = join(await fresh('ckpt'), 'export.tar');
    const w = await writeCheckpointArchive(file, { configDump: { id: 'abc', name: 'web' }, specDump: { ociVersion: '1.0.2-dev' }, checkpointDir: ckpt, rootfsDiffDir: diff });
    assert.ok(w.isOk(), w.isErr() ? w.error.message : '');
    const names = parseTar(await readFile(file)).map((e) => e.name);
    for (const expected of ['config.dump', 'spec.dump', 'rootfs-diff.tar', 'checkpoint', 'checkpoint/inventory.img', 'checkpoint/sub/pages-1.img']) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    }
    assert.deepEqual(await readdir(join(file, '..')), ['export.tar'], 'no staging left behind');

    const into = join(await fresh('ckpt-read'), 'import');
    const r = await readCheckpointArchive(file, into);
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    assert.deepEqual(r.value.configDump, { id: 'abc', name: 'web' });
    assert.deepEqual(r.value.specDump, { ociVersion: '1.0.2-dev' });
    assert.deepEqual(await readFile(join(r.value.checkpointDir, 'inventory.img')), Buffer.from([1, 2, 3]));
    assert.equal(await readFile(join(r.value.checkpointDir, 'sub/pages-1.img'), 'utf8'), 'pages');
    assert.ok(r.value.rootfsDiffTar);
    const upper = await fresh('upper');
    assert.ok((await extractTar(createReadStream(r.value.rootfsDiffTar), upper)).isOk());
    assert.equal(await readFile(join(upper, 'etc/changed'), 'utf8'), 'new');
  });

  it('leaves the diff out when absent and stores an empty image dir when missing', async () => {
    const file = join(await fresh('ckpt'), 'export.tar');
    assert.ok((await writeCheckpointArchive(file, { configDump: {}, specDump: {}, checkpointDir: join(dir, 'no-such-checkpoint') })).isOk());
    const r = await readCheckpointArchive(file, join(await fresh('ckpt-read'), 'import'));
    assert.ok(r.isOk());
    assert.equal(r.value.rootfsDiffTar, undefined);
    assert.deepEqual(await readdir(r.value.checkpointDir), []);
  });

  it('refuses bad targets and archives', async () => {
    const { ckpt } = await checkpointSource();
    const d = await fresh('ckpt');
    const w = await writeCheckpointArchive(d, { configDump: {}, specDump: {}, checkpointDir: ckpt });
    assert.equal(w.isErr() && w.error.code, 'InvalidArg');
    const w2 = await writeCheckpointArchive(join(d, 'missing/x.tar'), { configDump: {}, specDump: {}, checkpointDir: ckpt });
    assert.equal(w2.isErr() && w2.error.code, 'InvalidArg');

    const notCkpt = join(d, 'plain.tar');
    await writeFile(notCkpt, makeTar([{ name: 'hello', type: 'file', content: 'hi' }]));
    const into = join(d, 'into');
    const r = await readCheckpointArchive(notCkpt, into);
    assert.equal(r.isErr() && r.error.code, 'InvalidArg');
    assert.equal(existsSync(into), false, 'removed after a failure');

    const evil = join(d, 'evil.tar');
    await writeFile(evil, makeTar([{ name: 'config.dump', type: 'file', content: '{}' }, { name: '../../pwned', type: 'file', content: 'x' }]));
    const r2 = await readCheckpointArchive(evil, join(d, 'into2'));
    assert.equal(r2.isErr() && r2.error.code, 'InvalidArg');
    assert.equal(existsSync(join(d, '..', 'pwned')), false);

    const busy = join(d, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'x'), 'x');
    const r3 = await readCheckpointArchive(notCkpt, busy);
    assert.equal(r3.isErr() && r3.error.code, 'InvalidArg');
    assert.equal(existsSync(join(busy, 'x')), true, 'a non-empty directory is left alone');
    const r4 = await readCheckpointArchive(join(d, 'nope.tar'), join(d, 'into3'));
    assert.equal(r4.isErr() && r4.error.code, 'InvalidArg');
  });
});
