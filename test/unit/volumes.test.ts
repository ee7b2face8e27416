import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { LibpodEvent } from '../../src/index.js';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';
import { parseMountInfo } from '../../src/host/mountinfo.js';

/** A minimal ustar archive of regular files (enough to test what import refuses). */
function tarOf(entries: { name: string; content: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { name, content } of entries) {
    const body = Buffer.from(content);
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

async function collect(stream: PassThrough): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('volumes', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  const volumeEvents = async (): Promise<LibpodEvent[]> => must(e.runtime.readEvents({ filter: { type: 'volume' } }));

  describe('create, lookup, list', () => {
    it('creates a local volume with a generated 64-hex name and a data directory', async () => {
      const vol = await must(e.runtime.newVolume());
      assert.match(vol.name, /^[0-9a-f]{64}$/);
      assert.equal(vol.driver, 'local');
      assert.equal(vol.mountPoint(), join(e.root, 'volumes', vol.name, '_data'));
      assert.ok(existsSync(vol.mountPoint()));
      const info = await must(vol.inspect());
      assert.equal(info.name, vol.name);
      assert.equal(info.scope, 'local');
      assert.equal(info.mountCount, 0);
      assert.equal(info.needsMount, false);
      assert.ok(info.createdAt instanceof Date);
      assert.deepEqual(await must(vol.inUse()), []);
      assert.deepEqual((await volumeEvents()).map((ev) => [ev.status, ev.name]), [['create', vol.name]]);
    });

    it('keeps labels and driver options; a taken name is VolumeExists', async () => {
      const vol = await must(e.runtime.newVolume({ name: 'data', labels: { a: 'b' }, options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } }));
      assert.deepEqual(vol.labels, { a: 'b' });
      assert.deepEqual(vol.options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
      assert.equal((await must(vol.inspect())).needsMount, true);
      assert.equal((await mustFail(e.runtime.newVolume({ name: 'data' }))).code, 'VolumeExists');
      const owned = await must(e.runtime.newVolume({ name: 'owned', options: { uid: '1000', gid: '1000' } }));
      const info = await must(owned.inspect());
      assert.equal(info.uid, 1000);
      assert.equal(info.gid, 1000);
    });

    it('rejects bad input with InvalidArg and creates nothing', async () => {
      for (const bad of [
        { name: 'a/b' },
        { name: '..' },
        { name: '../x' },
        { name: '' },
        { name: '.hidden' },
        { driver: 'nfs' },
        { options: { mode: '0777' } },
        { options: { uid: 'root' } },
        { options: { type: 'bind' } },
        { options: { type: 'bind', device: '/does/not/exist' } },
        { options: { o: 'size=1m nodev' } },
        { labels: { a: 1 } },
        { colour: 'red' },
      ]) {
        assert.equal((await mustFail(e.runtime.newVolume(bad as never))).code, 'InvalidArg', JSON.stringify(bad));
      }
      assert.equal((await mustFail(e.runtime.newVolume('x' as never))).code, 'InvalidArg');
      assert.equal((await must(e.runtime.volumes())).length, 0);
      assert.equal(existsSync(join(e.root, 'volumes', 'a')), false);
    });

    it('looks volumes up by name or unique prefix', async () => {
      await must(e.runtime.newVolume({ name: 'alpha1' }));
      await must(e.runtime.newVolume({ name: 'alpha2' }));
      await must(e.runtime.newVolume({ name: 'beta' }));
      assert.equal((await must(e.runtime.lookupVolume('alpha1'))).name, 'alpha1');
      assert.equal((await must(e.runtime.lookupVolume('be'))).name, 'beta');
      assert.equal((await mustFail(e.runtime.lookupVolume('alpha'))).code, 'InvalidArg');
      assert.equal((await mustFail(e.runtime.lookupVolume('gamma'))).code, 'NoSuchVolume');
      assert.equal((await mustFail(e.runtime.lookupVolume(''))).code, 'InvalidArg');
    });

    it('filters by name, label, driver and dangling', async () => {
      await must(e.runtime.newVolume({ name: 'used', labels: { k: 'v' } }));
      await must(e.runtime.newVolume({ name: 'free' }));
      await e.create({ volumes: [{ name: 'used', dest: '/data' }] });
      // Both volumes may be created in one millisecond (then listed by name): compare sets.
      const names = async (f: object): Promise<string[]> => (await must(e.runtime.volumes(f))).map((v) => v.name).sort();
      assert.deepEqual(await names({}), ['free', 'used']);
      assert.deepEqual(await names({ name: 'free' }), ['free']);
      assert.deepEqual(await names({ name: /^u/ }), ['used']);
      assert.deepEqual(await names({ label: 'k' }), ['used']);
      assert.deepEqual(await names({ driver: 'local' }), ['free', 'used']);
      assert.deepEqual(await names({ dangling: true }), ['free']);
      assert.deepEqual(await names({ dangling: false }), ['used']);
      assert.equal((await mustFail(e.runtime.volumes({ size: 1 } as never))).code, 'InvalidArg');
      assert.equal((await mustFail(e.runtime.volumes({ dangling: 'yes' } as never))).code, 'InvalidArg');
    });
  });

  describe('use by containers', () => {
    it('a container creates a missing volume and is listed as its user', async () => {
      const c = await e.create({ volumes: [{ name: 'auto', dest: '/data' }] });
      const vol = await must(e.runtime.lookupVolume('auto'));
      assert.deepEqual(await must(vol.inUse()), [c.id]);
    });

    it('a relative destination is InvalidArg', async () => {
      const err = await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], volumes: [{ name: 'v', dest: 'data' }] }));
      assert.equal(err.code, 'InvalidArg');
    });

    it('copy-up fills a new, empty volume from the rootfs once; later users see the data', async () => {
      await mkdir(join(e.rootfs, 'data', 'sub'), { recursive: true });
      await writeFile(join(e.rootfs, 'data', 'sub', 'hello'), 'from image');
      const a = await e.create({ volumes: [{ name: 'v', dest: '/data' }] });
      await must(a.start());
      const vol = await must(e.runtime.lookupVolume('v'));
      assert.equal(await readFile(join(vol.mountPoint(), 'sub', 'hello'), 'utf8'), 'from image');
      assert.equal((await must(vol.inspect())).needsCopyUp, false);
      // A container writes; the next one (whose image has other content) sees the volume, not its image.
      await writeFile(join(vol.mountPoint(), 'written'), 'by a');
      await must(a.stop());
      await writeFile(join(e.rootfs, 'data', 'late'), 'not copied');
      const b = await e.create({ volumes: [{ name: 'v', dest: '/data' }] });
      await must(b.start());
      assert.deepEqual((await readdir(vol.mountPoint())).sort(), ['sub', 'written']);
      const mount = e.fake.specOf(b.id)?.mounts?.find((m) => m.destination === '/data');
      assert.equal(mount?.source, vol.mountPoint());
    });

    it('removing a used volume is VolumeBeingUsed; force removes its users first', async () => {
      const vol = await must(e.runtime.newVolume({ name: 'busy' }));
      const c = await e.create({ volumes: [{ name: 'busy', dest: '/data' }] });
      await must(c.start());
      assert.equal((await mustFail(e.runtime.removeVolume(vol))).code, 'VolumeBeingUsed');
      assert.equal(await must(c.state()), 'running');
      await must(e.runtime.removeVolume(vol, { force: true, timeout: 0 }));
      assert.equal((await mustFail(c.state())).code, 'CtrRemoved');
      assert.equal(existsSync(join(e.root, 'volumes', 'busy')), false);
      assert.equal((await mustFail(e.runtime.lookupVolume('busy'))).code, 'NoSuchVolume');
      assert.deepEqual((await volumeEvents()).map((ev) => ev.status), ['create', 'remove']);
      // The handle outlived the volume.
      assert.equal((await mustFail(vol.inspect())).code, 'VolumeRemoved');
      assert.equal((await mustFail(vol.inUse())).code, 'VolumeRemoved');
      assert.equal((await mustFail(e.runtime.removeVolume(vol))).code, 'NoSuchVolume');
    });

    it('force does not remove a user others depend on', async () => {
      const vol = await must(e.runtime.newVolume({ name: 'shared' }));
      const a = await e.create({ name: 'a', volumes: [{ name: 'shared', dest: '/data' }] });
      await e.create({ name: 'b', dependencies: ['a'] });
      assert.equal((await mustFail(e.runtime.removeVolume(vol, { force: true }))).code, 'DepExists');
      assert.equal(await must(a.state()), 'configured');
      assert.deepEqual(await must(vol.inUse()), [a.id]);
    });

    it('rejects bad arguments', async () => {
      const vol = await must(e.runtime.newVolume());
      assert.equal((await mustFail(e.runtime.removeVolume({ name: vol.name } as never))).code, 'InvalidArg');
      assert.equal((await mustFail(e.runtime.removeVolume(vol, { force: 1 } as never))).code, 'InvalidArg');
      assert.equal((await mustFail(e.runtime.removeVolume(vol, { all: true } as never))).code, 'InvalidArg');
    });
  });

  describe('export and import', () => {
    it('round-trips content through a tar stream and a file', async () => {
      const src = await must(e.runtime.newVolume({ name: 'src' }));
      await mkdir(join(src.mountPoint(), 'dir'));
      await writeFile(join(src.mountPoint(), 'dir', 'f'), 'content');
      const out = new PassThrough();
      const [bytes] = await Promise.all([collect(out), must(src.export(out))]);
      const dst = await must(e.runtime.newVolume({ name: 'dst' }));
      await must(dst.import(Readable.from([bytes])));
      assert.equal(await readFile(join(dst.mountPoint(), 'dir', 'f'), 'utf8'), 'content');
      assert.equal((await must(dst.inspect())).needsCopyUp, false);
      const file = join(e.root, 'vol.tar');
      await must(src.export(file));
      const again = await must(e.runtime.newVolume({ name: 'again' }));
      await must(again.import(file));
      assert.equal(await readFile(join(again.mountPoint(), 'dir', 'f'), 'utf8'), 'content');
    });

    it('refuses entries that escape the volume', async () => {
      const vol = await must(e.runtime.newVolume({ name: 'target' }));
      for (const name of ['../escaped', '/abs/escaped', 'a/../../escaped']) {
        const err = await mustFail(vol.import(Readable.from([tarOf([{ name, content: 'x' }])])));
        assert.equal(err.code, 'InvalidArg', name);
      }
      assert.equal(existsSync(join(e.root, 'volumes', 'target', 'escaped')), false);
      assert.equal(existsSync(join(e.root, 'volumes', 'escaped')), false);
      await must(vol.import(Readable.from([tarOf([{ name: 'ok/file', content: 'fine' }])])));
      assert.equal(await readFile(join(vol.mountPoint(), 'ok', 'file'), 'utf8'), 'fine');
    });

    it('rejects bad targets and removed volumes', async () => {
      const vol = await must(e.runtime.newVolume());
      assert.equal((await mustFail(vol.export(42 as never))).code, 'InvalidArg');
      assert.equal((await mustFail(vol.import('' as never))).code, 'InvalidArg');
      assert.equal((await mustFail(vol.import(join(e.root, 'missing.tar')))).code, 'InvalidArg');
      await must(e.runtime.removeVolume(vol));
      assert.equal((await mustFail(vol.export(new PassThrough()))).code, 'VolumeRemoved');
    });
  });

  describe('prune', () => {
    it('removes unused volumes only', async () => {
      await must(e.runtime.newVolume({ name: 'unused1' }));
      await must(e.runtime.newVolume({ name: 'unused2' }));
      await e.create({ volumes: [{ name: 'kept', dest: '/data' }] });
      assert.deepEqual((await must(e.runtime.pruneVolumes())).sort(), ['unused1', 'unused2']);
      assert.deepEqual((await must(e.runtime.volumes())).map((v) => v.name), ['kept']);
      const pruned = (await volumeEvents()).filter((ev) => ev.status === 'prune').map((ev) => ev.name);
      assert.deepEqual(pruned.sort(), ['unused1', 'unused2']);
    });
  });

  describe('mounted volumes (root only: real tmpfs mounts)', { skip: process.getuid?.() !== 0 }, () => {
    it('a tmpfs volume is mounted on first use and unmounted when the last user leaves', async () => {
      const vol = await must(e.runtime.newVolume({ name: 'scratch', options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } }));
      const mounted = async (): Promise<boolean> =>
        parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).some((m) => m.mountPoint === vol.mountPoint());
      const a = await e.create({ volumes: [{ name: 'scratch', dest: '/data' }] });
      const b = await e.create({ volumes: [{ name: 'scratch', dest: '/data' }] });
      try {
        await must(a.start());
        assert.equal(await mounted(), true);
        await must(b.start());
        assert.equal((await must(vol.inspect())).mountCount, 2);
        await must(a.stop());
        assert.equal(await mounted(), true);
        assert.equal((await must(vol.inspect())).mountCount, 1);
        await must(b.stop());
        assert.equal(await mounted(), false);
        assert.equal((await must(vol.inspect())).mountCount, 0);
        const statuses = (await volumeEvents()).map((ev) => ev.status);
        assert.deepEqual(statuses, ['create', 'mount', 'unmount']);
      } finally {
        await e.runtime.removeVolume(vol, { force: true, timeout: 0 });
      }
      assert.equal(await mounted(), false);
    });
  });
});
