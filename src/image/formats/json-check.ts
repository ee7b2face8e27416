/**
 * Runtime checks of untrusted JSON (manifests, configs, archive metadata):
 * small typed readers that fail with one `ImageCorrupt` naming the field.
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/** Thrown inside a checker, caught once by {@link checkJson}. */
class JsonCheckFailure extends Error {}

/** Fails the current {@link checkJson} with `message`. */
export function fail(message: string): never {
  throw new JsonCheckFailure(message);
}

/** Whether `v` is a plain JSON object (not an array or null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` as an object, or fails naming `path`. */
export function obj(v: unknown, path: string): JsonObject {
  if (!isObject(v)) fail(`${path} must be an object`);
  return v;
}

/** `v` as a string, or fails naming `path`. */
export function str(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(`${path} must be a string`);
  return v;
}

/** `v` as a string, undefined when absent/null. */
export function optStr(v: unknown, path: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, path);
}

/** `v` as a non-negative safe integer. */
export function size(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${path} must be a non-negative integer`);
  return v;
}

/** `v` as an array, or fails naming `path`. */
export function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(`${path} must be an array`);
  return v;
}

/** `v` as an array of strings; null/undefined become undefined. */
export function optStrings(v: unknown, path: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  return arr(v, path).map((s, i) => str(s, `${path}[${i}]`));
}

/** `v` as a string → string map; null/undefined become undefined. */
export function optStringMap(v: unknown, path: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  const o = obj(v, path);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) out[k] = str(val, `${path}.${k}`);
  return out;
}

/** `v` as a set written as `{ key: {} }`; null/undefined become undefined. */
export function optKeySet(v: unknown, path: string): Record<string, Record<string, never>> | undefined {
  if (v === undefined || v === null) return undefined;
  const o = obj(v, path);
  const out: Record<string, Record<string, never>> = {};
  for (const k of Object.keys(o)) out[k] = {};
  return out;
}

/** Parses `bytes` as JSON, failing with `ImageCorrupt` naming `what`. */
export function parseJson(bytes: Uint8Array | string, what: string): Result<unknown, LibpodError> {
  try {
    const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    return ok(JSON.parse(text) as unknown);
  } catch (e) {
    return err(libpodError('ImageCorrupt', `${what}: not valid JSON: ${(e as Error).message}`));
  }
}

/**
 * Runs `check` over untrusted JSON; a {@link fail} inside becomes
 * `ImageCorrupt` prefixed by `what`.
 */
export function checkJson<T>(what: string, check: () => T): Result<T, LibpodError> {
  try {
    return ok(check());
  } catch (e) {
    if (e instanceof JsonCheckFailure) return err(libpodError('ImageCorrupt', `${what}: ${e.message}`));
    throw e;
  }
}
