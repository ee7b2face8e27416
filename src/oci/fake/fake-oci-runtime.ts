/**
 * `FakeOciRuntime`: a deterministic in-memory {@link OciRuntime} for unit
 * tests (no root, no processes). It behaves as runc does where runc has a
 * rule (its errors on wrong states) and has no lifecycle rules of its own.
 *
 * - A started container runs until {@link FakeOciRuntime.exit}, a signal, or
 *   its start script ({@link FakeOciRuntime.onStart}) says otherwise.
 * - `kill` ends it with 128+signal unless the signal is ignored
 *   ({@link FakeOciRuntime.ignoreSignals}); `stop` escalates to SIGKILL after
 *   the timeout (real timers); `stop` of an exited container gives its
 *   exit. Signals whose default action does not terminate (CHLD, CONT, URG,
 *   WINCH, and the job-control stops) never end a fake process.
 * - `delete` always succeeds (runc `delete --force`): a live process is
 *   killed (137) first; a missing container is fine.
 * - `close()` ends pending waits (`waitExit` resolves `undefined`, a `stop`
 *   waiting for its timeout sends SIGKILL at once) and attach sessions
 *   ('detached'), and drops exit watchers; the containers stay, so the same
 *   instance passed to a new engine finds them again.
 * - Checkpoint writes `<imagePath>/fake-checkpoint.json` and ends the
 *   process with 0 (unless `leaveRunning`); restore is
 *   `create({ restoreFrom })` (state `created`) then `start` (`running`).
 * @module
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, errAsync, ok, okAsync, ResultAsync, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import type { TerminalSize } from '../../define/streams.js';
import type {
  OciAttachRequest, OciAttachSession, OciCheckpointRequest, OciContainerStatus, OciCreateRequest, OciCreateResult,
  OciExecRequest, OciExecSession, OciExitInfo, OciRuntime, OciRuntimeEnvironment, OciRuntimeFeatures, OciStopRequest,
} from '../oci-runtime.js';
import { parseDetachKeys } from '../detach-keys.js';
import { FakeAttachSession } from './fake-attach.js';
import { applyFakeCheckpoint, readFakeCheckpoint, writeFakeCheckpoint } from './fake-checkpoint.js';
import { endExec, FakeContainer } from './fake-container.js';
import { SIGKILL, SIGTERM, validSignal } from './fake-core.js';
import { runExec } from './fake-exec.js';
import { FakeScripting } from './fake-scripting.js';

/** Options of {@link FakeOciRuntime}. */
export interface FakeOciRuntimeOptions {
  /** The runtime's `name` (default `'fake'`). */
  name?: string;
}

/**
 * A deterministic in-memory OCI runtime for tests.
 *
 * @example
 * ```ts
 * const fake = new FakeOciRuntime();
 * const rt = (await Runtime.open({ ociRuntime: fake, store: 'memory' }))._unsafeUnwrap();
 * const ctr = (await rt.newContainer({ rootfs: '/tmp/rootfs', command: ['sleep', '100'] }))._unsafeUnwrap();
 * await ctr.start();
 * fake.exit(ctr.id, 3);            // the process exits with 3
 * (await ctr.wait())._unsafeUnwrap(); // 3
 * ```
 */
export class FakeOciRuntime extends FakeScripting implements OciRuntime {
  readonly name: string;
  /** Checkpoint works (in memory). Tests may replace `checkpoint` to simulate a host without CRIU. */
  readonly features: OciRuntimeFeatures = { checkpoint: () => okAsync(undefined), runsProcesses: false };
  private env?: OciRuntimeEnvironment;

  constructor(opts: FakeOciRuntimeOptions = {}) {
    super();
    this.name = opts.name ?? 'fake';
  }

  /** The environment of the last `open` (undefined before). */
  get environment(): OciRuntimeEnvironment | undefined {
    return this.env ? { ...this.env } : undefined;
  }

  /** Records the engine's paths. Idempotent. */
  open(env: OciRuntimeEnvironment): ResultAsync<void, LibpodError> {
    return this.guarded('open', () => {
      this.env = { root: env.root, runRoot: env.runRoot };
      return okAsync(undefined);
    });
  }

  /** Stops watchers and ends pending waits and attach sessions; containers stay. */
  close(): ResultAsync<void, LibpodError> {
    return this.guarded('close', () => {
      this.stopWatching();
      for (const c of this.ctrs.values()) for (const a of [...c.attachments]) a.end('detached');
      return okAsync(undefined);
    });
  }

  /** Creates a container (state `created`); with `restoreFrom`, from a fake checkpoint image. */
  create(req: OciCreateRequest): ResultAsync<OciCreateResult, LibpodError> {
    return this.guarded('create', () =>
      (req?.bundleReady ?? okAsync(undefined)).andThen(() => {
        const made = this.createContainer(req);
        return made.isOk() ? okAsync(made.value) : errAsync(made.error);
      }),
    );
  }

  /** Starts a created container; its start script (if any) runs just after. */
  start(id: string): ResultAsync<void, LibpodError> {
    return this.guarded('start', () => {
      const started = this.lookup(id).andThen((c) => this.startContainer(c));
      return started.isOk() ? okAsync(undefined) : errAsync(started.error);
    });
  }

  /** Sends `signal`; an ignored one leaves the process running; a dead container is "container not running". */
  kill(id: string, signal: number, _all: boolean): ResultAsync<void, LibpodError> {
    return this.guarded('kill', () => {
      if (!validSignal(signal)) return errAsync(libpodError('InvalidArg', `invalid signal: ${String(signal)}`));
      const found = this.lookup(id);
      if (found.isErr()) return errAsync(found.error);
      const c = found.value;
      if (!c.alive) return errAsync(libpodError('OCIRuntime', `container ${id} not running: container not running`));
      this.deliver(c, signal);
      return okAsync(undefined);
    });
  }

  /** Stop signal, wait up to `timeout` seconds for the exit, then SIGKILL. An exited container gives its exit. */
  stop(id: string, req: OciStopRequest): ResultAsync<OciExitInfo, LibpodError> {
    return this.guarded('stop', () => {
      if (!validSignal(req.signal)) return errAsync(libpodError('InvalidArg', `invalid stop signal: ${String(req.signal)}`));
      const found = this.lookup(id);
      if (found.isErr()) return errAsync(found.error);
      const c = found.value;
      if (c.exit) return okAsync(c.exit);
      return ResultAsync.fromSafePromise<OciExitInfo, LibpodError>(
        (async () => {
          if (req.timeout > 0) {
            this.deliver(c, req.signal);
            if (c.alive) await this.waitFor(c.exitPromise, req.timeout * 1000);
          }
          if (c.alive) this.deliver(c, SIGKILL);
          return c.exit as OciExitInfo;
        })(),
      );
    });
  }

  /** Freezes a running container (runc: "container not running" otherwise). */
  pause(id: string): ResultAsync<void, LibpodError> {
    return this.guarded('pause', () => this.transition(id, 'running', 'paused', 'container not running'));
  }

  /** Thaws a paused container (runc: "container not paused" otherwise). */
  unpause(id: string): ResultAsync<void, LibpodError> {
    return this.guarded('unpause', () => this.transition(id, 'paused', 'running', 'container not paused'));
  }

  /** Removes the container, killing a live process first (137); a missing one is fine. */
  delete(id: string): ResultAsync<void, LibpodError> {
    return this.guarded('delete', () => {
      const c = this.ctrs.get(id);
      if (!c) return okAsync(undefined);
      if (c.alive) this.deliver(c, SIGKILL);
      c.forget();
      this.ctrs.delete(id);
      return okAsync(undefined);
    });
  }

  /** `runc state` plus the exit record; `missing` for an unknown id. */
  status(id: string): ResultAsync<OciContainerStatus, LibpodError> {
    return this.guarded('status', () => {
      const c = this.ctrs.get(id);
      const status: OciContainerStatus = c
        ? { status: c.state, pid: c.alive ? c.pid : 0, ...(c.exit ? { exit: { ...c.exit } } : {}) }
        : { status: 'missing', pid: 0 };
      return okAsync(status);
    });
  }

  /** The exit, once the process exited (undefined for live or unknown containers). */
  exitStatus(id: string): ResultAsync<OciExitInfo | undefined, LibpodError> {
    return this.guarded('exitStatus', () => okAsync(this.exitOf(id)));
  }

  /** Resolves at the exit, or with `undefined` after `timeoutMs` (or at once for an unknown container). */
  waitExit(id: string, timeoutMs: number): ResultAsync<OciExitInfo | undefined, LibpodError> {
    return this.guarded('waitExit', () => {
      const c = this.ctrs.get(id);
      if (!c || c.exit) return okAsync(this.exitOf(id));
      // The exit of this container, even if it was deleted meanwhile.
      return ResultAsync.fromSafePromise(this.waitFor(c.exitPromise, timeoutMs).then(() => (c.exit ? { ...c.exit } : undefined)));
    });
  }

  /** Attaches `req.streams` to a live container; see {@link FakeOciRuntime.emit} and {@link FakeOciRuntime.onStdin}. */
  attach(id: string, req: OciAttachRequest): ResultAsync<OciAttachSession, LibpodError> {
    return this.guarded('attach', () => {
      const keys = parseDetachKeys(req.detachKeys);
      if (keys.isErr()) return errAsync(keys.error);
      const found = this.lookup(id);
      if (found.isErr()) return errAsync(found.error);
      const c = found.value;
      if (!c.alive) return errAsync(libpodError('OCIRuntime', `failed to connect to container ${id}'s attach socket: container not running`));
      const session = new FakeAttachSession(req.streams, req.terminal, keys.value, (data) => this.stdinInput(c, data));
      c.attachments.add(session);
      void session.done.then(() => c.attachments.delete(session));
      return okAsync(session);
    });
  }

  /** Records the terminal size (see {@link FakeOciRuntime.sizeOf}). */
  resize(id: string, _bundlePath: string, size: TerminalSize): ResultAsync<void, LibpodError> {
    return this.guarded('resize', () =>
      this.lookup(id).map((c) => {
        c.size = { width: size.width, height: size.height };
      }).asyncAndThen(() => okAsync(undefined)),
    );
  }

  /** Runs a process as the exec handler ({@link FakeOciRuntime.onExec}) scripts it. */
  execute(id: string, req: OciExecRequest): ResultAsync<OciExecSession, LibpodError> {
    return this.guarded('execute', () => {
      const found = this.lookup(id);
      if (found.isErr()) return errAsync(found.error);
      return runExec(found.value, req, this.execHandler, this.nextPid());
    });
  }

  /** Whether the session's process still runs (false for unknown sessions). */
  execAlive(id: string, sessionId: string): ResultAsync<boolean, LibpodError> {
    return this.guarded('execAlive', () => okAsync(this.ctrs.get(id)?.execs.get(sessionId)?.alive ?? false));
  }

  /** SIGTERM (143), or SIGKILL (137) after `timeout` seconds when it ignores SIGTERM or at once with 0. */
  execStop(id: string, sessionId: string, timeout: number): ResultAsync<void, LibpodError> {
    return this.guarded('execStop', () => {
      const exec = this.ctrs.get(id)?.execs.get(sessionId);
      if (!exec?.alive) return okAsync(undefined);
      return ResultAsync.fromSafePromise<void, LibpodError>(
        (async () => {
          if (timeout > 0) {
            if (!exec.ignoreSigterm) endExec(exec, 128 + SIGTERM);
            else await this.waitFor(exec.done.promise, timeout * 1000);
          }
          endExec(exec, 128 + SIGKILL);
        })(),
      );
    });
  }

  /** Forgets an ended session; a live or unknown one is left alone. */
  execCleanup(id: string, sessionId: string, _bundlePath: string): ResultAsync<void, LibpodError> {
    return this.guarded('execCleanup', () => {
      const c = this.ctrs.get(id);
      if (c && c.execs.get(sessionId)?.alive === false) c.execs.delete(sessionId);
      return okAsync(undefined);
    });
  }

  /** Records the session's terminal size; an unknown session is `NoSuchExecSession`. */
  execResize(id: string, sessionId: string, _bundlePath: string, size: TerminalSize): ResultAsync<void, LibpodError> {
    return this.guarded('execResize', () => {
      const exec = this.ctrs.get(id)?.execs.get(sessionId);
      if (!exec) return errAsync(libpodError('NoSuchExecSession', `no exec session ${sessionId} in container ${id}`));
      exec.size = { width: size.width, height: size.height };
      return okAsync(undefined);
    });
  }

  /** Writes the fake image and ends the process with 0 unless `leaveRunning`. */
  checkpoint(id: string, req: OciCheckpointRequest): ResultAsync<void, LibpodError> {
    return this.guarded('checkpoint', () => {
      const found = this.lookup(id);
      if (found.isErr()) return errAsync(found.error);
      const c = found.value;
      if (c.state !== 'running' && c.state !== 'paused') {
        return errAsync(libpodError('OCIRuntime', `cannot checkpoint container ${id}: container not running`));
      }
      writeFakeCheckpoint(c, req.imagePath, req.tcpEstablished);
      writeFileSync(join(req.bundlePath, 'dump.log'), `fake checkpoint of ${id}\n`); // CRIU's log, in runc's --work-path
      if (!req.leaveRunning) this.end(c, 0);
      return okAsync(undefined);
    });
  }

  private exitOf(id: string): OciExitInfo | undefined {
    const exit = this.ctrs.get(id)?.exit;
    return exit ? { ...exit } : undefined;
  }

  private transition(id: string, from: 'running' | 'paused', to: 'running' | 'paused', refusal: string): ResultAsync<void, LibpodError> {
    const found = this.lookup(id);
    if (found.isErr()) return errAsync(found.error);
    if (found.value.state !== from) return errAsync(libpodError('OCIRuntime', `container ${id}: ${refusal}`));
    found.value.state = to;
    return okAsync(undefined);
  }

  private createContainer(req: OciCreateRequest): Result<OciCreateResult, LibpodError> {
    if (typeof req?.id !== 'string' || req.id === '') return err(libpodError('InvalidArg', 'create: a container id is required'));
    if (this.ctrs.has(req.id)) return err(libpodError('CtrExists', `container with id exists: ${req.id}`));
    const image = req.restoreFrom === undefined ? ok(undefined) : readFakeCheckpoint(req.restoreFrom);
    if (image.isErr()) return err(image.error);
    if (image.value?.tcpEstablished && req.restoreTcpEstablished !== true) {
      return err(libpodError('OCIRuntime', `restoring ${req.id}: the checkpoint has established TCP connections; restore them with tcpEstablished (CRIU --tcp-established)`));
    }
    if (req.logPath) {
      try {
        appendFileSync(req.logPath, ''); // conmon opens (creates) the log at create
      } catch (e) {
        return err(libpodError('OCIRuntime', `failed to open log file ${req.logPath}`, e));
      }
    }
    const pid = this.nextPid();
    const c = new FakeContainer({
      id: req.id,
      name: req.name ?? req.id,
      bundlePath: req.bundlePath,
      spec: structuredClone(req.spec ?? { ociVersion: '1.0.2' }),
      logPath: req.logPath,
      pid,
      monitorPid: pid + 10000,
    });
    if (image.value && req.restoreFrom !== undefined) applyFakeCheckpoint(c, image.value, req.restoreFrom);
    this.ctrs.set(c.id, c);
    return ok({ pid: c.pid, monitorPid: c.monitorPid });
  }

  /** runc's start: only a created container starts; then the start script (not for restored ones). */
  private startContainer(c: FakeContainer): Result<void, LibpodError> {
    if (c.state !== 'created') {
      const why = c.state === 'stopped' ? 'cannot start a container that has stopped' : c.state === 'running' ? 'cannot start an already running container' : `cannot start a container in the ${c.state} state`;
      return err(libpodError('OCIRuntime', `container ${c.id}: ${why}`));
    }
    const script = c.restoredFrom === undefined ? this.startScript(c) : ok(undefined);
    if (script.isErr()) return err(script.error);
    c.state = 'running';
    if (script.value) this.runStartScript(c, script.value);
    return ok(undefined);
  }
}
