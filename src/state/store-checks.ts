/**
 * Argument checks shared by the built-in {@link StateStore} backends, so every
 * backend rejects the same malformed calls with the same codes.
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { RecordKind } from '../define/records.js';
import type { StateWriteOp } from './state-store.js';

/** The record kinds every store keeps, in a fixed order. */
export const RECORD_KINDS: readonly RecordKind[] = ['container', 'pod', 'volume'];

/** `Err(InvalidArg)` unless `kind` is a known record kind and `key` a non-empty string. */
export function checkKindAndKey(kind: unknown, key: unknown): Result<void, LibpodError> {
  if (typeof kind !== 'string' || !(RECORD_KINDS as readonly string[]).includes(kind)) {
    return err(libpodError('InvalidArg', `unknown record kind "${String(kind)}"`));
  }
  if (typeof key !== 'string' || key.length === 0) {
    return err(libpodError('InvalidArg', `${kind} key must be a non-empty string`));
  }
  return ok(undefined);
}

/** `Err(InvalidArg)` when any op is malformed (unknown op or kind, empty key, missing value). */
export function checkOps(ops: readonly StateWriteOp[]): Result<void, LibpodError> {
  if (!Array.isArray(ops)) return err(libpodError('InvalidArg', 'state write ops must be an array'));
  for (const op of ops) {
    if (typeof op !== 'object' || op === null || (op.op !== 'put' && op.op !== 'del')) {
      return err(libpodError('InvalidArg', 'state write op must be {op: "put" | "del", kind, key}'));
    }
    const checked = checkKindAndKey(op.kind, op.key);
    if (checked.isErr()) return checked;
    if (op.op === 'put' && (typeof op.value !== 'object' || op.value === null)) {
      return err(libpodError('InvalidArg', `put of ${op.kind} ${op.key} needs a record value`));
    }
  }
  return ok(undefined);
}

/** The error of any operation on a store that is not open. */
export function closedError(storeName: string): LibpodError {
  return libpodError('DBClosed', `${storeName} state store is not open: database is closed`);
}
