/**
 * Pushes to real registries (Debian's docker-registry on 127.0.0.1, behind a
 * proxy the test owns that records every request): a loaded image (its
 * uncompressed layers gzipped), a pulled image (pushed as stored, its
 * digest kept; into another repository by cross-repository mounts), a
 * committed image, zstd layers, Basic and token auth and their failures,
 * bad arguments, an aborted push; then skopeo, podman and our own pull see
 * the same digests, and a re-push sends no blob.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { commitImage } from '../../src/image/commit/commit-image.js';
import { Puller } from '../../src/image/pull.js';
import { pushImage, type PushContext, type PushOptions } from '../../src/image/push/push-image.js';
import { parsePushDestination } from '../../src/image/push/push-runtime.js';
import { BlobInfoCache } from '../../src/image/store/blob-info.js';
import { ImageStore } from '../../src/image/store/image-store.js';
import type { ImageRecord } from '../../src/image/store/records.js';
import type { Runtime } from '../../src/index.js';
import { busyboxImage, sha256, whiteoutImage, writeDockerArchive, writeOciDir, type BuiltImage } from '../fixtures/images.js';
import { fakeImageRuntime, flakyProxy, skopeo, skopeoPush, startRegistry, startTokenServer, type FlakyProxy, type TestRegistry, type TokenServer } from '../support/registry.js';
import { privatePodman, type PrivatePodman } from './support/podman.js';

let dir: string;
let reg: TestRegistry;
let proxy: FlakyProxy;
let podman: PrivatePodman;
let bb: BuiltImage;
let wh: BuiltImage;
const stops: (() => Promise<void>)[] = [];
const FAST_RETRY = { attempts: 2, baseDelayMs: 20, maxDelayMs: 100 };
const USER = { username: 'pusher', password: 'p4ss' };
const insecure: PushOptions = { tlsVerify: false };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-registry-push-'));
  bb = await busyboxImage();
  wh = await whiteoutImage({ labels: { pushed: 'yes' }, docker: true });
  reg = await startRegistry();
  stops.push(() => reg.stop());
  proxy = await flakyProxy(reg.host, () => 'ok');
  stops.push(proxy.close);
  const layout = join(dir, 'layout-bb');
  await writeOciDir(layout, [{ image: bb }]);
  await skopeoPush(`oci:${layout}`, `${reg.host}/base/bb:1`);
  podman = await privatePodman();
  stops.push(() => podman.cleanup());
});

after(async () => {
  for (const s of stops.reverse()) await s();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function newStore(): Promise<ImageStore> {
  return (await ImageStore.open(join(dir, `store-${n++}`), { driver: 'vfs' }))._unsafeUnwrap();
}

function pushCtx(store: ImageStore): PushContext {
  return { storage: store, registries: { search: [], insecure: [] }, blobInfo: new BlobInfoCache(store.path), retry: FAST_RETRY, env: { HOME: join(dir, 'no-home') } };
}

function puller(store: ImageStore): Puller {
  return new Puller({ storage: store, registries: { search: [], insecure: [] }, publish: () => undefined, retry: FAST_RETRY, env: { HOME: join(dir, 'no-home') } });
}

async function push(store: ImageStore, rec: ImageRecord, dest: string, opts: PushOptions = insecure): Promise<string> {
  return pushImage(pushCtx(store), rec, parsePushDestination(dest)._unsafeUnwrap(), opts);
}

/** Requests of the proxy's log since `from` that sent blob data (PATCH / PUT of an upload). */
function uploads(from: number): string[] {
  return proxy.seen.slice(from).filter((r) => /^(PATCH|PUT) \/v2\/.*\/blobs\/uploads\//.test(r));
}

async function inspectRaw(ref: string, creds?: typeof USER): Promise<{ digest: string; manifest: { mediaType: string; config: { digest: string }; layers: { mediaType: string; digest: string }[] } }> {
  const common = ['--tls-verify=false', ...(creds ? ['--creds', `${creds.username}:${creds.password}`] : [])];
  const raw = await skopeo(['inspect', '--raw', ...common, `docker://${ref}`]);
  const info = JSON.parse(await skopeo(['inspect', ...common, `docker://${ref}`])) as { Digest: string };
  assert.equal(info.Digest, sha256(raw), 'skopeo names the digest of the manifest it reads');
  return { digest: info.Digest, manifest: JSON.parse(raw) };
}

/** podman pulls `ref`: the image id it stores, and whether it knows the image by `digest` (an image with one id is shared by every reference that pulled it). */
async function podmanPull(ref: string, digest: string): Promise<{ id: string; byDigest: boolean }> {
  await podman.run(['pull', '-q', '--tls-verify=false', ref], 300_000);
  const [info] = JSON.parse(await podman.run(['image', 'inspect', ref])) as { Id: string; RepoDigests: string[] }[];
  return { id: info?.Id ?? '', byDigest: (info?.RepoDigests ?? []).includes(`${ref.replace(/:[^:/]*$/, '')}@${digest}`) };
}

describe('push of loaded, pulled and committed images', () => {
  it('a loaded image: layers gzipped, Docker schema 2 kept; skopeo, podman and a pull see the same digests; a re-push sends no blob', async () => {
    const { rt, base } = await fakeImageRuntime(dir, { insecure: [proxy.host] });
    await writeDockerArchive(join(base, 'wh.tar'), [{ image: wh, tags: ['wh:1'] }]);
    try {
      const events: string[] = [];
      rt.events.on('image', (ev) => events.push(`${ev.status} ${ev.id} ${ev.name}`));
      const [img] = (await rt.loadImages(join(base, 'wh.tar')))._unsafeUnwrap();
      assert.ok(img);
      const dest = `${proxy.host}/app/loaded:1`;
      (await rt.pushImage(img, dest))._unsafeUnwrap();
      assert.ok(events.includes(`push ${wh.id} ${dest}`), events.join('\n'));

      const seen = await inspectRaw(`${reg.host}/app/loaded:1`);
      assert.equal(seen.manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
      assert.equal(seen.manifest.config.digest, wh.configDigest);
      assert.deepEqual(seen.manifest.layers.map((l) => l.mediaType), wh.layers.map(() => 'application/vnd.docker.image.rootfs.diff.tar.gzip'));

      const store = await newStore();
      const pulled = (await puller(store).pull(`${reg.host}/app/loaded:1`, { tlsVerify: false }))._unsafeUnwrap();
      assert.equal(pulled.id, wh.id);
      assert.equal(pulled.digest, seen.digest);
      assert.deepEqual(await podmanPull(`${reg.host}/app/loaded:1`, seen.digest), { id: wh.id, byDigest: true });

      // by name this time: every blob is there (the compressed digests are remembered), nothing is sent
      const mark = proxy.seen.length;
      (await rt.pushImage('localhost/wh:1', dest))._unsafeUnwrap();
      assert.deepEqual(uploads(mark), []);
      assert.equal((await inspectRaw(`${reg.host}/app/loaded:1`)).digest, seen.digest);
    } finally {
      (await rt.close())._unsafeUnwrap();
    }
  });

  it('a pulled image goes as stored (same manifest digest); into another repository its blobs are mounted, not sent', async () => {
    const store = await newStore();
    const rec = (await puller(store).pull(`${proxy.host}/base/bb:1`, { tlsVerify: false }))._unsafeUnwrap();
    const mark = proxy.seen.length;
    const digest = await push(store, rec, `${proxy.host}/other/bb:2`);
    assert.equal(digest, bb.manifestDigest);
    const sent = proxy.seen.slice(mark);
    for (const l of bb.layers) assert.ok(sent.some((r) => r.startsWith(`POST /v2/other/bb/blobs/uploads/?mount=${encodeURIComponent(sha256(l.blob))}&from=base%2Fbb`)), sent.join('\n'));
    assert.deepEqual(uploads(mark), []);
    assert.equal((await inspectRaw(`${reg.host}/other/bb:2`)).digest, bb.manifestDigest);
    assert.deepEqual(await podmanPull(`${reg.host}/other/bb:2`, bb.manifestDigest), { id: bb.id, byDigest: true });
  });

  it('a committed image: base layers mounted, the new layer gzipped; podman pulls it with the same id; a re-push sends nothing', async () => {
    const store = await newStore();
    const baseRec = (await puller(store).pull(`${proxy.host}/base/bb:1`, { tlsVerify: false }))._unsafeUnwrap();
    const ctr = 'c'.repeat(64);
    (await store.createContainerLayer(ctr, baseRec.id))._unsafeUnwrap();
    const root = (await store.mountContainer(ctr))._unsafeUnwrap();
    await mkdir(join(root, 'srv'), { recursive: true });
    await writeFile(join(root, 'srv/hello.txt'), 'hello from a commit\n');
    const rec = (await commitImage({ store, containerId: ctr, imageId: baseRec.id, settings: { cmd: ['cat', '/srv/hello.txt'] }, ref: 'committed:1' }))._unsafeUnwrap();
    const mark = proxy.seen.length;
    const digest = await push(store, rec, `${proxy.host}/app/committed:1`);
    assert.equal(uploads(mark).filter((r) => r.startsWith('PUT')).length, 2, 'the new layer and the config are uploaded; the base layer is mounted');
    const seen = await inspectRaw(`${reg.host}/app/committed:1`);
    assert.equal(seen.digest, digest);
    assert.equal(seen.manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(seen.manifest.layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+gzip']);
    assert.equal(seen.manifest.layers[0]?.digest, sha256(bb.layers[0]?.blob ?? ''));
    assert.deepEqual(await podmanPull(`${reg.host}/app/committed:1`, digest), { id: rec.id, byDigest: true });

    const again = proxy.seen.length;
    assert.equal(await push(store, rec, `${proxy.host}/app/committed:1`), digest);
    assert.deepEqual(uploads(again), []);
    // another repository: the new layer (known by its compressed digest) is mounted too
    const third = proxy.seen.length;
    assert.equal(await push(store, rec, `${proxy.host}/app/copy:1`), digest);
    assert.deepEqual(uploads(third), []);
    (await store.removeContainerLayer(ctr))._unsafeUnwrap();
  });

  it('zstd: every layer recompressed as zstd in an OCI manifest; pull, skopeo and podman agree', async () => {
    const store = await newStore();
    const rec = (await puller(store).pull(`${proxy.host}/base/bb:1`, { tlsVerify: false }))._unsafeUnwrap();
    const digest = await push(store, rec, `${proxy.host}/app/zstd:1`, { ...insecure, compression: 'zstd' });
    assert.notEqual(digest, bb.manifestDigest);
    const seen = await inspectRaw(`${reg.host}/app/zstd:1`);
    assert.equal(seen.digest, digest);
    assert.deepEqual(seen.manifest.layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+zstd']);
    const other = await newStore();
    const pulled = (await puller(other).pull(`${reg.host}/app/zstd:1`, { tlsVerify: false }))._unsafeUnwrap();
    assert.equal(pulled.id, bb.id);
    assert.deepEqual(await podmanPull(`${reg.host}/app/zstd:1`, digest), { id: bb.id, byDigest: true });
    // an image stored with zstd layers, pushed as gzip: recompressed
    const back = await push(other, pulled, `${proxy.host}/app/gz-again:1`, { ...insecure, compression: 'gzip' });
    assert.equal((await inspectRaw(`${reg.host}/app/gz-again:1`)).manifest.layers[0]?.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    assert.equal((await inspectRaw(`${reg.host}/app/gz-again:1`)).digest, back);
  });

  it('pushes by digest when the digest is the manifest\'s; another digest is InvalidArg', async () => {
    const store = await newStore();
    const rec = (await puller(store).pull(`${proxy.host}/base/bb:1`, { tlsVerify: false }))._unsafeUnwrap();
    assert.equal(await push(store, rec, `${proxy.host}/bydigest/bb@${bb.manifestDigest}`), bb.manifestDigest);
    await assert.rejects(push(store, rec, `${proxy.host}/bydigest/bb@sha256:${'0'.repeat(64)}`), (e: { code?: string }) => e.code === 'InvalidArg');
  });
});

describe('push errors through the runtime', () => {
  let rt: Runtime;
  before(async () => {
    ({ rt } = await fakeImageRuntime(dir));
    (await rt.pullImage(`${reg.host}/base/bb:1`, { tlsVerify: false }))._unsafeUnwrap();
  });
  after(async () => {
    (await rt.close())._unsafeUnwrap();
  });

  it('bad arguments are InvalidArg, an unknown image NoSuchImage; nothing reaches the registry', async () => {
    const mark = proxy.seen.length;
    const dest = `${proxy.host}/errs/bb:1`;
    assert.equal((await rt.pushImage('nope:1', dest, insecure))._unsafeUnwrapErr().code, 'NoSuchImage');
    assert.equal((await rt.pushImage(`${reg.host}/base/bb:1`, 'UPPER/case', insecure))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal((await rt.pushImage(`${reg.host}/base/bb:1`, `${dest}@${bb.manifestDigest}`, insecure))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal((await rt.pushImage(`${reg.host}/base/bb:1`, dest, { compression: 'lz4' as never }))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal((await rt.pushImage(`${reg.host}/base/bb:1`, dest, { bogus: 1 } as never))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal((await rt.pushImage(42 as never, dest, insecure))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal((await rt.pushImage(`${reg.host}/base/bb:1`, 7 as never, insecure))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.deepEqual(proxy.seen.slice(mark), []);
  });

  it('plain HTTP needs tlsVerify false; a push aborted mid-upload fails, leaves no tag, and a later push works', async () => {
    const image = `${reg.host}/base/bb:1`;
    assert.equal((await rt.pushImage(image, `${proxy.host}/errs/https:1`))._unsafeUnwrapErr().code, 'Registry');
    const before = new AbortController();
    before.abort();
    assert.ok((await rt.pushImage(image, `${proxy.host}/errs/early:1`, { ...insecure, signal: before.signal })).isErr());
    // aborted when the layer's upload starts
    const ac = new AbortController();
    const cutter = await flakyProxy(reg.host, (method) => {
      if (method === 'PATCH') ac.abort();
      return 'ok';
    });
    try {
      const dest = `${cutter.host}/errs/aborted:1`;
      assert.ok((await rt.pushImage(image, dest, { ...insecure, signal: ac.signal })).isErr());
      assert.ok(cutter.seen.some((r) => r.startsWith('PATCH ')));
      assert.ok(!cutter.seen.some((r) => r.startsWith('PUT /v2/errs/aborted/manifests/')));
      await assert.rejects(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/errs/aborted:1`]));
      (await rt.pushImage(image, dest, insecure))._unsafeUnwrap();
      assert.equal((await inspectRaw(`${reg.host}/errs/aborted:1`)).digest, bb.manifestDigest);
    } finally {
      await cutter.close();
    }
  });
});

describe('close() during a push', () => {
  it('aborts the push in flight with RuntimeFinalized, writes no manifest, and resolves once the push stopped', async () => {
    const { rt } = await fakeImageRuntime(dir);
    (await rt.pullImage(`${reg.host}/base/bb:1`, { tlsVerify: false }))._unsafeUnwrap();
    let closing: Promise<{ r: { isOk(): boolean }; pushSettled: boolean }> | undefined;
    let pushSettled = false;
    const cutter = await flakyProxy(reg.host, (method) => {
      if (method === 'POST' || method === 'PATCH') closing ??= Promise.resolve(rt.close()).then((r) => ({ r, pushSettled }));
      return 'ok';
    });
    try {
      const dest = `${cutter.host}/closing/bb:1`;
      const pushed = await rt.pushImage(`${reg.host}/base/bb:1`, dest, { ...insecure, compression: 'zstd' });
      pushSettled = true;
      assert.equal(pushed._unsafeUnwrapErr().code, 'RuntimeFinalized');
      assert.ok(closing, 'the push reached the registry');
      const closed = await closing;
      assert.ok(closed.r.isOk());
      assert.ok(closed.pushSettled, 'close() resolved only after the push stopped');
      assert.ok(!cutter.seen.some((r) => r.startsWith('PUT /v2/closing/bb/manifests/')));
      assert.equal((await rt.pushImage(`${reg.host}/base/bb:1`, dest, insecure))._unsafeUnwrapErr().code, 'RuntimeFinalized');
    } finally {
      await cutter.close();
    }
  });
});

describe('push with authentication', () => {
  let basic: TestRegistry;
  let tokenReg: TestRegistry;
  let tokens: TokenServer;
  let store: ImageStore;
  let rec: ImageRecord;

  before(async () => {
    basic = await startRegistry({ kind: 'basic', ...USER });
    stops.push(() => basic.stop());
    const tdir = await mkdtemp(join(dir, 'token-'));
    tokens = await startTokenServer(tdir, USER);
    stops.push(tokens.close);
    tokenReg = await startRegistry({ kind: 'token', realm: tokens.realm, certFile: tokens.certFile });
    stops.push(() => tokenReg.stop());
    store = await newStore();
    rec = (await puller(store).pull(`${reg.host}/base/bb:1`, { tlsVerify: false }))._unsafeUnwrap();
  });

  it('Basic: the right credentials push; wrong or none are Unauthorized', async () => {
    const dest = `${basic.host}/private/bb:1`;
    await assert.rejects(push(store, rec, dest), (e: { code?: string }) => e.code === 'Unauthorized');
    await assert.rejects(push(store, rec, dest, { ...insecure, auth: { ...USER, password: 'wrong' } }), (e: { code?: string }) => e.code === 'Unauthorized');
    assert.equal(await push(store, rec, dest, { ...insecure, auth: USER }), bb.manifestDigest);
    assert.equal((await inspectRaw(dest, USER)).digest, bb.manifestDigest);
  });

  it('credentials from an auth file', async () => {
    const file = join(dir, 'push-auth.json');
    await writeFile(file, JSON.stringify({ auths: { [basic.host]: { auth: Buffer.from(`${USER.username}:${USER.password}`).toString('base64') } } }));
    assert.equal(await push(store, rec, `${basic.host}/private/file:1`, { ...insecure, authFile: file }), bb.manifestDigest);
  });

  it('Bearer tokens: a token for pull,push; a mount asks pull on the source as well; refused credentials are Unauthorized', async () => {
    const dest = `${tokenReg.host}/private/bb:1`;
    await assert.rejects(push(store, rec, dest, { ...insecure, auth: { ...USER, password: 'wrong' } }), (e: { code?: string }) => e.code === 'Unauthorized');
    tokens.requests.length = 0;
    assert.equal(await push(store, rec, dest, { ...insecure, auth: USER }), bb.manifestDigest);
    assert.ok(tokens.requests.includes('repository:private/bb:pull,push'), tokens.requests.join(','));
    // the blob info cache now knows private/bb: a push to another repository mounts from it
    assert.equal(await push(store, rec, `${tokenReg.host}/private/copy:1`, { ...insecure, auth: USER }), bb.manifestDigest);
    assert.ok(tokens.requests.includes('repository:private/copy:pull,push repository:private/bb:pull'), tokens.requests.join(','));
    assert.equal((await inspectRaw(`${tokenReg.host}/private/copy:1`, USER)).digest, bb.manifestDigest);
  });
});
