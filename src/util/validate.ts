/**
 * Typed validators for option shapes. Each public method checks its
 * (already {@link snapshot}-copied) options against a shape: unknown keys
 * and values of the wrong type are `InvalidArg` naming the option, so no
 * option is ever accepted and ignored.
 *
 * ```ts
 * const bad = checkOptions(opts, 'exec', { env: stringMap, tty: bool });
 * if (bad) return errAsync(bad);
 * ```
 * @module
 */
import { isAbsolute } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { libpodError, type LibpodError } from '../define/errors.js';

/** Checks one value: a complaint (completing "`<name>` ...") or `undefined` when fine. */
export type Validator = (v: unknown) => string | undefined;

/** Whether `v` is an object that is not an array (after a snapshot: plain data or a class instance). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Anything: the method checks this value itself. */
export const unchecked: Validator = () => undefined;
/** `true` or `false`. */
export const bool: Validator = (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean');
/** Any string. */
export const str: Validator = (v) => (typeof v === 'string' ? undefined : 'must be a string');
/** A string with at least one character. */
export const nonEmptyStr: Validator = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
/** An absolute path. */
export const absPath: Validator = (v) => (typeof v === 'string' && isAbsolute(v) ? undefined : 'must be an absolute path');
/** A non-negative integer (counts, seconds). */
export const count: Validator = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? undefined : 'must be a non-negative integer');
/** A valid `Date`. */
export const date: Validator = (v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? undefined : 'must be a valid Date');
/** An object whose values are strings (env, labels). */
export const stringMap: Validator = (v) =>
  isObject(v) && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every((x) => typeof x === 'string')
    ? undefined
    : 'must be an object of string values';
/** An array of strings. */
export const stringArray: Validator = (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'must be an array of strings');
/** A `Writable` stream. */
export const writable: Validator = (v) => (v instanceof Writable ? undefined : 'must be a Writable stream');
/** A `Readable` stream. */
export const readable: Validator = (v) => (v instanceof Readable ? undefined : 'must be a Readable stream');

/** An `AbortSignal`. */
export const abortSignal: Validator = (v) => (v instanceof AbortSignal ? undefined : 'must be an AbortSignal');

/** A `RegExp`. */
export const regExp: Validator = (v) => (v instanceof RegExp ? undefined : 'must be a RegExp');
/** A label filter: `'key'`, `'key=value'`, or `{ key: value }`. */
export const labelFilter: Validator = (v) => (typeof v === 'string' || stringMap(v) === undefined ? undefined : 'must be a string or an object of string values');

/** One of `values`. */
export function oneOf(values: readonly unknown[]): Validator {
  return (v) => (values.includes(v) ? undefined : `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
}

/** Passes when any of `validators` passes. */
export function anyOf(...validators: Validator[]): Validator {
  return (v) => {
    const complaints = validators.map((check) => check(v));
    return complaints.includes(undefined) ? undefined : complaints.join(', or ');
  };
}

/** A value or an array of values each passing `item`. */
export function oneOrMany(item: Validator): Validator {
  return (v) => {
    if (!Array.isArray(v)) return item(v);
    for (const x of v) {
      const bad = item(x);
      if (bad) return `must be a value or an array of values that each ${bad.replace(/^must /, '')}`;
    }
    return undefined;
  };
}

/** An object of this shape (nested options). */
export function shape(fields: Readonly<Record<string, Validator>>): Validator {
  return (v) => {
    if (!isObject(v)) return 'must be an object';
    for (const [k, x] of Object.entries(v)) {
      const check = fields[k];
      if (!check) return `has an unknown key "${k}"`;
      if (x === undefined) continue;
      const bad = check(x);
      if (bad) return `.${k} ${bad}`;
    }
    return undefined;
  };
}

/**
 * `InvalidArg` unless `opts` is `undefined` or an object whose keys are in
 * `fields` and whose defined values pass their validator.
 */
export function checkOptions(opts: unknown, what: string, fields: Readonly<Record<string, Validator>>): LibpodError | undefined {
  if (opts === undefined) return undefined;
  if (!isObject(opts)) return libpodError('InvalidArg', `${what} options must be an object`);
  for (const [k, v] of Object.entries(opts)) {
    const check = fields[k];
    if (!check) return libpodError('InvalidArg', `unknown ${what} option "${k}"`);
    if (v === undefined) continue;
    const bad = check(v);
    if (bad) return libpodError('InvalidArg', `${what} option ${k}${bad.startsWith('.') ? bad : ` ${bad}`}`);
  }
  return undefined;
}

/** `InvalidArg` unless `v` passes `check`; `what` names it (e.g. `"exec command"`). */
export function checkValue(v: unknown, what: string, check: Validator): LibpodError | undefined {
  const bad = check(v);
  return bad ? libpodError('InvalidArg', `${what}${bad.startsWith('.') ? bad : ` ${bad}`}`) : undefined;
}
