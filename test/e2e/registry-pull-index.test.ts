/**
 * Index digests (as containers/image records them): an image pulled from a
 * multi-platform index is known by the index's digest too, so a pull by
 * `repo@<index digest>` with policy `missing` finds it without asking the
 * registry, and policy `newer` on an unchanged tag costs one HEAD (no
 * manifest, config or blob fetched). And a re-pull with policy `always` of
 * an unchanged image fetches the manifest only and rewrites nothing in the
 * store. Requests are counted by a pass-through proxy in front of Debian's
 * docker-registry on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Puller } from '../../src/image/pull.js';
import { ImageStore } from '../../src/image/store/image-store.js';
import { repoDigests } from '../../src/image/image-inspect.js';
import { multiArchImages, writeOciDir } from '../fixtures/images.js';
import { flakyProxy, skopeo, skopeoPush, startRegistry, type FlakyProxy, type TestRegistry } from '../support/registry.js';

let dir: string;
let reg: TestRegistry;
let proxy: FlakyProxy;
let multi: Awaited<ReturnType<typeof multiArchImages>>;
/** The index's digest as the registry serves it. */
let indexDigest: string;
const FAST_RETRY = { attempts: 2, baseDelayMs: 20, maxDelayMs: 100 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-pull-index-'));
  multi = await multiArchImages();
  reg = await startRegistry();
  const md = join(dir, 'layout-multi');
  await writeOciDir(md, [{ index: { ...multi.index, images: [multi.amd64, multi.arm64] } }]);
  await skopeoPush(`oci:${md}`, `${reg.host}/test/multi:1`, undefined, ['--all']);
  const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/test/multi:1`]);
  indexDigest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  proxy = await flakyProxy(reg.host, () => 'ok');
});

after(async () => {
  await proxy?.close();
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function puller(): Promise<{ store: ImageStore; puller: Puller }> {
  const store = (await ImageStore.open(join(dir, `store-${n++}`), { driver: 'vfs' }))._unsafeUnwrap();
  return { store, puller: new Puller({ storage: store, registries: { search: [] }, publish: () => undefined, retry: FAST_RETRY }) };
}

/** Requests the registry saw while `fn` ran, as `METHOD path`. */
async function requestsDuring(fn: () => Promise<void>): Promise<string[]> {
  const from = proxy.seen.length;
  await fn();
  return proxy.seen.slice(from);
}

const hostImage = (): typeof multi.amd64 => (process.arch === 'arm64' ? multi.arm64 : multi.amd64);

describe('index digests', () => {
  it('a pull by tag of an index records the index digest beside the manifest digest', async () => {
    const { store, puller: p } = await puller();
    const img = (await p.pull(`${proxy.host}/test/multi:1`, { tlsVerify: false }))._unsafeUnwrap();
    assert.equal(img.id, hostImage().id);
    assert.equal(img.digest, hostImage().manifestDigest);
    assert.deepEqual(img.digests, [hostImage().manifestDigest, indexDigest]);
    assert.deepEqual((await store.image(img.id))._unsafeUnwrap().digests, img.digests);
    assert.ok(repoDigests(img).includes(`${proxy.host}/test/multi@${indexDigest}`));
  });

  it('pullImage(repo@<index digest>) with policy missing finds the local copy with no registry request', async () => {
    const { puller: p } = await puller();
    const first = (await p.pull(`${proxy.host}/test/multi:1`, { tlsVerify: false }))._unsafeUnwrap();
    const seen = await requestsDuring(async () => {
      const again = (await p.pull(`${proxy.host}/test/multi@${indexDigest}`, { tlsVerify: false }))._unsafeUnwrap();
      assert.equal(again.id, first.id);
    });
    assert.deepEqual(seen, []);
  });

  it('a pull by index digest names the image repo@<index digest> and finds it again locally', async () => {
    const { puller: p } = await puller();
    const ref = `${proxy.host}/test/multi@${indexDigest}`;
    const img = (await p.pull(ref, { tlsVerify: false }))._unsafeUnwrap();
    assert.deepEqual(img.names, [ref]);
    assert.ok(img.digests.includes(indexDigest));
    assert.deepEqual(await requestsDuring(async () => void (await p.pull(ref, { tlsVerify: false }))._unsafeUnwrap()), []);
  });

  it('policy newer on an unchanged index tag: one HEAD, no manifest, config or blob fetched', async () => {
    const { puller: p } = await puller();
    const first = (await p.pull(`${proxy.host}/test/multi:1`, { tlsVerify: false }))._unsafeUnwrap();
    const seen = await requestsDuring(async () => {
      const again = (await p.pull(`${proxy.host}/test/multi:1`, { tlsVerify: false, policy: 'newer' }))._unsafeUnwrap();
      assert.equal(again.id, first.id);
    });
    assert.deepEqual(
      seen.filter((r) => !r.startsWith('GET /v2/ ') && r !== 'GET /v2/'),
      ['HEAD /v2/test/multi/manifests/1'],
    );
  });
});

describe('re-pulls with policy always', () => {
  it('fetch the manifest only (the config comes from the store) and rewrite no blob or record', async () => {
    const { store, puller: p } = await puller();
    const ref = `${proxy.host}/test/multi:1`;
    const img = (await p.pull(ref, { tlsVerify: false }))._unsafeUnwrap();
    const files = [join(store.path, 'images', `${img.id}.json`), join(store.path, 'blobs', 'sha256', img.configDigest.slice(7)), join(store.path, 'blobs', 'sha256', img.digest.slice(7))];
    const before = await Promise.all(files.map(async (f) => (await stat(f)).ino));
    const seen = await requestsDuring(async () => {
      const again = (await p.pull(ref, { tlsVerify: false, policy: 'always' }))._unsafeUnwrap();
      assert.deepEqual(again, img);
    });
    assert.deepEqual(
      seen.filter((r) => r !== 'GET /v2/'),
      ['GET /v2/test/multi/manifests/1', `GET /v2/test/multi/manifests/${hostImage().manifestDigest}`],
    );
    // written files are replaced by rename (a new inode): the same inodes mean nothing was rewritten
    assert.deepEqual(await Promise.all(files.map(async (f) => (await stat(f)).ino)), before);
  });
});
