/**
 * What tests use to drive {@link FakeOciRuntime} (make processes exit,
 * print, ignore signals; script exec, start and stdin) and to look inside it.
 * These helpers return `Result`s (never throw): a missing container is
 * `NoSuchCtr`, a process that already ended `CtrStateInvalid`, bad input
 * `InvalidArg`.
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../../define/errors.js';
import { parseSignal, type Signal } from '../../define/signals.js';
import type { TerminalSize } from '../../define/streams.js';
import { logger } from '../../util/log.js';
import { hardenMethods } from '../../util/harden.js';
import type { OciSpec } from '../oci-spec-types.js';
import { endExec, type FakeContainer } from './fake-container.js';
import { FakeRuntimeCore, SIGKILL } from './fake-core.js';
import { defaultExecHandler } from './fake-exec.js';
import type {
  FakeContainerState, FakeExecHandler, FakeExecSessionInfo, FakeStartAction, FakeStartHandler, FakeStdinHandler,
} from './fake-types.js';

const log = logger('oci:fake');

function validExitCode(code: unknown): code is number {
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 255;
}

/** Test-facing helpers of the fake runtime; see {@link FakeOciRuntime}. */
export class FakeScripting extends FakeRuntimeCore {
  /** Decides exec outcomes (default: exit 0, no output). */
  protected execHandler: FakeExecHandler = defaultExecHandler;
  private startHandler?: FakeStartHandler;
  private stdinHandler?: FakeStdinHandler;

  /** Makes a live container's process exit with `code` (0-255); exit watchers are told asynchronously. */
  exit(id: string, code: number): Result<void, LibpodError> {
    if (!validExitCode(code)) return err(libpodError('InvalidArg', `exit code must be an integer 0-255, got ${String(code)}`));
    return this.live(id).map((c) => {
      this.end(c, code);
    });
  }

  /** Makes the OOM killer end a live container: exit 137 with `oomKilled`. */
  oom(id: string): Result<void, LibpodError> {
    return this.live(id).map((c) => {
      this.end(c, 128 + SIGKILL, true);
    });
  }

  /**
   * Makes a running container print `text` on `stream`: appended to its
   * k8s-file log and written to every attached session (all stdout with a terminal).
   */
  emit(id: string, stream: 'stdout' | 'stderr', text: string): Result<void, LibpodError> {
    if (stream !== 'stdout' && stream !== 'stderr') return err(libpodError('InvalidArg', `stream must be stdout or stderr, got ${String(stream)}`));
    if (typeof text !== 'string') return err(libpodError('InvalidArg', 'emit needs a string'));
    return this.live(id).andThen((c) => {
      if (c.state !== 'running') return err(libpodError('CtrStateInvalid', `container ${id} is ${c.state}: only a running process prints`));
      try {
        c.emit(stream, String(text));
        return ok(undefined);
      } catch (e) {
        return err(toLibpodError(e, 'Internal', `writing the log of container ${id}`));
      }
    });
  }

  /**
   * Makes the process ignore `signals` (names or numbers), replacing the
   * previous list; `[]` clears it. SIGKILL is never ignored, even if listed.
   */
  ignoreSignals(id: string, signals: Signal[]): Result<void, LibpodError> {
    const c = this.ctrs.get(id);
    if (!c) return err(libpodError('NoSuchCtr', `fake runtime: no container ${id}`));
    const parsed = parseSignals(signals);
    if (parsed.isErr()) return err(parsed.error);
    c.ignored.clear();
    for (const s of parsed.value) if (s !== SIGKILL) c.ignored.add(s);
    return ok(undefined);
  }

  /** Ends a hanging exec process with `code`. */
  exitExec(id: string, sessionId: string, code: number): Result<void, LibpodError> {
    if (!validExitCode(code)) return err(libpodError('InvalidArg', `exit code must be an integer 0-255, got ${String(code)}`));
    const exec = this.ctrs.get(id)?.execs.get(sessionId);
    if (!exec) return err(libpodError('NoSuchExecSession', `fake runtime: no exec session ${sessionId} in container ${id}`));
    if (!exec.alive) return err(libpodError('CtrStateInvalid', `exec session ${sessionId} has already exited`));
    endExec(exec, code);
    return ok(undefined);
  }

  /** Scripts exec'd processes; `undefined` restores the default (exit 0, no output). Not a function: `InvalidArg`. */
  onExec(handler: FakeExecHandler | undefined): Result<void, LibpodError> {
    return handlerArg(handler, 'onExec').map(() => {
      this.execHandler = handler ?? defaultExecHandler;
    });
  }

  /**
   * Scripts what a container's main process does once started (print, exit,
   * ignore signals); `undefined` restores the default (run until ended).
   * Not called for containers restored from a checkpoint (they carry on).
   */
  onStart(handler: FakeStartHandler | undefined): Result<void, LibpodError> {
    return handlerArg(handler, 'onStart').map(() => {
      this.startHandler = handler;
    });
  }

  /** Receives what attached callers write to stdin (it is recorded for {@link stdinOf} either way). */
  onStdin(handler: FakeStdinHandler | undefined): Result<void, LibpodError> {
    return handlerArg(handler, 'onStdin').map(() => {
      this.stdinHandler = handler;
    });
  }

  /** Ids of every container the runtime has (created and not deleted). */
  containers(): string[] {
    return [...this.ctrs.keys()];
  }

  /** The container's state, or `undefined` when the runtime has no such container. */
  stateOf(id: string): FakeContainerState | undefined {
    return this.ctrs.get(id)?.state;
  }

  /** Signals the container received through kill/stop/delete, in order (not signal 0). */
  signalsOf(id: string): number[] {
    return [...(this.ctrs.get(id)?.signals ?? [])];
  }

  /** A copy of the spec the container was created with. */
  specOf(id: string): OciSpec | undefined {
    const c = this.ctrs.get(id);
    return c ? structuredClone(c.spec) : undefined;
  }

  /** Everything attached callers wrote to the container's stdin (detach keys removed). */
  stdinOf(id: string): string {
    return this.ctrs.get(id)?.stdin ?? '';
  }

  /** The last terminal size set by `resize`. */
  sizeOf(id: string): TerminalSize | undefined {
    const size = this.ctrs.get(id)?.size;
    return size ? { ...size } : undefined;
  }

  /** The container's exec sessions (until `execCleanup` forgets ended ones). */
  execSessionsOf(id: string): FakeExecSessionInfo[] {
    const c = this.ctrs.get(id);
    if (!c) return [];
    return [...c.execs.values()].map((e) => ({
      sessionId: e.sessionId,
      args: [...e.args],
      pid: e.pid,
      alive: e.alive,
      ...(e.exitCode === undefined ? {} : { exitCode: e.exitCode }),
    }));
  }

  /** The checkpoint directory the container was restored from, if it was. */
  restoredFrom(id: string): string | undefined {
    return this.ctrs.get(id)?.restoredFrom;
  }

  /** Asks the start handler; applies its ignored signals at once. Handler failures are `OCIRuntime`. */
  protected startScript(c: FakeContainer): Result<FakeStartAction | undefined, LibpodError> {
    if (!this.startHandler) return ok(undefined);
    let answer: FakeStartAction | number | void;
    try {
      const p = c.spec.process;
      answer = this.startHandler({ id: c.id, args: [...(p?.args ?? [])], env: [...(p?.env ?? [])], spec: structuredClone(c.spec) });
    } catch (e) {
      return err(toLibpodError(e, 'OCIRuntime', `fake start handler failed for ${c.id}`));
    }
    const action: FakeStartAction | undefined = typeof answer === 'number' ? { exitCode: answer } : answer ?? undefined;
    if (action?.exitCode !== undefined && !validExitCode(action.exitCode)) {
      return err(libpodError('InvalidArg', `fake start handler: exit code must be an integer 0-255, got ${String(action.exitCode)}`));
    }
    if (action?.ignoreSignals) {
      const parsed = parseSignals(action.ignoreSignals);
      if (parsed.isErr()) return err(parsed.error);
      for (const s of parsed.value) if (s !== SIGKILL) c.ignored.add(s);
    }
    return ok(action);
  }

  /** Plays the start action just after `start` resolved: output, then the exit. */
  protected runStartScript(c: FakeContainer, action: FakeStartAction): void {
    setImmediate(() => {
      if (c.state !== 'running') return;
      try {
        if (action.stdout) c.emit('stdout', action.stdout);
        if (action.stderr) c.emit('stderr', action.stderr);
      } catch (e) {
        log('start script of %s could not write its output: %O', c.id, e);
      }
      if (action.exitCode !== undefined && c.alive) this.end(c, action.exitCode);
    });
  }

  /** Stdin from an attach session: recorded, then handed to the stdin handler. */
  protected stdinInput(c: FakeContainer, data: string | null): void {
    if (data !== null) c.stdin += data;
    try {
      this.stdinHandler?.(c.id, data);
    } catch (e) {
      log('stdin handler failed for %s: %O', c.id, e);
    }
  }

  /** The container `id` if its process is alive. */
  private live(id: string): Result<FakeContainer, LibpodError> {
    const c = this.ctrs.get(id);
    if (!c) return err(libpodError('NoSuchCtr', `fake runtime: no container ${id}`));
    if (!c.alive) return err(libpodError('CtrStateInvalid', `container ${id} has already exited`));
    return ok(c);
  }
}

function handlerArg(handler: unknown, what: string): Result<void, LibpodError> {
  return handler === undefined || typeof handler === 'function' ? ok(undefined) : err(libpodError('InvalidArg', `${what} needs a function or undefined`));
}

// The scripting methods get a safe copy of their arguments; hostile input is InvalidArg (util/harden.ts).
hardenMethods(
  FakeScripting.prototype,
  { exit: 'result', oom: 'result', emit: 'result', ignoreSignals: 'result', exitExec: 'result', onExec: 'result', onStart: 'result', onStdin: 'result' },
  'plain',
);

function parseSignals(signals: Signal[]): Result<number[], LibpodError> {
  if (!Array.isArray(signals)) return err(libpodError('InvalidArg', 'signals must be an array of signal names or numbers'));
  return signals.reduce<Result<number[], LibpodError>>(
    (acc, s) => acc.andThen((list) => parseSignal(s).map((n) => [...list, n])),
    ok([]),
  );
}
