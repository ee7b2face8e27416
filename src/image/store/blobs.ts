/**
 * Blobs as they came (layer blobs compressed or not, configs, manifests),
 * by digest, so a save or a push sends exactly the bytes that were pulled or
 * loaded. A blob is written to `tmp/<pid>-...`, checked, flushed, and only
 * then renamed to `blobs/sha256/<hex>`: a blob under its digest is always
 * complete and correct.
 * @module
 */
import { randomBytes, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { access, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { libpodError } from '../../define/errors.js';
import { fsyncDir } from './atomic.js';
import { digestHex } from './digest.js';

/** Blobs up to this size are fsynced before they are renamed into place. */
const FSYNC_LIMIT = 4 * 1024 * 1024;

/** A blob being written: chunks in, then `commit` (checks the digest) or `abort`. */
export interface BlobWriter {
  /** Appends a chunk (synchronously: the page cache absorbs it). */
  write(chunk: Uint8Array): void;
  /** Bytes written so far. */
  readonly size: number;
  /** `sha256:` of what was written (ends the writing). */
  digest(): string;
  /** Finishes: the computed digest must equal `expected` when given; stores it; resolves to the digest. */
  commit(expected?: string): Promise<string>;
  /** Drops the temporary. */
  abort(): Promise<void>;
}

/** The blob directory of one store. */
export class BlobStore {
  readonly #dir: string;
  readonly #tmp: string;

  constructor(dir: string, tmp: string) {
    this.#dir = dir;
    this.#tmp = tmp;
  }

  /** Path of a stored blob. */
  path(digest: string): string {
    return join(this.#dir, digestHex(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      await access(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  /** Bytes of a stored blob. */
  async size(digest: string): Promise<number> {
    return (await stat(this.path(digest))).size;
  }

  /** The blob's bytes (for small blobs: configs, manifests). `NoSuchImage` when absent. */
  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw libpodError('NoSuchImage', `blob ${digest} is not in the store`);
      throw e;
    }
  }

  /** A stream of the blob. `NoSuchImage` when absent. */
  async open(digest: string): Promise<Readable> {
    if (!(await this.has(digest))) throw libpodError('NoSuchImage', `blob ${digest} is not in the store`);
    return createReadStream(this.path(digest), { highWaterMark: 256 * 1024 });
  }

  /** Starts writing a blob. */
  writer(): BlobWriter {
    const tmp = join(this.#tmp, `${process.pid}-blob-${randomBytes(6).toString('hex')}`);
    const fd = openSync(tmp, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    let closed = false;
    let digest: string | undefined;
    const finish = (): string => (digest ??= `sha256:${hash.digest('hex')}`);
    const close = (): void => {
      if (!closed) {
        closed = true;
        closeSync(fd);
      }
    };
    return {
      write: (chunk) => {
        hash.update(chunk);
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        size += chunk.length;
      },
      get size() {
        return size;
      },
      digest: finish,
      commit: async (expected) => {
        const digest = finish();
        try {
          if (expected !== undefined && expected !== digest) {
            throw libpodError('ImageCorrupt', `blob digest mismatch: expected ${expected}, got ${digest}`);
          }
          // Small blobs (configs, manifests) are flushed like records; layer blobs rely on the page
          // cache as the extracted layers do (kill -9 loses nothing; a power loss is not covered).
          if (size <= FSYNC_LIMIT) fsyncSync(fd);
          close();
          await rename(tmp, this.path(digest));
          await fsyncDir(this.#dir);
          return digest;
        } catch (e) {
          close();
          await rm(tmp, { force: true });
          throw e;
        }
      },
      abort: async () => {
        close();
        await rm(tmp, { force: true });
      },
    };
  }

  /** Stores `data`; checks it against `expected` when given; resolves to its digest. */
  async put(data: Uint8Array, expected?: string): Promise<string> {
    const w = this.writer();
    try {
      w.write(data);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.commit(expected);
  }

  /** Removes a blob; absent is fine. */
  async remove(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }
}
