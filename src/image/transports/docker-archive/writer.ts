/**
 * Writes a docker-archive as c/image's docker-archive destination (what
 * `podman save` writes): each config as `<config hex>.json`, each layer
 * once as `<diffID hex>.tar` (uncompressed), then `manifest.json` with
 * RepoTags `domain/path:tag`. Layers stream from the store to the output.
 * The legacy per-layer directories and `repositories` file are not written
 * (Docker since 1.10, podman and skopeo read manifest.json).
 * @module
 */
import type { Writable } from 'node:stream';
import { ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../../../define/errors.js';
import { digestHex } from '../../formats/digest.js';
import { parseReference } from '../../reference.js';
import { TarWriter } from '../tar/tar-writer.js';
import type { ImageToSave } from '../types.js';
import type { DockerArchiveItem } from './reader.js';

/** RepoTags of an image: its tagged names (`domain/path:tag`); digest-only names are left out. */
export function repoTags(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const r = parseReference(n);
    if (r.isErr() || r.value.tag === undefined) continue;
    const t = `${r.value.domain}/${r.value.path}:${r.value.tag}`;
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

async function write(out: Writable, images: readonly ImageToSave[]): Promise<void> {
  const tar = new TarWriter(out);
  const written = new Set<string>();
  const items: DockerArchiveItem[] = [];
  const byConfig = new Map<string, DockerArchiveItem>();
  for (const img of images) {
    const configPath = `${digestHex(img.config.digest)}.json`;
    if (!written.has(configPath)) {
      await tar.addBuffer(configPath, img.config.bytes);
      written.add(configPath);
    }
    const layerPaths: string[] = [];
    for (const l of img.layers) {
      const p = `${digestHex(l.diffId)}.tar`;
      layerPaths.push(p);
      if (written.has(p)) continue;
      const s = await l.openDiff();
      if (s.isErr()) throw s.error;
      await tar.addStream(p, l.diffSize, s.value);
      written.add(p);
    }
    const existing = byConfig.get(configPath);
    const tags = repoTags(img.names);
    if (existing) {
      for (const t of tags) if (!existing.RepoTags.includes(t)) existing.RepoTags.push(t);
    } else {
      const item = { Config: configPath, RepoTags: tags, Layers: layerPaths };
      byConfig.set(configPath, item);
      items.push(item);
    }
  }
  await tar.addBuffer('manifest.json', Buffer.from(JSON.stringify(items)));
  await tar.finish();
}

/** Writes `images` as one docker-archive to `out` (ended on success). */
export function writeDockerArchive(out: Writable, images: readonly ImageToSave[]): ResultAsync<void, LibpodError> {
  if (images.length === 0) return ResultAsync.fromPromise(Promise.reject(libpodError('InvalidArg', 'no image to save')), (e) => e as LibpodError);
  return ResultAsync.fromPromise(write(out, images), (e) => toLibpodError(e, 'Internal', 'writing docker-archive'));
}
