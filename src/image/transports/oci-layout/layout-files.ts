/**
 * The files of an OCI layout (`oci-layout`, `index.json`,
 * `blobs/sha256/<hex>`), read either from a directory or from an indexed
 * tar (oci-archive, read in place rather than extracted as c/image does).
 * Paths are built from checked digests only; in a directory the last
 * component is opened without following symlinks and must be a regular file.
 * @module
 */
import { constants, createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../../../define/errors.js';
import { digestHex, type Digest } from '../../formats/digest.js';
import type { TarIndex } from '../tar/tar-index.js';

/** Read access to a layout's files, by relative path. */
export interface LayoutFiles {
  /** A file read whole; missing or over `limit` is `ImageCorrupt`. */
  read(rel: string, limit: number): ResultAsync<Buffer, LibpodError>;
  /** A file as a stream; missing is `ImageCorrupt`. */
  open(rel: string): ResultAsync<Readable, LibpodError>;
  /** Whether a regular file exists at `rel`. */
  exists(rel: string): ResultAsync<boolean, LibpodError>;
}

/** `blobs/sha256/<hex>`. */
export function blobPath(d: Digest): string {
  return `blobs/sha256/${digestHex(d)}`;
}

function missing(rel: string): LibpodError {
  return libpodError('ImageCorrupt', `OCI layout: ${rel} is missing`);
}

/** Layout files of a tar (oci-archive). */
export function tarLayoutFiles(tar: TarIndex): LayoutFiles {
  return {
    read: (rel, limit) => tar.read(rel, limit),
    open: (rel) => {
      const e = tar.file(rel);
      return e ? okAsync(tar.stream(e)) : errAsync(missing(rel));
    },
    exists: (rel) => okAsync(tar.file(rel) !== undefined),
  };
}

async function openRegular(root: string, rel: string): Promise<import('node:fs/promises').FileHandle | undefined> {
  try {
    const fh = await open(join(root, rel), constants.O_RDONLY | constants.O_NOFOLLOW);
    if (!(await fh.stat()).isFile()) {
      await fh.close();
      return undefined;
    }
    return fh;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Layout files of a directory (oci-dir). */
export function dirLayoutFiles(root: string): LayoutFiles {
  return {
    read: (rel, limit) =>
      attempt(async () => {
        const fh = await openRegular(root, rel);
        if (!fh) throw missing(rel);
        try {
          const size = (await fh.stat()).size;
          if (size > limit) throw libpodError('ImageCorrupt', `OCI layout: ${rel} is larger than ${limit} bytes`);
          return await fh.readFile();
        } finally {
          await fh.close();
        }
      }, 'ImageCorrupt', `OCI layout: reading ${rel}`),
    open: (rel) =>
      attempt(async () => {
        const fh = await openRegular(root, rel);
        if (!fh) throw missing(rel);
        return createReadStream('', { fd: fh, highWaterMark: 1024 * 1024 });
      }, 'ImageCorrupt', `OCI layout: opening ${rel}`),
    exists: (rel) =>
      attempt(async () => {
        const fh = await openRegular(root, rel);
        await fh?.close();
        return fh !== undefined;
      }, 'ImageCorrupt', `OCI layout: ${rel}`),
  };
}
