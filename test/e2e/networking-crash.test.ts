/**
 * kill -9 of the Node process with a published port: the container keeps
 * serving and its host port stays reserved (conmon holds it, as podman's);
 * a new runtime stops and removes it and nothing of its networking remains.
 * Root only; traffic only to 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Runtime } from '../../src/index.js';
import { makeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { must } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost } from './support/leaks.js';
import { assertNoNetLeaks, snapshotNet } from './support/net-leaks.js';
import { get, getEventually, tryListen } from './support/net-engine.js';

const root = process.getuid?.() === 0;

describe('networking survives kill -9 of the Node process', { skip: !root && 'needs root' }, () => {
  it('keeps serving; reopen, stop and removal tear everything down', async () => {
    const before = await snapshotHost();
    const net0 = snapshotNet();
    const roots = await makeTestRoots('lpts-netk-');
    try {
      const rootfs = (await makeBusyboxRootfs({ parent: roots.dir })).path;
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'net-child.ts'), roots.root, roots.runRoot, rootfs, '10.89.218.0/24', 'lpts218'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(buf.split('\n')[0] as string);
        });
        child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      const { id, port } = JSON.parse(line) as { id: string; port: number };
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.equal(await getEventually('127.0.0.1', port), 'alive\n');
      // The reservation lives in conmon, not in the dead Node process.
      assert.equal(await tryListen('127.0.0.1', port), 'EADDRINUSE');
      const rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
      try {
        const c = await must(rt.lookupContainer(id));
        assert.equal(await must(c.state()), 'running');
        await must(c.stop({ timeout: 0 }));
        assert.equal(await get('127.0.0.1', port), undefined);
        assert.equal(await tryListen('127.0.0.1', port), '');
        await must(rt.removeContainer(c));
        await must(rt.removeNetwork('crash'));
      } finally {
        await rt.close();
      }
      await assertNoLeaks(before, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
      await assertNoNetLeaks(net0, { roots: [roots.dir], subnets: ['10.89.218.0/24'], bridges: ['lpts218'], ports: [port] });
    } finally {
      await roots.cleanup();
    }
  });
});
