/**
 * Writes images to an archive path or stream in one of the three formats.
 * A path is written under a temporary name beside it and renamed at the
 * end, so a failed or interrupted save never leaves a partial archive
 * under the name (oci-dir: blobs land first, index.json last).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { errAsync, ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../../define/errors.js';
import { writeDockerArchive } from './docker-archive/writer.js';
import { tarLayoutSink } from './oci-archive/tar-sink.js';
import { dirLayoutSink } from './oci-layout/dir-sink.js';
import { writeOciLayout } from './oci-layout/writer.js';
import { ARCHIVE_FORMATS, type ArchiveFormat, type ImageToSave } from './types.js';

async function toStream(format: Exclude<ArchiveFormat, 'oci-dir'>, out: Writable, images: readonly ImageToSave[]): Promise<void> {
  if (format === 'docker-archive') {
    const r = await writeDockerArchive(out, images);
    if (r.isErr()) throw r.error;
  } else await writeOciLayout(tarLayoutSink(out), images);
}

async function toFile(format: Exclude<ArchiveFormat, 'oci-dir'>, dest: string, images: readonly ImageToSave[]): Promise<void> {
  const tmp = join(dirname(dest), `.${basename(dest)}.tmp-${randomBytes(4).toString('hex')}`);
  const out = createWriteStream(tmp, { mode: 0o644 });
  const opened = new Promise<void>((resolve, reject) => {
    out.once('open', () => resolve());
    out.once('error', reject);
  });
  try {
    await opened;
    await toStream(format, out, images);
    await rename(tmp, dest);
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Whether `f` is an {@link ArchiveFormat}. */
export function isArchiveFormat(f: unknown): f is ArchiveFormat {
  return typeof f === 'string' && (ARCHIVE_FORMATS as readonly string[]).includes(f);
}

/**
 * Writes `images` to `dest` as `format`. oci-dir needs a path; a stream
 * is ended when done (and destroyed on failure).
 */
export function saveArchive(images: readonly ImageToSave[], dest: string | NodeJS.WritableStream, format: ArchiveFormat): ResultAsync<void, LibpodError> {
  if (!isArchiveFormat(format)) return errAsync(libpodError('InvalidArg', `saveImages: unknown format ${JSON.stringify(format)} (docker-archive, oci-archive, oci-dir)`));
  if (typeof dest === 'string' && dest === '') return errAsync(libpodError('InvalidArg', 'saveImages: empty destination path'));
  if (typeof dest !== 'string' && !(dest instanceof Writable)) return errAsync(libpodError('InvalidArg', 'saveImages: dest must be a path or a writable stream'));
  if (format === 'oci-dir' && typeof dest !== 'string') return errAsync(libpodError('InvalidArg', 'saveImages: oci-dir needs a directory path, not a stream'));
  const work = async (): Promise<void> => {
    if (format === 'oci-dir') return writeOciLayout(await dirLayoutSink(dest as string), images);
    if (typeof dest === 'string') return toFile(format, dest, images);
    try {
      return await toStream(format, dest as Writable, images);
    } catch (e) {
      (dest as Writable).destroy();
      throw e;
    }
  };
  return ResultAsync.fromPromise(work(), (e) => toLibpodError(e, 'Internal', `saving images as ${format}`));
}
