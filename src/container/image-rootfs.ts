/**
 * Containers made from images: the image is resolved and its config applied
 * at create (`image/apply-config.ts`), the container's writable layer lives
 * in the image store (so every Runtime on that storage sees the image in
 * use), mounted as its root filesystem, and removed with the container.
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import type { ContainerConfig } from '../define/config.js';
import { libpodError, type LibpodError } from '../define/errors.js';
import { generateId } from '../define/ids.js';
import type { EngineContext } from '../engine/context.js';
import { applyImageConfig, type GivenOptions } from '../image/apply-config.js';
import type { ContainerImageConfig } from '../image/formats/config.js';
import { imageConfigOf } from '../image/image-data.js';
import { lookupImageRecord } from '../image/image-verbs.js';
import type { ImageRecord } from '../image/store/records.js';
import type { PullPolicy } from '../define/config.js';
import { dirSize } from './rootfs.js';
import type { CtrSession } from './session.js';

const PULL_POLICIES = ['always', 'missing', 'newer', 'never'];

/** The resolved image of a create: its id and runtime config. */
export interface CreateImage {
  id: string;
  config: ContainerImageConfig;
}

/**
 * Resolves `opts.image` (a name, id, prefix or Image) to a stored image,
 * pulling it as `opts.pullPolicy` says (default `'missing'`).
 */
export function resolveCreateImage(ctx: EngineContext, opts: GivenOptions): ResultAsync<CreateImage | undefined, LibpodError> {
  const { image, pullPolicy } = opts;
  if (image === undefined) {
    for (const k of ['entrypoint', 'pullPolicy']) if (opts[k] !== undefined) return errAsync(libpodError('InvalidArg', `${k} needs an image`));
    return okAsync(undefined);
  }
  if (opts.rootfs !== undefined) return errAsync(libpodError('InvalidArg', 'rootfs and image are exclusive: give one'));
  if (pullPolicy !== undefined && !PULL_POLICIES.includes(pullPolicy as string)) {
    return errAsync(libpodError('InvalidArg', `pullPolicy must be one of ${PULL_POLICIES.join(', ')}`));
  }
  const ref = typeof image === 'object' && image !== null && typeof (image as { id?: unknown }).id === 'string' ? (image as { id: string }).id : image;
  if (typeof ref !== 'string' || ref === '') return errAsync(libpodError('InvalidArg', 'image must be a name, an id or an Image'));
  return findOrPull(ctx, ref, image !== ref, (pullPolicy as PullPolicy | undefined) ?? 'missing').andThen((rec) =>
    ctx.imageStore().andThen((store) => imageConfigOf(store, rec)).map((c) => ({ id: rec.id, config: c.config ?? {} })),
  );
}

/**
 * The image of a create as podman's: an Image handle is used as it is;
 * a name is looked up locally and pulled as `policy` says (`missing`: only
 * when absent; `always`, `newer`: through the registry; `never`: local only).
 */
function findOrPull(ctx: EngineContext, ref: string, isHandle: boolean, policy: PullPolicy): ResultAsync<ImageRecord, LibpodError> {
  if (isHandle || policy === 'never') return lookupImageRecord(ctx, ref);
  if (policy === 'missing') return lookupImageRecord(ctx, ref).orElse((e) => (e.code === 'NoSuchImage' ? ctx.pullImage(ref, { policy }) : errAsync(e)));
  return ctx.pullImage(ref, { policy });
}

/** The create options to validate: the image as its id (validation needs no store). */
export function optionsForValidation(opts: GivenOptions, image: CreateImage | undefined): GivenOptions {
  return image ? { ...opts, image: image.id } : opts;
}

/** Applies the image's config under the caller's options (`given`). */
export function withImageConfig(config: ContainerConfig, given: GivenOptions, image: CreateImage | undefined): ResultAsync<ContainerConfig, LibpodError> {
  if (!image) return okAsync(config);
  const applied = applyImageConfig(config, given, image.id, image.config, generateId);
  return applied.isOk() ? okAsync(applied.value) : errAsync(applied.error);
}

/** Makes container `id`'s writable layer on its image (no image: nothing). */
export function createImageLayer(ctx: EngineContext, id: string, config: ContainerConfig): ResultAsync<void, LibpodError> {
  if (config.image === undefined) return okAsync(undefined);
  const imageId = config.image;
  return ctx.imageStore().andThen((store) => store.createContainerLayer(id, imageId, ctx.root).map(() => undefined));
}

/** Removes container `id`'s writable layer (no image: nothing). */
export function removeImageLayer(ctx: EngineContext, id: string, config: ContainerConfig): ResultAsync<void, LibpodError> {
  if (config.image === undefined) return okAsync(undefined);
  return ctx.imageStore().andThen((store) => store.removeContainerLayer(id));
}

/** Mounts the image container's root filesystem; resolves to its path. */
export function mountImageRootfs(s: CtrSession): ResultAsync<string, LibpodError> {
  return s.ctx.imageStore().andThen((store) => store.mountContainer(s.rec.id));
}

/** Unmounts the image container's root filesystem. */
export function unmountImageRootfs(s: CtrSession): ResultAsync<void, LibpodError> {
  return s.ctx.imageStore().andThen((store) => store.unmountContainer(s.rec.id));
}

/** `inspect({ size })` of an image container: the image's layers plus the container's changes, and the changes alone. */
export function imageContainerSizes(s: CtrSession): ResultAsync<{ rootFsSize: number; rwSize: number }, LibpodError> {
  const imageId = s.rec.config.image as string;
  return s.ctx.imageStore().andThen((store) =>
    dirSize(store.containerChangesDir(s.rec.id)).andThen((rwSize) =>
      store
        .image(imageId)
        .andThen((img) => store.layers().map((ls) => ls.filter((l) => img.layers.includes(l.id)).reduce((n, l) => n + l.diffSize, 0)))
        .orElse(() => okAsync(0))
        .map((imageSize) => ({ rootFsSize: imageSize + rwSize, rwSize })),
    ),
  );
}

/** The host directory holding an image container's own changes (checkpoint's rootfs diff). */
export function imageChangesDir(s: CtrSession): ResultAsync<string, LibpodError> {
  return s.ctx.imageStore().map((store) => store.containerChangesDir(s.rec.id));
}
