/**
 * Pulls interrupted mid-layer, against a real registry (Debian's
 * docker-registry on 127.0.0.1) behind a proxy that holds a layer blob
 * after its first MiB (test/support/stalling-proxy.ts):
 *
 * - kill -9 of the Node process pulling: the store it leaves has no image
 *   and no half-written layer that a later open or pull trusts, and a
 *   re-pull yields the same image, complete;
 * - `runtime.close()` with a pull in flight (explicit, or newContainer's
 *   implicit one): the pull is aborted with `RuntimeFinalized`, nothing is
 *   stored, close waits for its cleanup, later pulls are refused;
 * - two processes pulling one image at once into one store: both succeed, one copy;
 * - concurrent layer downloads: while the first layer is held, the next
 *   layers are requested; the image is whole and no temporary is left.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Puller } from '../../src/image/pull.js';
import { ImageStore } from '../../src/image/store/image-store.js';
import type { Runtime } from '../../src/index.js';
import { buildImage, busyboxEntries, sha256, tarOf, writeOciDir, type BuiltImage } from '../fixtures/images.js';
import { fakeImageRuntime, skopeoPush, startRegistry, type TestRegistry } from '../support/registry.js';
import { stallingProxy, type StallingProxy } from '../support/stalling-proxy.js';

const CHILD = fileURLToPath(new URL('../fixtures/pull-child.ts', import.meta.url));
const MIB = 1024 * 1024;

let dir: string;
let reg: TestRegistry;
let img: BuiltImage;
/** The big layer first, then two small ones. */
let bigFirst: BuiltImage;
/** The big layer's files: 48 x 64 KiB of random bytes (incompressible: about 3 MiB of blob). */
const files = Array.from({ length: 48 }, (_, i) => ({ name: `data/f${String(i).padStart(2, '0')}`, content: randomBytes(64 * 1024) }));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-pull-crash-'));
  const base = await tarOf(busyboxEntries());
  const big = await tarOf([{ name: 'data/', type: 'directory' }, ...files]);
  img = buildImage([base, big]);
  assert.ok((img.layers[1]?.blob.length ?? 0) > 2 * MIB && (img.layers[0]?.blob.length ?? 0) < 2 * MIB);
  reg = await startRegistry();
  const layout = join(dir, 'layout');
  await writeOciDir(layout, [{ image: img }]);
  await skopeoPush(`oci:${layout}`, `${reg.host}/test/two:1`);
  const small = async (n: number): Promise<Buffer> => tarOf([{ name: `etc/`, type: 'directory' }, { name: `etc/layer${n}`, content: `layer ${n}\n` }]);
  bigFirst = buildImage([await tarOf([{ name: 'data/', type: 'directory' }, ...files]), await small(2), await small(3)]);
  const layout3 = join(dir, 'layout3');
  await writeOciDir(layout3, [{ image: bigFirst }]);
  await skopeoPush(`oci:${layout3}`, `${reg.host}/test/three:1`);
});

after(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A proxy holding the big layer (blobs over 2 MiB) after its first MiB. */
function proxy(): Promise<StallingProxy> {
  return stallingProxy(reg.host, MIB, 2 * MIB);
}

/** Children of `pid` (the tar a pull runs), from /proc. */
async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
  const out: number[] = [];
  for (const t of tasks) {
    const list = await readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '');
    out.push(...list.split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} is still there`);
}

/** The first line of `child` matching `re`, or the end of its output. */
function lineOf(child: ChildProcess, re: RegExp): Promise<string | undefined> {
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  return new Promise((resolve) => {
    rl.on('line', (l) => {
      if (re.test(l)) resolve(l);
    });
    rl.on('close', () => resolve(undefined));
  });
}

/** Layer records on disk, as the killed process left them (complete or not). */
async function records(storage: string): Promise<{ id: string; incomplete?: boolean }[]> {
  const names = (await readdir(join(storage, 'layers')).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
  return Promise.all(names.map(async (f) => JSON.parse(await readFile(join(storage, 'layers', f), 'utf8')) as { id: string; incomplete?: boolean }));
}

/**
 * Runs a child pulling `repo` through a stalling proxy, waits until `ready`
 * holds once the child has streamed half a MiB of the held layer, then kills
 * it with SIGKILL (and waits for its tar and download helpers to go).
 */
async function killMidPull(storage: string, repo: string, held: Buffer, ready: () => Promise<boolean>): Promise<void> {
  const p = await proxy();
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, storage, `${p.host}/${repo}`, sha256(held), String(MIB / 2)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      assert.equal(await lineOf(child, /^(mid|pulled|error)/), 'mid', 'the child is mid-layer');
      for (let i = 0; i < 500 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(await ready(), 'the child reached the state to kill it in');
    } finally {
      const helpers = await childrenOf(child.pid as number);
      child.kill('SIGKILL');
      await exited;
      // its tar sees the end of its input and exits: wait, so nothing writes into the store below
      for (const h of helpers) await gone(h);
    }
  } finally {
    p.release();
    await p.close();
  }
}

/** The re-pull, straight from the registry: the same image, every file of `check` byte for byte. */
async function repullWhole(store: ImageStore, repo: string, want: BuiltImage, check: { name: string; content: Buffer }[]): Promise<void> {
  const puller = new Puller({ storage: store, registries: { search: [] }, publish: () => undefined });
  const again = (await puller.pull(`${reg.host}/${repo}`, { tlsVerify: false }))._unsafeUnwrap();
  assert.equal(again.id, want.id);
  assert.equal(again.digest, want.manifestDigest);
  const ctrId = 'c'.repeat(64);
  (await store.createContainerLayer(ctrId, want.id))._unsafeUnwrap();
  const root = (await store.mountContainer(ctrId))._unsafeUnwrap();
  for (const f of check) assert.ok((await readFile(join(root, f.name))).equals(f.content), `${f.name} is complete`);
  (await store.unmountContainer(ctrId))._unsafeUnwrap();
  (await store.removeContainerLayer(ctrId))._unsafeUnwrap();
}

describe('kill -9 of the Node process mid-pull', () => {
  it('mid-extraction: no image and no half-written layer trusted; a re-pull yields the same, complete image', async () => {
    const storage = join(dir, 'killed-extracting');
    const big = bigFirst.layers[0]?.blob ?? Buffer.alloc(0);
    // the big first layer streams straight into its extraction: its record says incomplete
    await killMidPull(storage, 'test/three:1', big, async () => (await records(storage)).some((r) => r.incomplete === true));
    assert.equal((await records(storage)).filter((r) => r.incomplete === true).length, 1, 'killed mid-layer: one incomplete layer record');
    const store = (await ImageStore.open(storage, { driver: 'vfs' }))._unsafeUnwrap();
    assert.deepEqual((await store.images())._unsafeUnwrap(), [], 'no image');
    assert.deepEqual((await store.layers())._unsafeUnwrap(), [], 'no layer');
    assert.deepEqual(await records(storage), [], 'the incomplete record is gone');
    assert.deepEqual(await readdir(join(storage, 'vfs')), [], 'and so is its directory');
    assert.deepEqual(await readdir(join(storage, 'tmp')), [], 'and the downloads ahead');
    await repullWhole(store, 'test/three:1', bigFirst, files);
  });

  it('mid-download of a later layer: only complete layers stay; a re-pull yields the same, complete image', async () => {
    const storage = join(dir, 'killed-downloading');
    const firstId = sha256(img.layers[0]?.tar ?? Buffer.alloc(0)).slice(7);
    // the base layer is stored while the big second one downloads ahead (held by the proxy)
    await killMidPull(storage, 'test/two:1', img.layers[1]?.blob ?? Buffer.alloc(0), async () => (await records(storage)).some((r) => r.id === firstId && r.incomplete !== true));
    assert.ok((await readdir(join(storage, 'tmp'))).some((f) => f.includes('prefetch')), 'the download ahead was under way');
    const store = (await ImageStore.open(storage, { driver: 'vfs' }))._unsafeUnwrap();
    assert.deepEqual((await store.images())._unsafeUnwrap(), [], 'no image');
    assert.deepEqual((await store.layers())._unsafeUnwrap().map((l) => l.id), [firstId], 'only the first, complete layer');
    assert.deepEqual(await readdir(join(storage, 'tmp')), [], 'the partial download is swept');
    await repullWhole(store, 'test/two:1', img, files);
  });
});

describe('two processes pulling one image at once', () => {
  it('both succeed with the same image; the store holds one copy of each layer, complete', async () => {
    const storage = join(dir, 'two-processes');
    const pull = async (): Promise<string | undefined> => {
      // the layer digest given is one no layer has: the child never prints `mid`
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, storage, `${reg.host}/test/three:1`, 'sha256:none', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const line = lineOf(child, /^(pulled|error)/);
      await new Promise<void>((resolve) => child.once('exit', () => resolve()));
      return line;
    };
    const [a, b] = await Promise.all([pull(), pull()]);
    assert.equal(a, `pulled ${bigFirst.id}`);
    assert.equal(b, `pulled ${bigFirst.id}`);
    const store = (await ImageStore.open(storage, { driver: 'vfs' }))._unsafeUnwrap();
    assert.deepEqual((await store.images())._unsafeUnwrap().map((i) => i.id), [bigFirst.id]);
    const layers = (await store.layers())._unsafeUnwrap();
    assert.equal(layers.length, bigFirst.layers.length, 'one copy of each layer');
    assert.deepEqual((await records(storage)).filter((r) => r.incomplete === true), []);
    assert.deepEqual(await readdir(join(storage, 'tmp')), [], 'no download left behind');
    await repullWhole(store, 'test/three:1', bigFirst, files);
  });
});

function openRuntime(registryHost: string): Promise<{ rt: Runtime; storage: string }> {
  return fakeImageRuntime(dir, { search: [registryHost], insecure: [registryHost] });
}

async function assertEmptyStore(storage: string): Promise<void> {
  const store = (await ImageStore.open(storage, { driver: 'vfs' }))._unsafeUnwrap();
  assert.deepEqual((await store.images())._unsafeUnwrap(), []);
  assert.deepEqual((await store.layers())._unsafeUnwrap(), []);
  assert.deepEqual(await readdir(join(storage, 'tmp')).catch(() => []), []);
}

describe('runtime.close() with a pull in flight', () => {
  it('aborts pullImage (RuntimeFinalized, nothing stored) and waits for its cleanup; later pulls are refused', async () => {
    const p = await proxy();
    const { rt, storage } = await openRuntime(p.host);
    try {
      const pulling = rt.pullImage('test/two:1');
      await p.stalled;
      const closed = await rt.close();
      assert.ok(closed.isOk());
      // close resolved only after the pull had ended
      let settled = false;
      void pulling.then(() => (settled = true));
      await new Promise((r) => setImmediate(r));
      assert.ok(settled, 'the pull ended before close resolved');
      assert.equal((await pulling)._unsafeUnwrapErr().code, 'RuntimeFinalized');
      assert.equal((await rt.pullImage('test/two:1'))._unsafeUnwrapErr().code, 'RuntimeFinalized');
    } finally {
      p.release();
      await p.close();
    }
    await assertEmptyStore(storage);
  });

  it("aborts newContainer's implicit pull the same way: no container, nothing stored", async () => {
    const p = await proxy();
    const { rt, storage } = await openRuntime(p.host);
    try {
      const creating = rt.newContainer({ image: 'test/two:1' });
      await p.stalled;
      assert.ok((await rt.close()).isOk());
      assert.equal((await creating)._unsafeUnwrapErr().code, 'RuntimeFinalized');
    } finally {
      p.release();
      await p.close();
    }
    await assertEmptyStore(storage);
  });
});

describe('concurrent layer downloads', () => {
  it('requests the next layers while the first is still streaming; the image is whole, no temporary is left', async () => {
    const p = await proxy();
    const storage = join(dir, 'concurrent-store');
    const store = (await ImageStore.open(storage, { driver: 'vfs' }))._unsafeUnwrap();
    try {
      const puller = new Puller({ storage: store, registries: { search: [] }, publish: () => undefined });
      const pulling = puller.pull(`${p.host}/test/three:1`, { tlsVerify: false });
      await p.stalled;
      const later = bigFirst.layers.slice(1).map((l) => `GET /v2/test/three/blobs/${sha256(l.blob)}`);
      for (let i = 0; i < 500 && !later.every((r) => p.seen.includes(r)); i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(later.filter((r) => !p.seen.includes(r)), [], 'the later layers were requested while the first was held');
      p.release();
      const got = (await pulling)._unsafeUnwrap();
      assert.equal(got.id, bigFirst.id);
      assert.deepEqual(await readdir(join(storage, 'tmp')), []);
      const ctrId = 'd'.repeat(64);
      (await store.createContainerLayer(ctrId, got.id))._unsafeUnwrap();
      const root = (await store.mountContainer(ctrId))._unsafeUnwrap();
      assert.equal(await readFile(join(root, 'etc/layer3'), 'utf8'), 'layer 3\n');
      assert.ok((await readFile(join(root, files[47]?.name ?? ''))).equals(files[47]?.content ?? Buffer.alloc(0)));
      (await store.removeContainerLayer(ctrId))._unsafeUnwrap();
    } finally {
      p.release();
      await p.close();
    }
  });
});
