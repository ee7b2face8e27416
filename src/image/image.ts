/**
 * The `Image` handle: an image in the store (podman's `libimage.Image`).
 * `id`, `names` and `digest` are a snapshot taken when the handle was made
 * (refreshed by its own `tag` / `untag`); the methods read the store.
 * @module
 */
import { err, errAsync, ok, type Result, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { EngineContext } from '../engine/context.js';
import { hardenMethods } from '../util/harden.js';
import { imageData } from './image-data.js';
import { imageEvent } from './image-events.js';
import { imageHistory, inspectImage, type ImageHistoryEntry, type ImageInspect } from './image-inspect.js';
import { formatReference, parseNormalizedReference, withDefaultTag } from './reference.js';
import type { ImageRecord } from './store/records.js';

/** A tag or name to give: normalized, without a digest. */
export function tagName(ref: unknown): Result<string, LibpodError> {
  if (typeof ref !== 'string') return err(libpodError('InvalidArg', 'image reference must be a string'));
  const parsed = parseNormalizedReference(ref);
  if (parsed.isErr()) return err(parsed.error);
  if (parsed.value.digest !== undefined) return err(libpodError('InvalidArg', `cannot tag with a digest reference: ${ref}`));
  return ok(formatReference(withDefaultTag(parsed.value)));
}

/** An image in the store. Get one from `runtime.lookupImage`, `images`, `loadImages`, `pullImage` or `commit`. */
export class Image {
  readonly #ctx: EngineContext;
  #rec: ImageRecord;

  /** @internal Made by the runtime. */
  constructor(ctx: EngineContext, rec: ImageRecord) {
    this.#ctx = ctx;
    this.#rec = rec;
  }

  /** 64 hex characters: the config digest's hex, as podman's image id. */
  get id(): string {
    return this.#rec.id;
  }

  /** Fully qualified names (`docker.io/library/busybox:latest`). */
  get names(): string[] {
    return [...this.#rec.names];
  }

  /** `sha256:` of the manifest it was pulled or loaded by. */
  get digest(): string {
    return this.#rec.digest;
  }

  /** Everything about the image (podman's `image inspect`). `NoSuchImage` once removed. */
  inspect(): ResultAsync<ImageInspect, LibpodError> {
    return this.#guarded(() => imageData(this.#ctx, this.id).map((d) => {
      this.#rec = d.rec;
      return inspectImage(d.rec, d.config, d.layers);
    }));
  }

  /** The build steps, newest first (podman's `image history`). */
  history(): ResultAsync<ImageHistoryEntry[], LibpodError> {
    return this.#guarded(() => imageData(this.#ctx, this.id).map((d) => imageHistory(d.rec, d.config, d.layers)));
  }

  /** Adds a name (`app:1` becomes `docker.io/library/app:1`); another image with it loses it. Emits `tag`. */
  tag(ref: string): ResultAsync<void, LibpodError> {
    return this.#guarded(() => {
      const parsed = tagName(ref);
      if (parsed.isErr()) return errAsync(parsed.error);
      const name = parsed.value;
      return this.#ctx.imageStore().andThen((store) =>
        store.addNames(this.id, [name]).map((rec) => {
          this.#rec = rec;
          this.#ctx.publish([imageEvent('tag', rec.id, name)]);
        }),
      );
    });
  }

  /** Removes a name the image has (`InvalidArg` when it has not). Emits `untag`. */
  untag(ref: string): ResultAsync<void, LibpodError> {
    return this.#guarded(() => {
      const parsed = tagName(ref);
      if (parsed.isErr()) return errAsync(parsed.error);
      const name = parsed.value;
      return this.#ctx.imageStore().andThen((store) =>
        store.image(this.id).andThen((rec) => {
          if (!rec.names.includes(name)) return errAsync(libpodError('InvalidArg', `image ${this.id} has no name ${name}: tag not known`));
          return store.removeNames(this.id, [name]).map((next) => {
            this.#rec = next;
            this.#ctx.publish([imageEvent('untag', next.id, name)]);
          });
        }),
      );
    });
  }

  #guarded<T>(fn: () => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    const g = this.#ctx.guard();
    return g.isErr() ? errAsync(g.error) : fn();
  }
}

hardenMethods(Image.prototype);
