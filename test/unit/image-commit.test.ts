/**
 * Commit at the store level on the vfs driver (no root): a container's
 * changes (new, changed, deleted files and directories) become one layer
 * on top of its image, with whiteouts; a container of the new image sees
 * exactly the changed tree; the config carries the container's settings,
 * the --change instructions, author and message.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { commitImage } from '../../src/image/commit/commit-image.js';
import { parseImageConfig } from '../../src/image/formats/config.js';
import { ImageStore } from '../../src/image/store/image-store.js';
import { openImageArchive } from '../../src/image/transports/open-archive.js';
import { storeImages } from '../../src/image/transports/storage.js';
import { whiteoutImage, writeOciDir, type BuiltImage } from '../fixtures/images.js';

let dir: string;
let store: ImageStore;
let wh: BuiltImage;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-commit-'));
  store = (await ImageStore.open(join(dir, 'storage'), { driver: 'vfs' }))._unsafeUnwrap();
  wh = await whiteoutImage({ labels: { base: '1' } });
  await writeOciDir(join(dir, 'layout'), [{ image: wh, name: 'wh:1' }]);
  const a = (await openImageArchive(join(dir, 'layout'), { tmpDir: join(dir, 'tmp') }))._unsafeUnwrap();
  (await storeImages(store, a.images))._unsafeUnwrap();
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const newId = (): string => randomBytes(32).toString('hex');

async function rootfs(imageId: string): Promise<{ id: string; root: string }> {
  const id = newId();
  (await store.createContainerLayer(id, imageId))._unsafeUnwrap();
  return { id, root: (await store.mountContainer(id))._unsafeUnwrap() };
}

describe('commit (vfs)', () => {
  it('makes a layer of the changes, with whiteouts, that a new container sees', async () => {
    const ctr = await rootfs(wh.id);
    await writeFile(join(ctr.root, 'etc/b'), 'changed\n');
    await rm(join(ctr.root, 'etc/os-release'));
    await rm(join(ctr.root, 'etc/dir'), { recursive: true });
    await mkdir(join(ctr.root, 'srv/app'), { recursive: true });
    await writeFile(join(ctr.root, 'srv/app/run.sh'), 'echo hi\n');
    await symlink('/srv/app/run.sh', join(ctr.root, 'bin/run'));

    const rec = (
      await commitImage({
        store,
        containerId: ctr.id,
        imageId: wh.id,
        settings: { cmd: ['/bin/run'], env: ['PATH=/bin', 'MODE=test'], labels: { ctr: 'yes' }, workingDir: '/srv' },
        ref: 'committed:1',
        author: 'Jane <j@example.com>',
        message: 'my change',
        changes: ['ENV EXTRA=1', 'EXPOSE 8080', 'LABEL from=change', 'USER 1000'],
      })
    )._unsafeUnwrap();
    assert.deepEqual(rec.names, ['localhost/committed:1']);
    assert.equal(rec.layers.length, 3);
    assert.deepEqual(rec.layers.slice(0, 2), (await store.image(wh.id))._unsafeUnwrap().layers);

    const c = parseImageConfig((await store.imageConfig(rec.id))._unsafeUnwrap())._unsafeUnwrap();
    assert.equal(c.rootfs.diff_ids.length, 3);
    assert.equal(c.author, 'Jane <j@example.com>');
    assert.equal(c.history?.at(-1)?.comment, 'my change');
    assert.equal(c.config?.User, '1000');
    assert.deepEqual(c.config?.Env, ['PATH=/bin', 'MODE=test', 'EXTRA=1']);
    assert.deepEqual(c.config?.Labels, { base: '1', ctr: 'yes', from: 'change' });
    assert.deepEqual(Object.keys(c.config?.ExposedPorts ?? {}), ['8080/tcp']);
    assert.equal(c.config?.WorkingDir, '/srv');
    assert.deepEqual(c.config?.Cmd, ['/bin/run']);

    const next = await rootfs(rec.id);
    assert.equal(await readFile(join(next.root, 'etc/b'), 'utf8'), 'changed\n');
    assert.equal(existsSync(join(next.root, 'etc/os-release')), false);
    assert.equal(existsSync(join(next.root, 'etc/dir')), false);
    assert.equal(await readFile(join(next.root, 'srv/app/run.sh'), 'utf8'), 'echo hi\n');
    assert.equal(existsSync(join(next.root, 'bin/busybox')), true);
    assert.deepEqual((await readdir(join(dir, 'storage', 'tmp'))).filter((n) => n.includes('commit')), []);
    (await store.removeContainerLayer(ctr.id))._unsafeUnwrap();
    (await store.removeContainerLayer(next.id))._unsafeUnwrap();
  });

  it('an unchanged container commits to an empty layer; no name gives a dangling image', async () => {
    const ctr = await rootfs(wh.id);
    const rec = (await commitImage({ store, containerId: ctr.id, imageId: wh.id, settings: {} }))._unsafeUnwrap();
    assert.deepEqual(rec.names, []);
    assert.equal(rec.layers.length, 3);
    (await store.removeContainerLayer(ctr.id))._unsafeUnwrap();
  });

  it('a bad name or change is InvalidArg and stores nothing', async () => {
    const ctr = await rootfs(wh.id);
    const before = (await store.images())._unsafeUnwrap().length;
    for (const bad of [{ ref: 'UPPER' }, { changes: ['RUN rm -rf /'] }, { changes: ['EXPOSE x'] }]) {
      const r = await commitImage({ store, containerId: ctr.id, imageId: wh.id, settings: {}, ...bad });
      assert.equal(r._unsafeUnwrapErr().code, 'InvalidArg');
    }
    assert.equal((await store.images())._unsafeUnwrap().length, before);
    (await store.removeContainerLayer(ctr.id))._unsafeUnwrap();
  });
});
