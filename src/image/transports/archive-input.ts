/**
 * Opens what `loadImages` was given: a directory (an OCI layout), a tar
 * file (indexed in place, never copied), or a compressed tar / a stream
 * (spilled once, decompressed, to a temporary file that is indexed and
 * removed on close, as c/image's docker-archive reader does).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../../define/errors.js';
import { sniffCompression, type LayerCompression } from '../formats/media-types.js';
import { TarIndex } from './tar/tar-index.js';

/** An opened input: a layout directory, or an indexed tar. */
export type ArchiveInput =
  | { kind: 'dir'; path: string; close(): ResultAsync<void, LibpodError> }
  | { kind: 'tar'; tar: TarIndex; close(): ResultAsync<void, LibpodError> };

const noop = (): ResultAsync<void, LibpodError> => okAsync(undefined);

/** A decompressor for archives given compressed (gzip; zstd is refused as podman load refuses it). */
function decompressor(c: LayerCompression): Transform | LibpodError {
  if (c === 'gzip') return createGunzip({ chunkSize: 256 * 1024 });
  if (c === 'zstd') return libpodError('InvalidArg', 'zstd-compressed archives are not supported: decompress it first');
  return new Transform({ transform: (chunk: Buffer, _e, cb) => cb(null, chunk) });
}

/** Reads the first bytes of a stream and gives them back in front of the rest. */
async function sniffStream(src: Readable): Promise<{ compression: LayerCompression; stream: Readable }> {
  const it = (src as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < 4) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    first.push(chunk);
    have += chunk.length;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* first;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    }
  }
  return { compression: sniffCompression(Buffer.concat(first)), stream: Readable.from(all(), { objectMode: false }) };
}

/** Spills `src` (decompressed) to a new file in `tmpDir` and indexes it. */
function spill(src: Readable, tmpDir: string): ResultAsync<ArchiveInput, LibpodError> {
  const path = join(tmpDir, `load-${process.pid}-${randomBytes(6).toString('hex')}.tar`);
  const removeIt = (): ResultAsync<void, LibpodError> => attempt(() => rm(path, { force: true }), 'Internal', `removing ${path}`);
  return attempt(async () => {
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
    const { compression, stream } = await sniffStream(src);
    const d = decompressor(compression);
    if (!(d instanceof Transform)) throw d;
    try {
      await pipeline(stream, d, createWriteStream(path, { mode: 0o600 }));
    } catch (e) {
      throw libpodError(compression === 'none' ? 'InvalidArg' : 'ImageCorrupt', `reading the archive: ${(e as Error).message}`, e);
    }
  }, 'InvalidArg', 'reading the archive')
    .andThen(() => TarIndex.open(path))
    .map((tar): ArchiveInput => ({ kind: 'tar', tar, close: removeIt }))
    .orElse((e) => removeIt().andThen(() => errAsync(e)));
}

/**
 * Opens `src` for reading. A missing path or one that is neither a file
 * nor a directory is `InvalidArg`; `tmpDir` receives spilled streams.
 */
export function openArchiveInput(src: string | NodeJS.ReadableStream, tmpDir: string): ResultAsync<ArchiveInput, LibpodError> {
  if (typeof src !== 'string') {
    if (typeof (src as NodeJS.ReadableStream | undefined)?.pipe !== 'function') return errAsync(libpodError('InvalidArg', 'loadImages: src must be a path or a readable stream'));
    const readable = src instanceof Readable ? src : Readable.from(src as AsyncIterable<Buffer>);
    return spill(readable, tmpDir);
  }
  if (src === '') return errAsync(libpodError('InvalidArg', 'loadImages: empty path'));
  return attempt(() => stat(src), 'InvalidArg', `loadImages: ${src}`).andThen((st) => {
    if (st.isDirectory()) return okAsync<ArchiveInput, LibpodError>({ kind: 'dir', path: src, close: noop });
    if (!st.isFile()) return errAsync(libpodError('InvalidArg', `loadImages: ${src} is neither a file nor a directory`));
    return attempt(async () => {
      const fh = await open(src, 'r');
      try {
        const buf = Buffer.alloc(4);
        const { bytesRead } = await fh.read(buf, 0, 4, 0);
        return sniffCompression(buf.subarray(0, bytesRead));
      } finally {
        await fh.close();
      }
    }, 'InvalidArg', `loadImages: ${src}`).andThen((c) =>
      c === 'none' ? TarIndex.open(src).map((tar): ArchiveInput => ({ kind: 'tar', tar, close: noop })) : spill(createReadStream(src), tmpDir),
    );
  });
}
