/**
 * Reads the images of an OCI image layout (oci-dir, or oci-archive read in
 * place): `oci-layout`, `index.json`, then every entry's manifest (an
 * index entry is resolved to this host's platform, as c/image's copy
 * does) and config, each checked against its descriptor's digest and size.
 * Names come from the entry's `io.containerd.image.name` or
 * `org.opencontainers.image.ref.name` annotation, normalized as podman's
 * load (`busybox` → `localhost/busybox:latest`).
 * @module
 */
import { err, errAsync, ok, okAsync, ResultAsync, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../../../define/errors.js';
import { MAX_CONFIG_SIZE, parseImageConfig } from '../../formats/config.js';
import { verifyBytes, type Digest } from '../../formats/digest.js';
import { checkJson, obj, parseJson, str } from '../../formats/json-check.js';
import { expectImageManifest, MAX_MANIFEST_SIZE, parseManifest, type Descriptor, type ParsedManifest } from '../../formats/manifest.js';
import { layerCompression } from '../../formats/media-types.js';
import { chooseInstance, type PlatformSpec } from '../../formats/platform.js';
import { normalizeLocalName } from '../../reference.js';
import type { SourceImage } from '../types.js';
import { blobPath, type LayoutFiles } from './layout-files.js';

/** The annotation naming an image in a layout. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** containerd's / buildkit's (and Docker 25's) full image name annotation. */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

/** Whether `files` hold an OCI layout (an `oci-layout` file). */
export function isOciLayout(files: LayoutFiles): ResultAsync<boolean, LibpodError> {
  return files.exists('oci-layout');
}

/** The name an index entry gives its image (podman's nameFromAnnotations), normalized. */
export function nameFromAnnotations(a: Record<string, string> | undefined): Result<string | undefined, LibpodError> {
  const raw = a?.[CONTAINERD_NAME_ANNOTATION] || a?.[REF_NAME_ANNOTATION] || undefined;
  if (raw === undefined) return ok(undefined);
  return normalizeLocalName(raw).mapErr(() => libpodError('ImageCorrupt', `OCI layout: image name ${JSON.stringify(raw)} is not a valid reference`));
}

function readBlob(files: LayoutFiles, d: Descriptor, limit: number, what: string): ResultAsync<Buffer, LibpodError> {
  if (d.size > limit) return errAsync(libpodError('ImageCorrupt', `${what} ${d.digest}: size ${d.size} over the limit of ${limit}`));
  return files.read(blobPath(d.digest), limit).andThen((b) => {
    const v = verifyBytes(b, d.digest, d.size, what);
    return v.isErr() ? errAsync(v.error) : okAsync(b);
  });
}

function imageFromManifest(files: LayoutFiles, p: ParsedManifest, names: string[], otherDigests: Digest[]): ResultAsync<SourceImage, LibpodError> {
  const m = expectImageManifest(p);
  if (m.isErr()) return errAsync(m.error);
  const manifest = m.value;
  return readBlob(files, manifest.config, MAX_CONFIG_SIZE, 'config').andThen((configBytes) => {
    const parsed = parseImageConfig(configBytes);
    if (parsed.isErr()) return errAsync(parsed.error);
    const diffIds = parsed.value.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      return errAsync(libpodError('ImageCorrupt', `image ${p.digest}: ${manifest.layers.length} layers in the manifest, ${diffIds.length} in the config`));
    }
    for (const l of manifest.layers) {
      if (layerCompression(l.mediaType) === undefined) return errAsync(libpodError('ImageCorrupt', `image ${p.digest}: unsupported layer media type ${JSON.stringify(l.mediaType)}`));
    }
    return okAsync<SourceImage, LibpodError>({
      names,
      manifest: { bytes: p.bytes, mediaType: p.mediaType, digest: p.digest },
      otherDigests,
      config: { bytes: configBytes, digest: manifest.config.digest, parsed: parsed.value },
      layers: manifest.layers.map((blob, i) => ({ blob, diffId: diffIds[i] as Digest, open: () => files.open(blobPath(blob.digest)) })),
    });
  });
}

function resolveEntry(files: LayoutFiles, d: Descriptor, names: string[], platform: PlatformSpec | undefined, via: Digest[]): ResultAsync<SourceImage, LibpodError> {
  if (via.length > 2) return errAsync(libpodError('ImageCorrupt', 'OCI layout: indexes nested too deep'));
  return readBlob(files, d, MAX_MANIFEST_SIZE, 'manifest').andThen((bytes) => {
    const p = parseManifest(bytes, d.mediaType);
    if (p.isErr()) return errAsync(p.error);
    if (p.value.kind === 'manifest') return imageFromManifest(files, p.value, names, via);
    const chosen = chooseInstance(p.value.index, platform);
    if (chosen.isErr()) return errAsync(chosen.error);
    return resolveEntry(files, chosen.value, names, platform, [...via, p.value.digest]);
  });
}

function checkLayoutFile(files: LayoutFiles): ResultAsync<void, LibpodError> {
  return files.read('oci-layout', 64 * 1024).andThen((b) => {
    const r = parseJson(b, 'oci-layout').andThen((v) => checkJson('oci-layout', () => str(obj(v, 'oci-layout').imageLayoutVersion, 'imageLayoutVersion')));
    if (r.isErr()) return errAsync(r.error);
    return r.value.startsWith('1.') ? okAsync(undefined) : errAsync(libpodError('ImageCorrupt', `OCI layout version ${r.value} is not supported`));
  });
}

/**
 * Reads every image an OCI layout's index.json lists. An entry that is an
 * index resolves to `platform` (default: this host); no match is `NoSuchImage`.
 */
export function readOciLayout(files: LayoutFiles, platform?: PlatformSpec): ResultAsync<SourceImage[], LibpodError> {
  return checkLayoutFile(files)
    .andThen(() => files.read('index.json', MAX_MANIFEST_SIZE))
    .andThen((bytes) => {
      const p = parseManifest(bytes);
      if (p.isErr()) return errAsync(p.error);
      if (p.value.kind !== 'index') return errAsync(libpodError('ImageCorrupt', 'OCI layout: index.json is not an image index'));
      const entries = p.value.index.manifests;
      if (entries.length === 0) return errAsync(libpodError('ImageCorrupt', 'OCI layout: index.json lists no image'));
      const named: Result<{ d: Descriptor; names: string[] }[], LibpodError> = entries.reduce<Result<{ d: Descriptor; names: string[] }[], LibpodError>>(
        (acc, d) => acc.andThen((list) => nameFromAnnotations(d.annotations).map((n) => [...list, { d, names: n === undefined ? [] : [n] }])),
        ok([]),
      );
      if (named.isErr()) return errAsync(named.error);
      return ResultAsync.combine(named.value.map(({ d, names }) => resolveEntry(files, d, names, platform, [])));
    })
    .orElse((e) => (e.code === 'ImageCorrupt' || e.code === 'NoSuchImage' || e.code === 'NotImplemented' ? err(e) : err(libpodError('ImageCorrupt', e.message, e))));
}
