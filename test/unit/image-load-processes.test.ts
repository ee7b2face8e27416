/**
 * Loads in other processes: a load killed with SIGKILL at any point leaves
 * no image and nothing half-written that a later load trusts (a re-load
 * works and has the right content), and two processes loading the same
 * archive into one store at once both succeed with one image.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnProcess } from '../../src/host/command.js';
import { ImageStore } from '../../src/image/store/image-store.js';
import { openImageArchive } from '../../src/image/transports/open-archive.js';
import { storeImages } from '../../src/image/transports/storage.js';
import { buildImage, busyboxEntries, tarOf, writeDockerArchive, type BuiltImage } from '../fixtures/images.js';

const CHILD = fileURLToPath(new URL('../fixtures/image-load-child.ts', import.meta.url));

let dir: string;
let archive: string;
let img: BuiltImage;
let bigDigest: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-load-proc-'));
  // a base layer and a 48 MB layer, uncompressed: a load takes long enough to be killed part way
  const big = randomBytes(48 * 1024 * 1024);
  bigDigest = createHash('sha256').update(big).digest('hex');
  img = buildImage([await tarOf(busyboxEntries()), await tarOf([{ name: 'data/', type: 'directory' }, { name: 'data/big', content: big }])], { compression: 'none' });
  archive = join(dir, 'big.tar');
  await writeDockerArchive(archive, [{ image: img, tags: ['big:1'] }]);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface ChildRun {
  lines: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the child; `killAfterMs` after its `open` line, SIGKILL. */
function runChild(storage: string, killAfterMs?: number): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawnProcess(process.execPath, ['--import', 'tsx', CHILD, storage, archive], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line === 'open' && killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ lines, code, signal });
    });
  });
}

async function loadHere(storage: string): Promise<{ store: ImageStore; id: string }> {
  const store = (await ImageStore.open(storage, { driver: 'vfs' }))._unsafeUnwrap();
  const a = (await openImageArchive(archive, { tmpDir: join(storage, 'tmp') }))._unsafeUnwrap();
  const stored = (await storeImages(store, a.images))._unsafeUnwrap();
  await a.close();
  return { store, id: stored[0]!.id };
}

/** The image's container view has the big file with the right content. */
async function checkContent(store: ImageStore, id: string): Promise<void> {
  const ctr = randomBytes(32).toString('hex');
  (await store.createContainerLayer(ctr, id))._unsafeUnwrap();
  const root = (await store.mountContainer(ctr))._unsafeUnwrap();
  const data = await readFile(join(root, 'data/big'));
  assert.equal(createHash('sha256').update(data).digest('hex'), bigDigest);
  (await store.removeContainerLayer(ctr))._unsafeUnwrap();
}

describe('image loads in other processes', () => {
  it('kill -9 at any point of a load: no image, nothing trusted half-written, a re-load works', async () => {
    for (const delay of [0, 40, 120, 300, 700, 1500]) {
      const storage = join(dir, `crash-${delay}`);
      const run = await runChild(storage, delay);
      const finished = run.lines.some((l) => l.startsWith('loaded '));
      const store = (await ImageStore.open(storage, { driver: 'vfs' }))._unsafeUnwrap();
      const images = (await store.images())._unsafeUnwrap();
      if (!finished) assert.deepEqual(images, [], `killed after ${delay} ms: an image was stored`);
      // open swept the dead loader's leftovers: every layer record is complete, no temporaries
      assert.deepEqual(await readdir(join(storage, 'tmp')), [], `killed after ${delay} ms: temporaries left`);
      for (const l of (await store.layers())._unsafeUnwrap()) assert.equal(l.incomplete, undefined);
      const again = await loadHere(storage);
      assert.equal(again.id, img.id);
      await checkContent(again.store, again.id);
    }
  });

  it('two processes loading the same archive into one store at once both succeed', async () => {
    const storage = join(dir, 'twice');
    (await ImageStore.open(storage, { driver: 'vfs' }))._unsafeUnwrap();
    const [a, b] = await Promise.all([runChild(storage), runChild(storage)]);
    assert.deepEqual(a.lines.at(-1), `loaded ${img.id}`);
    assert.deepEqual(b.lines.at(-1), `loaded ${img.id}`);
    const store = (await ImageStore.open(storage, { driver: 'vfs' }))._unsafeUnwrap();
    const images = (await store.images())._unsafeUnwrap();
    assert.equal(images.length, 1);
    assert.deepEqual(images[0]!.names, ['localhost/big:1']);
    assert.equal((await store.layers())._unsafeUnwrap().length, 2);
    await checkContent(store, img.id);
  });
});
