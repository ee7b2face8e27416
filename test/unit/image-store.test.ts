import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ImageStore } from '../../src/image/store/image-store.js';
import { BlobStore } from '../../src/image/store/blobs.js';
import { createContainerLayer } from '../../src/image/store/container-layers.js';
import { VfsDriver } from '../../src/image/store/drivers/vfs.js';
import { removeImage } from '../../src/image/store/image-put.js';
import { storeLayout } from '../../src/image/store/layout.js';
import { containerLock, STORE_LOCK, type StoreCore } from '../../src/image/store/store-core.js';
import { StoreLocks } from '../../src/locks/process-locks.js';
import { chainIdOf } from '../../src/image/store/digest.js';
import { jsZstdDecompressor } from '../../src/image/store/decompress.js';
import { compress, digestOf, imageDocs, layerTar, putTestImage } from '../fixtures/image-layers.js';
import { must, mustFail } from '../support/engine.js';

const CTR = 'c'.repeat(64);

describe('image store (vfs)', () => {
  let dir: string;
  let store: ImageStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'libpod-ts-store-'));
    store = await must(ImageStore.open(join(dir, 'storage'), { driver: 'vfs' }));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const base = (): Promise<Buffer> =>
    layerTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/a', content: 'A' },
      { name: 'etc/b', content: 'B', mode: 0o600, uid: 1000, gid: 1000 },
      { name: 'd/', type: 'directory' },
      { name: 'd/x', content: 'x' },
      { name: 'etc/hard', type: 'link', linkname: 'etc/a' },
      { name: 'lnk', type: 'symlink', linkname: '/etc/a' },
    ]);

  it('stores layers by chain id, keeps blobs byte-exact, and makes a container rootfs with whiteouts applied', async () => {
    const l1 = await base();
    const l2 = await layerTar([{ name: 'etc/.wh.a' }, { name: 'd/.wh..wh..opq' }, { name: 'd/y', content: 'y' }]);
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const img = await putTestImage(store, [l1, l2], { names: [`localhost/t:${compression}`], compression });
      assert.deepEqual(img.layers, [chainIdOf(undefined, digestOf(l1)), chainIdOf(chainIdOf(undefined, digestOf(l1)), digestOf(l2))]);
      for (const b of img.layerBlobs) assert.equal(digestOf(await must(store.blobBytes(b))), b);
    }
    assert.equal((await must(store.layers())).length, 2, 'three images share two layers');
    const [img] = await must(store.images());
    await must(store.createContainerLayer(CTR, img!.id));
    const root = await must(store.mountContainer(CTR));
    assert.deepEqual((await readdir(join(root, 'etc'))).sort(), ['b', 'hard']);
    assert.deepEqual(await readdir(join(root, 'd')), ['y']);
    const b = await lstat(join(root, 'etc/b'));
    if (process.getuid?.() === 0) assert.equal(b.uid, 1000);
    assert.equal(b.mode & 0o777, 0o600);
    assert.equal((await lstat(join(root, 'lnk'))).isSymbolicLink(), true);
  });

  it('a blob or diffID mismatch is ImageCorrupt and stores nothing', async () => {
    const tar = await base();
    const blob = await compress(tar, 'gzip');
    const wrongDiff = await mustFail(store.putLayer({ blob: Readable.from([blob]), diffId: digestOf(Buffer.from('other')) }));
    assert.equal(wrongDiff.code, 'ImageCorrupt');
    const wrongBlob = await mustFail(store.putLayer({ blob: Readable.from([blob]), diffId: digestOf(tar), digest: digestOf(Buffer.from('x')) }));
    assert.equal(wrongBlob.code, 'ImageCorrupt');
    const truncated = await mustFail(store.putLayer({ blob: Readable.from([blob.subarray(0, blob.length - 20)]), diffId: digestOf(tar) }));
    assert.equal(truncated.code, 'ImageCorrupt');
    assert.deepEqual(await must(store.layers()), []);
    assert.deepEqual(await readdir(join(dir, 'storage', 'blobs', 'sha256')), []);
    assert.deepEqual(await readdir(join(dir, 'storage', 'vfs')), []);
    assert.deepEqual(await readdir(join(dir, 'storage', 'tmp')), []);
  });

  it('zstd blobs: the host tool and the pure-JS decompressor agree; a corrupt blob is ImageCorrupt', async () => {
    const tar = await base();
    const blob = await compress(tar, 'zstd');
    const out: Buffer[] = [];
    for await (const c of Readable.from([blob]).pipe(jsZstdDecompressor())) out.push(c as Buffer);
    assert.equal(digestOf(Buffer.concat(out)), digestOf(tar));
    const bad = Buffer.from(blob);
    bad.fill(0x55, 20, 60);
    assert.equal((await mustFail(store.putLayer({ blob: Readable.from([bad]), diffId: digestOf(tar) }))).code, 'ImageCorrupt');
    await must(store.putLayer({ blob: Readable.from([blob]), diffId: digestOf(tar), digest: digestOf(blob) }));
  });

  it('refuses entries that would leave the layer directory (ImageCorrupt)', async () => {
    for (const evil of [[{ name: '../up', content: 'x' }], [{ name: 'l', type: 'symlink' as const, linkname: '/tmp' }, { name: 'l/escape', content: 'x' }]]) {
      const tar = await layerTar(evil);
      const e = await mustFail(store.putLayer({ blob: Readable.from([tar]), diffId: digestOf(tar) }));
      assert.equal(e.code, 'ImageCorrupt');
    }
    assert.equal(existsSync('/tmp/escape'), false);
    assert.deepEqual(await must(store.layers()), []);
  });

  it('names are unique across images; removal needs no container using the image', async () => {
    const a = await putTestImage(store, [await base()], { names: ['localhost/a:1'] });
    const b = await putTestImage(store, [await layerTar([{ name: 'f', content: 'f' }])], { names: ['localhost/a:1'], created: '2025-01-01T00:00:00Z' });
    assert.deepEqual((await must(store.image(a.id))).names, []);
    assert.deepEqual((await must(store.image(b.id))).names, ['localhost/a:1']);
    await must(store.createContainerLayer(CTR, b.id));
    assert.equal((await mustFail(store.removeImage(b.id))).code, 'ImageInUse');
    await must(store.removeContainerLayer(CTR));
    assert.deepEqual(await must(store.removeImage(b.id)), [b.layers[0]]);
    assert.equal((await mustFail(store.image(b.id))).code, 'NoSuchImage');
    assert.equal((await must(store.layers())).length, 1);
  });

  it('putImage needs its layers and a config matching the manifest', async () => {
    const tar = await base();
    const docs = imageDocs([tar], [tar]);
    assert.equal((await mustFail(store.putImage(docs))).code, 'NoSuchImage');
    assert.equal((await mustFail(store.putImage({ ...docs, config: Buffer.from('{}') }))).code, 'ImageCorrupt');
  });

  it('two puts of one layer at once store it once', async () => {
    const tar = await base();
    const blob = await compress(tar, 'gzip');
    const [r1, r2] = await Promise.all([0, 1].map(() => must(store.putLayer({ blob: Readable.from([blob]), diffId: digestOf(tar), digest: digestOf(blob) }))));
    assert.equal(r1!.layer.id, r2!.layer.id);
    assert.equal((await must(store.layers())).length, 1);
  });

  it('an incomplete layer whose writer is gone is swept at open', async () => {
    const tar = await base();
    const id = chainIdOf(undefined, digestOf(tar));
    await writeFile(join(dir, 'storage', 'layers', `${id}.json`), JSON.stringify({ id, diffId: digestOf(tar), diffSize: 0, depth: 1, createdAt: '', incomplete: true }));
    await writeFile(join(dir, 'storage', 'tmp', '999999999-blob-abc'), 'partial');
    store = await must(ImageStore.open(join(dir, 'storage')));
    assert.deepEqual(await readdir(join(dir, 'storage', 'layers')), []);
    assert.deepEqual(await readdir(join(dir, 'storage', 'tmp')), []);
    assert.equal((await mustFail(store.layer(id))).code, 'NoSuchImage');
    // and a put of it works afterwards
    await must(store.putLayer({ blob: Readable.from([tar]), diffId: digestOf(tar) }));
    assert.equal((await readFile(join(dir, 'storage', 'driver'), 'utf8')).trim(), 'vfs');
  });

  it('container layer directories without a record (a crash between the two steps) are swept at open, unless their container is being made', async () => {
    const storage = join(dir, 'storage');
    const img = await putTestImage(store, [await base()]);
    await must(store.createContainerLayer(CTR, img.id));
    const orphan = 'd'.repeat(64);
    const busy = 'e'.repeat(64);
    for (const id of [orphan, busy]) await mkdir(join(storage, 'vfs-containers', id, 'rootfs'), { recursive: true });
    const held = await new StoreLocks(storage).tryAcquire(containerLock(busy));
    assert.ok(held);
    try {
      store = await must(ImageStore.open(storage));
      assert.deepEqual((await readdir(join(storage, 'vfs-containers'))).sort(), [CTR, busy].sort(), 'the orphan is swept, the recorded and the busy ones stay');
    } finally {
      await held.release();
    }
    store = await must(ImageStore.open(storage));
    assert.deepEqual(await readdir(join(storage, 'vfs-containers')), [CTR]);
    assert.equal((await must(store.containerLayer(CTR))).imageId, img.id);
  });

  it('an image removed while a container layer is being made: NoSuchImage, nothing left', async () => {
    const storage = join(dir, 'storage');
    const img = await putTestImage(store, [await base()]);
    const layout = storeLayout(storage);
    const locks = new StoreLocks(storage);
    const core: StoreCore = { layout, locks, blobs: new BlobStore(layout.blobs, layout.tmp), driver: new VfsDriver(storage) };
    // another process removes the image right after this one made the directories
    class Racing extends VfsDriver {
      override async createContainer(id: string, layers: readonly string[]): Promise<void> {
        await super.createContainer(id, layers);
        await locks.with(STORE_LOCK, () => removeImage(core, img.id));
      }
    }
    const e = await createContainerLayer({ ...core, driver: new Racing(storage) }, CTR, img.id).then(
      () => undefined,
      (x: unknown) => x as { code?: string },
    );
    assert.equal(e?.code, 'NoSuchImage');
    assert.deepEqual(await readdir(join(storage, 'containers')), []);
    assert.deepEqual(await readdir(join(storage, 'vfs-containers')), []);
  });
});
