/**
 * Error kinds and the one error class of the public API.
 *
 * Every fallible public call returns `ResultAsync<T, LibpodError>` (or `Result`);
 * nothing throws across the API. `code` names libpod's `define.Err*` sentinel
 * without the `Err` prefix, so callers switch on it rather than on messages.
 *
 * @module
 */
import { errAsync, ResultAsync } from 'neverthrow';

/** Every error kind a public call can report (libpod's `define.Err*` names without `Err`). */
export const ERROR_CODES = [
  'NoSuchCtr',
  'NoSuchPod',
  'NoSuchVolume',
  'NoSuchExecSession',
  'NoSuchNetwork',
  'CtrExists',
  'PodExists',
  'VolumeExists',
  'NetworkExists',
  'CtrStateInvalid',
  'CtrStopped',
  'CtrRemoved',
  'PodRemoved',
  'VolumeRemoved',
  'VolumeBeingUsed',
  'NetworkInUse',
  'DepExists',
  'InvalidArg',
  'NoCgroups',
  'OCIRuntime',
  'OCIRuntimeNotFound',
  'NotImplemented',
  'Internal',
  'DBClosed',
  'RuntimeFinalized',
  'Locked',
  'Timeout',
  // images (contract "Images")
  'NoSuchImage',
  'ImageInUse',
  'ImageCorrupt',
  'Unauthorized',
  'Registry',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Options accepted by the {@link LibpodError} constructor. */
export interface LibpodErrorOptions {
  /** The underlying error, when there is one. */
  cause?: unknown;
  /**
   * Errors from secondary steps (for example a cleanup that failed after the
   * primary failure, or per-member failures of a pod operation).
   */
  related?: readonly LibpodError[];
}

/**
 * The error value of every public operation.
 *
 * @example
 * ```ts
 * const r = await runtime.lookupContainer('web');
 * if (r.isErr() && r.error.code === 'NoSuchCtr') console.log('not there');
 * ```
 */
export class LibpodError extends Error {
  /** The kind of failure: switch on this, never on `message`. */
  readonly code: ErrorCode;
  /** Failures of secondary steps (cleanup after a failure, per-member errors). */
  readonly related: readonly LibpodError[];

  constructor(code: ErrorCode, message: string, options: LibpodErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LibpodError';
    this.code = code;
    this.related = options.related ?? [];
  }

  /** A copy of this error with `others` appended to {@link LibpodError.related}. */
  withRelated(...others: LibpodError[]): LibpodError {
    if (others.length === 0) return this;
    return new LibpodError(this.code, this.message, {
      cause: this.cause,
      related: [...this.related, ...others],
    });
  }
}

/** Short-hand constructor: `libpodError('NoSuchCtr', 'no container with name or ID "x" found')`. */
export function libpodError(code: ErrorCode, message: string, cause?: unknown): LibpodError {
  return new LibpodError(code, message, cause === undefined ? {} : { cause });
}

/** An already-failed `ResultAsync` carrying a new {@link LibpodError}. */
export function failAsync<T = never>(code: ErrorCode, message: string, cause?: unknown): ResultAsync<T, LibpodError> {
  return errAsync(libpodError(code, message, cause));
}

/**
 * libpod's `ErrCtrStateInvalid` ("container state improper"): the verb does
 * not apply to the container in its current state.
 */
export function improperError(message: string): LibpodError {
  return libpodError('CtrStateInvalid', `${message}: container state improper`);
}

/** {@link improperError} as an already-failed `ResultAsync`. */
export function improper<T = never>(message: string): ResultAsync<T, LibpodError> {
  return errAsync(improperError(message));
}

/** Whether `value` is a {@link LibpodError}. */
export function isLibpodError(value: unknown): value is LibpodError {
  return value instanceof LibpodError;
}

/**
 * Converts anything thrown or rejected into a {@link LibpodError}: a LibpodError
 * passes through, anything else becomes `code` with `context: <message>`.
 */
export function toLibpodError(e: unknown, code: ErrorCode = 'Internal', context?: string): LibpodError {
  if (e instanceof LibpodError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return libpodError(code, context ? `${context}: ${detail}` : detail, e);
}

/**
 * Wraps a promise-returning function at an adapter boundary: a throw or a
 * rejection becomes an Err of `code` (LibpodErrors pass through unchanged).
 */
export function attempt<T>(fn: () => Promise<T> | T, code: ErrorCode = 'Internal', context?: string): ResultAsync<T, LibpodError> {
  return ResultAsync.fromPromise(
    (async () => fn())(),
    (e) => toLibpodError(e, code, context),
  );
}
