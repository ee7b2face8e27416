/**
 * The scripting types of {@link FakeOciRuntime}: what tests hand it to
 * decide how a container's or an exec session's process behaves.
 * @module
 */
import type { Signal } from '../../define/signals.js';
import type { OciRuntime } from '../oci-runtime.js';
import type { OciSpec, OciUser } from '../oci-spec-types.js';

/** The state of a fake container (`runc state` values). */
export type FakeContainerState = 'created' | 'running' | 'paused' | 'stopped';

/** An operation of the OciRuntime interface, as named for {@link FakeOciRuntime.failNext}. */
export type FakeOperation = Exclude<keyof OciRuntime, 'name' | 'features' | 'watchExits'>;

/** Names of the engine verbs (and libpod's) that map to one runtime operation, accepted by `failNext`. */
export const FAKE_OPERATION_ALIASES = {
  init: 'create',
  restore: 'create',
  exec: 'execute',
  remove: 'delete',
  resume: 'unpause',
  attachResize: 'resize',
} as const satisfies Record<string, FakeOperation>;

/** An alias of a {@link FakeOperation}. */
export type FakeOperationAlias = keyof typeof FAKE_OPERATION_ALIASES;

/** What an exec handler is told about the process to run. */
export interface FakeExecRequest {
  /** Container id. */
  id: string;
  /** Exec session id. */
  sessionId: string;
  /** `process.args`. */
  args: string[];
  /** `process.env` (`KEY=value` entries). */
  env: string[];
  /** `process.cwd`. */
  cwd: string;
  /** `process.user`. */
  user: OciUser;
  /** Whether the process has a terminal. */
  tty: boolean;
}

/** How a scripted exec process behaves. */
export interface FakeExecOutcome {
  /** Exit code (default 0). */
  exitCode?: number;
  /** Written to the session's stdout. */
  stdout?: string;
  /** Written to the session's stderr (stdout with a terminal). */
  stderr?: string;
  /**
   * The process cannot be started: `'not-found'` fails `execute` with
   * `OCIRuntimeNotFound`, `'permission-denied'` with `OCIRuntime` ("permission denied").
   */
  error?: 'not-found' | 'permission-denied';
  /**
   * Keep running after the output, until `execStop`, the container's exit, or
   * {@link FakeOciRuntime.exitExec}.
   */
  hang?: boolean;
  /** With `hang`: ignore `execStop`'s SIGTERM, so it takes the SIGKILL after the timeout (137). */
  ignoreSigterm?: boolean;
}

/** An exec handler's answer: an exit code, an outcome, or a promise of either. */
export type FakeExecResult = number | FakeExecOutcome | Promise<number | FakeExecOutcome>;

/** Decides how an exec'd process behaves. */
export type FakeExecHandler = (req: FakeExecRequest) => FakeExecResult;

/** What a start handler is told about the container being started. */
export interface FakeStartRequest {
  /** Container id. */
  id: string;
  /** `spec.process.args` (`[]` without a process). */
  args: string[];
  /** `spec.process.env`. */
  env: string[];
  /** The whole spec the container was created with. */
  spec: OciSpec;
}

/** How a container's main process behaves once started. */
export interface FakeStartAction {
  /** Written as the process's first output (and to the log), just after `start` resolved. */
  stdout?: string;
  /** Written as the process's first error output, just after `start` resolved. */
  stderr?: string;
  /** Exit with this code just after the output; without it the process runs until ended. */
  exitCode?: number;
  /** Signals the process ignores from the start (SIGKILL cannot be ignored). */
  ignoreSignals?: Signal[];
}

/** Decides how a container's main process behaves (`void`: it runs until ended; a number: it exits with it). */
export type FakeStartHandler = (req: FakeStartRequest) => FakeStartAction | number | void;

/**
 * Receives what attached callers write to a container's stdin: `data` once
 * per chunk (detach keys removed), `null` when an attached stdin ends.
 */
export type FakeStdinHandler = (id: string, data: string | null) => void;

/** What {@link FakeOciRuntime.execSessionsOf} reports about one exec session. */
export interface FakeExecSessionInfo {
  /** Exec session id. */
  sessionId: string;
  /** The process's arguments. */
  args: string[];
  /** Its fake pid. */
  pid: number;
  /** Whether it still runs. */
  alive: boolean;
  /** Set once the process ended. */
  exitCode?: number;
}
