/**
 * Reads a docker-archive (`docker save` / `podman save` layout) from an
 * indexed tar: `manifest.json` lists each image's config path, RepoTags and
 * layer paths. Layers may be `<id>/layer.tar` (legacy, often symlinks),
 * `<digest>.tar` (c/image) or `blobs/sha256/<hex>` (Docker 25); they are
 * found by path, whatever the layout. As c/image's docker-archive source,
 * the image's manifest is generated (Docker schema 2, layers by diffID,
 * uncompressed), so a layer stream is the uncompressed tar and is verified
 * against its diffID. RepoTags are named as podman's load names them.
 * @module
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { err, errAsync, ok, okAsync, ResultAsync, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../../../define/errors.js';
import { MAX_CONFIG_SIZE, parseImageConfig } from '../../formats/config.js';
import { sha256Digest, type Digest } from '../../formats/digest.js';
import { arr, checkJson, obj, optStrings, parseJson, str } from '../../formats/json-check.js';
import { serializeDockerManifest, type Descriptor } from '../../formats/manifest.js';
import { DOCKER_CONFIG, DOCKER_LAYER, DOCKER_MANIFEST, sniffCompression, type LayerCompression } from '../../formats/media-types.js';
import { normalizeLocalName } from '../../reference.js';
import type { TarEntry, TarIndex } from '../tar/tar-index.js';
import type { SourceImage, SourceLayer } from '../types.js';

/** Largest manifest.json accepted (c/image's MaxTarFileManifestSize). */
export const MAX_TAR_MANIFEST_SIZE = 1024 * 1024;

/** One item of manifest.json. */
export interface DockerArchiveItem {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** Whether the archive looks like a docker-archive. */
export function isDockerArchive(tar: TarIndex): boolean {
  return tar.file('manifest.json') !== undefined;
}

function parseItems(bytes: Buffer): Result<DockerArchiveItem[], LibpodError> {
  return parseJson(bytes, 'manifest.json').andThen((v) =>
    checkJson('manifest.json', () =>
      arr(v, 'manifest.json').map((it, i) => {
        const o = obj(it, `[${i}]`);
        return {
          Config: str(o.Config, `[${i}].Config`),
          RepoTags: optStrings(o.RepoTags, `[${i}].RepoTags`) ?? [],
          Layers: arr(o.Layers ?? [], `[${i}].Layers`).map((l, j) => str(l, `[${i}].Layers[${j}]`)),
        };
      }),
    ),
  );
}

function layerStream(tar: TarIndex, e: TarEntry, compression: LayerCompression): ResultAsync<Readable, LibpodError> {
  const raw = tar.stream(e);
  if (compression === 'none') return okAsync(raw);
  if (compression === 'gzip') return okAsync(raw.pipe(createGunzip({ chunkSize: 256 * 1024 })));
  raw.destroy();
  return errAsync(libpodError('ImageCorrupt', `layer ${e.name}: zstd layers in a docker-archive are not supported`));
}

/** The uncompressed size of a compressed member (c/image decompresses to learn it). */
function uncompressedSize(tar: TarIndex, e: TarEntry, c: LayerCompression): ResultAsync<number, LibpodError> {
  return layerStream(tar, e, c).andThen((s) =>
    ResultAsync.fromPromise(
      (async () => {
        let n = 0;
        for await (const chunk of s as AsyncIterable<Buffer>) n += chunk.length;
        return n;
      })(),
      (x) => libpodError('ImageCorrupt', `layer ${e.name}: ${(x as Error).message}`, x),
    ),
  );
}

function readLayer(tar: TarIndex, path: string, diffId: Digest): ResultAsync<SourceLayer, LibpodError> {
  const e = tar.file(path);
  if (!e) return errAsync(libpodError('ImageCorrupt', `docker-archive: layer ${path} is missing`));
  return tar.head(e, 4).andThen((head) => {
    const c = sniffCompression(head);
    const size = c === 'none' ? okAsync<number, LibpodError>(e.size) : uncompressedSize(tar, e, c);
    return size.map((n): SourceLayer => ({
      blob: { mediaType: DOCKER_LAYER, digest: diffId, size: n },
      diffId,
      open: () => layerStream(tar, e, c),
    }));
  });
}

/** RepoTags as podman's load names them (its NormalizeName: `bb:1` → `localhost/bb:1`). */
function normalizeTags(tags: readonly string[]): Result<string[], LibpodError> {
  const out: string[] = [];
  for (const t of tags) {
    const r = normalizeLocalName(t);
    if (r.isErr()) return err(libpodError('ImageCorrupt', `docker-archive: invalid tag ${JSON.stringify(t)} in manifest.json`));
    if (!out.includes(r.value)) out.push(r.value);
  }
  return ok(out);
}

function readItem(tar: TarIndex, item: DockerArchiveItem): ResultAsync<SourceImage, LibpodError> {
  const names = normalizeTags(item.RepoTags);
  if (names.isErr()) return errAsync(names.error);
  return tar.read(item.Config, MAX_CONFIG_SIZE).andThen((configBytes) => {
    const parsed = parseImageConfig(configBytes);
    if (parsed.isErr()) return errAsync(parsed.error);
    const diffIds = parsed.value.rootfs.diff_ids;
    if (diffIds.length !== item.Layers.length) {
      return errAsync(libpodError('ImageCorrupt', `docker-archive: ${item.Layers.length} layers in manifest.json, ${diffIds.length} in the config`));
    }
    const layerPaths = new Map<Digest, string>();
    for (const [i, d] of diffIds.entries()) {
      const p = item.Layers[i] as string;
      if (!layerPaths.has(d)) layerPaths.set(d, p);
    }
    return ResultAsync.combine([...layerPaths].map(([d, p]) => readLayer(tar, p, d))).map((unique) => {
      const byDiff = new Map(unique.map((l) => [l.diffId, l]));
      const layers = diffIds.map((d) => byDiff.get(d) as SourceLayer);
      const config: Descriptor = { mediaType: DOCKER_CONFIG, digest: sha256Digest(configBytes), size: configBytes.length };
      const manifestBytes = serializeDockerManifest(config, layers.map((l) => l.blob));
      return {
        names: names.value,
        manifest: { bytes: manifestBytes, mediaType: DOCKER_MANIFEST, digest: sha256Digest(manifestBytes) },
        otherDigests: [],
        config: { bytes: configBytes, digest: config.digest, parsed: parsed.value },
        layers,
      };
    });
  });
}

/** Reads every image of a docker-archive. */
export function readDockerArchive(tar: TarIndex): ResultAsync<SourceImage[], LibpodError> {
  return tar
    .read('manifest.json', MAX_TAR_MANIFEST_SIZE)
    .andThen((b) => parseItems(b))
    .andThen((items) => {
      if (items.length === 0) return errAsync(libpodError('ImageCorrupt', 'docker-archive: manifest.json lists no image'));
      return ResultAsync.combine(items.map((it) => readItem(tar, it)));
    });
}
