/**
 * ConmonOciRuntime against real conmon + runc and a busybox rootfs (root only).
 * Every test deletes the containers it made; the last test asserts that no
 * conmon/runc process and no runc container of this file is left.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Result, ResultAsync } from 'neverthrow';
import type { ErrorCode, LibpodError } from '../../src/define/errors.js';
import { runCommand } from '../../src/host/command.js';
import { ConmonOciRuntime } from '../../src/oci/conmon/conmon-oci-runtime.js';
import type { OciCreateResult } from '../../src/oci/oci-runtime.js';
import type { OciProcess } from '../../src/oci/oci-spec-types.js';
import { makeBusyboxRootfs, type BusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { writeMinimalSpec, type MinimalSpecOptions } from '../fixtures/minimal-spec.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const isRoot = process.getuid?.() === 0;

async function ok<T>(r: ResultAsync<T, LibpodError> | Promise<Result<T, LibpodError>>): Promise<T> {
  const res = await r;
  if (res.isErr()) assert.fail(`expected Ok, got ${res.error.code}: ${res.error.message}`);
  return res.value;
}

async function fails(r: ResultAsync<unknown, LibpodError> | Promise<Result<unknown, LibpodError>>, code: ErrorCode): Promise<LibpodError> {
  const res = await r;
  if (res.isOk()) assert.fail(`expected Err(${code}), got Ok`);
  assert.equal(res.error.code, code, res.error.message);
  return res.error;
}

/** Collects what a Writable receives. */
function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Pids of live conmon processes whose command line names container `id`. */
async function conmonsOf(id: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const zombie = / Z /.test(stat.slice(stat.lastIndexOf(')')));
    const argv = cmdline.split('\0');
    if (!zombie && basename(argv[0] ?? '') === 'conmon' && argv.includes(id)) pids.push(Number(name));
  }
  return pids;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('ConmonOciRuntime (conmon + runc)', { skip: isRoot ? false : 'needs root' }, () => {
  let roots: TestRoots;
  let rootfs: BusyboxRootfs;
  let oci: ConmonOciRuntime;
  let runtimeRoot: string;
  let snapshot: HostSnapshot;

  before(async () => {
    roots = await makeTestRoots('lpts-conmon-');
    runtimeRoot = join(roots.runRoot, 'runc');
    snapshot = await snapshotHost({ runcRoots: [runtimeRoot] });
    rootfs = await makeBusyboxRootfs({ parent: roots.dir });
    oci = new ConmonOciRuntime();
    await ok(oci.open({ root: roots.root, runRoot: roots.runRoot }));
  });

  after(async () => {
    await oci?.close();
    await roots?.cleanup();
  });

  /** Creates a container with a fresh id and bundle; deletes it when the test ends. */
  async function create(t: TestContext, spec: Omit<MinimalSpecOptions, 'rootfs'>, runtime = oci): Promise<{ id: string; bundle: string } & OciCreateResult> {
    const id = `t${randomBytes(8).toString('hex')}`;
    const bundle = join(roots.root, 'containers', id, 'userdata');
    await mkdir(bundle, { recursive: true });
    const s = await writeMinimalSpec(bundle, { rootfs: rootfs.path, ...spec });
    t.after(async () => {
      await runtime.delete(id);
      await runCommand('runc', ['--root', runtimeRoot, 'delete', '--force', id]);
    });
    const created = await ok(runtime.create({ id, name: id, bundlePath: bundle, spec: s, logPath: join(bundle, 'ctr.log') }));
    return { id, bundle, ...created };
  }

  it('creates, starts and reports the exit code of `sh -c "exit 7"`', async (t) => {
    const exits: string[] = [];
    const unsubscribe = oci.watchExits((id) => exits.push(id));
    t.after(unsubscribe);
    const c = await create(t, { args: ['sh', '-c', 'exit 7'] });
    assert.ok(c.pid > 0 && c.monitorPid > 0);
    assert.equal((await ok(oci.status(c.id))).status, 'created');
    await ok(oci.start(c.id));
    const exit = await ok(oci.waitExit(c.id, 10_000));
    assert.equal(exit?.exitCode, 7);
    assert.equal(exit?.oomKilled, false);
    const st = await ok(oci.status(c.id));
    assert.equal(st.status, 'stopped');
    assert.equal(st.exit?.exitCode, 7);
    assert.equal((await ok(oci.exitStatus(c.id)))?.exitCode, 7);
    for (let i = 0; i < 20 && !exits.includes(c.id); i++) await sleep(50);
    assert.ok(exits.includes(c.id), 'watchExits listener was called');
    await ok(oci.delete(c.id));
    assert.equal((await ok(oci.status(c.id))).status, 'missing');
    assert.equal(await ok(oci.exitStatus(c.id)), undefined);
  });

  it('stops a SIGTERM-ignoring sh (pid 1) with SIGKILL after the timeout: 137', async (t) => {
    const c = await create(t, { args: ['sh', '-c', 'while true; do sleep 1; done'] });
    await ok(oci.start(c.id));
    const started = Date.now();
    const exit = await ok(oci.stop(c.id, { signal: 15, timeout: 1, all: false }));
    assert.equal(exit.exitCode, 137);
    assert.ok(Date.now() - started >= 900, 'waited for the timeout before SIGKILL');
    assert.equal((await ok(oci.status(c.id))).status, 'stopped');
    // Stopping again resolves with the recorded exit.
    assert.equal((await ok(oci.stop(c.id, { signal: 15, timeout: 1, all: false }))).exitCode, 137);
  });

  it('kills with a signal; killing an exited container is an OCIRuntime error', async (t) => {
    const c = await create(t, { args: ['sleep', '100'] });
    await ok(oci.start(c.id));
    await ok(oci.kill(c.id, 0, false));
    await fails(oci.kill(c.id, -1, false), 'InvalidArg');
    await ok(oci.kill(c.id, 9, false));
    assert.equal((await ok(oci.waitExit(c.id, 10_000)))?.exitCode, 137);
    await fails(oci.kill(c.id, 15, false), 'OCIRuntime');
  });

  it('pauses and unpauses', async (t) => {
    const c = await create(t, { args: ['sleep', '100'] });
    await ok(oci.start(c.id));
    await ok(oci.pause(c.id));
    assert.equal((await ok(oci.status(c.id))).status, 'paused');
    await fails(oci.pause(c.id), 'OCIRuntime');
    await ok(oci.unpause(c.id));
    const st = await ok(oci.status(c.id));
    assert.equal(st.status, 'running');
    assert.ok(st.pid > 0);
    assert.equal((await ok(oci.stop(c.id, { signal: 9, timeout: 0, all: true }))).exitCode, 137);
  });

  it('attaches: reads output and writes stdin (`cat`), ending when the output ends', async (t) => {
    const c = await create(t, { args: ['cat'], stdin: true });
    const stdin = new PassThrough();
    const out = sink();
    const session = await ok(oci.attach(c.id, { bundlePath: c.bundle, streams: { stdin, stdout: out.stream }, terminal: false }));
    await ok(oci.start(c.id));
    stdin.write('hello through conmon\n');
    stdin.end();
    assert.equal(await ok(session.done), 'ended');
    assert.equal(out.text(), 'hello through conmon\n');
    assert.equal((await ok(oci.waitExit(c.id, 10_000)))?.exitCode, 0);
  });

  it('detaches on ctrl-p,ctrl-q and leaves the container running', async (t) => {
    const c = await create(t, { args: ['sh', '-c', 'while true; do echo tick; sleep 0.2; done'], stdin: true });
    await ok(oci.start(c.id));
    const stdin = new PassThrough();
    const out = sink();
    const session = await ok(oci.attach(c.id, { bundlePath: c.bundle, streams: { stdin, stdout: out.stream }, terminal: false }));
    for (let i = 0; i < 40 && !out.text().includes('tick'); i++) await sleep(50);
    stdin.write(Buffer.from([0x10, 0x11]));
    assert.equal(await ok(session.done), 'detached');
    assert.ok(out.text().includes('tick'));
    assert.equal((await ok(oci.status(c.id))).status, 'running');
    await fails(oci.attach(c.id, { bundlePath: c.bundle, streams: { stdout: out.stream }, terminal: false, detachKeys: 'ctrl-' }), 'InvalidArg');
    await ok(oci.stop(c.id, { signal: 9, timeout: 0, all: false }));
  });

  const proc = (args: string[], extra: Partial<OciProcess> = {}): OciProcess => ({
    args,
    cwd: '/',
    user: { uid: 0, gid: 0 },
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
    ...extra,
  });

  it('execs a process: output, exit code, session cleanup', async (t) => {
    const c = await create(t, { args: ['sleep', '100'] });
    await ok(oci.start(c.id));
    const out = sink();
    const err = sink();
    const stdin = new PassThrough();
    stdin.end('typed line\n');
    const session = await ok(
      oci.execute(c.id, {
        sessionId: 'sess1',
        bundlePath: c.bundle,
        process: proc(['sh', '-c', 'echo out; echo err >&2; read l; echo "got:$l"; exit 3']),
        streams: { stdout: out.stream, stderr: err.stream, stdin },
      }),
    );
    assert.ok(session.pid > 0);
    assert.equal(await ok(session.exited), 3);
    assert.equal(out.text(), 'out\ngot:typed line\n');
    assert.equal(err.text(), 'err\n');
    assert.equal(await ok(oci.execAlive(c.id, 'sess1')), false);
    // The session's files live in the volatile root, not in the bundle.
    const sessionDir = join(roots.runRoot, 'oci', c.id, 'exec', 'sess1');
    assert.equal(await exists(join(sessionDir, 'exit', c.id)), true);
    assert.equal(await exists(join(c.bundle, 'sess1')), false);
    await ok(oci.execCleanup(c.id, 'sess1', c.bundle));
    assert.equal(await exists(sessionDir), false);
    // Without streams the output is drained and discarded.
    const quiet = await ok(oci.execute(c.id, { sessionId: 'sess2', bundlePath: c.bundle, process: proc(['sh', '-c', 'seq 1 20000; exit 4']) }));
    assert.equal(await ok(quiet.exited), 4);
    await ok(oci.execCleanup(c.id, 'sess2', c.bundle));
    await ok(oci.stop(c.id, { signal: 9, timeout: 0, all: false }));
  });

  it('exec of a missing binary is OCIRuntimeNotFound and leaves no session dir', async (t) => {
    const c = await create(t, { args: ['sleep', '100'] });
    await ok(oci.start(c.id));
    await fails(oci.execute(c.id, { sessionId: 'nf1', bundlePath: c.bundle, process: proc(['/nonexistent']), streams: { stdout: sink().stream } }), 'OCIRuntimeNotFound');
    assert.equal(await exists(join(roots.runRoot, 'oci', c.id, 'exec', 'nf1')), false);
    const denied = await fails(oci.execute(c.id, { sessionId: 'pd1', bundlePath: c.bundle, process: proc(['/etc/passwd']) }), 'OCIRuntime');
    assert.match(denied.message, /permission denied/i);
    await ok(oci.stop(c.id, { signal: 9, timeout: 0, all: false }));
  });

  it('stops an exec session (SIGTERM) and reports it dead', async (t) => {
    const c = await create(t, { args: ['sleep', '100'] });
    await ok(oci.start(c.id));
    const session = await ok(oci.execute(c.id, { sessionId: 'long1', bundlePath: c.bundle, process: proc(['sleep', '100']) }));
    assert.equal(await ok(oci.execAlive(c.id, 'long1')), true);
    // A second instance on the same runRoot finds the session through its files.
    const other = new ConmonOciRuntime();
    await ok(other.open({ root: roots.root, runRoot: roots.runRoot }));
    t.after(() => other.close());
    assert.equal(await ok(other.execAlive(c.id, 'long1')), true);
    await ok(other.execStop(c.id, 'long1', 2));
    assert.equal(await ok(session.exited), 143);
    assert.equal(await ok(oci.execAlive(c.id, 'long1')), false);
    await ok(oci.execCleanup(c.id, 'long1', c.bundle));
    await ok(oci.stop(c.id, { signal: 9, timeout: 0, all: false }));
  });

  it('resizes a terminal (`stty size`), for the container and for an exec', async (t) => {
    const c = await create(t, { args: ['sh', '-c', 'read x; stty size; sleep 100'], terminal: true });
    const stdin = new PassThrough();
    const out = sink();
    const session = await ok(oci.attach(c.id, { bundlePath: c.bundle, streams: { stdin, stdout: out.stream }, terminal: true }));
    await ok(oci.start(c.id));
    await ok(oci.resize(c.id, c.bundle, { width: 120, height: 40 }));
    await sleep(300);
    stdin.write('go\r');
    for (let i = 0; i < 60 && !out.text().includes('40 120'); i++) await sleep(50);
    assert.match(out.text(), /40 120/);
    session.close();
    assert.equal(await ok(session.done), 'detached');
    await fails(oci.resize(c.id, c.bundle, { width: 0, height: 10 }), 'InvalidArg');

    const execOut = sink();
    const ex = await ok(
      oci.execute(c.id, { sessionId: 'tty1', bundlePath: c.bundle, process: proc(['stty', 'size'], { terminal: true }), size: { width: 99, height: 24 }, streams: { stdout: execOut.stream } }),
    );
    assert.equal(await ok(ex.exited), 0);
    assert.match(execOut.text(), /24 99/);
    await ok(oci.execCleanup(c.id, 'tty1', c.bundle));
    await ok(oci.stop(c.id, { signal: 9, timeout: 0, all: false }));
  });

  it('containers outlive the instance; a new instance reports their exit', async (t) => {
    const first = new ConmonOciRuntime();
    await ok(first.open({ root: roots.root, runRoot: roots.runRoot }));
    const c = await create(t, { args: ['sh', '-c', 'sleep 1; exit 5'] }, first);
    await ok(first.start(c.id));
    await ok(first.close());
    await fails(first.status(c.id), 'RuntimeFinalized');
    await sleep(1500);
    // With no instance open, conmon's exit command already deleted it from runc; the exit file stays.
    assert.equal(await exists(join(runtimeRoot, c.id)), false, 'conmon ran `runc delete` after the exit');
    assert.equal(await exists(join(roots.runRoot, 'exits', c.id)), true);
    const second = new ConmonOciRuntime();
    await ok(second.open({ root: roots.root, runRoot: roots.runRoot }));
    t.after(() => second.close());
    const st = await ok(second.status(c.id));
    assert.equal(st.status, 'stopped');
    assert.equal(st.exit?.exitCode, 5);
    assert.equal(st.exit?.oomKilled, false);
    await ok(second.delete(c.id));
    assert.equal(await exists(join(roots.runRoot, 'exits', c.id)), false);
    assert.equal(await exists(join(roots.runRoot, 'oci', c.id)), false);
  });

  it('after delete of a running container, its old conmon leaves a new container of the same id alone', async (t) => {
    // A runc whose `delete` is slow: conmon's exit command would still be pending when the id is reused.
    const slowRunc = join(roots.dir, 'slow-delete-runc');
    await writeFile(slowRunc, '#!/bin/sh\ncase " $* " in *" delete "*) sleep 0.4 ;; esac\nexec runc "$@"\n', { mode: 0o755 });
    const slow = new ConmonOciRuntime({ runtimePath: slowRunc });
    await ok(slow.open({ root: roots.root, runRoot: roots.runRoot }));
    const c = await create(t, { args: ['sleep', '100'] }, slow);
    t.after(() => slow.close()); // after create's own cleanup, which deletes through `slow`
    await ok(slow.start(c.id));
    // Kills it; conmon then records the exit and runs its exit command (`runc delete`, which must find nothing).
    await ok(slow.delete(c.id));
    assert.equal((await ok(slow.status(c.id))).status, 'missing');
    const spec = await writeMinimalSpec(c.bundle, { rootfs: rootfs.path, args: ['sleep', '100'] });
    await ok(slow.create({ id: c.id, name: c.id, bundlePath: c.bundle, spec, logPath: join(c.bundle, 'ctr.log') }));
    await ok(slow.start(c.id));
    await sleep(600);
    assert.equal((await ok(slow.status(c.id))).status, 'running', 'the first conmon must not have deleted the second container');
  });

  it('a container that exits and is deleted before `runc start` returns has started (exit command race)', async (t) => {
    // A runc whose `start` loses the race as it does under load: the container runs, exits, conmon's exit
    // command deletes it, and only then does start fail on removing its exec.fifo.
    const lateRunc = join(roots.dir, 'late-start-runc');
    await writeFile(
      lateRunc,
      '#!/bin/sh\ncase " $* " in *" start "*) runc "$@" || exit $?; for id; do :; done; i=0;' +
        ` while [ ! -e '${join(roots.runRoot, 'exits')}'/"$id" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done;` +
        ' echo "remove exec.fifo: no such file or directory" >&2; exit 1 ;; esac\nexec runc "$@"\n',
      { mode: 0o755 },
    );
    const late = new ConmonOciRuntime({ runtimePath: lateRunc });
    await ok(late.open({ root: roots.root, runRoot: roots.runRoot }));
    const c = await create(t, { args: ['sh', '-c', 'exit 7'] }, late);
    t.after(() => late.close());
    await ok(late.start(c.id));
    assert.equal((await ok(late.waitExit(c.id, 10_000)))?.exitCode, 7);
    // Without an exit file the same failure is still an error: a container that never ran has not started.
    const d = await create(t, { args: ['sleep', '100'] }, late);
    await ok(late.delete(d.id));
    await fails(late.start(d.id), 'OCIRuntime');
  });

  it('a failed create is an error and leaves no runc container', async (t) => {
    const id = `t${randomBytes(8).toString('hex')}`;
    const bundle = join(roots.root, 'containers', id, 'userdata');
    await mkdir(bundle, { recursive: true });
    const spec = await writeMinimalSpec(bundle, { rootfs: rootfs.path, args: ['/nonexistent'] });
    t.after(() => oci.delete(id));
    await fails(oci.create({ id, name: id, bundlePath: bundle, spec, logPath: join(bundle, 'ctr.log') }), 'OCIRuntimeNotFound');
    assert.equal((await ok(oci.status(id))).status, 'missing');
    // Its conmon is gone (it ran its exit command before) and so are its runtime files.
    assert.deepEqual(await conmonsOf(id), []);
    assert.equal(await exists(join(roots.runRoot, 'oci', id)), false);
    await fails(oci.create({ id: 'bad.id', name: 'x', bundlePath: bundle, spec, logPath: join(bundle, 'ctr.log') }), 'InvalidArg');
  });

  it('when the runtime files cannot be prepared, create fails and kills the conmon it started', async (t) => {
    const id = `t${randomBytes(8).toString('hex')}`;
    const bundle = join(roots.root, 'containers', id, 'userdata');
    await mkdir(bundle, { recursive: true });
    const spec = await writeMinimalSpec(bundle, { rootfs: rootfs.path, args: ['true'] });
    // A leftover conmon file that cannot be removed (immutable: even root gets EPERM).
    const stuck = join(bundle, 'attach');
    await writeFile(stuck, '');
    await runCommand('chattr', ['+i', stuck]);
    t.after(async () => {
      await runCommand('chattr', ['-i', stuck]);
      await oci.delete(id);
    });
    const before = await conmonsOf(id);
    await fails(oci.create({ id, name: id, bundlePath: bundle, spec, logPath: join(bundle, 'ctr.log') }), 'Internal');
    await sleep(100);
    assert.deepEqual(await conmonsOf(id), before, 'no conmon of this container is left');
    assert.equal((await ok(oci.status(id))).status, 'missing');
  });

  it('a missing binary is OCIRuntimeNotFound', async () => {
    const env = { root: roots.root, runRoot: roots.runRoot };
    await fails(new ConmonOciRuntime({ conmonPath: '/nonexistent/conmon' }).open(env), 'OCIRuntimeNotFound');
    await fails(new ConmonOciRuntime({ runtimePath: '/nonexistent/runc' }).open(env), 'OCIRuntimeNotFound');
    if (!(await exists('/usr/bin/crun')) && !(await exists('/usr/sbin/crun'))) {
      await fails(new ConmonOciRuntime({ runtime: 'crun' }).open(env), 'OCIRuntimeNotFound');
    }
  });

  it('checkpoint is NotImplemented where `criu check` fails', async () => {
    const check = await oci.features.checkpoint();
    if (check.isOk()) return; // a host with a working CRIU
    assert.equal(check.error.code, 'NotImplemented');
    assert.equal((await oci.features.checkpoint()).isErr(), true);
  });

  it('leaves no conmon or runc process and no runc container behind', async () => {
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [runtimeRoot], graceMs: 10_000 });
    const listed = await runCommand('runc', ['--root', runtimeRoot, 'list', '-q']);
    assert.equal(listed.isOk() ? listed.value.stdout.trim() : '', '');
    assert.deepEqual(await readdir(join(roots.runRoot, 'exits')), []);
  });
});
