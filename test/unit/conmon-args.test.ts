/**
 * conmon's argv (pure): the create tail, with and without an exit command.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConmonArgs, withExitHook, type CreateConmonArgs } from '../../src/oci/conmon/conmon-args.js';

const base: CreateConmonArgs = {
  id: 'c1',
  cuuid: 'c1',
  name: 'web',
  runtimePath: '/usr/sbin/runc',
  runtimeArgs: ['--root', '/run/x/runc'],
  bundlePath: '/var/lib/x/c1/userdata',
  pidFile: '/run/x/oci/c1/pidfile',
  exitDir: '/run/x/exits',
  logDriver: 'k8s-file:/var/lib/x/c1/userdata/ctr.log',
  logLevel: 'warning',
  ociLogPath: '/run/x/oci/c1/oci-log',
  terminal: false,
  stdin: false,
  conmonPidFile: '/run/x/oci/c1/conmon.pid',
};

describe('createConmonArgs', () => {
  it('passes the exit command as --exit-command and one --exit-command-arg per argument', () => {
    const args = createConmonArgs({ ...base, exitCommand: ['/usr/sbin/runc', '--root', '/run/x/runc', 'delete', '--force', 'c1'] });
    const at = args.indexOf('--exit-command');
    assert.ok(at > args.indexOf('--conmon-pidfile'), 'after the create flags, as libpod orders them');
    assert.deepEqual(args.slice(at), [
      '--exit-command', '/usr/sbin/runc',
      '--exit-command-arg', '--root',
      '--exit-command-arg', '/run/x/runc',
      '--exit-command-arg', 'delete',
      '--exit-command-arg', '--force',
      '--exit-command-arg', 'c1',
    ]);
  });

  it('passes no exit command when none (or an empty one) is given', () => {
    assert.equal(createConmonArgs(base).includes('--exit-command'), false);
    assert.equal(createConmonArgs({ ...base, exitCommand: [] }).includes('--exit-command'), false);
  });

  it('keeps -t / -i and --restore in place', () => {
    assert.ok(createConmonArgs({ ...base, terminal: true }).includes('-t'));
    const restored = createConmonArgs({ ...base, stdin: true, restoreFrom: '/ckpt' });
    assert.ok(restored.includes('-i'));
    assert.deepEqual(restored.slice(restored.indexOf('--restore'), restored.indexOf('--restore') + 2), ['--restore', '/ckpt']);
    assert.ok(!restored.includes('--runtime-opt'));
    const tcp = createConmonArgs({ ...base, restoreFrom: '/ckpt', restoreTcpEstablished: true });
    assert.deepEqual(tcp.slice(tcp.indexOf('--runtime-opt'), tcp.indexOf('--runtime-opt') + 2), ['--runtime-opt', '--tcp-established']);
  });
});

describe('withExitHook', () => {
  it('is the command itself without a hook', () => {
    assert.deepEqual(withExitHook(['/usr/sbin/runc', 'delete', 'c1'], undefined), ['/usr/sbin/runc', 'delete', 'c1']);
  });

  it('runs the command, then the hook in the background, every argument passed as is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'libpod-ts-hook-'));
    try {
      const odd = `it's "a" $HOME \`id\` ; * \n`;
      const cmd = withExitHook(['/bin/sh', '-c', 'printf %s "$1" > "$2"', 'sh', odd, join(dir, 'first')], ['/bin/sh', '-c', 'sleep 0.2; printf %s "$1" > "$2"', 'sh', odd, join(dir, 'hook')]);
      const started = Date.now();
      execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' });
      assert.equal(readFileSync(join(dir, 'first'), 'utf8'), odd, 'the command ran before the exit command returned');
      assert.equal(existsSync(join(dir, 'hook')), false, 'the hook is not waited for');
      while (!existsSync(join(dir, 'hook')) && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(readFileSync(join(dir, 'hook'), 'utf8'), odd);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
