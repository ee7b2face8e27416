import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { openImageArchive } from '../../src/image/transports/open-archive.js';
import { saveArchive } from '../../src/image/transports/save-archive.js';
import type { ArchiveFormat, ImageArchive, SourceImage } from '../../src/image/transports/types.js';
import {
  busyboxImage,
  multiArchImages,
  sha256,
  toSave,
  whiteoutImage,
  writeDockerArchive,
  writeOciArchive,
  writeOciDir,
  type BuiltImage,
  type DockerLayout,
} from '../fixtures/images.js';

let dir: string;
let tmp: string;
let bb: BuiltImage;
let wh: BuiltImage;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-archives-'));
  tmp = join(dir, 'tmp');
  bb = await busyboxImage();
  wh = await whiteoutImage({ compression: 'none' });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function open(src: string | NodeJS.ReadableStream, platform?: { os: string; architecture: string; variant: string }): Promise<ImageArchive> {
  const r = await openImageArchive(src, { tmpDir: tmp, ...(platform ? { platform } : {}) });
  if (r.isErr()) throw r.error;
  return r.value;
}

async function openErr(src: string | NodeJS.ReadableStream): Promise<string> {
  const r = await openImageArchive(src, { tmpDir: tmp });
  assert.equal(r.isErr(), true, 'expected an error');
  return r._unsafeUnwrapErr().code;
}

/** Every layer's stream has the blob's digest and size; the uncompressed diffs match the config. */
async function checkLayers(img: SourceImage, built: BuiltImage, uncompressed: boolean): Promise<void> {
  assert.equal(img.config.digest, built.configDigest);
  assert.equal(img.layers.length, built.layers.length);
  for (const [i, l] of img.layers.entries()) {
    const data = await collect((await l.open())._unsafeUnwrap());
    assert.equal(sha256(data), l.blob.digest);
    assert.equal(data.length, l.blob.size);
    assert.equal(l.diffId, sha256(built.layers[i]!.tar));
    if (uncompressed) assert.equal(l.blob.digest, l.diffId);
  }
}

describe('docker-archive reader', () => {
  for (const layout of ['podman', 'legacy', 'docker25-no-oci'] as DockerLayout[]) {
    it(`reads ${layout} layouts, names normalized, manifest generated as c/image does`, async () => {
      const file = join(dir, `da-${layout}.tar`);
      await writeDockerArchive(file, [{ image: wh, tags: ['wh:1', 'quay.io/x/wh:2'] }, { image: bb, tags: [] }], layout);
      const a = await open(file);
      try {
        assert.equal(a.format, 'docker-archive');
        assert.equal(a.images.length, 2);
        assert.deepEqual(a.images[0]!.names, ['localhost/wh:1', 'quay.io/x/wh:2']);
        assert.deepEqual(a.images[1]!.names, []);
        await checkLayers(a.images[0]!, wh, true);
        await checkLayers(a.images[1]!, bb, true);
        const m = JSON.parse(a.images[0]!.manifest.bytes.toString());
        assert.equal(m.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
        assert.equal(a.images[0]!.manifest.digest, sha256(a.images[0]!.manifest.bytes));
      } finally {
        await a.close();
      }
    });
  }

  it('reads a gzip-compressed archive and a stream, spilling to a temporary that close removes', async () => {
    const file = join(dir, 'da-stream.tar');
    await writeDockerArchive(file, [{ image: bb, tags: ['bb:s'] }]);
    await writeFile(`${file}.gz`, gzipSync(await readFile(file)));
    for (const src of [`${file}.gz`, createReadStream(file), createReadStream(`${file}.gz`)]) {
      const a = await open(src);
      assert.deepEqual(a.images[0]!.names, ['localhost/bb:s']);
      await checkLayers(a.images[0]!, bb, true);
      assert.equal((await readdir(tmp)).length, 1);
      await a.close();
      assert.deepEqual(await readdir(tmp), []);
    }
  });
});

describe('OCI layout reader', () => {
  it('reads an OCI directory and an oci-archive; names as podman load gives them', async () => {
    const d = join(dir, 'layout');
    await writeOciDir(d, [{ image: bb, name: 'bb:1' }, { image: wh, name: 'quay.io/a/wh:2' }, { image: bb }]);
    const file = join(dir, 'layout.tar');
    await writeOciArchive(file, [{ image: bb, name: 'bb:1' }, { image: wh, name: 'quay.io/a/wh:2' }, { image: bb }]);
    for (const [src, format] of [[d, 'oci-dir'], [file, 'oci-archive']] as const) {
      const a = await open(src);
      assert.equal(a.format, format);
      assert.deepEqual(a.images.map((i) => i.names), [['localhost/bb:1'], ['quay.io/a/wh:2'], []]);
      assert.equal(a.images[0]!.manifest.digest, bb.manifestDigest);
      await checkLayers(a.images[0]!, bb, false);
      await checkLayers(a.images[1]!, wh, true);
      await a.close();
    }
  });

  it('resolves an index to this host platform, or to the one asked for', async () => {
    const { amd64, arm64, index } = await multiArchImages();
    const d = join(dir, 'multi');
    await writeOciDir(d, [{ index: { ...index, images: [amd64, arm64] }, name: 'multi:1' }]);
    const a = await open(d, { os: 'linux', architecture: 'amd64', variant: '' });
    assert.equal(a.images[0]!.config.digest, amd64.configDigest);
    assert.deepEqual(a.images[0]!.otherDigests, [index.digest]);
    const b = await open(d, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.equal(b.images[0]!.config.digest, arm64.configDigest);
    const r = await openImageArchive(d, { tmpDir: tmp, platform: { os: 'linux', architecture: 's390x', variant: '' } });
    assert.equal(r._unsafeUnwrapErr().code, 'NoSuchImage');
  });
});

describe('malformed input', () => {
  it('a missing path, a non-layout directory and a bad stream are InvalidArg', async () => {
    assert.equal(await openErr(join(dir, 'nope.tar')), 'InvalidArg');
    const empty = join(dir, 'emptydir');
    await mkdir(empty, { recursive: true });
    assert.equal(await openErr(empty), 'InvalidArg');
    assert.equal(await openErr(42 as unknown as string), 'InvalidArg');
  });

  it('garbage, a truncated archive and a tar of neither format are ImageCorrupt', async () => {
    const garbage = join(dir, 'garbage.tar');
    await writeFile(garbage, Buffer.alloc(4096, 7));
    assert.equal(await openErr(garbage), 'ImageCorrupt');
    const file = join(dir, 'trunc.tar');
    await writeDockerArchive(file, [{ image: bb, tags: ['bb:t'] }]);
    const size = (await stat(file)).size;
    const { TarIndex } = await import('../../src/image/transports/tar/tar-index.js');
    const lastMember = (await TarIndex.open(file))._unsafeUnwrap().file('manifest.json')!;
    for (const cut of [lastMember.offset + 5, lastMember.offset - 100, Math.floor(size / 2), 700]) {
      await writeDockerArchive(file, [{ image: bb, tags: ['bb:t'] }]);
      await truncate(file, cut);
      assert.equal(await openErr(file), 'ImageCorrupt', `cut at ${cut}`);
    }
    const other = join(dir, 'other');
    await mkdir(join(other, 'x'), { recursive: true });
    const { tarDir } = await import('../fixtures/images.js');
    await tarDir(other, join(dir, 'other.tar'));
    assert.equal(await openErr(join(dir, 'other.tar')), 'ImageCorrupt');
  });

  it('tampered OCI blobs (config, manifest, index.json) are ImageCorrupt', async () => {
    const cases: [string, (d: string) => Promise<void>][] = [
      ['config', (d) => writeFile(join(d, 'blobs/sha256', bb.id), Buffer.concat([bb.config.subarray(0, -1), Buffer.from(' ')]))],
      ['manifest', (d) => writeFile(join(d, 'blobs/sha256', bb.manifestDigest.slice(7)), Buffer.concat([bb.manifest, Buffer.from(' ')]))],
      ['missing manifest', (d) => rm(join(d, 'blobs/sha256', bb.manifestDigest.slice(7)))],
      ['index.json', (d) => writeFile(join(d, 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":"sha256:zz"}]}')],
      ['empty index', (d) => writeFile(join(d, 'index.json'), '{"schemaVersion":2,"manifests":[]}')],
      ['oci-layout', (d) => writeFile(join(d, 'oci-layout'), '{"imageLayoutVersion":"9.0"}')],
    ];
    for (const [what, tamper] of cases) {
      const d = join(dir, `tamper-${what.replace(/\W/g, '')}`);
      await writeOciDir(d, [{ image: bb, name: 'bb:1' }]);
      await tamper(d);
      assert.equal(await openErr(d), 'ImageCorrupt', what);
    }
  });

  it('docker-archive metadata problems are ImageCorrupt', async () => {
    const { tarDir } = await import('../fixtures/images.js');
    const cases: [string, unknown, boolean][] = [
      ['not json', null, true],
      ['no images', [], false],
      ['layer count', [{ Config: `${bb.id}.json`, RepoTags: [], Layers: [] }], false],
      ['missing layer', [{ Config: `${bb.id}.json`, RepoTags: [], Layers: ['nope.tar'] }], false],
      ['missing config', [{ Config: 'nope.json', RepoTags: [], Layers: [] }], false],
      ['bad tag', [{ Config: `${bb.id}.json`, RepoTags: ['UPPER:1'], Layers: [`${sha256(bb.layers[0]!.tar).slice(7)}.tar`] }], false],
    ];
    for (const [what, manifest, raw] of cases) {
      const d = join(dir, `dm-${what.replace(/\W/g, '')}`);
      await mkdir(d, { recursive: true });
      await writeFile(join(d, `${bb.id}.json`), bb.config);
      await writeFile(join(d, `${sha256(bb.layers[0]!.tar).slice(7)}.tar`), bb.layers[0]!.tar);
      await writeFile(join(d, 'manifest.json'), raw ? '{"x":' : JSON.stringify(manifest));
      await tarDir(d, `${d}.tar`);
      assert.equal(await openErr(`${d}.tar`), 'ImageCorrupt', what);
    }
  });
});

describe('writers round-trip', () => {
  for (const format of ['docker-archive', 'oci-archive', 'oci-dir'] as ArchiveFormat[]) {
    it(`${format}: what is saved reads back with the same ids, names and layers`, async () => {
      const dest = join(dir, `saved-${format}`);
      const r = await saveArchive([toSave(bb, ['docker.io/library/bb:1']), toSave(wh, ['localhost/wh:2', 'localhost/wh:3'], false)], dest, format);
      assert.equal(r.isOk(), true, r.isErr() ? r.error.message : '');
      const a = await open(dest);
      assert.equal(a.format, format);
      const byId = new Map(a.images.map((i) => [i.config.digest, i]));
      assert.equal(byId.size, 2);
      await checkLayers(byId.get(bb.configDigest as `sha256:${string}`)!, bb, format === 'docker-archive');
      await checkLayers(byId.get(wh.configDigest as `sha256:${string}`)!, wh, true);
      const names = a.images.flatMap((i) => i.names).sort();
      assert.deepEqual(names, ['docker.io/library/bb:1', 'localhost/wh:2', 'localhost/wh:3']);
      await a.close();
      assert.deepEqual((await readdir(dir)).filter((n) => n.includes('.tmp-')), []);
    });
  }

  it('an OCI save keeps the stored OCI manifest (same digest)', async () => {
    const dest = join(dir, 'keep-manifest');
    (await saveArchive([toSave(bb, ['docker.io/library/bb:1'])], dest, 'oci-dir'))._unsafeUnwrap();
    const a = await open(dest);
    assert.equal(a.images[0]!.manifest.digest, bb.manifestDigest);
  });

  it('a failing layer source leaves no archive under the name', async () => {
    const bad = toSave(bb, ['docker.io/library/bb:1']);
    bad.layers[0] = { ...bad.layers[0]!, diffSize: bad.layers[0]!.diffSize + 1 };
    const dest = join(dir, 'failed.tar');
    const r = await saveArchive([bad], dest, 'docker-archive');
    assert.equal(r.isErr(), true);
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('failed') || n.startsWith('.failed')), []);
  });

  it('refuses unknown formats, oci-dir to a stream and a non-layout directory', async () => {
    assert.equal((await saveArchive([toSave(bb, [])], join(dir, 'x'), 'zip' as ArchiveFormat))._unsafeUnwrapErr().code, 'InvalidArg');
    const { PassThrough } = await import('node:stream');
    assert.equal((await saveArchive([toSave(bb, [])], new PassThrough(), 'oci-dir'))._unsafeUnwrapErr().code, 'InvalidArg');
    const d = join(dir, 'notlayout');
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'precious'), 'x');
    assert.equal((await saveArchive([toSave(bb, [])], d, 'oci-dir'))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal(await readFile(join(d, 'precious'), 'utf8'), 'x');
  });

  it('an oci-dir save adds to an existing layout, replacing entries of the same name', async () => {
    const d = join(dir, 'merge');
    (await saveArchive([toSave(bb, ['localhost/a:1'])], d, 'oci-dir'))._unsafeUnwrap();
    (await saveArchive([toSave(wh, ['localhost/b:1'])], d, 'oci-dir'))._unsafeUnwrap();
    (await saveArchive([toSave(wh, ['localhost/a:1'])], d, 'oci-dir'))._unsafeUnwrap();
    const a = await open(d);
    assert.deepEqual(a.images.map((i) => [i.names[0], i.config.digest]), [
      ['localhost/b:1', wh.configDigest],
      ['localhost/a:1', wh.configDigest],
    ]);
  });
});
