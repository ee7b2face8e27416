/**
 * Running shell snippets in real containers from e2e tests.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { Container } from '../../../src/index.js';
import { must } from '../../support/engine.js';

/** A stream that collects what is written to it. */
export function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

/** Runs `sh -c script` in the container; resolves to its trimmed stdout (the exit code must be 0). */
export async function sh(c: Container, script: string): Promise<string> {
  const out = collect();
  const r = await must(c.exec(['/bin/sh', '-c', script], { streams: { stdout: out.stream } }));
  assert.equal(r.exitCode, 0, `exec ${script} exited ${r.exitCode}`);
  return out.text().trim();
}
