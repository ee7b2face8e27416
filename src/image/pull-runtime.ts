/**
 * The Runtime's side of pulling: options checked (`InvalidArg`, nothing
 * changed), one {@link Puller} per Runtime over its image store (so
 * concurrent pulls in one Runtime share transfers), `pull` events, and the
 * close: `close()` aborts the pulls in flight (they fail with
 * `RuntimeFinalized` and store nothing, as any aborted pull) and refuses new
 * ones; the Runtime's operation gate waits for them to finish cleaning up.
 * @module
 */
import { errAsync, ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { LibpodEvent } from '../define/events.js';
import { imageEvent } from './image-events.js';
import { PULL_POLICIES, Puller, type PullOptions, type RegistriesConfig } from './pull.js';
import type { ImageStore } from './store/image-store.js';
import type { ImageRecord } from './store/records.js';
import { TransferCloser } from './transfer-closer.js';
import { abortSignal, bool, checkOptions, checkValue, oneOf, shape, str, type Validator } from '../util/validate.js';

const fn: Validator = (v) => (typeof v === 'function' ? undefined : 'must be a function');

/** The option checks of `pullImage`. */
export const PULL_OPTIONS_SHAPE: Readonly<Record<string, Validator>> = {
  policy: oneOf(PULL_POLICIES),
  platform: str,
  auth: shape({ username: str, password: str }),
  authFile: str,
  tlsVerify: bool,
  signal: abortSignal,
  onProgress: fn,
};

/** Checks `registries` runtime option: `{ search?: string[], insecure?: string[] }`. */
export function checkRegistriesOption(v: unknown): LibpodError | undefined {
  if (v === undefined) return undefined;
  const list: Validator = (x) => (Array.isArray(x) && x.every((s) => typeof s === 'string' && s !== '' && !s.includes('/')) ? undefined : 'must be an array of registry host names');
  return checkValue(v, 'registries', shape({ search: list, insecure: list }));
}

/** Pulls for one Runtime. */
export class RuntimePuller {
  readonly #store: () => ResultAsync<ImageStore, LibpodError>;
  readonly #registries: RegistriesConfig;
  readonly #publish: (events: readonly LibpodEvent[]) => void;
  #puller: Puller | undefined;
  readonly #closer = new TransferCloser('pull');

  constructor(store: () => ResultAsync<ImageStore, LibpodError>, registries: RegistriesConfig, publish: (events: readonly LibpodEvent[]) => void) {
    this.#store = store;
    this.#registries = registries;
    this.#publish = publish;
  }

  /** Pulls `ref` (options unchecked: see {@link checkPullOptions}); resolves to the stored image. */
  pull(ref: string, opts: PullOptions): ResultAsync<ImageRecord, LibpodError> {
    const refused = this.#closer.refusal;
    if (refused) return errAsync(refused);
    const { signal, unlink } = this.#closer.link(opts.signal);
    const pulled = this.#store().andThen((store) => {
      this.#puller ??= new Puller({
        storage: store,
        registries: this.#registries,
        publish: (i) => this.#publish([imageEvent('pull', i.id, i.name)]),
      });
      return this.#puller.pull(ref, { ...opts, signal }).andThen((rec) => store.image(rec.id));
    });
    return new ResultAsync(Promise.resolve(pulled).finally(unlink));
  }

  /** Aborts the pulls in flight with `RuntimeFinalized` and refuses new ones. Idempotent. */
  close(): void {
    this.#closer.close();
  }
}

/** `InvalidArg` for a bad reference type or options. */
export function checkPullOptions(ref: unknown, opts: unknown): ResultAsync<never, LibpodError> | undefined {
  if (typeof ref !== 'string' || ref === '') return errAsync(libpodError('InvalidArg', 'pullImage needs an image reference string'));
  const bad = checkOptions(opts, 'pull', PULL_OPTIONS_SHAPE);
  return bad ? errAsync(bad) : undefined;
}
