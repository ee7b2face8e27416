/**
 * The Runtime's side of pushing: arguments checked first (`InvalidArg`,
 * nothing sent), the image resolved in the store (`NoSuchImage`), the
 * destination parsed as podman's `push` does (an optional `docker://`
 * prefix, a short name on docker.io, `latest` when no tag), then
 * {@link pushImage} and a `push` event naming the destination.
 * @module
 */
import { err, errAsync, ok, okAsync, ResultAsync, type Result } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../../define/errors.js';
import type { LibpodEvent } from '../../define/events.js';
import type { Digest } from '../formats/digest.js';
import { imageEvent } from '../image-events.js';
import { findImage } from '../image-lookup.js';
import type { RegistriesConfig } from '../pull.js';
import { formatReference, parseNormalizedReference, withDefaultTag, type ImageReference } from '../reference.js';
import { BlobInfoCache } from '../store/blob-info.js';
import { TransferCloser } from '../transfer-closer.js';
import type { ImageStore } from '../store/image-store.js';
import { abortSignal, bool, checkOptions, oneOf, shape, str, type Validator } from '../../util/validate.js';
import { pushImage, type PushOptions } from './push-image.js';

const credentials: Validator = (v) => {
  const bad = shape({ username: str, password: str })(v);
  if (bad) return bad;
  const c = v as { username?: unknown; password?: unknown };
  return c.username === undefined || c.password === undefined ? 'needs username and password' : undefined;
};

/** The option checks of `pushImage`. */
export const PUSH_OPTIONS_SHAPE: Readonly<Record<string, Validator>> = {
  auth: credentials,
  authFile: str,
  tlsVerify: bool,
  compression: oneOf(['gzip', 'zstd']),
  signal: abortSignal,
};

/** The registry reference `dest` names (`docker://` allowed; `latest` by default; not both tag and digest). */
export function parsePushDestination(dest: unknown): Result<ImageReference, LibpodError> {
  if (typeof dest !== 'string' || dest === '') return err(libpodError('InvalidArg', 'pushImage needs a destination reference string'));
  const parsed = parseNormalizedReference(dest.startsWith('docker://') ? dest.slice('docker://'.length) : dest);
  if (parsed.isErr()) return err(parsed.error);
  if (parsed.value.tag !== undefined && parsed.value.digest !== undefined) return err(libpodError('InvalidArg', `push destination ${dest}: give a tag or a digest, not both`));
  return ok(withDefaultTag(parsed.value));
}

/** The destination, or `InvalidArg` for a bad image argument, destination or options. */
export function checkPushArgs(image: unknown, dest: unknown, opts: unknown): Result<ImageReference, LibpodError> {
  const isHandle = typeof image === 'object' && image !== null && typeof (image as { id?: unknown }).id === 'string';
  if (!isHandle && (typeof image !== 'string' || image === '')) return err(libpodError('InvalidArg', 'pushImage needs an Image or an image name or id'));
  const bad = checkOptions(opts, 'push', PUSH_OPTIONS_SHAPE);
  return bad ? err(bad) : parsePushDestination(dest);
}

/** Pushes for one Runtime. */
export class RuntimePusher {
  readonly #store: () => ResultAsync<ImageStore, LibpodError>;
  readonly #registries: RegistriesConfig;
  readonly #publish: (events: readonly LibpodEvent[]) => void;
  readonly #closer = new TransferCloser('push');

  constructor(store: () => ResultAsync<ImageStore, LibpodError>, registries: RegistriesConfig, publish: (events: readonly LibpodEvent[]) => void) {
    this.#store = store;
    this.#registries = registries;
    this.#publish = publish;
  }

  /** Pushes `image` (a handle's id, or a name, id or id prefix) to `dest`; resolves to the manifest digest pushed. */
  push(image: { id: string } | string, dest: string, opts: PushOptions = {}): ResultAsync<Digest, LibpodError> {
    const checked = checkPushArgs(image, dest, opts);
    if (checked.isErr()) return errAsync(checked.error);
    const ref = checked.value;
    const refused = this.#closer.refusal;
    if (refused) return errAsync(refused);
    const { signal, unlink } = this.#closer.link(opts.signal);
    const pushed = this.#store().andThen((store) => {
      const rec =
        typeof image === 'string'
          ? store.images().andThen((all) => {
              const found = findImage(all, image);
              return found.isOk() ? okAsync(found.value) : errAsync(found.error);
            })
          : store.image(image.id);
      return rec.andThen((r) =>
        ResultAsync.fromPromise(pushImage({ storage: store, registries: this.#registries, blobInfo: new BlobInfoCache(store.path) }, r, ref, { ...opts, signal }), (e) =>
          toLibpodError(e, 'Registry', `pushing to ${formatReference(ref)}`),
        ).map((digest) => {
          this.#publish([imageEvent('push', r.id, formatReference(ref))]);
          return digest;
        }),
      );
    });
    return new ResultAsync(Promise.resolve(pushed).finally(unlink));
  }

  /** Aborts the pushes in flight with `RuntimeFinalized` and refuses new ones. Idempotent. */
  close(): void {
    this.#closer.close();
  }
}
