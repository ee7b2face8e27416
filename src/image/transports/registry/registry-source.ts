/**
 * A registry as an image source (c/image's docker transport, source side):
 * the manifest named by a tag or digest; an index is resolved to one
 * platform's manifest; the config is fetched (or read from the store when
 * an image there has it) and checked; layers are
 * {@link SourceLayer}s whose `open` streams the blob from the registry
 * (checked by the store as it extracts it), counting bytes for progress.
 * @module
 */
import { okAsync } from 'neverthrow';
import { libpodError } from '../../../define/errors.js';
import { MAX_CONFIG_SIZE, parseImageConfig } from '../../formats/config.js';
import { sha256Digest, type Digest } from '../../formats/digest.js';
import { expectImageManifest, parseManifest, type ParsedManifest } from '../../formats/manifest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, layerCompression, OCI_INDEX, OCI_MANIFEST } from '../../formats/media-types.js';
import { chooseInstance, type PlatformSpec } from '../../formats/platform.js';
import type { ImageReference } from '../../reference.js';
import type { SourceImage } from '../types.js';
import type { FetchedManifest, RegistryClient } from './client.js';

const KNOWN_MANIFEST_TYPES = new Set([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST]);

/** Byte counts a layer transfer reports. */
export interface LayerBytes {
  /** The layer blob's digest. */
  digest: string;
  /** Bytes received so far for this blob. */
  received: number;
  /** The blob's size from the manifest. */
  size: number;
}

/** An image read from a registry: the {@link SourceImage} plus what was resolved on the way. */
export interface RegistryImage extends SourceImage {
  /** The digest the tag or digest reference resolved to (an index's, when it was one). */
  topDigest: Digest;
}

function parseFetched(f: FetchedManifest, expected?: string): ReturnType<typeof parseManifest> {
  return parseManifest(f.bytes, expected ?? (KNOWN_MANIFEST_TYPES.has(f.mediaType) ? f.mediaType : undefined));
}

function unwrapResult<T>(r: { isErr(): boolean; error?: unknown; value?: T }): T {
  if (r.isErr()) throw r.error;
  return r.value as T;
}

/**
 * Reads image `ref` (which has a tag or a digest) from `client`, for
 * `platform` when it is an index. `onLayerBytes` sees every chunk of every
 * layer blob as it streams. Throws LibpodErrors.
 */
export async function readRegistryImage(
  client: RegistryClient,
  ref: ImageReference,
  platform: PlatformSpec,
  name: string,
  onLayerBytes: (b: LayerBytes) => void = () => undefined,
  localBlob: (digest: Digest) => Promise<Buffer | undefined> = async () => undefined,
): Promise<RegistryImage> {
  const reference = ref.digest ?? ref.tag;
  if (reference === undefined) throw libpodError('InvalidArg', `reference ${name} has neither tag nor digest`);
  const top = await client.manifest(ref.path, reference);
  let parsed: ParsedManifest = unwrapResult(parseFetched(top));
  const otherDigests: Digest[] = [];
  if (parsed.kind === 'index') {
    const entry = unwrapResult(chooseInstance(parsed.index, platform));
    otherDigests.push(parsed.digest);
    const inner = await client.manifest(ref.path, entry.digest);
    if (inner.bytes.length !== entry.size) throw libpodError('ImageCorrupt', `manifest ${entry.digest}: ${inner.bytes.length} bytes, its index entry says ${entry.size}`);
    parsed = unwrapResult(parseFetched(inner, entry.mediaType || undefined));
  }
  const manifest = unwrapResult(expectImageManifest(parsed));
  // the config of an image already stored (a re-pull) is read from the store, checked all the same
  const stored = await localBlob(manifest.config.digest).catch(() => undefined);
  const configBytes =
    stored !== undefined && stored.length === manifest.config.size && sha256Digest(stored) === manifest.config.digest
      ? stored
      : await client.blobBytes(ref.path, manifest.config, MAX_CONFIG_SIZE);
  const config = unwrapResult(parseImageConfig(configBytes));
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw libpodError('ImageCorrupt', `image ${parsed.digest}: ${manifest.layers.length} layers in the manifest, ${diffIds.length} in the config`);
  }
  for (const l of manifest.layers) {
    if (layerCompression(l.mediaType) === undefined) throw libpodError('ImageCorrupt', `image ${parsed.digest}: unsupported layer media type ${JSON.stringify(l.mediaType)}`);
  }
  return {
    names: [name],
    manifest: { bytes: parsed.bytes, mediaType: parsed.mediaType, digest: parsed.digest },
    otherDigests,
    topDigest: top.digest,
    config: { bytes: configBytes, digest: manifest.config.digest, parsed: config },
    layers: manifest.layers.map((blob, i) => ({
      blob,
      diffId: diffIds[i] as Digest,
      open: () => {
        let received = 0;
        return okAsync(
          client.blobStream(ref.path, blob, (n) => {
            received += n;
            onLayerBytes({ digest: blob.digest, received, size: blob.size });
          }),
        );
      },
    })),
  };
}
