/**
 * Image manifests and indexes: OCI image-spec v1 (manifest, index) and
 * Docker schema 2 (manifest, manifest list), parsed from untrusted bytes
 * with runtime checks (malformed → `ImageCorrupt`).
 *
 * The kind is taken from `mediaType`, else guessed as c/image's
 * GuessMIMEType does (a `manifests` array is an index, a `config` a
 * manifest). Schema 1 is refused (`NotImplemented`).
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import { isDigest, sha256Digest, type Digest } from './digest.js';
import { arr, checkJson, fail, isObject, obj, optStr, optStringMap, optStrings, parseJson, size, str, type JsonObject } from './json-check.js';
import { DOCKER_CONFIG, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from './media-types.js';

/** Largest manifest accepted (c/image's MaxManifestBodySize). */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;

/** An image's platform, as in an index entry or a config. */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** A content descriptor: what a blob is, its digest and size. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

/** An image manifest (OCI or Docker schema 2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
  artifactType?: string;
}

/** An image index (OCI) or manifest list (Docker). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** A parsed manifest blob with its digest and effective media type. */
export type ParsedManifest =
  | { kind: 'manifest'; mediaType: string; digest: Digest; bytes: Buffer; manifest: ImageManifest }
  | { kind: 'index'; mediaType: string; digest: Digest; bytes: Buffer; index: ImageIndex };

/** Checks a platform object. */
export function checkPlatform(v: unknown, path: string): Platform {
  const o = obj(v, path);
  const p: Platform = { architecture: str(o.architecture, `${path}.architecture`), os: str(o.os, `${path}.os`) };
  const variant = optStr(o.variant, `${path}.variant`);
  if (variant !== undefined && variant !== '') p.variant = variant;
  const osVersion = optStr(o['os.version'], `${path}.os.version`);
  if (osVersion !== undefined) p['os.version'] = osVersion;
  const features = optStrings(o['os.features'], `${path}.os.features`);
  if (features !== undefined) p['os.features'] = features;
  return p;
}

/** Checks a descriptor object (digest must be sha256). */
export function checkDescriptor(v: unknown, path: string): Descriptor {
  const o = obj(v, path);
  const digest = str(o.digest, `${path}.digest`);
  if (!isDigest(digest)) fail(`${path}.digest ${JSON.stringify(digest)} is not a sha256 digest`);
  const d: Descriptor = { mediaType: str(o.mediaType ?? '', `${path}.mediaType`), digest, size: size(o.size, `${path}.size`) };
  const urls = optStrings(o.urls, `${path}.urls`);
  if (urls !== undefined) d.urls = urls;
  const annotations = optStringMap(o.annotations, `${path}.annotations`);
  if (annotations !== undefined) d.annotations = annotations;
  if (o.platform !== undefined && o.platform !== null) d.platform = checkPlatform(o.platform, `${path}.platform`);
  const artifactType = optStr(o.artifactType, `${path}.artifactType`);
  if (artifactType !== undefined) d.artifactType = artifactType;
  return d;
}

function guessKind(o: JsonObject): 'manifest' | 'index' | 'schema1' | undefined {
  switch (o.mediaType) {
    case OCI_MANIFEST:
    case DOCKER_MANIFEST:
      return 'manifest';
    case OCI_INDEX:
    case DOCKER_MANIFEST_LIST:
      return 'index';
  }
  if (o.schemaVersion === 1) return 'schema1';
  if (o.schemaVersion !== 2) return undefined;
  if (isObject(o.config)) return 'manifest';
  if (Array.isArray(o.manifests)) return 'index';
  return undefined;
}

function checkManifest(o: JsonObject): ImageManifest {
  if (o.manifests !== undefined) fail('a manifest must not have "manifests"');
  const m: ImageManifest = {
    schemaVersion: 2,
    config: checkDescriptor(o.config, 'config'),
    layers: arr(o.layers ?? [], 'layers').map((l, i) => checkDescriptor(l, `layers[${i}]`)),
  };
  const mediaType = optStr(o.mediaType, 'mediaType');
  if (mediaType !== undefined) m.mediaType = mediaType;
  if (mediaType === DOCKER_MANIFEST && m.config.mediaType !== DOCKER_CONFIG) fail(`config.mediaType ${m.config.mediaType} in a Docker manifest`);
  const annotations = optStringMap(o.annotations, 'annotations');
  if (annotations !== undefined) m.annotations = annotations;
  if (o.subject !== undefined && o.subject !== null) m.subject = checkDescriptor(o.subject, 'subject');
  const artifactType = optStr(o.artifactType, 'artifactType');
  if (artifactType !== undefined) m.artifactType = artifactType;
  return m;
}

function checkIndex(o: JsonObject): ImageIndex {
  if (o.config !== undefined || o.layers !== undefined) fail('an index must not have "config" or "layers"');
  const idx: ImageIndex = { schemaVersion: 2, manifests: arr(o.manifests, 'manifests').map((d, i) => checkDescriptor(d, `manifests[${i}]`)) };
  const mediaType = optStr(o.mediaType, 'mediaType');
  if (mediaType !== undefined) idx.mediaType = mediaType;
  const annotations = optStringMap(o.annotations, 'annotations');
  if (annotations !== undefined) idx.annotations = annotations;
  return idx;
}

/**
 * Parses a manifest or index blob. `expected`, when given, is the media type
 * the referring descriptor declared: a blob of another kind is corrupt.
 */
export function parseManifest(bytes: Buffer, expected?: string): Result<ParsedManifest, LibpodError> {
  if (bytes.length > MAX_MANIFEST_SIZE) return err(libpodError('ImageCorrupt', `manifest larger than ${MAX_MANIFEST_SIZE} bytes`));
  return parseJson(bytes, 'manifest').andThen((v) => {
    if (!isObject(v)) return err(libpodError('ImageCorrupt', 'manifest: not a JSON object'));
    const kind = guessKind(v);
    if (kind === 'schema1') return err(libpodError('NotImplemented', 'Docker schema 1 manifests are not supported'));
    if (kind === undefined) return err(libpodError('ImageCorrupt', `manifest: unknown format (mediaType ${JSON.stringify(v.mediaType)}, schemaVersion ${JSON.stringify(v.schemaVersion)})`));
    if (v.schemaVersion !== 2) return err(libpodError('ImageCorrupt', `manifest: schemaVersion ${JSON.stringify(v.schemaVersion)}, expected 2`));
    const digest = sha256Digest(bytes);
    const declared = typeof v.mediaType === 'string' ? v.mediaType : undefined;
    if (kind === 'manifest') {
      const mediaType = declared ?? OCI_MANIFEST;
      if (expected !== undefined && expected !== '' && expected !== mediaType) {
        return err(libpodError('ImageCorrupt', `manifest ${digest}: media type ${mediaType}, its descriptor says ${expected}`));
      }
      return checkJson('manifest', () => checkManifest(v)).map((manifest) => ({ kind, mediaType, digest, bytes, manifest }) as const);
    }
    const mediaType = declared ?? OCI_INDEX;
    if (expected !== undefined && expected !== '' && expected !== mediaType) {
      return err(libpodError('ImageCorrupt', `index ${digest}: media type ${mediaType}, its descriptor says ${expected}`));
    }
    return checkJson('index', () => checkIndex(v)).map((index) => ({ kind, mediaType, digest, bytes, index }) as const);
  });
}

/** Whether `mediaType` is an image config type we can run. */
export function isImageConfigType(mediaType: string): boolean {
  return mediaType === OCI_CONFIG || mediaType === DOCKER_CONFIG;
}

/** A manifest of one kind only: an index where a manifest is needed is `ImageCorrupt`. */
export function expectImageManifest(p: ParsedManifest): Result<ImageManifest, LibpodError> {
  if (p.kind !== 'manifest') return err(libpodError('ImageCorrupt', `${p.digest}: an index where an image manifest was expected`));
  if (!isImageConfigType(p.manifest.config.mediaType)) {
    return err(libpodError('ImageCorrupt', `${p.digest}: config media type ${JSON.stringify(p.manifest.config.mediaType)} is not an image config`));
  }
  return ok(p.manifest);
}

/**
 * Serializes a Docker schema 2 manifest as c/image's docker-archive source
 * generates it (Go's field order: schemaVersion, mediaType, config, layers;
 * descriptors mediaType, size, digest), so a load names the same digest.
 */
export function serializeDockerManifest(config: Descriptor, layers: readonly Descriptor[]): Buffer {
  const desc = (d: Descriptor): JsonObject => ({ mediaType: d.mediaType, size: d.size, digest: d.digest, ...(d.urls ? { urls: d.urls } : {}) });
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: desc(config), layers: layers.map(desc) }));
}

/** Serializes an OCI image manifest (mediaType set, descriptors in image-spec order). */
export function serializeOciManifest(config: Descriptor, layers: readonly Descriptor[], annotations?: Record<string, string>): Buffer {
  const desc = (d: Descriptor): JsonObject => ({ mediaType: d.mediaType, digest: d.digest, size: d.size, ...(d.annotations ? { annotations: d.annotations } : {}) });
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: desc(config), layers: layers.map(desc), ...(annotations ? { annotations } : {}) }),
  );
}
