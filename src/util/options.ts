/**
 * The options check the verbs that take a timeout share (stop, restart,
 * remove of containers, pods and volumes).
 * @module
 */
import { libpodError, type LibpodError } from '../define/errors.js';

/**
 * `InvalidArg` for options that are not `{ timeout?: non-negative integer }`
 * plus the given boolean flags (e.g. `['force']`); `undefined` when fine.
 */
export function checkTimeoutOptions(opts: unknown, what: string, booleans: readonly string[] = []): LibpodError | undefined {
  if (opts === undefined) return undefined;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) return libpodError('InvalidArg', `${what} options must be an object`);
  for (const k of Object.keys(opts)) if (k !== 'timeout' && !booleans.includes(k)) return libpodError('InvalidArg', `unknown ${what} option "${k}"`);
  for (const k of booleans) {
    const v = (opts as Record<string, unknown>)[k];
    if (v !== undefined && typeof v !== 'boolean') return libpodError('InvalidArg', `${k} must be a boolean`);
  }
  const timeout = (opts as { timeout?: unknown }).timeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0)) {
    return libpodError('InvalidArg', `timeout must be a non-negative integer, got ${String(timeout)}`);
  }
  return undefined;
}
