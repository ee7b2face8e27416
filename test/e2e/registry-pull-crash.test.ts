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
 *   stored, close waits for its cleanup, later pulls are refused.
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
import { FakeOciRuntime, MemoryStateStore, Runtime } from '../../src/index.js';
import { buildImage, busyboxEntries, sha256, tarOf, writeOciDir, type BuiltImage } from '../fixtures/images.js';
import { skopeoPush, startRegistry, type TestRegistry } from '../support/registry.js';
import { stallingProxy, type StallingProxy } from '../support/stalling-proxy.js';

const CHILD = fileURLToPath(new URL('../fixtures/pull-child.ts', import.meta.url));
const MIB = 1024 * 1024;

let dir: string;
let reg: TestRegistry;
let img: BuiltImage;
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

describe('kill -9 of the Node process mid-pull', () => {
  it('leaves no image and no half-written layer trusted; a re-pull yields the same, complete image', async () => {
    const storage = join(dir, 'killed-store');
    const p = await proxy();
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, storage, `${p.host}/test/two:1`, sha256(img.layers[1]?.blob ?? Buffer.alloc(0)), String(MIB / 2)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const line = await lineOf(child, /^(mid|pulled|error)/);
      assert.equal(line, 'mid', 'the child is mid-layer');
      const helpers = await childrenOf(child.pid as number);
      child.kill('SIGKILL');
      await exited;
      // its tar sees the end of its input and exits: wait, so nothing writes into the store below
      for (const h of helpers) await gone(h);
    } finally {
      p.release();
      await p.close();
    }
    // what the killed process left: the interrupted layer's record, still marked incomplete
    const records = async (): Promise<{ id: string; incomplete?: boolean }[]> =>
      Promise.all((await readdir(join(storage, 'layers'))).filter((f) => f.endsWith('.json')).map(async (f) => JSON.parse(await readFile(join(storage, 'layers', f), 'utf8'))));
    const left = await records();
    assert.equal(left.filter((r) => r.incomplete === true).length, 1, 'killed mid-layer: one incomplete layer record');
    const store = (await ImageStore.open(storage, { driver: 'vfs' }))._unsafeUnwrap();
    assert.deepEqual((await store.images())._unsafeUnwrap(), [], 'no image');
    const layers = (await store.layers())._unsafeUnwrap();
    assert.deepEqual(layers.map((l) => l.diffId), [sha256(img.layers[0]?.tar ?? Buffer.alloc(0))], 'only the first, complete layer');
    assert.deepEqual((await records()).map((r) => r.id), layers.map((l) => l.id), 'the incomplete record is gone');
    assert.deepEqual((await readdir(join(storage, 'vfs'))).sort(), layers.map((l) => l.id), 'and so is its directory');
    // the re-pull, straight from the registry
    const puller = new Puller({ storage: store, registries: { search: [] }, publish: () => undefined });
    const again = (await puller.pull(`${reg.host}/test/two:1`, { tlsVerify: false }))._unsafeUnwrap();
    assert.equal(again.id, img.id);
    assert.equal(again.digest, img.manifestDigest);
    // the big layer is whole: every file of it, byte for byte
    const ctrId = 'c'.repeat(64);
    (await store.createContainerLayer(ctrId, img.id))._unsafeUnwrap();
    const root = (await store.mountContainer(ctrId))._unsafeUnwrap();
    for (const f of files) assert.ok((await readFile(join(root, f.name))).equals(f.content), `${f.name} is complete`);
    (await store.unmountContainer(ctrId))._unsafeUnwrap();
    (await store.removeContainerLayer(ctrId))._unsafeUnwrap();
  });
});

async function openRuntime(registryHost: string): Promise<{ rt: Runtime; storage: string }> {
  const base = await mkdtemp(join(dir, 'rt-'));
  const storage = join(base, 'storage');
  const rt = (
    await Runtime.open({
      root: join(base, 'root'),
      runRoot: join(base, 'run'),
      store: new MemoryStateStore(),
      ociRuntime: new FakeOciRuntime(),
      storage: { path: storage, driver: 'vfs' },
      registries: { search: [registryHost], insecure: [registryHost] },
    })
  )._unsafeUnwrap();
  return { rt, storage };
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
