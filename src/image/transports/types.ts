/**
 * What every transport reads and writes, as plain data: c/image's image
 * source and destination reduced to what archives need. A reader yields
 * {@link SourceImage}s whose blobs stream on demand and are NOT verified:
 * the consumer (the load pipeline) checks every digest and size before
 * anything is trusted. A writer takes {@link ImageToSave}s.
 * @module
 */
import type { Readable } from 'node:stream';
import type { ResultAsync } from 'neverthrow';
import type { LibpodError } from '../../define/errors.js';
import type { ImageConfig } from '../formats/config.js';
import type { Digest } from '../formats/digest.js';
import type { Descriptor } from '../formats/manifest.js';

/** The archive formats of `loadImages` / `saveImages`. */
export type ArchiveFormat = 'docker-archive' | 'oci-archive' | 'oci-dir';

/** Every {@link ArchiveFormat}. */
export const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ['docker-archive', 'oci-archive', 'oci-dir'];

/** A layer of an image read from a transport. */
export interface SourceLayer {
  /** The blob as the manifest lists it (digest, size, media type). */
  blob: Descriptor;
  /** sha256 of the uncompressed tar, from the config. */
  diffId: Digest;
  /** The blob's bytes, unverified: the consumer checks digest and size. */
  open(): ResultAsync<Readable, LibpodError>;
}

/** An image read from a transport; manifest and config were checked against their digests. */
export interface SourceImage {
  /** Names the archive gives it, normalized (`docker.io/library/busybox:latest`). */
  names: string[];
  /** The manifest it is loaded by (generated for docker-archive, as c/image does). */
  manifest: { bytes: Buffer; mediaType: string; digest: Digest };
  /** Other manifest digests it is known by (the index it was chosen from). */
  otherDigests: Digest[];
  /** The config blob as it came: its digest's hex is the image id. */
  config: { bytes: Buffer; digest: Digest; parsed: ImageConfig };
  layers: SourceLayer[];
}

/** An opened archive or layout. */
export interface ImageArchive {
  format: ArchiveFormat;
  images: SourceImage[];
  /** Releases temporaries (a spilled stream). Idempotent. */
  close(): ResultAsync<void, LibpodError>;
}

/** A layer of an image to save, from the store. */
export interface LayerToSave {
  diffId: Digest;
  /** Bytes of the uncompressed tar. */
  diffSize: number;
  /** The uncompressed tar, whose sha256 is `diffId`. */
  openDiff(): ResultAsync<Readable, LibpodError>;
  /** The blob as it came, when the store kept it (written as-is to OCI layouts). */
  blob?: { descriptor: Descriptor; open(): ResultAsync<Readable, LibpodError> };
}

/** An image to save. */
export interface ImageToSave {
  /** Image id (config digest hex). */
  id: string;
  /** Names written to the archive (RepoTags / ref.name annotation); may be empty. */
  names: string[];
  config: { bytes: Buffer; digest: Digest };
  /** The stored manifest, when there is one. */
  manifest?: { bytes: Buffer; mediaType: string; digest: Digest };
  layers: LayerToSave[];
}
