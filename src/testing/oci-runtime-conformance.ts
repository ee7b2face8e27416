/**
 * The conformance suite every {@link OciRuntime} runs (shipped as
 * `libpod-ts/testing`): `FakeOciRuntime`, `ConmonOciRuntime` over real runc,
 * and third-party runtimes. The runtime is driven only through the
 * interface; a harness supplies create requests for a few process
 * behaviours, so the same cases run against a fake and against real
 * containers (busybox rootfs). Timeouts are short but leave room for real
 * processes.
 *
 * @example
 * ```ts
 * import { runOciRuntimeConformance } from 'libpod-ts/testing';
 * runOciRuntimeConformance('my-runtime', async () => makeMyHarness());
 * ```
 * @module
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { errAsync, ResultAsync } from 'neverthrow';
import { libpodError } from '../define/errors.js';
import type { OciCreateRequest, OciExecRequest, OciRuntime, OciRuntimeEnvironment } from '../oci/oci-runtime.js';
import type { OciProcess } from '../oci/oci-spec-types.js';
import { parseK8sRecord } from '../oci/k8s-file-log.js';
import { expectErr, expectOk } from './conformance-helpers.js';

/**
 * What the main process of a conformance container does:
 * - `sleep`: runs until signalled; MUST end on SIGTERM (exit 143) and SIGKILL (137).
 * - `exit-7`: exits on its own, promptly, with code 7.
 * - `ignore-sigterm`: runs until SIGKILL; ignores SIGTERM.
 * - `print-hello`: writes `hello\n` to stdout, then exits with 0.
 */
export type OciConformanceBehaviour = 'sleep' | 'exit-7' | 'ignore-sigterm' | 'print-hello';

/** Commands with those behaviours for a busybox rootfs (`sh` as PID 1 ignores untrapped SIGTERM, hence the traps). */
export const OCI_CONFORMANCE_ARGS: Readonly<Record<OciConformanceBehaviour, readonly string[]>> = {
  sleep: ['sh', '-c', 'trap "exit 143" TERM; sleep 1000 & wait'],
  'exit-7': ['sh', '-c', 'exit 7'],
  'ignore-sigterm': ['sh', '-c', 'trap "" TERM; sleep 1000 & wait'],
  'print-hello': ['echo', 'hello'],
};

/** What a conformance case needs from the runtime under test. A fresh harness is made per case. */
export interface OciConformanceHarness {
  /** The runtime under test, not yet opened (the suite opens and closes it). */
  runtime: OciRuntime;
  /** Paths to open it with (fresh temp directories). */
  env: OciRuntimeEnvironment;
  /**
   * A create request for a new container (fresh 64-hex id, bundle with
   * `config.json` written, `logPath` in an existing directory) whose process
   * behaves as `behaviour` says. Its `spec.process` is also the template of
   * exec requests: the rootfs MUST provide `echo` and `sh` on its PATH.
   */
  request(behaviour: OciConformanceBehaviour): Promise<OciCreateRequest>;
  /**
   * Makes a running `sleep` container's process exit behind the runtime's
   * back (a fake: its scripting; a real runtime: a signal sent to the pid).
   * Resolves to the exit code the runtime should then report (`code`, or
   * 128+n when done with signal n).
   */
  exit(id: string, code: number): Promise<number>;
  /** Removes everything the harness made (after the suite deleted its containers). */
  cleanup(): Promise<void>;
}

/** Makes one harness per case. */
export type OciConformanceFactory = () => Promise<OciConformanceHarness>;

/** Generous upper bound for a real process to exit (ms). */
const EXIT_WAIT_MS = 10_000;

/** A case's view: the harness, plus `create` that tracks what to delete afterwards. */
interface CaseContext {
  h: OciConformanceHarness;
  rt: OciRuntime;
  /** Creates a container with `behaviour`; returns its request and create result pid. */
  create(behaviour: OciConformanceBehaviour): Promise<{ req: OciCreateRequest; pid: number }>;
  /** Creates and starts. */
  run(behaviour: OciConformanceBehaviour): Promise<OciCreateRequest>;
}

async function withRuntime(make: OciConformanceFactory, fn: (ctx: CaseContext) => Promise<void>): Promise<void> {
  const h = await make();
  const rt = h.runtime;
  const ids: string[] = [];
  const ctx: CaseContext = {
    h,
    rt,
    async create(behaviour) {
      const req = await h.request(behaviour);
      const created = await expectOk(rt.create(req));
      ids.push(req.id);
      return { req, pid: created.pid };
    },
    async run(behaviour) {
      const { req } = await ctx.create(behaviour);
      await expectOk(rt.start(req.id));
      return req;
    },
  };
  try {
    await expectOk(rt.open(h.env));
    await fn(ctx);
  } finally {
    for (const id of ids) await rt.delete(id);
    await rt.close();
    await h.cleanup();
  }
}

/** Waits for the exit, failing the case if it does not come. */
async function exitOf(rt: OciRuntime, id: string): Promise<number> {
  const exit = await expectOk(rt.waitExit(id, EXIT_WAIT_MS));
  assert.ok(exit, `container ${id} did not exit within ${EXIT_WAIT_MS}ms`);
  return exit.exitCode;
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString('utf8')));
  return { stream, text: () => text };
}

function execRequest(req: OciCreateRequest, args: string[], stdout?: PassThrough): OciExecRequest {
  const base: OciProcess = req.spec.process ?? { user: { uid: 0, gid: 0 }, args: [], cwd: '/', env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] };
  return {
    sessionId: randomBytes(32).toString('hex'),
    bundlePath: req.bundlePath,
    process: { ...base, args, terminal: false },
    ...(stdout ? { streams: { stdout } } : {}),
  };
}

function registerLifecycleCases(make: OciConformanceFactory): void {
  it('declares a name and its features', async () => {
    await withRuntime(make, async ({ rt }) => {
      assert.equal(typeof rt.name, 'string');
      assert.ok(rt.name.length > 0);
      assert.equal(typeof rt.features.checkpoint, 'function');
      assert.ok(rt.features.runsProcesses === undefined || typeof rt.features.runsProcesses === 'boolean');
    });
  });

  it('create gives a created container with a pid; start makes it running', async () => {
    await withRuntime(make, async ({ rt, create }) => {
      const { req, pid } = await create('sleep');
      assert.ok(pid > 0);
      const created = await expectOk(rt.status(req.id));
      assert.equal(created.status, 'created');
      assert.equal(created.pid, pid);
      assert.equal(await expectOk(rt.exitStatus(req.id)), undefined);
      await expectOk(rt.start(req.id));
      const running = await expectOk(rt.status(req.id));
      assert.equal(running.status, 'running');
      assert.ok(running.pid > 0);
      await expectErr(rt.start(req.id), 'OCIRuntime');
    });
  });

  it('create waits for bundleReady before the bundle is read; a failed one fails create and leaves nothing', async () => {
    await withRuntime(make, async ({ h, rt }) => {
      // The bundle is broken until bundleReady settles: a runtime reading it early fails.
      const req = await h.request('exit-7');
      const configJson = join(req.bundlePath, 'config.json');
      const good = await readFile(configJson, 'utf8');
      await writeFile(configJson, '{ not json');
      let ready = false;
      const bundleReady = ResultAsync.fromSafePromise(
        (async () => {
          await sleep(50);
          await writeFile(configJson, good);
          ready = true;
        })(),
      );
      const created = rt.create({ ...req, bundleReady });
      const result = await created;
      try {
        assert.ok(ready, 'create settled before bundleReady');
        assert.ok(result.isOk(), result.isErr() ? result.error.message : '');
        await expectOk(rt.start(req.id));
        assert.equal(await exitOf(rt, req.id), 7);
      } finally {
        await rt.delete(req.id);
      }

      const broken = await h.request('sleep');
      const refused = libpodError('Internal', 'writing runtime spec: disk full');
      const failed = await expectErr(rt.create({ ...broken, bundleReady: errAsync(refused) }), 'Internal');
      assert.equal(failed.message, refused.message);
      assert.equal((await expectOk(rt.status(broken.id))).status, 'missing');
      // The id is free: a create after the failed one works.
      try {
        await expectOk(rt.create(broken));
      } finally {
        await rt.delete(broken.id);
      }
    });
  });

  it('creating an id that exists fails with CtrExists', async () => {
    await withRuntime(make, async ({ rt, create }) => {
      const { req } = await create('sleep');
      await expectErr(rt.create(req), 'CtrExists');
    });
  });

  it('reports a process exit code through waitExit, exitStatus and status', async () => {
    await withRuntime(make, async ({ rt, run }) => {
      const req = await run('exit-7');
      const exit = await expectOk(rt.waitExit(req.id, EXIT_WAIT_MS));
      assert.equal(exit?.exitCode, 7);
      assert.equal(exit?.oomKilled, false);
      assert.ok(exit?.finishedAt instanceof Date);
      assert.equal((await expectOk(rt.exitStatus(req.id)))?.exitCode, 7);
      const status = await expectOk(rt.status(req.id));
      assert.equal(status.status, 'stopped');
      assert.equal(status.exit?.exitCode, 7);
      await expectErr(rt.start(req.id), 'OCIRuntime');
    });
  });

  it('waitExit on a running container times out with undefined', async () => {
    await withRuntime(make, async ({ rt, run }) => {
      const req = await run('sleep');
      assert.equal(await expectOk(rt.waitExit(req.id, 100)), undefined);
      assert.equal((await expectOk(rt.status(req.id))).status, 'running');
    });
  });
}

function registerSignalCases(make: OciConformanceFactory): void {
  it('kill SIGKILL ends the process with 137; killing it again fails', async () => {
    await withRuntime(make, async ({ rt, run }) => {
      const req = await run('sleep');
      await expectOk(rt.kill(req.id, 0, false));
      assert.equal((await expectOk(rt.status(req.id))).status, 'running', 'signal 0 only checks');
      await expectOk(rt.kill(req.id, 9, false));
      assert.equal(await exitOf(rt, req.id), 137);
      assert.equal((await expectOk(rt.status(req.id))).status, 'stopped');
      await expectErr(rt.kill(req.id, 9, false), 'OCIRuntime');
    });
  });

  it('stop sends the stop signal first (143)', async () => {
    await withRuntime(make, async ({ rt, run }) => {
      const req = await run('sleep');
      const exit = await expectOk(rt.stop(req.id, { signal: 15, timeout: 10, all: false }));
      assert.equal(exit.exitCode, 143);
      assert.equal((await expectOk(rt.status(req.id))).status, 'stopped');
    });
  });

  it('stop escalates to SIGKILL after the timeout when the stop signal is ignored', async () => {
    await withRuntime(make, async ({ rt, run }) => {
      const req = await run('ignore-sigterm');
      const t0 = Date.now();
      const exit = await expectOk(rt.stop(req.id, { signal: 15, timeout: 1, all: false }));
      assert.ok(Date.now() - t0 >= 950, `stop returned after ${Date.now() - t0}ms, before its 1s timeout`);
      assert.equal(exit.exitCode, 137);
      assert.equal((await expectOk(rt.exitStatus(req.id)))?.exitCode, 137);
    });
  });

  it('stop with timeout 0 kills at once; stop of an exited container gives its exit', async () => {
    await withRuntime(make, async ({ rt, run }) => {
      const req = await run('ignore-sigterm');
      const t0 = Date.now();
      assert.equal((await expectOk(rt.stop(req.id, { signal: 15, timeout: 0, all: false }))).exitCode, 137);
      assert.ok(Date.now() - t0 < 5000);
      const seven = await run('exit-7');
      await exitOf(rt, seven.id);
      assert.equal((await expectOk(rt.stop(seven.id, { signal: 15, timeout: 1, all: false }))).exitCode, 7);
    });
  });

  it('pause and unpause move between running and paused; wrong states fail', async () => {
    await withRuntime(make, async ({ rt, run }) => {
      const req = await run('sleep');
      await expectErr(rt.unpause(req.id), 'OCIRuntime');
      await expectOk(rt.pause(req.id));
      assert.equal((await expectOk(rt.status(req.id))).status, 'paused');
      await expectErr(rt.pause(req.id), 'OCIRuntime');
      await expectOk(rt.unpause(req.id));
      assert.equal((await expectOk(rt.status(req.id))).status, 'running');
    });
  });

  it('watchExits tells listeners about exits, including ones behind the runtime\'s back', async () => {
    await withRuntime(make, async ({ rt, run, h }) => {
      const seen: string[] = [];
      let wake = (): void => {};
      const unsubscribe = rt.watchExits((id) => {
        seen.push(id);
        wake();
      });
      const heard = (id: string) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no exit notification for ${id}`)), EXIT_WAIT_MS);
          wake = () => {
            if (!seen.includes(id)) return;
            clearTimeout(timer);
            resolve();
          };
          wake();
        });
      try {
        const seven = await run('exit-7');
        await heard(seven.id);
        const sleeper = await run('sleep');
        const expected = await h.exit(sleeper.id, 3);
        await heard(sleeper.id);
        assert.equal(await exitOf(rt, sleeper.id), expected);
      } finally {
        unsubscribe();
      }
    });
  });
}

function registerDeleteCases(make: OciConformanceFactory): void {
  it('delete removes an exited container and its exit record; deleting a missing one is fine', async () => {
    await withRuntime(make, async ({ rt, run, create }) => {
      const req = await run('exit-7');
      await exitOf(rt, req.id);
      await expectOk(rt.delete(req.id));
      const status = await expectOk(rt.status(req.id));
      assert.equal(status.status, 'missing');
      assert.equal(status.exit, undefined);
      assert.equal(await expectOk(rt.exitStatus(req.id)), undefined);
      await expectOk(rt.delete(req.id));
      await expectOk(rt.delete(randomBytes(32).toString('hex')));
      const { req: fresh } = await create('sleep');
      await expectOk(rt.delete(fresh.id));
      assert.equal((await expectOk(rt.status(fresh.id))).status, 'missing', 'a created container can be deleted');
    });
  });

  it('containers and exits outlive close() and open() of the same instance', async () => {
    await withRuntime(make, async ({ rt, run, h }) => {
      const seven = await run('exit-7');
      await exitOf(rt, seven.id);
      const sleeper = await run('sleep');
      await expectOk(rt.close());
      await expectOk(rt.open(h.env));
      const exited = await expectOk(rt.status(seven.id));
      assert.equal(exited.status, 'stopped');
      assert.equal(exited.exit?.exitCode, 7);
      assert.equal((await expectOk(rt.status(sleeper.id))).status, 'running');
      await expectOk(rt.kill(sleeper.id, 9, false));
      assert.equal(await exitOf(rt, sleeper.id), 137);
    });
  });
}

function registerIoCases(make: OciConformanceFactory): void {
  it('exec runs a process: exit code and output', async () => {
    await withRuntime(make, async ({ rt, run }) => {
      const req = await run('sleep');
      const out = collect();
      const echo = execRequest(req, ['echo', 'hi'], out.stream);
      const session = await expectOk(rt.execute(req.id, echo));
      assert.ok(session.pid > 0);
      assert.equal(await expectOk(session.exited), 0);
      assert.equal(out.text(), 'hi\n');
      assert.equal(await expectOk(rt.execAlive(req.id, echo.sessionId)), false);
      await expectOk(rt.execCleanup(req.id, echo.sessionId, req.bundlePath));
      const three = await expectOk(rt.execute(req.id, execRequest(req, ['sh', '-c', 'exit 3'])));
      assert.equal(await expectOk(three.exited), 3);
    });
  });

  it('exec of a command that does not exist is OCIRuntimeNotFound', async () => {
    await withRuntime(make, async ({ rt, run }) => {
      const req = await run('sleep');
      await expectErr(rt.execute(req.id, execRequest(req, ['/no/such/binary'])), 'OCIRuntimeNotFound');
      assert.equal((await expectOk(rt.status(req.id))).status, 'running');
    });
  });

  it('output reaches an attach session and the k8s-file log; the session ends with the process', async () => {
    await withRuntime(make, async ({ rt, create }) => {
      const { req } = await create('print-hello');
      const out = collect();
      const session = await expectOk(rt.attach(req.id, { bundlePath: req.bundlePath, streams: { stdout: out.stream }, terminal: false }));
      await expectOk(rt.start(req.id));
      assert.equal(await expectOk(session.done), 'ended');
      assert.equal(out.text(), 'hello\n');
      assert.equal(await exitOf(rt, req.id), 0);
      const records = (await readFile(req.logPath, 'utf8')).split('\n').filter(Boolean).map(parseK8sRecord);
      assert.ok(records.some((r) => r?.stream === 'stdout' && r.text === 'hello' && !r.partial), 'log has the line');
    });
  });

  it('detach keys on stdin end an attach session as detached; the container keeps running', async () => {
    await withRuntime(make, async ({ rt, run }) => {
      const req = await run('sleep');
      const stdin = new PassThrough();
      const session = await expectOk(rt.attach(req.id, { bundlePath: req.bundlePath, streams: { stdin, stdout: new PassThrough() }, detachKeys: 'ctrl-p,ctrl-q', terminal: false }));
      stdin.write(Buffer.from([0x10, 0x11]));
      assert.equal(await expectOk(session.done), 'detached');
      assert.equal((await expectOk(rt.status(req.id))).status, 'running');
    });
  });
}

function registerCheckpointCases(make: OciConformanceFactory): void {
  it('checkpoint stops the container; create({ restoreFrom }) and start bring it back', async (t) => {
    await withRuntime(make, async ({ rt, run, h }) => {
      const supported = await rt.features.checkpoint();
      if (supported.isErr()) return t.skip(`checkpoint not supported here: ${supported.error.message}`);
      const req = await run('sleep');
      const imagePath = join(h.env.root, `checkpoint-${req.id.slice(0, 12)}`);
      await expectOk(rt.checkpoint(req.id, { bundlePath: req.bundlePath, imagePath, leaveRunning: false, tcpEstablished: false }));
      await exitOf(rt, req.id);
      await expectOk(rt.delete(req.id));
      await expectOk(rt.create({ ...req, restoreFrom: imagePath }));
      if ((await expectOk(rt.status(req.id))).status === 'created') await expectOk(rt.start(req.id));
      assert.equal((await expectOk(rt.status(req.id))).status, 'running');
    });
  });
}

/**
 * Registers the OciRuntime conformance cases (node:test `describe`/`it`)
 * for the runtime `makeHarness` builds.
 */
export function runOciRuntimeConformance(name: string, makeHarness: OciConformanceFactory): void {
  describe(`OciRuntime conformance: ${name}`, () => {
    describe('lifecycle', () => registerLifecycleCases(makeHarness));
    describe('signals and stop', () => registerSignalCases(makeHarness));
    describe('delete and persistence', () => registerDeleteCases(makeHarness));
    describe('exec, attach and logs', () => registerIoCases(makeHarness));
    describe('checkpoint', () => registerCheckpointCases(makeHarness));
  });
}
