/**
 * Running shell snippets in real containers from e2e tests.
 */
import assert from 'node:assert/strict';
import type { Container } from '../../../src/index.js';
import { must } from '../../support/engine.js';
import { collect } from '../../support/streams.js';

export { collect };

/** Runs `sh -c script` in the container; resolves to its trimmed stdout (the exit code must be 0). */
export async function sh(c: Container, script: string): Promise<string> {
  const out = collect();
  const r = await must(c.exec(['/bin/sh', '-c', script], { streams: { stdout: out.stream } }));
  assert.equal(r.exitCode, 0, `exec ${script} exited ${r.exitCode}`);
  return out.text().trim();
}
