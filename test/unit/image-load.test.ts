/**
 * Load and save between archives and an image store (vfs, no root): every
 * format loads with the right ids, names and content (whiteouts applied);
 * what is saved from the store loads into another store with the same id;
 * tampered input fails with ImageCorrupt and stores nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { okAsync } from 'neverthrow';
import { loadImagesVerb, saveImagesVerb, type ArchiveVerbContext } from '../../src/image/archive-verbs.js';
import { ImageStore } from '../../src/image/store/image-store.js';
import type { ArchiveFormat } from '../../src/image/transports/types.js';
import {
  busyboxImage,
  multiArchImages,
  sha256,
  whiteoutImage,
  writeDockerArchive,
  writeOciArchive,
  writeOciDir,
  type BuiltImage,
} from '../fixtures/images.js';

let dir: string;
let bb: BuiltImage;
let wh: BuiltImage;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-image-load-'));
  bb = await busyboxImage();
  wh = await whiteoutImage();
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Harness {
  store: ImageStore;
  ctx: ArchiveVerbContext;
  events: string[];
}

async function harness(name: string): Promise<Harness> {
  const store = (await ImageStore.open(join(dir, name), { driver: 'vfs' }))._unsafeUnwrap();
  const events: string[] = [];
  const ctx: ArchiveVerbContext = {
    storage: store,
    tmpDir: join(dir, name, 'tmp'),
    resolve: (ref) =>
      store.images().andThen((all) => {
        const img = all.find((i) => i.id === ref || i.names.includes(ref));
        return img ? okAsync(img.id === ref ? { image: img } : { image: img, name: ref }) : store.image('0'.repeat(64)).map((image) => ({ image }));
      }),
    publish: (status, imgs) => events.push(...imgs.map((i) => `${status} ${i.id}`)),
    platform: { os: 'linux', architecture: 'amd64', variant: '' },
  };
  return { store, ctx, events };
}

/** The image's filesystem as a container sees it (vfs copy). */
async function rootfsOf(store: ImageStore, id: string): Promise<{ root: string; done: () => Promise<void> }> {
  const ctr = randomBytes(32).toString('hex');
  (await store.createContainerLayer(ctr, id))._unsafeUnwrap();
  const root = (await store.mountContainer(ctr))._unsafeUnwrap();
  return { root, done: async () => (await store.removeContainerLayer(ctr))._unsafeUnwrap() };
}

describe('loading archives into the store', () => {
  it('each format loads with the right id, names, digest and content (whiteouts applied)', async () => {
    const sources: [string, () => Promise<string>, string[], string | undefined][] = [
      ['docker-archive', async () => (await writeDockerArchive(join(dir, 'l.docker.tar'), [{ image: wh, tags: ['wh:1'] }]), join(dir, 'l.docker.tar')), ['localhost/wh:1'], undefined],
      ['docker25', async () => (await writeDockerArchive(join(dir, 'l.d25.tar'), [{ image: wh, tags: ['wh:1'] }], 'docker25'), join(dir, 'l.d25.tar')), ['docker.io/library/wh:1'], undefined],
      ['oci-dir', async () => (await writeOciDir(join(dir, 'l.oci'), [{ image: wh, name: 'wh:1' }]), join(dir, 'l.oci')), ['localhost/wh:1'], wh.manifestDigest],
      ['oci-archive', async () => (await writeOciArchive(join(dir, 'l.oci.tar'), [{ image: wh, name: 'quay.io/x/wh:1' }]), join(dir, 'l.oci.tar')), ['quay.io/x/wh:1'], wh.manifestDigest],
    ];
    for (const [what, make, names, digest] of sources) {
      const h = await harness(`load-${what}`);
      const stored = (await loadImagesVerb(h.ctx, await make()))._unsafeUnwrap();
      assert.equal(stored.length, 1, what);
      assert.equal(stored[0]!.id, wh.id, what);
      assert.deepEqual(stored[0]!.names, names, what);
      if (digest) assert.equal(stored[0]!.digest, digest, what);
      assert.deepEqual(h.events, [`load ${wh.id}`]);
      const fs = await rootfsOf(h.store, wh.id);
      assert.equal(existsSync(join(fs.root, 'bin/busybox')), true);
      assert.equal(existsSync(join(fs.root, 'etc/a')), false, `${what}: .wh.a applied`);
      assert.equal(await readFile(join(fs.root, 'etc/b'), 'utf8'), 'B\n');
      assert.deepEqual((await readdir(join(fs.root, 'etc/dir'))).sort(), ['z'], `${what}: opaque dir applied`);
      await fs.done();
      assert.deepEqual(await readdir(join(dir, `load-${what}`, 'tmp')), []);
    }
  });

  it('a multi-platform index loads the host platform only, known by the index digest too', async () => {
    const { amd64, arm64, index } = await multiArchImages();
    const d = join(dir, 'multi');
    await writeOciDir(d, [{ index: { ...index, images: [amd64, arm64] }, name: 'multi:1' }]);
    const h = await harness('load-multi');
    const stored = (await loadImagesVerb(h.ctx, d))._unsafeUnwrap();
    assert.equal(stored[0]!.id, amd64.id);
    assert.equal((await h.store.images())._unsafeUnwrap().length, 1);
  });

  it('loading the same image twice stores it once and adds names', async () => {
    const h = await harness('load-twice');
    const a = join(dir, 'twice-a.tar');
    await writeDockerArchive(a, [{ image: bb, tags: ['bb:1'] }]);
    const b = join(dir, 'twice-b');
    await writeOciDir(b, [{ image: bb, name: 'bb:2' }]);
    (await loadImagesVerb(h.ctx, a))._unsafeUnwrap();
    const again = (await loadImagesVerb(h.ctx, b))._unsafeUnwrap();
    assert.deepEqual(again[0]!.names, ['localhost/bb:1', 'localhost/bb:2']);
    assert.equal((await h.store.layers())._unsafeUnwrap().length, 1);
  });

  it('a tampered layer is ImageCorrupt and stores nothing (no image, no layer, no blob)', async () => {
    const h = await harness('load-tampered');
    // base layer intact, top layer changed after the config recorded its diffID
    const bad: BuiltImage = { ...wh, layers: [wh.layers[0]!, { ...wh.layers[1]!, tar: Buffer.from(wh.layers[1]!.tar) }] };
    bad.layers[1]!.tar[600] = (bad.layers[1]!.tar[600]! + 1) % 256;
    const file = join(dir, 'tampered.tar');
    await writeDockerArchive(file, [{ image: bad, tags: ['bad:1'] }]);
    const r = await loadImagesVerb(h.ctx, file);
    assert.equal(r._unsafeUnwrapErr().code, 'ImageCorrupt');
    assert.deepEqual((await h.store.images())._unsafeUnwrap(), []);
    assert.deepEqual((await h.store.layers())._unsafeUnwrap(), []);
    assert.deepEqual(await readdir(join(dir, 'load-tampered', 'blobs', 'sha256')), []);
    assert.deepEqual(h.events, []);
  });

  it('a truncated OCI layer blob is ImageCorrupt and stores nothing', async () => {
    const h = await harness('load-truncated');
    const d = join(dir, 'trunc-layout');
    await writeOciDir(d, [{ image: wh, name: 'wh:1' }]);
    const top = join(d, 'blobs/sha256', sha256(wh.layers[1]!.blob).slice(7));
    const data = await readFile(top);
    await writeFile(top, data.subarray(0, data.length - 10));
    assert.equal((await loadImagesVerb(h.ctx, d))._unsafeUnwrapErr().code, 'ImageCorrupt');
    assert.deepEqual((await h.store.images())._unsafeUnwrap(), []);
    assert.deepEqual((await h.store.layers())._unsafeUnwrap(), []);
  });
});

describe('saving from the store', () => {
  for (const format of ['docker-archive', 'oci-archive', 'oci-dir'] as ArchiveFormat[]) {
    it(`${format}: saved images load into another store with the same ids and names`, async () => {
      const src = await harness(`save-src-${format}`);
      const d = join(dir, `save-in-${format}`);
      await writeOciDir(d, [{ image: wh, name: 'quay.io/x/wh:1' }, { image: bb, name: 'quay.io/x/bb:1' }]);
      (await loadImagesVerb(src.ctx, d))._unsafeUnwrap();
      const out = join(dir, `saved-${format}`);
      (await saveImagesVerb(src.ctx, ['quay.io/x/wh:1', bb.id], out, { format }))._unsafeUnwrap();
      assert.deepEqual(src.events.filter((e) => e.startsWith('save')).sort(), [`save ${bb.id}`, `save ${wh.id}`].sort());
      const dst = await harness(`save-dst-${format}`);
      const loaded = (await loadImagesVerb(dst.ctx, out))._unsafeUnwrap();
      const byId = new Map(loaded.map((i) => [i.id, i]));
      assert.deepEqual(byId.get(wh.id)?.names, ['quay.io/x/wh:1']);
      assert.deepEqual(byId.get(bb.id)?.names, []);
      if (format !== 'docker-archive') assert.equal(byId.get(wh.id)?.digest, wh.manifestDigest, 'OCI save keeps the manifest');
      const fs = await rootfsOf(dst.store, wh.id);
      assert.equal(existsSync(join(fs.root, 'etc/a')), false);
      assert.equal(await readFile(join(fs.root, 'etc/dir/z'), 'utf8'), 'Z\n');
      await fs.done();
    });
  }

  it('bad arguments are InvalidArg or NoSuchImage and write nothing', async () => {
    const h = await harness('save-bad');
    const out = join(dir, 'never.tar');
    assert.equal((await saveImagesVerb(h.ctx, [], out))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal((await saveImagesVerb(h.ctx, [42 as unknown as string], out))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal((await saveImagesVerb(h.ctx, ['nope'], out))._unsafeUnwrapErr().code, 'NoSuchImage');
    assert.equal((await saveImagesVerb(h.ctx, ['nope'], out, { format: 'zip' as ArchiveFormat }))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal(existsSync(out), false);
  });
});
