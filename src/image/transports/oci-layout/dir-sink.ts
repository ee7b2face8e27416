/**
 * An oci-dir destination: blobs are written to a temporary name and
 * renamed into `blobs/sha256/` (a reader never sees half a blob), and
 * index.json is replaced atomically last, so an interrupted save leaves
 * the previous layout readable. An existing layout is added to, as c/image's
 * oci destination does; a non-empty directory that is no layout is refused.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { libpodError } from '../../../define/errors.js';
import { pathExists } from '../../../util/fs.js';
import { parseManifest, type Descriptor } from '../../formats/manifest.js';
import { blobPath } from './layout-files.js';
import { OCI_LAYOUT_FILE, type LayoutSink } from './writer.js';

async function atomicWrite(path: string, data: Buffer | Readable, size: number): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    if (Buffer.isBuffer(data)) await writeFile(tmp, data, { mode: 0o644 });
    else {
      let n = 0;
      await pipeline(
        data,
        async function* (src: AsyncIterable<Buffer>) {
          for await (const c of src) {
            n += c.length;
            yield c;
          }
        },
        createWriteStream(tmp, { mode: 0o644 }),
      );
      if (n !== size) throw libpodError('Internal', `${path}: wrote ${n} bytes, expected ${size}`);
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Prepares `root` (created when missing) and returns a {@link LayoutSink} for it. */
export async function dirLayoutSink(root: string): Promise<LayoutSink> {
  await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
  const isLayout = await pathExists(join(root, 'oci-layout'));
  if (!isLayout) {
    const extra = (await readdir(root)).filter((n) => n !== 'blobs');
    if (extra.length > 0) throw libpodError('InvalidArg', `saveImages: ${root} is not empty and not an OCI layout`);
    await atomicWrite(join(root, 'oci-layout'), OCI_LAYOUT_FILE, OCI_LAYOUT_FILE.length);
  }
  return {
    hasBlob: (d) => pathExists(join(root, blobPath(d))),
    putBlob: (d, size, data) => atomicWrite(join(root, blobPath(d)), data, size),
    existingEntries: async (): Promise<Descriptor[]> => {
      if (!isLayout || !(await pathExists(join(root, 'index.json')))) return [];
      const p = parseManifest(await readFile(join(root, 'index.json')));
      if (p.isErr() || p.value.kind !== 'index') throw libpodError('InvalidArg', `saveImages: ${root}/index.json is not an image index`);
      return p.value.index.manifests;
    },
    finish: (index) => atomicWrite(join(root, 'index.json'), index, index.length),
  };
}
