/**
 * Cross-process locks of a network run directory (`<runRoot>/networks`):
 * what the Runtime that has the root open and conmon's exit command
 * (`network/exit-teardown.ts`, run with no Runtime open, or beside one) must
 * not do at the same time. libnetwork holds its `netavark.lock` for the same.
 *
 * | key                 | held around                                          |
 * | ------------------- | ---------------------------------------------------- |
 * | `ipam`              | every read-modify-write of the IPAM files            |
 * | `netavark`          | every `netavark setup` / `teardown` run              |
 * | `teardown/<ctr id>` | one container's teardown, and re-arming its exit teardown |
 *
 * Order: `teardown/<id>` may be held while taking `netavark` or `ipam`,
 * never the reverse.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import type { ResultAsync } from 'neverthrow';
import { attempt, type LibpodError } from '../define/errors.js';
import { StoreLocks } from '../locks/process-locks.js';

/** Key of the IPAM files' lock. */
export const IPAM_LOCK = 'ipam';
/** Key of the lock around netavark runs. */
export const NETAVARK_LOCK = 'netavark';

/** Key of container `id`'s teardown lock. */
export function teardownLockKey(id: string): string {
  return `teardown/${id}`;
}

/** The locks of run directory `runDir` (created when missing). */
export async function runDirLocks(runDir: string): Promise<StoreLocks> {
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  return new StoreLocks(runDir);
}

/** Runs `fn` holding `key` of `runDir` (waiting for its holder, in this or another process); its Err passes through. */
export function withRunDirLock<T>(runDir: string, key: string, fn: () => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
  return attempt(
    async () =>
      (await runDirLocks(runDir)).with(key, async () => {
        const r = await fn();
        if (r.isErr()) throw r.error;
        return r.value;
      }),
    'Internal',
    `network lock ${key}`,
  );
}
