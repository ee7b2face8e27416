/**
 * Pulls from real registries (Debian's docker-registry on 127.0.0.1, images
 * pushed by skopeo) into an image store (vfs): by tag and digest, every
 * policy, platforms of an index, Basic and token auth, retries through a
 * flaky proxy, a tampered blob and an aborted pull that store nothing,
 * concurrent pulls that share one transfer, and progress.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Puller, type PullContext, type PullOptions, type PullProgress } from '../../src/image/pull.js';
import { ImageStore } from '../../src/image/store/image-store.js';
import { busyboxImage, multiArchImages, whiteoutImage, writeOciDir, type BuiltImage } from '../fixtures/images.js';
import { fakeImageRuntime, flakyProxy, skopeoPush, startRegistry, startTokenServer, tamperingProxy, type TestRegistry, type TokenServer } from '../support/registry.js';

let dir: string;
let reg: TestRegistry;
let bb: BuiltImage;
let wh: BuiltImage;
let multi: Awaited<ReturnType<typeof multiArchImages>>;
const stops: (() => Promise<void>)[] = [];
const FAST_RETRY = { attempts: 4, baseDelayMs: 20, maxDelayMs: 200 };
const USER = { username: 'tester', password: 's3cret' };

async function layout(name: string, img: BuiltImage): Promise<string> {
  const d = join(dir, `layout-${name}`);
  await writeOciDir(d, [{ image: img }]);
  return d;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-registry-pull-'));
  bb = await busyboxImage();
  wh = await whiteoutImage({ labels: { v: '2' } });
  multi = await multiArchImages();
  reg = await startRegistry();
  stops.push(() => reg.stop());
  await skopeoPush(`oci:${await layout('bb', bb)}`, `${reg.host}/test/bb:1`);
  await skopeoPush(`oci:${await layout('wh', wh)}`, `${reg.host}/test/wh:1`);
  const md = join(dir, 'layout-multi');
  await writeOciDir(md, [{ index: { ...multi.index, images: [multi.amd64, multi.arm64] } }]);
  await skopeoPush(`oci:${md}`, `${reg.host}/test/multi:1`, undefined, ['--all']);
});

after(async () => {
  for (const s of stops.reverse()) await s();
  await rm(dir, { recursive: true, force: true });
});

interface Harness {
  store: ImageStore;
  puller: Puller;
  events: string[];
}

let n = 0;
async function harness(over: Partial<PullContext> = {}): Promise<Harness> {
  const store = (await ImageStore.open(join(dir, `store-${n++}`), { driver: 'vfs' }))._unsafeUnwrap();
  const events: string[] = [];
  const ctx: PullContext = {
    storage: store,
    registries: { search: [], insecure: [] },
    publish: (i) => events.push(`pull ${i.id} ${i.name}`),
    retry: FAST_RETRY,
    env: { HOME: join(dir, 'no-home') },
    ...over,
  };
  return { store, puller: new Puller(ctx), events };
}

const insecure: PullOptions = { tlsVerify: false };

async function emptyStore(store: ImageStore): Promise<void> {
  assert.deepEqual((await store.images())._unsafeUnwrap(), []);
  assert.deepEqual((await store.layers())._unsafeUnwrap(), []);
  assert.deepEqual(await readdir(join(store.path, 'tmp')).catch(() => []), []);
}

describe('pull by tag and digest', () => {
  it('pulls by tag: id, name, digest, layers and progress as the registry holds them', async () => {
    const h = await harness();
    const progress: PullProgress[] = [];
    const img = (await h.puller.pull(`${reg.host}/test/wh:1`, { ...insecure, onProgress: (p) => progress.push(p) }))._unsafeUnwrap();
    assert.equal(img.id, wh.id);
    assert.deepEqual(img.names, [`${reg.host}/test/wh:1`]);
    assert.equal(img.digest, wh.manifestDigest);
    assert.equal(img.layers.length, 2);
    assert.deepEqual(img.layerBlobs, wh.layers.map((l) => `sha256:${require_sha(l.blob)}`));
    const total = wh.layers.reduce((s, l) => s + l.blob.length, 0);
    const last = progress.at(-1);
    assert.ok(last);
    assert.equal(last.total, total);
    assert.equal(last.received, total);
    for (const l of wh.layers) assert.ok(progress.some((p) => p.layer.digest === `sha256:${require_sha(l.blob)}` && p.layer.received === l.blob.length));
    assert.deepEqual(h.events, [`pull ${wh.id} ${reg.host}/test/wh:1`]);
  });

  it('pulls by digest and names the image repo@digest', async () => {
    const h = await harness();
    const ref = `${reg.host}/test/bb@${bb.manifestDigest}`;
    const img = (await h.puller.pull(ref, insecure))._unsafeUnwrap();
    assert.equal(img.id, bb.id);
    assert.deepEqual(img.names, [ref]);
  });

  it('a tag the registry does not have is NoSuchImage; a bad reference InvalidArg', async () => {
    const h = await harness();
    assert.equal((await h.puller.pull(`${reg.host}/test/bb:nope`, insecure))._unsafeUnwrapErr().code, 'NoSuchImage');
    assert.equal((await h.puller.pull(`${reg.host}/test/absent:1`, insecure))._unsafeUnwrapErr().code, 'NoSuchImage');
    assert.equal((await h.puller.pull('UPPER/case', insecure))._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal((await h.puller.pull(`${reg.host}/test/bb:1`, { ...insecure, platform: 'linux' }))._unsafeUnwrapErr().code, 'InvalidArg');
    await emptyStore(h.store);
  });

  it('refuses plain HTTP unless tlsVerify is false or the registry is insecure', async () => {
    const h = await harness();
    assert.equal((await h.puller.pull(`${reg.host}/test/bb:1`))._unsafeUnwrapErr().code, 'Registry');
    const h2 = await harness({ registries: { search: [], insecure: [reg.host] } });
    assert.equal((await h2.puller.pull(`${reg.host}/test/bb:1`))._unsafeUnwrap().id, bb.id);
  });

  it('short names go through registries.search', async () => {
    const h = await harness({ registries: { search: [reg.host], insecure: [reg.host] } });
    const img = (await h.puller.pull('test/bb:1'))._unsafeUnwrap();
    assert.deepEqual(img.names, [`${reg.host}/test/bb:1`]);
  });
});

describe('pull policies', () => {
  it('missing: a present image makes no registry request; never: local or NoSuchImage', async () => {
    const proxy = await flakyProxy(reg.host, () => 'ok');
    stops.push(proxy.close);
    const h = await harness();
    const ref = `${proxy.host}/test/bb:1`;
    assert.equal((await h.puller.pull(ref, { ...insecure, policy: 'never' }))._unsafeUnwrapErr().code, 'NoSuchImage');
    assert.equal(proxy.seen.length, 0);
    (await h.puller.pull(ref, insecure))._unsafeUnwrap();
    const after1 = proxy.seen.length;
    assert.ok(after1 > 0);
    assert.equal((await h.puller.pull(ref, insecure))._unsafeUnwrap().id, bb.id);
    assert.equal((await h.puller.pull(ref, { ...insecure, policy: 'never' }))._unsafeUnwrap().id, bb.id);
    assert.equal(proxy.seen.length, after1);
  });

  it('always: asks the registry again but fetches no layer already stored', async () => {
    const proxy = await flakyProxy(reg.host, () => 'ok');
    stops.push(proxy.close);
    const h = await harness();
    const ref = `${proxy.host}/test/bb:1`;
    (await h.puller.pull(ref, insecure))._unsafeUnwrap();
    proxy.seen.length = 0;
    assert.equal((await h.puller.pull(ref, { ...insecure, policy: 'always' }))._unsafeUnwrap().id, bb.id);
    assert.ok(proxy.seen.some((s) => s.startsWith('GET /v2/test/bb/manifests/1')));
    const layerDigest = `sha256:${require_sha(bb.layers[0]?.blob as Buffer)}`;
    assert.ok(!proxy.seen.some((s) => s.includes(`/blobs/${layerDigest}`)), proxy.seen.join('\n'));
  });

  it('newer: same digest keeps the local image with one HEAD; a changed tag pulls the new image', async () => {
    const proxy = await flakyProxy(reg.host, () => 'ok');
    stops.push(proxy.close);
    const h = await harness();
    const ref = `${proxy.host}/test/moving:1`;
    await skopeoPush(`oci:${await layout('bb', bb)}`, `${reg.host}/test/moving:1`);
    (await h.puller.pull(ref, insecure))._unsafeUnwrap();
    proxy.seen.length = 0;
    assert.equal((await h.puller.pull(ref, { ...insecure, policy: 'newer' }))._unsafeUnwrap().id, bb.id);
    assert.deepEqual(proxy.seen.filter((s) => s.includes('/manifests/')), ['HEAD /v2/test/moving/manifests/1']);
    await skopeoPush(`oci:${await layout('wh', wh)}`, `${reg.host}/test/moving:1`);
    assert.equal((await h.puller.pull(ref, { ...insecure, policy: 'newer' }))._unsafeUnwrap().id, wh.id);
  });

  it('an unknown policy is InvalidArg', async () => {
    const h = await harness();
    assert.equal((await h.puller.pull(`${reg.host}/test/bb:1`, { ...insecure, policy: 'sometimes' as 'always' }))._unsafeUnwrapErr().code, 'InvalidArg');
  });
});

describe('platforms', () => {
  it('chooses the asked platform from an index, this host by default; none matching is NoSuchImage', async () => {
    const h = await harness();
    const ref = `${reg.host}/test/multi:1`;
    const arm = (await h.puller.pull(ref, { ...insecure, platform: 'linux/arm64/v8' }))._unsafeUnwrap();
    assert.equal(arm.id, multi.arm64.id);
    assert.equal(arm.digest, multi.arm64.manifestDigest);
    const h2 = await harness();
    const host = (await h2.puller.pull(ref, insecure))._unsafeUnwrap();
    assert.equal(host.id, process.arch === 'arm64' ? multi.arm64.id : multi.amd64.id);
    const h3 = await harness();
    assert.equal((await h3.puller.pull(ref, { ...insecure, platform: 'linux/s390x' }))._unsafeUnwrapErr().code, 'NoSuchImage');
    await emptyStore(h3.store);
  });

  it('missing with another platform than the local image pulls that platform', async () => {
    const h = await harness();
    const ref = `${reg.host}/test/multi:1`;
    (await h.puller.pull(ref, { ...insecure, platform: 'linux/amd64' }))._unsafeUnwrap();
    assert.equal((await h.puller.pull(ref, { ...insecure, platform: 'linux/arm64' }))._unsafeUnwrap().id, multi.arm64.id);
  });
});

describe('authentication', () => {
  let basic: TestRegistry;
  let tokenReg: TestRegistry;
  let tokens: TokenServer;

  before(async () => {
    basic = await startRegistry({ kind: 'basic', ...USER });
    stops.push(() => basic.stop());
    await skopeoPush(`oci:${await layout('bb', bb)}`, `${basic.host}/private/bb:1`, USER);
    const tdir = await mkdtemp(join(dir, 'token-'));
    tokens = await startTokenServer(tdir, USER);
    stops.push(tokens.close);
    tokenReg = await startRegistry({ kind: 'token', realm: tokens.realm, certFile: tokens.certFile });
    stops.push(() => tokenReg.stop());
    await skopeoPush(`oci:${await layout('bb', bb)}`, `${tokenReg.host}/private/bb:1`, USER);
  });

  it('Basic: the right credentials pull; wrong or none are Unauthorized and store nothing', async () => {
    const ref = `${basic.host}/private/bb:1`;
    const bad = await harness();
    assert.equal((await bad.puller.pull(ref, { ...insecure, auth: { username: USER.username, password: 'wrong' } }))._unsafeUnwrapErr().code, 'Unauthorized');
    assert.equal((await bad.puller.pull(ref, insecure))._unsafeUnwrapErr().code, 'Unauthorized');
    await emptyStore(bad.store);
    const good = await harness();
    assert.equal((await good.puller.pull(ref, { ...insecure, auth: USER }))._unsafeUnwrap().id, bb.id);
  });

  it('credentials from authFile, $REGISTRY_AUTH_FILE and ~/.docker/config.json', async () => {
    const ref = `${basic.host}/private/bb:1`;
    const file = join(dir, 'auth.json');
    await writeFile(file, JSON.stringify({ auths: { [basic.host]: { auth: Buffer.from(`${USER.username}:${USER.password}`).toString('base64') } } }));
    assert.equal((await (await harness()).puller.pull(ref, { ...insecure, authFile: file }))._unsafeUnwrap().id, bb.id);
    assert.equal((await (await harness({ env: { REGISTRY_AUTH_FILE: file, HOME: join(dir, 'no-home') } })).puller.pull(ref, insecure))._unsafeUnwrap().id, bb.id);
    const home = join(dir, 'home');
    await rm(home, { recursive: true, force: true });
    await mkdir(join(home, '.docker'), { recursive: true });
    await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [`http://${basic.host}`]: { auth: Buffer.from(`${USER.username}:${USER.password}`).toString('base64') } } }));
    assert.equal((await (await harness({ env: { HOME: home } })).puller.pull(ref, insecure))._unsafeUnwrap().id, bb.id);
  });

  it('Bearer tokens: pulls with a token for repository:<name>:pull; refused credentials are Unauthorized', async () => {
    const ref = `${tokenReg.host}/private/bb:1`;
    const bad = await harness();
    assert.equal((await bad.puller.pull(ref, { ...insecure, auth: { username: USER.username, password: 'wrong' } }))._unsafeUnwrapErr().code, 'Unauthorized');
    await emptyStore(bad.store);
    tokens.requests.length = 0;
    const good = await harness();
    assert.equal((await good.puller.pull(ref, { ...insecure, auth: USER }))._unsafeUnwrap().id, bb.id);
    assert.ok(tokens.requests.includes('repository:private/bb:pull'), tokens.requests.join(','));
    // one token serves the whole pull (cached)
    assert.equal(tokens.requests.filter((s) => s === 'repository:private/bb:pull').length, 1);
  });
});

describe('failures store nothing', () => {
  it('a tampered blob is ImageCorrupt, stores nothing, and a later pull works', async () => {
    const layerDigest = `sha256:${require_sha(bb.layers[0]?.blob as Buffer)}`;
    const proxy = await tamperingProxy(reg.host, layerDigest);
    stops.push(proxy.close);
    const h = await harness();
    assert.equal((await h.puller.pull(`${proxy.host}/test/bb:1`, insecure))._unsafeUnwrapErr().code, 'ImageCorrupt');
    await emptyStore(h.store);
    assert.equal((await h.puller.pull(`${reg.host}/test/bb:1`, insecure))._unsafeUnwrap().id, bb.id);
  });

  it('an aborted pull fails, leaves nothing partial, and a later pull works', async () => {
    const h = await harness();
    const ac = new AbortController();
    const r = await h.puller.pull(`${reg.host}/test/wh:1`, { ...insecure, signal: ac.signal, onProgress: () => ac.abort() });
    assert.equal(r._unsafeUnwrapErr().code, 'Registry');
    assert.ok(ac.signal.aborted);
    await emptyStore(h.store);
    const before2 = new AbortController();
    before2.abort();
    assert.equal((await h.puller.pull(`${reg.host}/test/wh:1`, { ...insecure, signal: before2.signal }))._unsafeUnwrapErr().code, 'Registry');
    assert.equal((await h.puller.pull(`${reg.host}/test/wh:1`, insecure))._unsafeUnwrap().id, wh.id);
  });

  it('retries: a registry answering 503 twice (and a reset) still serves the pull', async () => {
    let manifestFails = 2;
    let blobResets = 1;
    const proxy = await flakyProxy(reg.host, (method, path) => {
      if (path.includes('/manifests/') && manifestFails > 0) return manifestFails-- && 503;
      if (path.includes('/blobs/') && method === 'GET' && blobResets > 0) return blobResets-- && 'reset';
      return 'ok';
    });
    stops.push(proxy.close);
    const h = await harness();
    assert.equal((await h.puller.pull(`${proxy.host}/test/bb:1`, insecure))._unsafeUnwrap().id, bb.id);
    assert.equal(proxy.seen.filter((s) => s.startsWith('GET /v2/test/bb/manifests/1')).length, 3);
  });

  it('a registry that keeps failing is Registry after bounded retries, nothing stored', async () => {
    const proxy = await flakyProxy(reg.host, (_m, path) => (path.includes('/manifests/') ? 503 : 'ok'));
    stops.push(proxy.close);
    const h = await harness();
    assert.equal((await h.puller.pull(`${proxy.host}/test/bb:1`, insecure))._unsafeUnwrapErr().code, 'Registry');
    assert.equal(proxy.seen.filter((s) => s.includes('/manifests/')).length, FAST_RETRY.attempts);
    await emptyStore(h.store);
  });
});

describe('concurrency', () => {
  it('concurrent pulls of one image share one transfer', async () => {
    const proxy = await flakyProxy(reg.host, () => 'ok');
    stops.push(proxy.close);
    const h = await harness();
    const ref = `${proxy.host}/test/wh:1`;
    const [a, b, c] = await Promise.all([h.puller.pull(ref, insecure), h.puller.pull(ref, insecure), h.puller.pull(ref, { ...insecure, policy: 'always' })]);
    assert.equal(a._unsafeUnwrap().id, wh.id);
    assert.equal(b._unsafeUnwrap().id, wh.id);
    assert.equal(c._unsafeUnwrap().id, wh.id);
    for (const l of wh.layers) {
      const d = `sha256:${require_sha(l.blob)}`;
      assert.equal(proxy.seen.filter((s) => s === `GET /v2/test/wh/blobs/${d}`).length, 1, proxy.seen.join('\n'));
    }
  });
});

function require_sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('Runtime.pullImage and newContainer({ image, pullPolicy })', () => {
  it('pulls through the runtime (pull event, Image handle), and newContainer pulls a missing image', async () => {
    const { rt } = await fakeImageRuntime(dir, { search: [reg.host], insecure: [reg.host] });
    try {
      const events: string[] = [];
      rt.events.on('image', (ev) => events.push(`${ev.status} ${ev.id} ${ev.name}`));
      assert.equal((await rt.pullImage('test/wh:1', { policy: 'nope' as never }))._unsafeUnwrapErr().code, 'InvalidArg');
      assert.equal((await rt.pullImage(42 as never))._unsafeUnwrapErr().code, 'InvalidArg');
      const img = (await rt.pullImage('test/wh:1'))._unsafeUnwrap();
      assert.equal(img.id, wh.id);
      assert.deepEqual(img.names, [`${reg.host}/test/wh:1`]);
      assert.equal(img.digest, wh.manifestDigest);
      assert.deepEqual(events, [`pull ${wh.id} ${reg.host}/test/wh:1`]);
      assert.equal((await rt.newContainer({ image: 'test/absent:1', pullPolicy: 'never' }))._unsafeUnwrapErr().code, 'NoSuchImage');
      const ctr = (await rt.newContainer({ image: 'test/bb:1' }))._unsafeUnwrap();
      assert.equal(ctr.config().image, bb.id);
      assert.equal(events.length, 2);
      assert.equal((await rt.lookupImage(`${reg.host}/test/bb:1`))._unsafeUnwrap().id, bb.id);
      const again = (await rt.newContainer({ image: 'test/bb:1', pullPolicy: 'always' }))._unsafeUnwrap();
      assert.equal(again.config().image, bb.id);
      assert.equal(events.length, 3);
      (await rt.removeContainer(ctr, { force: true }))._unsafeUnwrap();
      (await rt.removeContainer(again, { force: true }))._unsafeUnwrap();
    } finally {
      (await rt.close())._unsafeUnwrap();
    }
  });
});
