import assert from 'node:assert/strict';
import { collect } from '../support/streams.js';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { libpodError } from '../../src/define/errors.js';
import { parseK8sRecord } from '../../src/oci/k8s-file-log.js';
import { DetachMatcher, parseDetachKeys } from '../../src/oci/detach-keys.js';
import { FAKE_CHECKPOINT_FILE } from '../../src/oci/fake/fake-checkpoint.js';
import { FakeOciRuntime } from '../../src/oci/fake/fake-oci-runtime.js';
import type { OciCreateRequest, OciExecRequest } from '../../src/oci/oci-runtime.js';
import { expectErr, expectOk } from '../../src/testing/conformance-helpers.js';

let dir: string;
let fake: FakeOciRuntime;
let n = 0;

function request(opts: { terminal?: boolean } = {}): OciCreateRequest {
  n += 1;
  const id = n.toString(16).padStart(64, '0');
  return {
    id,
    name: `c${n}`,
    bundlePath: join(dir, id),
    spec: { ociVersion: '1.0.2', process: { args: ['sleep', '100'], cwd: '/', user: { uid: 0, gid: 0 }, terminal: opts.terminal ?? false } },
    logPath: join(dir, `${id}.log`),
  };
}

async function running(opts: { terminal?: boolean } = {}): Promise<string> {
  const req = request(opts);
  await expectOk(fake.create(req));
  await expectOk(fake.start(req.id));
  return req.id;
}

function execReq(args: string[], extra: Partial<OciExecRequest> = {}): OciExecRequest {
  n += 1;
  return { sessionId: `s${n}`, bundlePath: dir, process: { args, cwd: '/', user: { uid: 0, gid: 0 } }, ...extra };
}


const tick = () => new Promise((r) => setImmediate(r));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-ts-fake-unit-'));
  fake = new FakeOciRuntime();
  await expectOk(fake.open({ root: join(dir, 'root'), runRoot: join(dir, 'run') }));
});

afterEach(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

describe('FakeOciRuntime: basics', () => {
  it('has a configurable name, records the environment, gives deterministic pids', async () => {
    assert.equal(fake.name, 'fake');
    assert.equal(new FakeOciRuntime({ name: 'mine' }).name, 'mine');
    assert.equal(fake.environment?.root, join(dir, 'root'));
    const a = await expectOk(fake.create(request()));
    const b = await expectOk(fake.create(request()));
    assert.deepEqual(a, { pid: 10001, monitorPid: 20001 });
    assert.deepEqual(b, { pid: 10002, monitorPid: 20002 });
    assert.equal(fake.containers().length, 2);
  });

  it('creates the log file, keeps a copy of the spec, and reports states', async () => {
    const req = request();
    await expectOk(fake.create(req));
    assert.ok(existsSync(req.logPath));
    const spec = fake.specOf(req.id);
    assert.deepEqual(spec, req.spec);
    assert.notEqual(spec, req.spec);
    assert.equal(fake.stateOf(req.id), 'created');
    assert.equal(fake.stateOf('nope'), undefined);
    await expectErr(fake.create({ ...request(), id: '' }), 'InvalidArg');
  });

  it('exit() ends a live process and notifies watchers asynchronously', async () => {
    const id = await running();
    const heard: string[] = [];
    fake.watchExits((x) => heard.push(x));
    assert.ok(fake.exit(id, 4).isOk());
    assert.equal(fake.stateOf(id), 'stopped');
    assert.deepEqual(heard, [], 'not synchronously');
    await tick();
    assert.deepEqual(heard, [id]);
    assert.equal((await expectOk(fake.exitStatus(id)))?.exitCode, 4);
    assert.equal(fake.exit(id, 1)._unsafeUnwrapErr().code, 'CtrStateInvalid');
    assert.equal(fake.exit('nope', 1)._unsafeUnwrapErr().code, 'NoSuchCtr');
    assert.equal(fake.exit(await running(), 256)._unsafeUnwrapErr().code, 'InvalidArg');
  });

  it('oom() ends it with 137 and oomKilled', async () => {
    const id = await running();
    assert.ok(fake.oom(id).isOk());
    assert.deepEqual({ ...(await expectOk(fake.exitStatus(id))), finishedAt: null }, { exitCode: 137, oomKilled: true, finishedAt: null });
  });

  it('never throws: bad arguments come back as Errs', async () => {
    await expectErr(fake.stop('x', undefined as never), 'Internal');
    await expectErr(fake.kill('x', 'TERM' as never, false), 'InvalidArg');
    await expectErr(fake.create(undefined as never), 'InvalidArg');
    await expectErr(fake.start('missing'), 'OCIRuntime');
  });
});

describe('FakeOciRuntime: signals', () => {
  it('ignored signals are recorded but leave it running; SIGKILL cannot be ignored', async () => {
    const id = await running();
    assert.ok(fake.ignoreSignals(id, ['SIGTERM', 'usr1', 9]).isOk());
    await expectOk(fake.kill(id, 15, false));
    await expectOk(fake.kill(id, 10, false));
    await expectOk(fake.kill(id, 28, false)); // SIGWINCH never terminates
    await expectOk(fake.kill(id, 0, false));
    assert.equal(fake.stateOf(id), 'running');
    await expectOk(fake.kill(id, 9, false));
    assert.equal((await expectOk(fake.exitStatus(id)))?.exitCode, 137);
    assert.deepEqual(fake.signalsOf(id), [15, 10, 28, 9]);
    assert.equal(fake.ignoreSignals(id, ['SIGNOPE'])._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal(fake.ignoreSignals('nope', [])._unsafeUnwrapErr().code, 'NoSuchCtr');
  });

  it('kill ends a paused or created container with 128+signal', async () => {
    const paused = await running();
    await expectOk(fake.pause(paused));
    await expectOk(fake.kill(paused, 2, false));
    assert.equal((await expectOk(fake.exitStatus(paused)))?.exitCode, 130);
    const req = request();
    await expectOk(fake.create(req));
    await expectOk(fake.kill(req.id, 15, false));
    assert.equal(fake.stateOf(req.id), 'stopped');
  });

  it('an exit while stop waits for its timeout ends the stop with that exit', async () => {
    const id = await running();
    fake.ignoreSignals(id, ['SIGTERM']);
    const stopping = fake.stop(id, { signal: 15, timeout: 30, all: false });
    await tick();
    fake.exit(id, 5);
    assert.equal((await expectOk(stopping)).exitCode, 5);
  });
});

describe('FakeOciRuntime: close and delete', () => {
  it('close() ends pending waits (stop escalates), detaches sessions, drops watchers, keeps containers', async () => {
    const stubborn = await running();
    fake.ignoreSignals(stubborn, ['SIGTERM']);
    const other = await running();
    const heard: string[] = [];
    fake.watchExits((x) => heard.push(x));
    const stopping = fake.stop(stubborn, { signal: 15, timeout: 60, all: false });
    const waiting = fake.waitExit(other, 60_000);
    const session = await expectOk(fake.attach(other, { bundlePath: dir, streams: {}, terminal: false }));
    await tick();
    const t0 = Date.now();
    await expectOk(fake.close());
    assert.equal((await expectOk(stopping)).exitCode, 137);
    assert.equal(await expectOk(waiting), undefined);
    assert.equal(await expectOk(session.done), 'detached');
    assert.ok(Date.now() - t0 < 1000);
    await tick();
    assert.deepEqual(heard, []);
    assert.deepEqual(fake.containers().sort(), [stubborn, other].sort());
    assert.equal(fake.stateOf(other), 'running');
  });

  it('delete kills a live process (137), then forgets it; waiters get the exit', async () => {
    const id = await running();
    const waiting = fake.waitExit(id, 60_000);
    await expectOk(fake.delete(id));
    assert.equal((await expectOk(waiting))?.exitCode, 137);
    assert.equal(fake.stateOf(id), undefined);
    assert.deepEqual(fake.signalsOf(id), []);
    assert.equal((await expectOk(fake.status(id))).status, 'missing');
  });
});

describe('FakeOciRuntime: output, attach and stdin', () => {
  it('emit() writes k8s-file records and attached streams; a terminal has only stdout', async () => {
    const req = request();
    await expectOk(fake.create(req));
    assert.equal(fake.emit(req.id, 'stdout', 'x')._unsafeUnwrapErr().code, 'CtrStateInvalid');
    const out = collect();
    const err = collect();
    await expectOk(fake.attach(req.id, { bundlePath: dir, streams: { stdout: out.stream, stderr: err.stream }, terminal: false }));
    await expectOk(fake.start(req.id));
    assert.ok(fake.emit(req.id, 'stdout', 'one\ntwo').isOk());
    assert.ok(fake.emit(req.id, 'stderr', 'oops\n').isOk());
    await tick();
    assert.equal(out.text(), 'one\ntwo');
    assert.equal(err.text(), 'oops\n');
    const records = (await readFile(req.logPath, 'utf8')).trim().split('\n').map(parseK8sRecord);
    assert.deepEqual(records.map((r) => [r?.stream, r?.partial, r?.text]), [['stdout', false, 'one'], ['stdout', true, 'two'], ['stderr', false, 'oops']]);

    const tty = await running({ terminal: true });
    const ttyOut = collect();
    await expectOk(fake.attach(tty, { bundlePath: dir, streams: { stdout: ttyOut.stream }, terminal: true }));
    fake.emit(tty, 'stderr', 'err\n');
    await tick();
    assert.equal(ttyOut.text(), 'err\n');
  });

  it('stdin is recorded and handed to onStdin; detach keys are removed; partial sequences pass through', async () => {
    const id = await running();
    const got: (string | null)[] = [];
    fake.onStdin((cid, data) => {
      assert.equal(cid, id);
      got.push(data);
    });
    const stdin = new PassThrough();
    const session = await expectOk(fake.attach(id, { bundlePath: dir, streams: { stdin }, detachKeys: 'ctrl-x,y', terminal: false }));
    stdin.write('a\x18b');
    stdin.write('c\x18');
    stdin.write('yIGNORED');
    assert.equal(await expectOk(session.done), 'detached');
    assert.equal(fake.stdinOf(id), 'a\x18bc');
    assert.deepEqual(got, ['a\x18b', 'c']);

    const again = new PassThrough();
    const second = await expectOk(fake.attach(id, { bundlePath: dir, streams: { stdin: again }, detachKeys: '', terminal: false }));
    again.end('\x10\x11');
    await tick();
    assert.equal(fake.stdinOf(id), 'a\x18bc\x10\x11', "'' disables detaching");
    assert.deepEqual(got.slice(-1), [null]);
    // Stdin only, and it ended: the attach is over, as with conmon and libpod.
    assert.equal(await expectOk(second.done), 'ended');
  });

  it('attach sessions end when the container exits; bad keys and dead containers fail', async () => {
    const id = await running();
    await expectErr(fake.attach(id, { bundlePath: dir, streams: {}, detachKeys: 'ctrl-', terminal: false }), 'InvalidArg');
    const session = await expectOk(fake.attach(id, { bundlePath: dir, streams: {}, terminal: false }));
    fake.exit(id, 0);
    assert.equal(await expectOk(session.done), 'ended');
    await expectErr(fake.attach(id, { bundlePath: dir, streams: {}, terminal: false }), 'OCIRuntime');
  });

  it('resize records the size', async () => {
    const id = await running({ terminal: true });
    await expectOk(fake.resize(id, dir, { width: 80, height: 24 }));
    assert.deepEqual(fake.sizeOf(id), { width: 80, height: 24 });
    await expectErr(fake.resize('nope', dir, { width: 1, height: 1 }), 'OCIRuntime');
  });

  it('parses detach keys as podman does', () => {
    assert.deepEqual(parseDetachKeys(undefined)._unsafeUnwrap(), [16, 17]);
    assert.deepEqual(parseDetachKeys('ctrl-a,X,ctrl-@,ctrl-[,ctrl-_')._unsafeUnwrap(), [1, 88, 0, 27, 31]);
    assert.deepEqual(parseDetachKeys('')._unsafeUnwrap(), []);
    assert.equal(parseDetachKeys('ctrl-1')._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal(parseDetachKeys('ab')._unsafeUnwrapErr().code, 'InvalidArg');
    const m = new DetachMatcher([16, 16, 17]);
    assert.deepEqual(m.feed(Buffer.from([1, 16])), { data: Buffer.from([1]), detached: false });
    assert.deepEqual(m.feed(Buffer.from([16, 16, 17, 5])), { data: Buffer.from([16]), detached: true });
  });
});

describe('FakeOciRuntime: start scripts', () => {
  it('onStart scripts output, exit and ignored signals, after start resolved', async () => {
    fake.onStart((req) => (req.args[0] === 'sleep' ? { stdout: 'up\n', ignoreSignals: ['TERM'] } : 3));
    const id = await running();
    assert.equal(fake.stateOf(id), 'running');
    await fake.kill(id, 15, false);
    assert.equal(fake.stateOf(id), 'running');
    const req = { ...request(), spec: { ociVersion: '1.0.2', process: { args: ['false'], cwd: '/', user: { uid: 0, gid: 0 } } } };
    await expectOk(fake.create(req));
    await expectOk(fake.start(req.id));
    assert.equal(fake.stateOf(req.id), 'running');
    assert.equal((await expectOk(fake.waitExit(req.id, 5000)))?.exitCode, 3);
    assert.match(await readFile(join(dir, `${id}.log`), 'utf8'), /stdout F up/);
  });

  it('a failing start handler fails start with OCIRuntime and leaves it created', async () => {
    fake.onStart(() => {
      throw new Error('boom');
    });
    const req = request();
    await expectOk(fake.create(req));
    await expectErr(fake.start(req.id), 'OCIRuntime');
    assert.equal(fake.stateOf(req.id), 'created');
  });
});

describe('FakeOciRuntime: exec', () => {
  it('the default handler exits 0; handlers see the process; tty sends stderr to stdout', async () => {
    const id = await running();
    assert.equal(await expectOk((await expectOk(fake.execute(id, execReq(['true'])))).exited), 0);
    let seen: unknown;
    fake.onExec((req) => {
      seen = req;
      return { stdout: 'o', stderr: 'e', exitCode: 2 };
    });
    const out = collect();
    const r = execReq(['x'], { streams: { stdout: out.stream } });
    r.process = { ...r.process, terminal: true, env: ['A=1'] };
    const s = await expectOk(fake.execute(id, r));
    assert.equal(await expectOk(s.exited), 2);
    assert.equal(out.text(), 'oe');
    assert.deepEqual(seen, { id, sessionId: r.sessionId, args: ['x'], env: ['A=1'], cwd: '/', user: { uid: 0, gid: 0 }, tty: true });
    assert.deepEqual(fake.execSessionsOf(id).find((e) => e.sessionId === r.sessionId), { sessionId: r.sessionId, args: ['x'], pid: s.pid, alive: false, exitCode: 2 });
    await expectOk(fake.execCleanup(id, r.sessionId, dir));
    assert.equal(fake.execSessionsOf(id).some((e) => e.sessionId === r.sessionId), false);
  });

  it('start failures: not-found, permission-denied, a throwing handler, a paused container', async () => {
    const id = await running();
    fake.onExec((req) => (req.args[0] === 'a' ? { error: 'not-found' } : { error: 'permission-denied' }));
    await expectErr(fake.execute(id, execReq(['a'])), 'OCIRuntimeNotFound');
    const denied = await expectErr(fake.execute(id, execReq(['b'])), 'OCIRuntime');
    assert.match(denied.message, /permission denied/);
    fake.onExec(() => Promise.reject(new Error('nope')));
    await expectErr(fake.execute(id, execReq(['c'])), 'OCIRuntime');
    fake.onExec(undefined);
    await expectOk(fake.pause(id));
    await expectErr(fake.execute(id, execReq(['d'])), 'OCIRuntime');
  });

  it('hanging sessions run until exitExec, execStop or the container exit', async () => {
    const id = await running();
    fake.onExec((req) => ({ hang: true, ignoreSigterm: req.args[0] === 'stubborn' }));
    const a = execReq(['a']);
    const sa = await expectOk(fake.execute(id, a));
    assert.equal(await expectOk(fake.execAlive(id, a.sessionId)), true);
    assert.ok(fake.exitExec(id, a.sessionId, 9).isOk());
    assert.equal(await expectOk(sa.exited), 9);
    assert.equal(fake.exitExec(id, a.sessionId, 1)._unsafeUnwrapErr().code, 'CtrStateInvalid');

    const b = execReq(['b']);
    const sb = await expectOk(fake.execute(id, b));
    await expectOk(fake.execResize(id, b.sessionId, dir, { width: 10, height: 5 }));
    await expectOk(fake.execStop(id, b.sessionId, 10));
    assert.equal(await expectOk(sb.exited), 143);

    const c = execReq(['stubborn']);
    const sc = await expectOk(fake.execute(id, c));
    const t0 = Date.now();
    await expectOk(fake.execStop(id, c.sessionId, 1));
    assert.ok(Date.now() - t0 >= 950);
    assert.equal(await expectOk(sc.exited), 137);

    const d = execReq(['d']);
    const sd = await expectOk(fake.execute(id, d));
    fake.exit(id, 0);
    assert.equal(await expectOk(sd.exited), 137);
    await expectErr(fake.execResize(id, 'nope', dir, { width: 1, height: 1 }), 'NoSuchExecSession');
  });
});

describe('FakeOciRuntime: failures and checkpoint', () => {
  it('failNext fails the next calls of one operation only, with the given or a default error', async () => {
    fake.failNext('create');
    fake.failNext('create', libpodError('NoCgroups', 'custom'));
    await expectErr(fake.create(request()), 'OCIRuntime');
    await expectErr(fake.create(request()), 'NoCgroups');
    const id = await running();
    fake.failNext('status');
    await expectErr(fake.status(id), 'OCIRuntime');
    assert.equal((await expectOk(fake.status(id))).status, 'running');
  });

  it('failNext takes the engine verbs as aliases and refuses unknown operations', async () => {
    assert.ok(fake.failNext('init').isOk());
    await expectErr(fake.create(request()), 'OCIRuntime');
    assert.ok(fake.failNext('exec').isOk());
    assert.equal((fake.failNext('bogus' as never) as ReturnType<typeof fake.failNext>).isErr(), true);
  });

  it('checkpoint writes an image and ends the process with 0; restore is create+start', async () => {
    fake.onStart(() => ({ ignoreSignals: ['SIGUSR1'] }));
    const id = await running();
    const imagePath = join(dir, 'ckpt');
    await expectOk(fake.checkpoint(id, { bundlePath: dir, imagePath, leaveRunning: true, tcpEstablished: false }));
    assert.equal(fake.stateOf(id), 'running');
    const image = JSON.parse(await readFile(join(imagePath, FAKE_CHECKPOINT_FILE), 'utf8')) as { id: string; ignoredSignals: number[] };
    assert.equal(image.id, id);
    assert.deepEqual(image.ignoredSignals, [10]);
    await expectOk(fake.checkpoint(id, { bundlePath: dir, imagePath, leaveRunning: false, tcpEstablished: false }));
    assert.equal((await expectOk(fake.exitStatus(id)))?.exitCode, 0);
    await expectOk(fake.delete(id));

    let starts = 0;
    fake.onStart(() => void (starts += 1));
    const req = { ...request(), id };
    await expectOk(fake.create({ ...req, restoreFrom: imagePath }));
    assert.equal(fake.stateOf(id), 'created');
    await expectOk(fake.start(id));
    assert.equal(fake.stateOf(id), 'running');
    assert.equal(fake.restoredFrom(id), imagePath);
    assert.equal(starts, 0, 'a restored process carries on; no start script');
    await fake.kill(id, 10, false);
    assert.equal(fake.stateOf(id), 'running', 'ignored signals survive the checkpoint');
  });

  it('checkpoint needs a running container; restore needs an image', async () => {
    const req = request();
    await expectOk(fake.create(req));
    await expectErr(fake.checkpoint(req.id, { bundlePath: dir, imagePath: join(dir, 'x'), leaveRunning: false, tcpEstablished: false }), 'OCIRuntime');
    await mkdir(join(dir, 'empty'));
    await expectErr(fake.create({ ...request(), restoreFrom: join(dir, 'empty') }), 'OCIRuntime');
    await expectOk(fake.features.checkpoint());
  });
});
