/**
 * A safe copy of whatever a caller passes to a public method, taken before
 * anything else looks at it. Plain objects and arrays are copied deeply
 * (their getters run once, here); a `Proxy` whose traps throw, a getter that
 * throws, a `BigInt`, a `Symbol`, a cycle, or an absurdly deep or large value
 * is `InvalidArg`. After the copy, validators and verbs see plain data that
 * cannot change under them or throw when read.
 *
 * What is not copied (kept as given): functions, and instances of classes
 * (streams, `Container`, `Pod`, `Volume`, stores, runtimes...); a `Proxy`
 * around a stream (any `EventEmitter`) is refused, since reading it later
 * from an event handler could throw past every Result. Backends (a store,
 * an OCI runtime) may be proxies: every call into them is guarded. `Date`, `RegExp` and `Uint8Array` values are copied.
 * @module
 */
import { EventEmitter } from 'node:events';
import { types } from 'node:util';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';

/** Nesting deeper than this is refused (no option shape comes close). */
const MAX_DEPTH = 64;
/** More values than this in one argument are refused. */
const MAX_NODES = 1_000_000;

/** Own keys that would run caller code when the value is printed or converted. */
const CONVERSIONS = new Set(['toString', 'valueOf', 'toJSON']);

class Refused {
  constructor(readonly message: string) {}
}

interface Walk {
  nodes: number;
  /** Objects on the path from the root to the current value: a repeat is a cycle. */
  path: Set<object>;
}

function isPlainPrototype(proto: unknown): boolean {
  return proto === Object.prototype || proto === null;
}

function copyValue(v: unknown, where: string, w: Walk, depth: number): unknown {
  if (++w.nodes > MAX_NODES) throw new Refused(`${where} is too large`);
  switch (typeof v) {
    case 'undefined':
    case 'boolean':
    case 'number':
    case 'string':
    case 'function':
      return v;
    case 'bigint':
      throw new Refused(`${where} is a BigInt: pass a number`);
    case 'symbol':
      throw new Refused(`${where} is a Symbol`);
  }
  if (v === null) return null;
  const obj = v as object;
  if (depth > MAX_DEPTH) throw new Refused(`${where} is nested too deeply`);
  if (w.path.has(obj)) throw new Refused(`${where} contains a cycle`);
  const isArray = Array.isArray(obj);
  const proto: unknown = Object.getPrototypeOf(obj);
  if (!isArray && !isPlainPrototype(proto)) return copyInstance(obj, where);
  w.path.add(obj);
  try {
    if (isArray) {
      const arr = obj as unknown[];
      const length = arr.length;
      if (typeof length !== 'number' || length > MAX_NODES) throw new Refused(`${where} is too large`);
      const out: unknown[] = [];
      for (let i = 0; i < length; i++) out.push(copyValue(arr[i], `${where}[${i}]`, w, depth + 1));
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      const raw = (obj as Record<string, unknown>)[key];
      if (typeof raw === 'function' && CONVERSIONS.has(key)) throw new Refused(`${where} defines its own ${key}: options are plain data`);
      const value = copyValue(raw, `${where}.${key}`, w, depth + 1);
      // defineProperty: a key named "__proto__" stays an own property.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  } finally {
    w.path.delete(obj);
  }
}

function copyInstance(obj: object, where: string): unknown {
  // Streams are read from event handlers, where a throwing trap would escape every Result: no Proxy there.
  if (types.isProxy(obj) && obj instanceof EventEmitter) throw new Refused(`${where} is a Proxy of a stream or event emitter`);
  if (types.isDate(obj)) return new Date(Date.prototype.getTime.call(obj));
  if (types.isRegExp(obj)) return new RegExp(obj as RegExp);
  if (obj instanceof Uint8Array) return new Uint8Array(obj);
  return obj;
}

/** The message of something thrown, without trusting it (it may be a hostile Proxy too). */
function describe(e: unknown): string {
  try {
    const message: unknown = e instanceof Error ? e.message : undefined;
    return typeof message === 'string' ? message : 'reading it threw';
  } catch {
    return 'reading it threw';
  }
}

/**
 * A safe copy of `value` (see the module comment), or `InvalidArg` naming
 * `where` (e.g. `"options"`) and what is wrong with it.
 */
export function snapshot(value: unknown, where: string): Result<unknown, LibpodError> {
  try {
    return ok(copyValue(value, where, { nodes: 0, path: new Set() }, 0));
  } catch (e) {
    if (e instanceof Refused) return err(libpodError('InvalidArg', e.message));
    return err(libpodError('InvalidArg', `${where} cannot be read: ${describe(e)}`, e));
  }
}

/** {@link snapshot} of each argument (`arguments[0]`, `arguments[1]`...). */
export function snapshotArgs(args: readonly unknown[]): Result<unknown[], LibpodError> {
  const out: unknown[] = [];
  for (let i = 0; i < args.length; i++) {
    const copy = snapshot(args[i], `argument ${i + 1}`);
    if (copy.isErr()) return err(copy.error);
    out.push(copy.value);
  }
  return ok(out);
}
