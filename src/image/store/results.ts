/**
 * The store's internals are async functions over the filesystem that reject
 * with LibpodErrors; the public facade turns them back into ResultAsyncs.
 * These two helpers cross that boundary.
 * @module
 */
import { ResultAsync } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../../define/errors.js';

/** The value of `r`, or a rejection with its error. */
export async function orThrow<T>(r: ResultAsync<T, LibpodError>): Promise<T> {
  const x = await r;
  if (x.isErr()) throw x.error;
  return x.value;
}

/** `fn()` as a ResultAsync: a LibpodError passes through, anything else becomes `code` with `context`. */
export function fromAsync<T>(fn: () => Promise<T>, context: string): ResultAsync<T, LibpodError> {
  return ResultAsync.fromPromise(
    (async () => fn())(),
    (e) => toLibpodError(e, 'Internal', context),
  );
}
