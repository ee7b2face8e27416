/**
 * `loadImages` and `saveImages`: the copy pipeline between an archive and
 * the image store (c/image's copy with an archive transport on one side
 * and storage on the other), as podman's load and save behave:
 *
 * - load: detects the format, stores every image (layers stream from the
 *   archive into the store, verified there), names them as the archive
 *   does; `load` events carry the source (podman: the path).
 * - save: images given by name are tagged with that name (by id: no tag;
 *   an Image handle: all its names), a `save` event per image.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { PlatformSpec } from './formats/platform.js';
import { openImageArchive } from './transports/open-archive.js';
import { saveArchive, isArchiveFormat } from './transports/save-archive.js';
import { imageToSave, storeImages, type ImageStorage, type StoredImage } from './transports/storage.js';
import type { ArchiveFormat, ImageToSave } from './transports/types.js';

/** What the archive verbs need from the runtime. */
export interface ArchiveVerbContext {
  storage: ImageStorage;
  /** The store's temporary directory (spilled streams). */
  tmpDir: string;
  /** Resolves a reference, short name, id or id prefix; `name` is the full name it matched, unless it matched an id. */
  resolve(ref: string): ResultAsync<{ image: StoredImage; name?: string }, LibpodError>;
  /** Publishes image events after the work is done. */
  publish(status: 'load' | 'save', images: readonly { id: string; name: string }[]): void;
  /** Platform for index entries (default: this host). */
  platform?: PlatformSpec;
}

/** Options of `saveImages`. */
export interface SaveImagesOptions {
  /** Default `'docker-archive'`, as podman's. */
  format?: ArchiveFormat;
}

/** Loads every image of `src` (a path or a readable stream) into the store. */
export function loadImagesVerb(ctx: ArchiveVerbContext, src: string | NodeJS.ReadableStream): ResultAsync<StoredImage[], LibpodError> {
  return openImageArchive(src, { tmpDir: ctx.tmpDir, ...(ctx.platform ? { platform: ctx.platform } : {}) }).andThen((archive) =>
    storeImages(ctx.storage, archive.images)
      .andThen((stored) => archive.close().map(() => stored))
      .orElse((e) => archive.close().andThen(() => errAsync(e)))
      .map((stored) => {
        const name = typeof src === 'string' ? src : 'stream';
        ctx.publish('load', stored.map((s) => ({ id: s.id, name })));
        return stored;
      }),
  );
}

/** An image handle as `saveImages` takes it (the public `Image` has these). */
export interface ImageLike {
  id: string;
  names: readonly string[];
}

function isImageLike(v: unknown): v is ImageLike {
  return typeof v === 'object' && v !== null && typeof (v as ImageLike).id === 'string' && Array.isArray((v as ImageLike).names);
}

/** Writes `images` (handles, names or ids) to `dest` as `opts.format`. */
export function saveImagesVerb(
  ctx: ArchiveVerbContext,
  images: readonly (ImageLike | string)[],
  dest: string | NodeJS.WritableStream,
  opts: SaveImagesOptions = {},
): ResultAsync<void, LibpodError> {
  const format = opts.format ?? 'docker-archive';
  if (!isArchiveFormat(format)) return errAsync(libpodError('InvalidArg', `saveImages: unknown format ${JSON.stringify(format)} (docker-archive, oci-archive, oci-dir)`));
  if (!Array.isArray(images) || images.length === 0) return errAsync(libpodError('InvalidArg', 'saveImages: give at least one image'));
  for (const i of images) {
    if (typeof i !== 'string' && !isImageLike(i)) return errAsync(libpodError('InvalidArg', 'saveImages: images must be Image handles, names or ids'));
  }
  const resolved = ResultAsync.combine(
    images.map((i) =>
      typeof i === 'string'
        ? ctx.resolve(i).map(({ image, name }) => ({ image, names: name === undefined ? [] : [name] }))
        : ctx.storage.image(i.id).map((image) => ({ image, names: [...image.names] })),
    ),
  );
  return resolved.andThen((list) => {
    // one entry per image, names united in the order given (podman dedups by id)
    const byId = new Map<string, { image: StoredImage; names: string[] }>();
    for (const { image, names } of list) {
      const prev = byId.get(image.id);
      if (!prev) byId.set(image.id, { image, names: [...names] });
      else for (const n of names) if (!prev.names.includes(n)) prev.names.push(n);
    }
    return ResultAsync.combine([...byId.values()].map(({ image, names }) => imageToSave(ctx.storage, image, names)))
      .andThen((toSave: ImageToSave[]) => saveArchive(toSave, dest, format))
      .andThen(() => {
        const name = typeof dest === 'string' ? dest : 'stream';
        ctx.publish('save', [...byId.keys()].map((id) => ({ id, name })));
        return okAsync(undefined);
      });
  });
}
