import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeOciRuntime, MemoryStateStore, Runtime, type LibpodEvent } from '../../src/index.js';
import { ImageStore } from '../../src/image/store/image-store.js';
import { layerTar, putTestImage, type TestImageConfig } from '../fixtures/image-layers.js';
import { must, mustFail } from '../support/engine.js';

interface Env {
  base: string;
  storage: string;
  runtime: Runtime;
  store: ImageStore;
  open(root?: string): Promise<Runtime>;
}

async function setup(): Promise<Env> {
  const base = await mkdtemp(join(tmpdir(), 'libpod-ts-images-'));
  const storage = join(base, 'storage');
  const open = (root = 'a'): Promise<Runtime> =>
    must(Runtime.open({ root: join(base, root, 'root'), runRoot: join(base, root, 'run'), store: new MemoryStateStore(), ociRuntime: new FakeOciRuntime(), storage: { path: storage, driver: 'vfs' }, registries: { search: [] } }));
  const runtime = await open();
  const store = await must(ImageStore.open(storage, { driver: 'vfs' }));
  return { base, storage, runtime, store, open };
}

const rootLayer = (): Promise<Buffer> =>
  layerTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' },
    { name: 'etc/group', content: 'root:x:0:\napp:x:1000:\n' },
    { name: 'bin/', type: 'directory' },
    { name: 'bin/sh', content: '#!', mode: 0o755 },
    { name: 'srv/', type: 'directory' },
    { name: 'srv/data', content: 'image data' },
  ]);

describe('images', () => {
  let e: Env;
  const events: LibpodEvent[] = [];
  beforeEach(async () => {
    e = await setup();
    events.length = 0;
    e.runtime.events.on('image', (ev) => events.push(ev));
  });
  afterEach(async () => {
    await e.runtime.close();
    await rm(e.base, { recursive: true, force: true });
  });

  const put = async (names: string[], config: TestImageConfig = {}, created?: string) =>
    putTestImage(e.store, [await rootLayer()], { names, config, ...(created ? { created } : {}) });

  it('looks images up by name, short name, id, sha256:id and prefix; bad input is InvalidArg, unknown NoSuchImage', async () => {
    const img = await put(['docker.io/library/busybox:latest', 'localhost/app:1']);
    for (const q of ['busybox', 'busybox:latest', 'docker.io/library/busybox', 'app:1', 'localhost/app:1', img.id, `sha256:${img.id}`, img.id.slice(0, 12)]) {
      assert.equal((await must(e.runtime.lookupImage(q))).id, img.id, q);
    }
    assert.equal((await mustFail(e.runtime.lookupImage('nothere'))).code, 'NoSuchImage');
    assert.equal((await mustFail(e.runtime.lookupImage('app'))).code, 'NoSuchImage', 'app means app:latest');
    assert.equal((await mustFail(e.runtime.lookupImage('Bad Name'))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.lookupImage(''))).code, 'InvalidArg');
  });

  it('an ambiguous id prefix is InvalidArg', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 17; i += 1) ids.push((await put([], {}, `2024-01-${String(i + 1).padStart(2, '0')}T00:00:00Z`)).id);
    const first = ids.map((id) => id[0]).find((c, i, all) => all.indexOf(c) !== i) as string;
    assert.equal((await mustFail(e.runtime.lookupImage(first))).code, 'InvalidArg');
  });

  it('tag and untag move names, with events; Image handles report id, names, digest', async () => {
    const a = await put(['localhost/a:1']);
    const b = await put([], {}, '2025-02-02T00:00:00Z');
    const img = await must(e.runtime.lookupImage(b.id));
    await must(img.tag('localhost/a:1'));
    assert.deepEqual(img.names, ['localhost/a:1']);
    assert.deepEqual((await must(e.runtime.lookupImage(a.id))).names, []);
    await must(img.tag('other'));
    assert.ok(img.names.includes('docker.io/library/other:latest'));
    assert.equal((await mustFail(img.untag('never-had'))).code, 'InvalidArg');
    assert.equal((await mustFail(img.tag('x@sha256:' + 'a'.repeat(64)))).code, 'InvalidArg');
    await must(img.untag('other'));
    assert.deepEqual(img.names, ['localhost/a:1']);
    assert.equal(img.digest, b.digest);
    assert.deepEqual(events.map((ev) => `${ev.status} ${ev.name}`), ['tag localhost/a:1', 'tag docker.io/library/other:latest', 'untag docker.io/library/other:latest']);
  });

  it('images() filters by reference, label and dangling; inspect and history report the config', async () => {
    const a = await put(['localhost/web:1'], { Labels: { tier: 'web' }, Env: ['A=1'], Cmd: ['/bin/sh'], ExposedPorts: { '80/tcp': {} } });
    const b = await put([], { Labels: { tier: 'db' } }, '2025-01-01T00:00:00Z');
    const ids = async (f: Parameters<Runtime['images']>[0]) => (await must(e.runtime.images(f))).map((i) => i.id);
    assert.deepEqual(await ids({}), [b.id, a.id].sort((x, y) => (x === b.id ? -1 : y === b.id ? 1 : 0)));
    assert.deepEqual(await ids({ reference: 'localhost/web' }), [a.id]);
    assert.deepEqual(await ids({ reference: 'localhost/w*' }), [a.id]);
    assert.deepEqual(await ids({ label: 'tier=db' }), [b.id]);
    assert.deepEqual(await ids({ label: { tier: 'web' } }), [a.id]);
    assert.deepEqual(await ids({ dangling: true }), [b.id]);
    assert.equal((await mustFail(e.runtime.images({ bogus: 1 } as never))).code, 'InvalidArg');
    const info = await must((await must(e.runtime.lookupImage(a.id))).inspect());
    assert.equal(info.id, a.id);
    assert.deepEqual(info.repoTags, ['localhost/web:1']);
    assert.deepEqual(info.repoDigests, [`localhost/web@${a.digest}`]);
    assert.deepEqual(info.config.env, ['A=1']);
    assert.deepEqual(info.config.exposedPorts, ['80/tcp']);
    assert.equal(info.rootFS.diffIDs.length, 1);
    assert.ok(info.size > 0);
    assert.ok(info.created instanceof Date);
    const hist = await must((await must(e.runtime.lookupImage(a.id))).history());
    assert.equal(hist[0]?.id, a.id);
    assert.equal(hist[0]?.size, info.size);
  });

  it('newContainer({ image }) applies the image config under the caller options, as podman', async () => {
    const img = await put(['localhost/app:1'], {
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['echo hi'],
      Env: ['PATH=/usr/bin:/bin', 'A=image', 'B=image'],
      WorkingDir: '/srv',
      User: 'app',
      StopSignal: 'SIGQUIT',
      Labels: { a: 'image', b: 'image' },
      Volumes: { '/data': {}, '/srv': {} },
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 },
    });
    const c1 = await must(e.runtime.newContainer({ image: 'localhost/app:1' }));
    const cfg = c1.config();
    assert.equal(cfg.image, img.id);
    assert.equal(cfg.rootfs, undefined);
    assert.deepEqual(cfg.entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(cfg.command, ['echo hi']);
    assert.equal(cfg.env.A, 'image');
    assert.equal(cfg.workDir, '/srv');
    assert.equal(cfg.user, 'app');
    assert.equal(cfg.stopSignal, 'SIGQUIT');
    assert.deepEqual(cfg.healthCheck, { test: ['CMD-SHELL', 'true'], interval: 5, retries: 2 });
    assert.deepEqual(cfg.volumes.map((v) => v.dest).sort(), ['/data', '/srv']);
    assert.ok(cfg.volumes.every((v) => /^[0-9a-f]{64}$/.test(v.name)));
    const c2 = await must(
      e.runtime.newContainer({
        image: await must(e.runtime.lookupImage(img.id)),
        command: ['echo', 'mine'],
        env: { B: 'mine' },
        workDir: '/',
        user: '0',
        stopSignal: 'SIGTERM',
        labels: { b: 'mine' },
        volumes: [{ name: 'named', dest: '/data' }],
        healthCheck: { test: ['CMD', 'false'] },
      }),
    );
    const cfg2 = c2.config();
    assert.deepEqual([cfg2.entrypoint, cfg2.command], [['/bin/sh', '-c'], ['echo', 'mine']]);
    assert.deepEqual([cfg2.env.A, cfg2.env.B, cfg2.workDir, cfg2.user, cfg2.stopSignal], ['image', 'mine', '/', '0', 'SIGTERM']);
    assert.deepEqual(cfg2.labels, { a: 'image', b: 'mine' });
    assert.deepEqual(cfg2.volumes.map((v) => [v.name === 'named', v.dest]).sort(), [[false, '/srv'], [true, '/data']]);
    assert.deepEqual(cfg2.healthCheck, { test: ['CMD', 'false'] });
    // a caller's entrypoint drops the image's Cmd
    const c3 = await must(e.runtime.newContainer({ image: img.id, entrypoint: ['/bin/true'] }));
    assert.deepEqual([c3.config().entrypoint, c3.config().command], [['/bin/true'], []]);
  });

  it('image create errors: nothing to run, missing image, both rootfs and image', async () => {
    const bare = await put(['localhost/bare:1']);
    assert.equal((await mustFail(e.runtime.newContainer({ image: bare.id }))).code, 'InvalidArg');
    // the default policy 'missing' pulls an absent image: nothing listens on localhost:443 here
    assert.equal((await mustFail(e.runtime.newContainer({ image: 'localhost/none:1', command: ['x'] }))).code, 'Registry');
    // a short name with no search registries (the test engine's) is not found, and nothing is asked
    assert.equal((await mustFail(e.runtime.newContainer({ image: 'none', command: ['x'] }))).code, 'NoSuchImage');
    assert.equal((await mustFail(e.runtime.newContainer({ image: 'localhost/none:1', command: ['x'], pullPolicy: 'never' }))).code, 'NoSuchImage');
    assert.equal((await mustFail(e.runtime.newContainer({ image: bare.id, command: ['x'], pullPolicy: 'sometimes' as never }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.newContainer({ image: bare.id, rootfs: e.base, command: ['x'] }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.newContainer({ rootfs: e.base, command: ['x'], entrypoint: ['y'] }))).code, 'InvalidArg');
    assert.deepEqual(await must(e.store.containerLayers()), []);
  });

  it('an image container mounts its image, reports sizes, and its layer goes with it', async () => {
    const img = await put(['localhost/app:1'], { Cmd: ['/bin/sh'] });
    const ctr = await must(e.runtime.newContainer({ image: img.id }));
    assert.deepEqual((await must(e.store.containerLayers())).map((c) => c.id), [ctr.id]);
    const root = await must(ctr.mount());
    assert.equal(await readFile(join(root, 'srv/data'), 'utf8'), 'image data');
    const info = await must(ctr.inspect({ size: true }));
    assert.ok((info.rootFsSize ?? 0) >= (await must((await must(e.runtime.lookupImage(img.id))).inspect())).size);
    await must(ctr.unmount());
    const tar = new PassThrough();
    const chunks: Buffer[] = [];
    tar.on('data', (c: Buffer) => chunks.push(c));
    await must(ctr.export(tar));
    assert.ok(Buffer.concat(chunks).includes(Buffer.from('image data')), 'export writes the image content');
    await must(ctr.start());
    await must(e.runtime.removeContainer(ctr, { force: true }));
    assert.deepEqual(await must(e.store.containerLayers()), []);
  });

  it('removeImage: in use is ImageInUse unless force, which removes the containers; by a shared name only untags', async () => {
    const img = await put(['localhost/app:1', 'localhost/app:2'], { Cmd: ['/bin/sh'] });
    const ctr = await must(e.runtime.newContainer({ image: img.id }));
    assert.deepEqual(await must(e.runtime.removeImage('localhost/app:2')), { untagged: ['localhost/app:2'], deleted: [] });
    assert.equal((await mustFail(e.runtime.removeImage(img.id))).code, 'ImageInUse');
    await must((await must(e.runtime.lookupImage(img.id))).tag('localhost/app:3'));
    assert.equal((await mustFail(e.runtime.removeImage(img.id))).code, 'ImageInUse', 'by id with several names');
    const res = await must(e.runtime.removeImage(await must(e.runtime.lookupImage(img.id)), { force: true }));
    assert.deepEqual(res, { untagged: ['localhost/app:1', 'localhost/app:3'], deleted: [img.id] });
    assert.equal((await mustFail(e.runtime.lookupContainer(ctr.id))).code, 'NoSuchCtr');
    assert.equal((await mustFail(e.runtime.lookupImage(img.id))).code, 'NoSuchImage');
    assert.ok(events.some((ev) => ev.status === 'remove' && ev.id === img.id));
    assert.deepEqual(await must(e.store.layers()), []);
  });

  it('an image used by another Runtime on the same storage stays ImageInUse, even with force', async () => {
    const img = await put(['localhost/app:1'], { Cmd: ['/bin/sh'] });
    const other = await e.open('b');
    try {
      await must(other.newContainer({ image: 'localhost/app:1' }));
      assert.equal((await mustFail(e.runtime.removeImage(img.id))).code, 'ImageInUse');
      assert.equal((await mustFail(e.runtime.removeImage(img.id, { force: true }))).code, 'ImageInUse');
      assert.deepEqual(await must(e.runtime.pruneImages({ all: true })), []);
    } finally {
      await other.close();
    }
  });

  it('removeImage force removes a container layer this Runtime left without its container (a crash)', async () => {
    const img = await put(['localhost/app:1'], { Cmd: ['/bin/sh'] });
    const orphan = 'f'.repeat(64);
    await must(e.store.createContainerLayer(orphan, img.id, e.runtime.root));
    assert.equal((await mustFail(e.runtime.removeImage(img.id))).code, 'ImageInUse');
    await must(e.runtime.removeImage(img.id, { force: true }));
    assert.deepEqual(await must(e.store.containerLayers()), []);
  });

  it('pruneImages removes unused dangling images; all: every unused image', async () => {
    const named = await put(['localhost/keep:1'], { Cmd: ['/bin/sh'] });
    const dangling = await put([], {}, '2025-03-03T00:00:00Z');
    const used = await put([], { Cmd: ['/bin/sh'] }, '2025-04-04T00:00:00Z');
    await must(e.runtime.newContainer({ image: used.id }));
    assert.deepEqual(await must(e.runtime.pruneImages()), [dangling.id]);
    assert.deepEqual(await must(e.runtime.pruneImages({ all: true })), [named.id]);
    assert.deepEqual((await must(e.runtime.images())).map((i) => i.id), [used.id]);
    assert.ok(events.some((ev) => ev.status === 'prune' && ev.id === dangling.id));
  });
});
