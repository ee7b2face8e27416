/**
 * Writes images as an OCI image layout, into a directory (oci-dir) or a
 * tar stream (oci-archive): `oci-layout`, every blob once under
 * `blobs/sha256/`, then `index.json` with one entry per image name
 * (`org.opencontainers.image.ref.name` = the full name, as podman save).
 *
 * An image keeps its stored manifest when it is an OCI manifest whose
 * blobs the store kept; a Docker schema 2 manifest is converted to OCI
 * media types over the same blobs (as c/image converts for an oci
 * destination); without stored blobs the layers are written uncompressed.
 * The config is always written as it came, so the image id is unchanged.
 * @module
 */
import type { Readable } from 'node:stream';
import type { ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../../../define/errors.js';
import { sha256Digest, type Digest } from '../../formats/digest.js';
import { parseManifest, serializeOciManifest, type Descriptor } from '../../formats/manifest.js';
import { DOCKER_MANIFEST, layerCompression, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, ociLayerMediaType } from '../../formats/media-types.js';
import type { ImageToSave } from '../types.js';
import { REF_NAME_ANNOTATION } from './reader.js';

/** Where layout files go. */
export interface LayoutSink {
  /** Whether the blob is already there (then it is not written again). */
  hasBlob(d: Digest): Promise<boolean>;
  /** Writes a blob of `size` bytes; a source of another size fails. */
  putBlob(d: Digest, size: number, data: Buffer | Readable): Promise<void>;
  /** Entries of an index.json already at the destination (kept unless replaced). */
  existingEntries(): Promise<Descriptor[]>;
  /** Writes index.json and completes the layout. */
  finish(index: Buffer): Promise<void>;
}

/** The `oci-layout` file's content. */
export const OCI_LAYOUT_FILE = Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }));

async function unwrap<T>(r: ResultAsync<T, LibpodError>): Promise<T> {
  const v = await r;
  if (v.isErr()) throw v.error;
  return v.value;
}

interface Planned {
  manifest: Buffer;
  mediaType: string;
  blobs: { d: Descriptor; open: () => ResultAsync<Readable, LibpodError> }[];
}

/** Chooses the manifest and blobs written for one image. */
function plan(img: ImageToSave): Planned {
  const stored = img.manifest ? parseManifest(img.manifest.bytes) : undefined;
  const allBlobs = img.layers.every((l) => l.blob !== undefined);
  if (stored?.isOk() && stored.value.kind === 'manifest' && allBlobs) {
    const m = stored.value.manifest;
    const sameLayers = m.layers.length === img.layers.length && m.layers.every((d, i) => d.digest === img.layers[i]?.blob?.descriptor.digest);
    if (sameLayers && m.config.digest === img.config.digest) {
      const blobs = img.layers.map((l) => ({ d: l.blob!.descriptor, open: () => l.blob!.open() }));
      if (stored.value.mediaType === OCI_MANIFEST) return { manifest: stored.value.bytes, mediaType: OCI_MANIFEST, blobs };
      if (stored.value.mediaType === DOCKER_MANIFEST) {
        const layers = m.layers.map((d) => ({ mediaType: ociLayerMediaType(layerCompression(d.mediaType) ?? 'none'), digest: d.digest, size: d.size }));
        const config = { mediaType: OCI_CONFIG, digest: img.config.digest, size: img.config.bytes.length };
        return { manifest: serializeOciManifest(config, layers), mediaType: OCI_MANIFEST, blobs: blobs.map((b, i) => ({ ...b, d: layers[i] as Descriptor })) };
      }
    }
  }
  const layers = img.layers.map((l) => ({ d: { mediaType: ociLayerMediaType('none'), digest: l.diffId, size: l.diffSize }, open: () => l.openDiff() }));
  const config = { mediaType: OCI_CONFIG, digest: img.config.digest, size: img.config.bytes.length };
  return { manifest: serializeOciManifest(config, layers.map((l) => l.d)), mediaType: OCI_MANIFEST, blobs: layers };
}

/** Writes `images` through `sink`; index entries with the same ref name at the destination are replaced. */
export async function writeOciLayout(sink: LayoutSink, images: readonly ImageToSave[]): Promise<void> {
  if (images.length === 0) throw libpodError('InvalidArg', 'no image to save');
  const entries: Descriptor[] = [];
  for (const img of images) {
    const p = plan(img);
    for (const b of p.blobs) {
      if (await sink.hasBlob(b.d.digest)) continue;
      await sink.putBlob(b.d.digest, b.d.size, await unwrap(b.open()));
    }
    if (!(await sink.hasBlob(img.config.digest))) await sink.putBlob(img.config.digest, img.config.bytes.length, img.config.bytes);
    const digest = sha256Digest(p.manifest);
    if (!(await sink.hasBlob(digest))) await sink.putBlob(digest, p.manifest.length, p.manifest);
    const base: Descriptor = { mediaType: p.mediaType, digest, size: p.manifest.length };
    if (img.names.length === 0) entries.push(base);
    for (const n of img.names) entries.push({ ...base, annotations: { [REF_NAME_ANNOTATION]: n } });
  }
  const newNames = new Set(entries.map((e) => e.annotations?.[REF_NAME_ANNOTATION]).filter((n) => n !== undefined));
  const kept = (await sink.existingEntries()).filter((e) => {
    const n = e.annotations?.[REF_NAME_ANNOTATION];
    return n === undefined ? !entries.some((x) => x.digest === e.digest && x.annotations === undefined) : !newNames.has(n);
  });
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...kept, ...entries] };
  await sink.finish(Buffer.from(JSON.stringify(index)));
}
