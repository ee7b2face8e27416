/**
 * The input guard of every public method, applied once per class: each
 * method gets its arguments as a {@link snapshot} (hostile input becomes
 * `InvalidArg` before the method runs), and a throw or rejection from the
 * method becomes an Err. The method's own validators then check the shape
 * of plain data.
 *
 * Usage, after a class definition: `hardenMethods(Container.prototype, { logs: 'iterable', config: 'plain' })`.
 * @module
 */
import { err, errAsync, ResultAsync } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../define/errors.js';
import { safe } from './safe.js';
import { snapshotArgs } from './snapshot.js';

/**
 * What a method returns, so a refused input can be reported in kind:
 * `async` a `ResultAsync`, `result` a `Result`, `iterable` an
 * `AsyncIterable` (whose iteration rejects with the error), `plain` not
 * guarded (methods without arguments that cannot fail).
 */
export type MethodKind = 'async' | 'result' | 'iterable' | 'plain';

const HARDENED = Symbol('libpod-ts.hardened');

/** An async iterable whose first `next()` rejects with `e`: how `logs()` reports bad options. */
export function failingIterable<T>(e: LibpodError): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.reject(e),
      return: () => Promise.resolve({ done: true, value: undefined }),
    }),
  };
}

function failure(kind: MethodKind, e: LibpodError): unknown {
  if (kind === 'result') return err(e);
  if (kind === 'iterable') return failingIterable(e);
  return errAsync(e);
}

function guard(original: (...args: unknown[]) => unknown, kind: MethodKind): (...args: unknown[]) => unknown {
  const guarded = function (this: unknown, ...args: unknown[]): unknown {
    const copied = snapshotArgs(args);
    if (copied.isErr()) return failure(kind, copied.error);
    try {
      const out = original.apply(this, copied.value);
      return kind === 'async' && out instanceof ResultAsync ? safe(() => out as ResultAsync<unknown, LibpodError>) : out;
    } catch (e) {
      return failure(kind, toLibpodError(e));
    }
  };
  Object.defineProperty(guarded, 'name', { value: original.name });
  Object.defineProperty(guarded, 'length', { value: original.length });
  Object.defineProperty(guarded, HARDENED, { value: true });
  return guarded;
}

/**
 * Guards every method defined on `target` (a class prototype, or a class
 * for its static methods): `kinds` names the methods that do not return a
 * `ResultAsync` (`defaultKind`). Getters and the constructor are left alone.
 */
export function hardenMethods(target: object, kinds: Readonly<Record<string, MethodKind>> = {}, defaultKind: MethodKind = 'async'): void {
  for (const key of Object.getOwnPropertyNames(target)) {
    if (key === 'constructor') continue;
    const desc = Object.getOwnPropertyDescriptor(target, key);
    if (!desc || typeof desc.value !== 'function' || !desc.writable) continue;
    const original = desc.value as ((...args: unknown[]) => unknown) & { [HARDENED]?: boolean };
    if (original[HARDENED]) continue;
    const kind = kinds[key] ?? defaultKind;
    if (kind === 'plain') continue;
    Object.defineProperty(target, key, { ...desc, value: guard(original, kind) });
  }
}
