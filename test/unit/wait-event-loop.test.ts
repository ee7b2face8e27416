import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/**
 * Runs test/fixtures/wait-child.ts in its own process. A wait that spins a
 * promise loop freezes that process for good (no timer fires), so the only
 * way to observe it is from outside: the child is killed after `limitMs`
 * (generous; a working child answers in well under a second).
 */
async function runChild(mode: string, limitMs = 60_000): Promise<{ stdout: string; code: number | null; killed: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'wait-child.ts'), mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, limitMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { stdout, code, killed };
}

describe('wait never starves the event loop (issue 8, item 4)', () => {
  it('batch(c => c.wait()) syncs inside the batch and returns the exit code', async () => {
    const r = await runChild('batch');
    assert.equal(r.killed, false, 'the child froze in batch wait');
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { exitCode: 7, state: 'exited' });
  });

  it('a wait on a container the runtime no longer knows keeps the event loop turning', async () => {
    const r = await runChild('vanished');
    assert.equal(r.killed, false, 'the child froze in wait');
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { alive: true });
  });
});
