/**
 * An oci-archive: an OCI layout written as a tar stream (`oci-layout`
 * first, blobs as they come, `index.json` last). A stream has no
 * existing index to merge with.
 * @module
 */
import type { Writable } from 'node:stream';
import { blobPath } from '../oci-layout/layout-files.js';
import { OCI_LAYOUT_FILE, type LayoutSink } from '../oci-layout/writer.js';
import { TarWriter } from '../tar/tar-writer.js';
import type { Digest } from '../../formats/digest.js';

/** A {@link LayoutSink} writing an oci-archive to `out` (ended by finish). */
export function tarLayoutSink(out: Writable): LayoutSink {
  const tar = new TarWriter(out);
  const written = new Set<Digest>();
  let started = false;
  const start = async (): Promise<void> => {
    if (started) return;
    started = true;
    await tar.addBuffer('oci-layout', OCI_LAYOUT_FILE);
    await tar.addDir('blobs');
    await tar.addDir('blobs/sha256');
  };
  return {
    hasBlob: (d) => Promise.resolve(written.has(d)),
    putBlob: async (d, size, data) => {
      await start();
      if (Buffer.isBuffer(data)) await tar.addBuffer(blobPath(d), data);
      else await tar.addStream(blobPath(d), size, data);
      written.add(d);
    },
    existingEntries: () => Promise.resolve([]),
    finish: async (index) => {
      await start();
      await tar.addBuffer('index.json', index);
      await tar.finish();
    },
  };
}
