/**
 * runtime.loadImages / saveImages / ctr.commit on the fake OCI runtime and
 * the vfs driver (no root): what the public API returns, its events, its
 * errors, and that a committed image runs as a container's image.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createReadStream } from 'node:fs';
import { FakeOciRuntime, MemoryStateStore, Runtime, type LibpodEvent } from '../../src/index.js';
import { must, mustFail } from '../support/engine.js';
import { busyboxImage, whiteoutImage, writeDockerArchive, writeOciDir, type BuiltImage } from '../fixtures/images.js';

let dir: string;
let rt: Runtime;
let bb: BuiltImage;
let wh: BuiltImage;
const events: LibpodEvent[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-archives-rt-'));
  rt = await must(Runtime.open({ root: join(dir, 'root'), runRoot: join(dir, 'run'), store: new MemoryStateStore(), ociRuntime: new FakeOciRuntime(), storage: { driver: 'vfs' } }));
  rt.events.on('image', (e) => events.push(e));
  bb = await busyboxImage({ cmd: ['sh', '-c', 'echo hi'] });
  wh = await whiteoutImage();
});

after(async () => {
  await rt.close();
  await rm(dir, { recursive: true, force: true });
});

describe('runtime.loadImages / saveImages', () => {
  it('loads a docker-archive from a path and an OCI layout from a directory, with load events', async () => {
    const file = join(dir, 'bb.tar');
    await writeDockerArchive(file, [{ image: bb, tags: ['bb:1'] }]);
    const imgs = await must(rt.loadImages(file));
    assert.deepEqual(imgs.map((i) => [i.id, i.names]), [[bb.id, ['localhost/bb:1']]]);
    const layout = join(dir, 'wh');
    await writeOciDir(layout, [{ image: wh, name: 'quay.io/t/wh:2' }]);
    const more = await must(rt.loadImages(layout));
    assert.equal(more[0]!.id, wh.id);
    assert.equal((await must(rt.lookupImage('quay.io/t/wh:2'))).id, wh.id);
    assert.deepEqual(events.filter((e) => e.status === 'load').map((e) => [e.id, e.name]), [[bb.id, file], [wh.id, layout]]);
  });

  it('loads from a stream', async () => {
    const file = join(dir, 'bb2.tar');
    await writeDockerArchive(file, [{ image: bb, tags: ['bb:stream'] }]);
    const imgs = await must(rt.loadImages(createReadStream(file)));
    assert.deepEqual(imgs[0]!.names, ['localhost/bb:1', 'localhost/bb:stream']);
  });

  it('saves by name, id and handle, to a path and a stream; a save loads back in another runtime', async () => {
    const out = join(dir, 'saved.tar');
    await must(rt.saveImages(['bb:1', wh.id], out));
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    const handle = await must(rt.lookupImage('quay.io/t/wh:2'));
    await must(rt.saveImages([handle], sink, { format: 'oci-archive' }));
    assert.ok(Buffer.concat(chunks).length > 1000);
    const other = await must(Runtime.open({ root: join(dir, 'root2'), runRoot: join(dir, 'run2'), store: new MemoryStateStore(), ociRuntime: new FakeOciRuntime(), storage: { driver: 'vfs' } }));
    try {
      const back = await must(other.loadImages(out));
      assert.deepEqual(back.map((i) => i.id).sort(), [bb.id, wh.id].sort());
      assert.deepEqual(back.find((i) => i.id === bb.id)?.names, ['localhost/bb:1']);
      assert.deepEqual(back.find((i) => i.id === wh.id)?.names, []);
    } finally {
      await other.close();
    }
    assert.ok(events.some((e) => e.status === 'save' && e.id === wh.id));
  });

  it('bad input: InvalidArg, ImageCorrupt or NoSuchImage, and nothing stored', async () => {
    const before = (await must(rt.images())).length;
    assert.equal((await mustFail(rt.loadImages(join(dir, 'missing.tar')))).code, 'InvalidArg');
    assert.equal((await mustFail(rt.loadImages(42 as unknown as string))).code, 'InvalidArg');
    const junk = join(dir, 'junk.tar');
    await writeFile(junk, 'not a tar archive at all'.repeat(100));
    assert.equal((await mustFail(rt.loadImages(junk))).code, 'ImageCorrupt');
    assert.equal((await must(rt.images())).length, before);
    assert.equal((await mustFail(rt.saveImages(['nope:1'], join(dir, 'x.tar')))).code, 'NoSuchImage');
    assert.equal((await mustFail(rt.saveImages(['bb:1'], join(dir, 'x.tar'), { format: 'zip' as 'oci-dir' }))).code, 'InvalidArg');
    assert.equal(existsSync(join(dir, 'x.tar')), false);
  });
});

describe('ctr.commit', () => {
  it('commits a container of an image, with changes, and the new image runs', async () => {
    const ctr = await must(rt.newContainer({ image: 'bb:1', env: { MODE: 'x' }, labels: { who: 'me' } }));
    const root = await must(ctr.mount());
    await writeFile(join(root, 'etc', 'added'), 'new\n');
    await rm(join(root, 'etc', 'os-release'));
    const img = await must(ctr.commit('mine:1', { author: 'A', message: 'msg', changes: ['CMD ["cat", "/etc/added"]', 'LABEL stage=1'] }));
    assert.deepEqual(img.names, ['localhost/mine:1']);
    const info = await must(img.inspect());
    assert.equal(info.config.labels?.stage, '1');
    assert.equal(info.config.labels?.who, 'me');
    assert.deepEqual(info.config.cmd, ['cat', '/etc/added']);
    assert.ok(info.config.env?.includes('MODE=x'));
    assert.equal(info.rootFS.diffIDs.length, 2);
    assert.ok(events.some((e) => e.status === 'commit' && e.id === img.id && e.name === 'localhost/mine:1'));
    const next = await must(rt.newContainer({ image: 'mine:1' }));
    assert.deepEqual(next.config().command, ['cat', '/etc/added']);
    const r2 = await must(next.mount());
    assert.equal(await readFile(join(r2, 'etc', 'added'), 'utf8'), 'new\n');
    assert.equal(existsSync(join(r2, 'etc', 'os-release')), false);
    await must(rt.removeContainer(next, { force: true }));
    await must(rt.removeContainer(ctr, { force: true }));
  });

  it('refuses a rootfs container, a bad name and a bad change with InvalidArg', async () => {
    const plain = await must(rt.newContainer({ rootfs: dir, command: ['true'] }));
    assert.equal((await mustFail(plain.commit('x:1'))).code, 'InvalidArg');
    const ctr = await must(rt.newContainer({ image: 'bb:1' }));
    const before = (await must(rt.images())).length;
    assert.equal((await mustFail(ctr.commit('UPPER'))).code, 'InvalidArg');
    assert.equal((await mustFail(ctr.commit('ok:1', { changes: ['RUN true'] }))).code, 'InvalidArg');
    assert.equal((await mustFail(ctr.commit('ok:1', { author: 5 as unknown as string }))).code, 'InvalidArg');
    assert.equal((await must(rt.images())).length, before);
    await must(rt.removeContainer(plain, { force: true }));
    await must(rt.removeContainer(ctr, { force: true }));
  });
});
