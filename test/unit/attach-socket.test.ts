/**
 * Connecting to conmon's attach socket fails as an `OCIRuntime` error, never
 * a throw of another kind, whatever is (not) at `<dir>/attach`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLibpodError } from '../../src/define/errors.js';
import { connectAttach, type AttachHandlers } from '../../src/oci/conmon/attach-socket.js';

const handlers: AttachHandlers = { onPacket: () => undefined, onEnd: () => undefined };

async function failsWith(dir: string): Promise<string> {
  try {
    await connectAttach(dir, handlers);
  } catch (e) {
    assert.ok(isLibpodError(e), `a LibpodError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('connected');
}

describe('attach socket connect errors', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpts-attach-sock-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a missing directory or socket (ENOENT) is OCIRuntime', async () => {
    assert.equal(await failsWith(join(dir, 'missing')), 'OCIRuntime');
    assert.equal(await failsWith(dir), 'OCIRuntime');
  });

  it('a socket nobody listens on (ECONNREFUSED) is OCIRuntime', async () => {
    const sub = join(dir, 'refused');
    // A listener killed by SIGKILL leaves its socket file behind.
    const script = `require('node:fs').mkdirSync(${JSON.stringify(sub)});require('node:net').createServer().listen(${JSON.stringify(join(sub, 'attach'))},()=>process.kill(process.pid,'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script], { timeout: 10_000 });
    assert.equal(await failsWith(sub), 'OCIRuntime');
  });

  it('a stream socket instead of a SEQPACKET one (EPROTOTYPE) is OCIRuntime', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(join(dir, 'attach'), r));
    try {
      assert.equal(await failsWith(dir), 'OCIRuntime');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
