/**
 * The parts of push that need no registry: the parallel gzip compressor
 * (one gzip member any gunzip reads, deterministic, bounded), the blob
 * info cache (merges, survives reopening, ignores garbage), and the
 * destination and option checks.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { BLOCK_SIZE, ParallelGzip } from '../../src/image/push/parallel-gzip.js';
import { compressor } from '../../src/image/push/compress.js';
import { mapLimited } from '../../src/image/push/push-image.js';
import { checkPushArgs, parsePushDestination } from '../../src/image/push/push-runtime.js';
import { BlobInfoCache } from '../../src/image/store/blob-info.js';
import { decompressor } from '../../src/image/store/decompress.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-push-unit-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function pgzip(input: Buffer, chunk = 64 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let o = 0; o < input.length; o += chunk) parts.push(input.subarray(o, o + chunk));
  const gz = new ParallelGzip();
  const out = collect(gz);
  await pipeline(Readable.from(parts), gz);
  return out;
}

/** Text-like data that compresses, with back references across block boundaries. */
function compressible(size: number): Buffer {
  const words = Array.from({ length: 500 }, (_, i) => `word${i * 7919}`);
  let s = '';
  let i = 0;
  while (s.length < size) s += `${words[(i++ * 31) % words.length]} `;
  return Buffer.from(s.slice(0, size));
}

describe('parallel gzip', () => {
  it('round-trips any size, including empty, one byte and exact block multiples, as one gzip member', async () => {
    for (const size of [0, 1, 1000, BLOCK_SIZE, BLOCK_SIZE + 1, 3 * BLOCK_SIZE, 3 * BLOCK_SIZE + 12345]) {
      const input = size % 2 ? randomBytes(size) : compressible(size);
      const gz = await pgzip(input);
      assert.equal(gz[0], 0x1f);
      assert.equal(gz[1], 0x8b);
      assert.ok(gunzipSync(gz).equals(input), `size ${size}`);
      // the store's own decompressor (what a pull of the pushed layer uses) agrees
      assert.ok((await collect(Readable.from([gz]).pipe(decompressor('gzip')))).equals(input), `store decompressor, size ${size}`);
      // one member: the trailer's size field is the input's length
      assert.equal(gz.readUInt32LE(gz.length - 4), size);
    }
  });

  it('is deterministic (same input, same digest whatever the chunking) and compresses like gzip -6', async () => {
    const input = compressible(5 * BLOCK_SIZE + 777);
    const a = await pgzip(input, 4096);
    const b = await pgzip(input, 3 * BLOCK_SIZE);
    assert.ok(a.equals(b));
    const { gzipSync } = await import('node:zlib');
    assert.ok(a.length < gzipSync(input).length * 1.05, `${a.length} vs ${gzipSync(input).length}`);
  });

  it('zstd through the host tool round-trips', async () => {
    const input = compressible(2 * BLOCK_SIZE);
    const z = compressor('zstd');
    const out = collect(z);
    await pipeline(Readable.from([input]), z);
    const zst = await out;
    assert.deepEqual([...zst.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    assert.ok((await collect(Readable.from([zst]).pipe(decompressor('zstd')))).equals(input));
  });
});

describe('blob info cache', () => {
  const d1 = `sha256:${'1'.repeat(64)}`;
  const d2 = `sha256:${'2'.repeat(64)}`;
  const d3 = `sha256:${'3'.repeat(64)}`;

  it('merges updates, keeps locations most recent first without duplicates, and persists', async () => {
    const root = await mkdtemp(join(dir, 'store-'));
    const c = new BlobInfoCache(root);
    assert.deepEqual(await c.get(d1), {});
    await c.record(d1, { compressed: { kind: 'gzip', digest: d2 } });
    await c.record(d1, { compressed: { kind: 'zstd', digest: d3 } });
    await c.record(d2, { uncompressed: d1, location: 'reg:5000/a/b' });
    await c.record(d2, { location: 'reg:5000/c/d' });
    await c.record(d2, { location: 'reg:5000/a/b' });
    const again = new BlobInfoCache(root);
    assert.deepEqual(await again.get(d1), { compressed: { gzip: d2, zstd: d3 } });
    assert.deepEqual(await again.get(d2), { uncompressed: d1, locations: ['reg:5000/a/b', 'reg:5000/c/d'] });
    assert.ok((await readdir(join(root, 'blob-info'))).every((n) => !n.startsWith('.tmp-')));
  });

  it('ignores garbage entries and bad digests instead of failing a push', async () => {
    const root = await mkdtemp(join(dir, 'store-'));
    const c = new BlobInfoCache(root);
    await c.record(d1, { location: 'reg/x' });
    await writeFile(join(root, 'blob-info', `${'1'.repeat(64)}.json`), '{not json');
    assert.deepEqual(await c.get(d1), {});
    await writeFile(join(root, 'blob-info', `${'1'.repeat(64)}.json`), JSON.stringify({ uncompressed: 'nope', compressed: { gzip: 5 }, locations: [1, 'no-slash', 'reg/y'] }));
    assert.deepEqual(await c.get(d1), { compressed: {}, locations: ['reg/y'] });
    assert.deepEqual(await c.get('../../etc/passwd'), {});
    await c.record('../../etc/passwd', { location: 'reg/z' });
    assert.deepEqual((await readdir(join(root, 'blob-info'))).sort(), [`${'1'.repeat(64)}.json`]);
  });
});

describe('push destination and options', () => {
  it('parses destinations as podman push does', () => {
    assert.deepEqual(parsePushDestination('127.0.0.1:5000/app/x')._unsafeUnwrap(), { domain: '127.0.0.1:5000', path: 'app/x', tag: 'latest' });
    assert.deepEqual(parsePushDestination('docker://quay.io/me/app:2')._unsafeUnwrap(), { domain: 'quay.io', path: 'me/app', tag: '2' });
    assert.equal(parsePushDestination('app').map((r) => `${r.domain}/${r.path}:${r.tag}`)._unsafeUnwrap(), 'docker.io/library/app:latest');
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.equal(parsePushDestination(`reg:5000/app@${digest}`)._unsafeUnwrap().digest, digest);
    for (const bad of ['', 'UPPER/case', `reg:5000/app:1@${digest}`, 'reg:5000/app:bad tag', 42, undefined]) {
      assert.equal(parsePushDestination(bad)._unsafeUnwrapErr().code, 'InvalidArg', String(bad));
    }
  });

  it('checks the image argument and every option', () => {
    const dest = 'reg:5000/app:1';
    assert.ok(checkPushArgs('img', dest, { auth: { username: 'u', password: 'p' }, authFile: '/x', tlsVerify: false, compression: 'zstd', signal: new AbortController().signal }).isOk());
    assert.ok(checkPushArgs({ id: 'a'.repeat(64) }, dest, undefined).isOk());
    for (const [image, opts] of [
      ['', {}],
      [null, {}],
      ['img', { compression: 'lz4' }],
      ['img', { tlsVerify: 'no' }],
      ['img', { auth: { username: 'u' } }],
      ['img', { signal: {} }],
      ['img', { unknown: true }],
      ['img', 'opts'],
    ] as const) {
      assert.equal(checkPushArgs(image, dest, opts)._unsafeUnwrapErr().code, 'InvalidArg', JSON.stringify([image, opts]));
    }
  });
});

describe('layers at once (mapLimited)', () => {
  it('keeps order and the limit', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimited([5, 1, 4, 2, 3], 2, async (x) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, x * 3));
      running--;
      return x * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(most, 2);
  });

  it('on a failure: starts nothing more, tells the caller (who aborts the rest), and returns only once the running items settled', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const ac = new AbortController();
    const boom = new Error('first');
    await assert.rejects(
      mapLimited(
        [0, 1, 2, 3],
        2,
        async (i) => {
          started.push(i);
          try {
            if (i === 0) throw boom;
            // item 1 runs until aborted
            await new Promise((_, reject) => ac.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
          } finally {
            settled.push(i);
          }
        },
        (e) => ac.abort(e),
      ),
      (e) => e === boom,
    );
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(settled.sort(), [0, 1]);
    assert.equal(ac.signal.reason, boom);
  });
});
