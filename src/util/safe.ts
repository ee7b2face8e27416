/**
 * The guarantee of the public API: a call never throws and its promise never
 * rejects. `safe` turns a synchronous throw or a rejected promise inside a
 * ResultAsync chain into an `Err(Internal)`.
 * @module
 */
import { err, errAsync, okAsync, ResultAsync } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../define/errors.js';

/** Runs `fn`; whatever it throws or rejects with becomes an Err. */
export function safe<T>(fn: () => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
  let result: ResultAsync<T, LibpodError>;
  try {
    result = fn();
  } catch (e) {
    return errAsync(toLibpodError(e));
  }
  return new ResultAsync(Promise.resolve(result).catch((e: unknown) => err(toLibpodError(e))));
}

/**
 * The error `e` after running `cleanup` (a step that undoes a failed
 * operation): when the cleanup fails too, its error is attached to `e`
 * (`e.related`) rather than dropped.
 */
export function failAfter<T = never>(e: LibpodError, cleanup: () => ResultAsync<unknown, LibpodError>): ResultAsync<T, LibpodError> {
  return new ResultAsync(
    cleanup().match(
      () => err<T, LibpodError>(e),
      (ce) => err<T, LibpodError>(e.withRelated(ce)),
    ),
  );
}

/** Runs every step, returns the first failure with the later ones attached. */
export function sequenceAll(steps: (() => ResultAsync<void, LibpodError>)[]): ResultAsync<void, LibpodError> {
  const failures: LibpodError[] = [];
  const run = steps.reduce<ResultAsync<void, LibpodError>>(
    (acc, step) =>
      acc.andThen(() =>
        step().orElse((e) => {
          failures.push(e);
          return okAsync(undefined);
        }),
      ),
    okAsync(undefined),
  );
  return run.andThen(() => {
    const [first, ...rest] = failures;
    return first ? errAsync(first.withRelated(...rest)) : okAsync(undefined);
  });
}
