/**
 * Small helpers shared by the shipped conformance suites.
 * @module
 */
import assert from 'node:assert/strict';
import type { Result, ResultAsync } from 'neverthrow';
import type { ErrorCode, LibpodError } from '../define/errors.js';
import type { StateStore } from '../state/state-store.js';

/** What a conformance factory returns: a store that has NOT been opened yet. */
export interface StateStoreFixture {
  /** A fresh, empty, unopened store. */
  store: StateStore;
  /**
   * A new instance over the same location (persistent stores), used to test
   * that data survives close and that a second opener gets `Locked`.
   */
  reopen?: () => StateStore;
  /** Removes everything the fixture created. */
  cleanup: () => Promise<void>;
}

/** Makes one fixture per test case. */
export type StateStoreFactory = () => Promise<StateStoreFixture>;

/** Awaits `r` and returns its value, failing the test with the error's code and message otherwise. */
export async function expectOk<T>(r: ResultAsync<T, LibpodError> | Result<T, LibpodError>): Promise<T> {
  const res = await r;
  if (res.isErr()) assert.fail(`expected Ok, got Err(${res.error.code}): ${res.error.message}`);
  return res.value;
}

/** Awaits `r` and asserts it is an Err with `code`; returns the error. */
export async function expectErr(r: ResultAsync<unknown, LibpodError> | Result<unknown, LibpodError>, code: ErrorCode): Promise<LibpodError> {
  const res = await r;
  if (res.isOk()) assert.fail(`expected Err(${code}), got Ok(${JSON.stringify(res.value)?.slice(0, 200)})`);
  assert.equal(res.error.code, code, `expected ${code}, got ${res.error.code}: ${res.error.message}`);
  return res.error;
}

/** Runs `fn` on an opened store from `make`, then closes it and cleans up whatever happened. */
export async function withOpenStore(
  make: StateStoreFactory,
  fn: (store: StateStore, fixture: StateStoreFixture) => Promise<void>,
): Promise<void> {
  const fixture = await make();
  try {
    await expectOk(fixture.store.open());
    await fn(fixture.store, fixture);
  } finally {
    await fixture.store.close();
    await fixture.cleanup();
  }
}

/** An id sharing its first four characters with every other id made with the same `prefix`. */
export function idWithPrefix(prefix: string, random: string): string {
  return (prefix + random).slice(0, 64);
}
