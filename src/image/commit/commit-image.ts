/**
 * Making an image of a container (podman's `Container.Commit` through
 * buildah's import builder): the container's changes become one new
 * uncompressed layer on top of its image's layers; the config is the
 * image's with the container's settings (entrypoint, command, env, labels,
 * user, working directory), then the `--change` instructions applied,
 * `author`, and a history entry (`comment` = the message); the manifest is
 * an OCI manifest over the image's layer blobs and the new one.
 *
 * The layer tar is spilled once to the store's tmp directory while it is
 * hashed (the store needs its diffID before it takes it), then streamed in.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { err, ok, ResultAsync, type Result } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../../define/errors.js';
import { parseImageConfig, type ContainerImageConfig, type ImageConfig } from '../formats/config.js';
import { DigestMeter, sha256Digest, type Digest } from '../formats/digest.js';
import { parseManifest, serializeOciManifest, type Descriptor } from '../formats/manifest.js';
import { layerCompression, OCI_CONFIG, OCI_LAYER, ociLayerMediaType } from '../formats/media-types.js';
import { normalizeLocalName } from '../reference.js';
import type { ImageStore } from '../store/image-store.js';
import type { ImageRecord } from '../store/records.js';
import { applyOverride, parseChanges, type ConfigOverride } from './changes.js';
import { containerDiff } from './container-diff.js';

/** The container settings a commit carries into the image (podman's commit). */
export interface CommitSettings {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  labels?: Record<string, string>;
  user?: string;
  workingDir?: string;
}

/** What {@link commitImage} takes. */
export interface CommitInput {
  store: ImageStore;
  containerId: string;
  imageId: string;
  settings: CommitSettings;
  /** Name of the new image (podman's NormalizeName: `app` → `localhost/app:latest`). */
  ref?: string;
  author?: string;
  message?: string;
  changes?: readonly string[];
}

/** Checks a commit's name and changes before anything happens; `InvalidArg` on bad ones. */
export function checkCommitInput(ref: string | undefined, changes: readonly string[] | undefined): Result<{ name?: string; override?: ConfigOverride }, LibpodError> {
  const out: { name?: string; override?: ConfigOverride } = {};
  if (ref !== undefined) {
    const name = normalizeLocalName(ref);
    if (name.isErr()) return err(name.error);
    out.name = name.value;
  }
  if (changes !== undefined && changes.length > 0) {
    const override = parseChanges(changes);
    if (override.isErr()) return err(override.error);
    out.override = override.value;
  }
  return ok(out);
}

/** The new config: the image's with the container's settings, the changes, author and history. */
export function commitConfig(base: ImageConfig, input: Pick<CommitInput, 'settings' | 'author' | 'message'>, override: ConfigOverride | undefined, diffId: Digest, created: string): ImageConfig {
  const s = input.settings;
  let runtime: ContainerImageConfig = { ...(base.config ?? {}) };
  delete runtime.Entrypoint;
  delete runtime.Cmd;
  if (s.entrypoint?.length) runtime.Entrypoint = [...s.entrypoint];
  if (s.cmd?.length) runtime.Cmd = [...s.cmd];
  if (s.env) runtime.Env = [...s.env];
  if (s.labels && Object.keys(s.labels).length > 0) runtime.Labels = { ...runtime.Labels, ...s.labels };
  if (s.user) runtime.User = s.user;
  if (s.workingDir) runtime.WorkingDir = s.workingDir;
  if (override) runtime = applyOverride(runtime, override);
  const history = [...(base.history ?? []), { created, ...(input.author ? { author: input.author } : {}), ...(input.message ? { comment: input.message } : {}) }];
  const c: ImageConfig = { ...base, created, config: runtime, rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids, diffId] }, history };
  if (input.author) c.author = input.author;
  else delete c.author;
  // Docker's fields about the container an image was made from do not describe this one
  delete c.container;
  delete c.container_config;
  return c;
}

async function unwrap<T>(r: ResultAsync<T, LibpodError>): Promise<T> {
  const v = await r;
  if (v.isErr()) throw v.error;
  return v.value;
}

/** Makes the image (see the module comment); the caller holds the container's lock and pauses it if asked. */
export function commitImage(input: CommitInput): ResultAsync<ImageRecord, LibpodError> {
  return checkCommitInput(input.ref, input.changes).asyncAndThen(({ name, override }) =>
    ResultAsync.fromPromise(
      (async () => {
        const { store } = input;
        const image = await unwrap(store.image(input.imageId));
        const base = await unwrap(store.imageConfig(image.id).andThen((b) => parseImageConfig(b)));
        const baseManifest = parseManifest(await unwrap(store.imageManifest(image.id)));
        const top = image.layers.at(-1);
        const spill = join(store.path, 'tmp', `${process.pid}-commit-${randomBytes(6).toString('hex')}.tar`);
        const diff = await containerDiff(store, input.containerId, top);
        try {
          const meter = new DigestMeter();
          await pipeline(diff.tar, meter, createWriteStream(spill, { mode: 0o600 }));
          const { digest: diffId, size } = meter.result as { digest: Digest; size: number };
          await unwrap(store.putLayer({ ...(top ? { parent: top } : {}), blob: createReadStream(spill, { highWaterMark: 1024 * 1024 }), diffId, digest: diffId, size }));
          const created = new Date().toISOString();
          const config = Buffer.from(JSON.stringify(commitConfig(base, input, override, diffId, created)));
          const oldLayers = baseManifest.isOk() && baseManifest.value.kind === 'manifest' ? baseManifest.value.manifest.layers : [];
          const layers: Descriptor[] = image.layerBlobs.map((d, i) => {
            const old = oldLayers[i];
            const mt = old && old.digest === d ? ociLayerMediaType(layerCompression(old.mediaType) ?? 'none') : OCI_LAYER;
            return { mediaType: mt, digest: d as Digest, size: old?.digest === d ? old.size : 0 };
          });
          for (const l of layers) if (l.size === 0) l.size = await unwrap(store.blobSize(l.digest));
          layers.push({ mediaType: OCI_LAYER, digest: diffId, size });
          const manifest = serializeOciManifest({ mediaType: OCI_CONFIG, digest: sha256Digest(config), size: config.length }, layers);
          return await unwrap(store.putImage({ manifest, config, names: name === undefined ? [] : [name] }));
        } finally {
          await rm(spill, { force: true });
          await diff.done();
        }
      })(),
      (e) => toLibpodError(e, 'Internal', 'committing container'),
    ),
  );
}
