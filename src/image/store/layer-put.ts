/**
 * Putting a layer: one pass over the blob as it came, which is hashed and
 * kept (byte-exact, for save and push), decompressed (gzip, zstd or none,
 * detected), hashed again (the diffID) and extracted by the driver. Both
 * digests are checked at the end; a mismatch, a truncated or malformed blob
 * is `ImageCorrupt` and leaves nothing behind.
 *
 * Crash safety: the record is written `incomplete` before any content and
 * rewritten complete after it, holding the layer's lock throughout. A
 * process killed in between leaves an incomplete record whose lock is free:
 * the next open (or the next put of the same layer) removes it.
 * @module
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { logger } from '../../util/log.js';
import { isLibpodError, libpodError, toLibpodError } from '../../define/errors.js';
import { decompressor, detectCompression, peek } from './decompress.js';
import { chainIdOf } from './digest.js';
import type { LayerRecord } from './records.js';
import { layerLock, readRecord, removeRecord, STORE_LOCK, writeRecord, type StoreCore } from './store-core.js';

/** What `ImageStore.putLayer` takes. */
export interface PutLayerInput {
  /** Chain id (hex) of the parent layer, which must be in the store; absent for a base layer. */
  parent?: string;
  /** The layer blob as it came: a gzip, zstd or uncompressed tar stream. */
  blob: Readable;
  /** `sha256:` of the uncompressed tar (the config's diffID): checked. */
  diffId: string;
  /** `sha256:` of the blob (the manifest's layer digest): checked when given. */
  digest?: string;
  /** Bytes of the blob: checked when given. */
  size?: number;
}

/** What `ImageStore.putLayer` resolves to. */
export interface PutLayerResult {
  layer: LayerRecord;
  /** `sha256:` of the blob as stored. */
  blobDigest: string;
  /** Bytes of the blob. */
  blobSize: number;
}

interface Measured {
  blobDigest: string;
  blobSize: number;
  diffId: string;
  diffSize: number;
}

/**
 * Streams `blob` through hashing, blob storage and decompression into `sink`
 * (the driver's extraction, or a counting drain when the layer exists).
 */
async function streamLayer(core: StoreCore, blob: Readable, sink: (tar: Readable) => Promise<void>, expect: PutLayerInput): Promise<Measured> {
  const { head, stream } = await peek(blob, 4);
  const compression = detectCompression(head);
  const writer = core.blobs.writer();
  // An uncompressed blob is its own diff: hash it once.
  const diffHash = compression === 'none' ? undefined : createHash('sha256');
  let diffSize = 0;
  let committed = false;
  try {
    const tar = new PassThrough({ highWaterMark: 256 * 1024 });
    const feeding = pipeline(
      stream,
      async function* (src: AsyncIterable<Buffer>) {
        for await (const chunk of src) {
          writer.write(chunk);
          yield chunk;
        }
      },
      decompressor(compression),
      async function* (src: AsyncIterable<Buffer>) {
        for await (const chunk of src) {
          diffHash?.update(chunk);
          diffSize += chunk.length;
          yield chunk;
        }
      },
      tar,
    );
    const [fed, sunk] = await Promise.allSettled([feeding, sink(tar)]);
    if (fed.status === 'rejected' && (fed.reason as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw fed.reason;
    if (sunk.status === 'rejected') throw sunk.reason;
    if (fed.status === 'rejected') throw fed.reason;
    const diffId = diffHash ? `sha256:${diffHash.digest('hex')}` : writer.digest();
    if (diffId !== expect.diffId) throw libpodError('ImageCorrupt', `layer diffID mismatch: expected ${expect.diffId}, got ${diffId}`);
    const blobSize = writer.size;
    if (expect.size !== undefined && expect.size !== blobSize) throw libpodError('ImageCorrupt', `layer blob size mismatch: expected ${expect.size}, got ${blobSize}`);
    const blobDigest = await writer.commit(expect.digest);
    committed = true;
    return { blobDigest, blobSize, diffId, diffSize };
  } finally {
    if (!committed) await writer.abort();
  }
}

/** Reads a stream to its end. */
async function drain(src: Readable): Promise<void> {
  for await (const chunk of src) void chunk;
}

/** Stream failures that are not the host's (bad gzip / zstd data, truncation) are `ImageCorrupt`. */
function corrupt(e: unknown): unknown {
  if (isLibpodError(e)) return e;
  if ((e as NodeJS.ErrnoException).syscall !== undefined) return toLibpodError(e, 'Internal', 'storing layer');
  return libpodError('ImageCorrupt', `layer blob is malformed: ${e instanceof Error ? e.message : String(e)}`, e);
}

const log = logger('image:layer');

async function makeLayer(core: StoreCore, id: string, input: PutLayerInput, depth: number): Promise<PutLayerResult> {
  const t0 = performance.now();
  const ms = (): string => `${(performance.now() - t0).toFixed(0)} ms`;
  const base: LayerRecord = { id, diffId: input.diffId, diffSize: 0, depth, createdAt: new Date().toISOString(), incomplete: true };
  if (input.parent !== undefined) base.parent = input.parent;
  await core.locks.with(STORE_LOCK, () => writeRecord(core, 'layers', base));
  log('layer %s: incomplete record at %s', id.slice(0, 12), ms());
  try {
    const m = await streamLayer(core, input.blob, async (tar) => {
      await core.driver.applyLayer(id, input.parent, tar);
      log('layer %s: extracted at %s', id.slice(0, 12), ms());
    }, input);
    log('layer %s: digests checked, blob stored at %s', id.slice(0, 12), ms());
    const layer: LayerRecord = { ...base, diffSize: m.diffSize };
    delete layer.incomplete;
    await core.locks.with(STORE_LOCK, () => writeRecord(core, 'layers', layer));
    log('layer %s: complete at %s', id.slice(0, 12), ms());
    return { layer, blobDigest: m.blobDigest, blobSize: m.blobSize };
  } catch (e) {
    await core.driver.removeLayer(id);
    await core.locks.with(STORE_LOCK, () => removeRecord(core, 'layers', id));
    throw corrupt(e);
  }
}

/**
 * Stores a layer (see the module comment). An existing complete layer is
 * not extracted again: its blob is still read, checked and kept, so every
 * manifest's blob is stored.
 */
export async function putLayer(core: StoreCore, input: PutLayerInput): Promise<PutLayerResult> {
  const id = chainIdOf(input.parent, input.diffId);
  return core.locks.with(layerLock(id), async () => {
    let depth = 1;
    if (input.parent !== undefined) {
      const parent = await readRecord(core, 'layers', input.parent);
      if (!parent || parent.incomplete) throw libpodError('NoSuchImage', `parent layer ${input.parent} is not in the store`);
      depth = parent.depth + 1;
    }
    const existing = await readRecord(core, 'layers', id);
    if (existing && !existing.incomplete) {
      if (input.digest !== undefined && (await core.blobs.has(input.digest))) {
        await drain(input.blob);
        return { layer: existing, blobDigest: input.digest, blobSize: await core.blobs.size(input.digest) };
      }
      try {
        const m = await streamLayer(core, input.blob, drain, input);
        return { layer: existing, blobDigest: m.blobDigest, blobSize: m.blobSize };
      } catch (e) {
        throw corrupt(e);
      }
    }
    // Absent, or left incomplete by a writer that is gone (we hold its lock): (re)make it.
    return makeLayer(core, id, input, depth);
  });
}
